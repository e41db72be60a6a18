# Driven by the `install_consumer` CTest test (see tests/CMakeLists.txt):
#   1. cmake --install <TXFLOW_BINARY_DIR> --prefix <WORK_DIR>/prefix
#   2. configure + build CONSUMER_SOURCE_DIR with CMAKE_PREFIX_PATH=<prefix>
#   3. run the consumer; it must exit 0. With -DCONSUMER_CTEST=ON (the
#      examples/testing project, issue 16), run the consumer's own ctest instead.

foreach(var TXFLOW_BINARY_DIR WORK_DIR CONSUMER_SOURCE_DIR GENERATOR CXX_COMPILER)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
        message(FATAL_ERROR "run_install_test.cmake: ${var} is not set")
    endif()
endforeach()
if(NOT CONFIG)
    set(CONFIG RelWithDebInfo)
endif()

set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        string(REPLACE ";" " " cmd "${ARGN}")
        message(FATAL_ERROR "install test: command failed (${rc}): ${cmd}")
    endif()
endfunction()

run(${CMAKE_COMMAND} --install "${TXFLOW_BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")

# The sanitized library needs the same -fsanitize flags at the consumer's link.
string(REPLACE ";" " " cxx_flags "${CXX_FLAGS}")

# -DCONSUMER_MODE=pkgconfig: no CMake on the consumer's side, only the
# compiler and `pkg-config --cflags --libs --static txflow`.
if(CONSUMER_MODE STREQUAL "pkgconfig")
    find_program(pkg_config NAMES pkg-config pkgconf REQUIRED)
    file(GLOB_RECURSE pc_files "${prefix}/*/txflow.pc")
    if(NOT pc_files)
        message(FATAL_ERROR "install test: no txflow.pc installed under ${prefix}")
    endif()
    list(GET pc_files 0 pc_file)
    get_filename_component(pc_dir "${pc_file}" DIRECTORY)
    set(ENV{PKG_CONFIG_PATH} "${pc_dir}")
    execute_process(COMMAND "${pkg_config}" --cflags --libs --static txflow
        OUTPUT_VARIABLE pc_flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install test: pkg-config --cflags --libs --static txflow failed (${rc})")
    endif()
    message(STATUS "install test: pkg-config txflow: ${pc_flags}")
    separate_arguments(pc_args UNIX_COMMAND "${pc_flags}")
    separate_arguments(flag_args UNIX_COMMAND "${cxx_flags}")
    file(MAKE_DIRECTORY "${build}")
    run("${CXX_COMPILER}" ${flag_args} "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${build}/txflow_consumer" ${pc_args})
    run("${build}/txflow_consumer")
    message(STATUS "install test: OK (pkg-config)")
    return()
endif()
run(${CMAKE_COMMAND}
    -S "${CONSUMER_SOURCE_DIR}"
    -B "${build}"
    -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${cxx_flags}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON)
run(${CMAKE_COMMAND} --build "${build}" --config "${CONFIG}")

if(CONSUMER_CTEST)
    run(${CMAKE_CTEST_COMMAND} --test-dir "${build}" -C "${CONFIG}" --output-on-failure)
    message(STATUS "install test: OK (ctest in ${build})")
    return()
endif()

find_program(consumer_exe NAMES txflow_consumer
    PATHS "${build}" "${build}/${CONFIG}" NO_DEFAULT_PATH REQUIRED)
run("${consumer_exe}")
message(STATUS "install test: OK (${consumer_exe})")
