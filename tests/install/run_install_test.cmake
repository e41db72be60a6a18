# Driven by the `install_consumer` CTest test (see tests/CMakeLists.txt):
#   1. cmake --install <TXFLOW_BINARY_DIR> --prefix <WORK_DIR>/prefix
#   2. configure + build CONSUMER_SOURCE_DIR with CMAKE_PREFIX_PATH=<prefix>
#   3. run the consumer; it must exit 0. With -DCONSUMER_CTEST=ON (the
#      examples/testing project, issue 16), run the consumer's own ctest instead.
# -DCONSUMER_MODE=pkgconfig: step 2 with the compiler and pkg-config alone.
# -DCONSUMER_MODE=subdirectory: no install; the consumer (tests/install/subdirectory)
#   adds the txflow source tree TXFLOW_SOURCE_DIR with add_subdirectory.
# -DCONSUMER_MODE=installed: no install either; the consumer builds against
#   what is already in the system (the .deb, scripts/package-check).
# A shared txflow (libtxflow.so in the prefix) is linked as such: pkg-config
# without --static, and the consumer must load the installed library.

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

if(CONSUMER_MODE STREQUAL "subdirectory" OR CONSUMER_MODE STREQUAL "installed")
    set(prefix "")
else()
    run(${CMAKE_COMMAND} --install "${TXFLOW_BINARY_DIR}" --prefix "${prefix}" --config "${CONFIG}")
endif()

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
    # The static library needs its dependencies' flags (Libs.private); the
    # shared one carries them, and is found at run time through an rpath.
    file(GLOB shared_lib "${pc_dir}/../libtxflow.so")
    set(static_flag --static)
    set(rpath "")
    if(shared_lib)
        set(static_flag "")
        get_filename_component(lib_dir "${pc_dir}/.." ABSOLUTE)
        set(rpath "-Wl,-rpath,${lib_dir}")
    endif()
    execute_process(COMMAND "${pkg_config}" --cflags --libs ${static_flag} txflow
        OUTPUT_VARIABLE pc_flags OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "install test: pkg-config --cflags --libs ${static_flag} txflow failed (${rc})")
    endif()
    string(APPEND pc_flags " ${rpath}")
    message(STATUS "install test: pkg-config txflow: ${pc_flags}")
    separate_arguments(pc_args UNIX_COMMAND "${pc_flags}")
    separate_arguments(flag_args UNIX_COMMAND "${cxx_flags}")
    file(MAKE_DIRECTORY "${build}")
    run("${CXX_COMPILER}" ${flag_args} "${CONSUMER_SOURCE_DIR}/main.cpp" -o "${build}/txflow_consumer" ${pc_args})
    run("${build}/txflow_consumer")
    message(STATUS "install test: OK (pkg-config${static_flag})")
    return()
endif()
set(extra_args "")
if(CONSUMER_MODE STREQUAL "subdirectory")
    if(NOT TXFLOW_SOURCE_DIR)
        message(FATAL_ERROR "run_install_test.cmake: TXFLOW_SOURCE_DIR is not set")
    endif()
    # The library is compiled once more here: -O0, no debug info, and as a
    # unity build (16 sources a translation unit), about a minute on 2 cores.
    list(APPEND extra_args "-DTXFLOW_SOURCE_DIR=${TXFLOW_SOURCE_DIR}" "-DCMAKE_CXX_FLAGS_DEBUG=-O0"
         -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16)
    set(CONFIG Debug)
    if(SHARED)
        list(APPEND extra_args -DBUILD_SHARED_LIBS=ON)
    endif()
    if(LAUNCHER)
        list(APPEND extra_args "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
    endif()
endif()
run(${CMAKE_COMMAND}
    -S "${CONSUMER_SOURCE_DIR}"
    -B "${build}"
    -G "${GENERATOR}"
    "-DCMAKE_BUILD_TYPE=${CONFIG}"
    "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_CXX_FLAGS=${cxx_flags}"
    "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON
    ${extra_args})
if(CONSUMER_MODE STREQUAL "subdirectory" AND NOT FULL)
    # Without -DFULL=ON: configure, and compile the consumer against the
    # txflow::txflow target, without building the library again.
    run(${CMAKE_COMMAND} --build "${build}" --config "${CONFIG}" --target txflow_consumer_object)
    message(STATUS "install test: OK (add_subdirectory: configured, consumer compiled; -DFULL=ON builds and runs it)")
    return()
endif()
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
