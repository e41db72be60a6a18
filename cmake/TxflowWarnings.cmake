# txflow_set_warnings(<target>)
#
# Warnings for txflow's own targets only: applied as PRIVATE compile options,
# so they never leak to users who link txflow::txflow. Third-party headers come
# from /usr/include or imported targets (treated as system headers), so
# their warnings stay silent. -Werror only with TXFLOW_WERROR=ON.

function(txflow_set_warnings target)
    if(MSVC)
        set(warnings /W4 /permissive-)
        if(TXFLOW_WERROR)
            list(APPEND warnings /WX)
        endif()
    else()
        set(warnings
            -Wall
            -Wextra
            -Wpedantic
            -Wshadow
            -Wconversion
            -Wsign-conversion
            -Wnon-virtual-dtor
            -Wold-style-cast
            -Wcast-align
            -Woverloaded-virtual
            -Wdouble-promotion
            -Wformat=2
            -Wimplicit-fallthrough
            -Wmissing-declarations
            -Wundef)
        if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
            list(APPEND warnings
                -Wduplicated-cond
                -Wlogical-op
                -Wmisleading-indentation)
            # GCC 12 reports std::string copies as overlapping memcpy at -O3
            # (GCC bug 105329, fixed in 13): a Release build with -Werror
            # would fail on library headers, not on our code.
            if(CMAKE_CXX_COMPILER_VERSION VERSION_GREATER_EQUAL 12 AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
                list(APPEND warnings -Wno-restrict)
            endif()
        endif()
        if(TXFLOW_WERROR)
            list(APPEND warnings -Werror)
        endif()
    endif()
    target_compile_options(${target} PRIVATE ${warnings})
endfunction()
