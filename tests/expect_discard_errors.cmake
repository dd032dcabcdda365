# ctest -R discarded_operation: building tests/discarded_operation.cpp must fail, and the
# compiler must name each discarded operation ([[nodiscard]] on every async_ function).
#   cmake -DBUILD_DIR=... -DTARGET=... -DOPERATIONS="a;b" -P expect_discard_errors.cmake
execute_process(
    COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
    RESULT_VARIABLE status
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
if(status EQUAL 0)
    message(FATAL_ERROR "discarding an operation's result compiled without a diagnostic")
endif()
foreach(operation IN LISTS OPERATIONS)
    if(NOT output MATCHES "ignoring return value of [^\n]*${operation}")
        message(FATAL_ERROR "no 'ignoring return value' diagnostic for ${operation}:\n${output}")
    endif()
endforeach()
message(STATUS "every discarded operation was diagnosed: ${OPERATIONS}")
