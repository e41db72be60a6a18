# Compiles one translation unit that must NOT compile, and checks that the
# compiler's message names the problem (the "// expect: REGEX" first line).
#   cmake -DCXX=... -DSOURCE=... -DINCLUDE=... -P check.cmake
file(STRINGS "${SOURCE}" first_line LIMIT_COUNT 1)
string(REGEX REPLACE "^// expect: " "" expected "${first_line}")
execute_process(
    COMMAND "${CXX}" -std=c++20 -fsyntax-only "-I${INCLUDE}" "${SOURCE}"
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
if(result EQUAL 0)
    message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
if(NOT output MATCHES "${expected}")
    message(FATAL_ERROR "${SOURCE} failed to compile, but the message does not match '${expected}':\n${output}")
endif()
message(STATUS "${SOURCE}: rejected as expected ('${expected}')")
