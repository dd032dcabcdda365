# Developer tooling: the clang-format check (test `format`), clang-tidy (target `tidy`) and the
# Doxygen API reference (target `docs`). All optional: each appears only when its tool is found.
include_guard(GLOBAL)

# ---- clang-format: ctest -R format, or tools/check-format.sh [--fix] ---------------------------
find_program(ZKR_CLANG_FORMAT NAMES clang-format-14 clang-format
             DOC "clang-format used by the format test")
if(ZKR_BUILD_TESTS)
    add_test(NAME format COMMAND bash "${PROJECT_SOURCE_DIR}/tools/check-format.sh")
    # Without clang-format the test reports itself as skipped (exit 77), not as passed.
    set_tests_properties(format PROPERTIES
        SKIP_RETURN_CODE 77
        LABELS "tooling")
    if(ZKR_CLANG_FORMAT)
        set_tests_properties(format PROPERTIES ENVIRONMENT "CLANG_FORMAT=${ZKR_CLANG_FORMAT}")
    endif()
endif()

# ---- clang-tidy: cmake --build <dir> --target tidy ---------------------------------------------
# Checks the library's own sources (src/, recipes/) with .clang-tidy and this build's
# compile_commands.json. Not part of `all`: slow (about as long as a build).
find_program(ZKR_RUN_CLANG_TIDY NAMES run-clang-tidy-14 run-clang-tidy
             DOC "run-clang-tidy used by the tidy target")
find_program(ZKR_CLANG_TIDY NAMES clang-tidy-14 clang-tidy DOC "clang-tidy used by the tidy target")
if(ZKR_RUN_CLANG_TIDY AND ZKR_CLANG_TIDY)
    add_custom_target(tidy
        COMMAND "${ZKR_RUN_CLANG_TIDY}" -quiet -clang-tidy-binary "${ZKR_CLANG_TIDY}"
                -p "${PROJECT_BINARY_DIR}" "${PROJECT_SOURCE_DIR}/(src|recipes)/.*\\.cpp$"
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
        COMMENT "clang-tidy on src/ and recipes/"
        USES_TERMINAL
        VERBATIM)
endif()

# ---- Doxygen: cmake --build <dir> --target docs ------------------------------------------------
# The API reference of include/zkr, with docs/guide.md as its main page, written to
# <build>/docs/html. Any Doxygen warning fails the target.
find_package(Doxygen QUIET)
if(DOXYGEN_FOUND)
    set(ZKR_DOXYGEN_OUTPUT_DIR "${PROJECT_BINARY_DIR}/docs")
    configure_file("${PROJECT_SOURCE_DIR}/docs/Doxyfile.in" "${ZKR_DOXYGEN_OUTPUT_DIR}/Doxyfile"
                   @ONLY)
    add_custom_target(docs
        COMMAND Doxygen::doxygen "${ZKR_DOXYGEN_OUTPUT_DIR}/Doxyfile"
        WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
        COMMENT "Doxygen: API reference in ${ZKR_DOXYGEN_OUTPUT_DIR}/html"
        VERBATIM)
endif()
