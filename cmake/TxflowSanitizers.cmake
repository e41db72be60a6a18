# TXFLOW_SANITIZE: "", "address,undefined" or "thread".
#
# Sanitizers must cover every object in the process (library, tests, tools),
# so they are added directory-wide here rather than per target. They are not
# part of the exported interface. TXFLOW_SANITIZE_FLAGS is kept for the
# install test, which builds an outside project against the sanitized library.

set(TXFLOW_SANITIZE_FLAGS "")

if(TXFLOW_SANITIZE)
    if(MSVC)
        message(FATAL_ERROR "TXFLOW_SANITIZE is only supported with GCC and Clang")
    endif()
    if(NOT TXFLOW_SANITIZE MATCHES "^(address|undefined|address,undefined|undefined,address|thread)$")
        message(FATAL_ERROR
            "TXFLOW_SANITIZE='${TXFLOW_SANITIZE}': use \"\", \"address,undefined\" or \"thread\"")
    endif()
    set(TXFLOW_SANITIZE_FLAGS
        -fsanitize=${TXFLOW_SANITIZE}
        -fno-omit-frame-pointer)
    if(TXFLOW_SANITIZE MATCHES "undefined")
        # Make UBSan findings fail the test instead of only printing.
        list(APPEND TXFLOW_SANITIZE_FLAGS -fno-sanitize-recover=all)
    endif()
    add_compile_options(${TXFLOW_SANITIZE_FLAGS})
    add_link_options(${TXFLOW_SANITIZE_FLAGS})
    message(STATUS "txflow: sanitizers: ${TXFLOW_SANITIZE}")
endif()
