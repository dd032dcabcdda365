# Shipping zkr: the version header, `cmake --install`, the CMake package, the pkg-config file, the
# man page, and the test that builds a consumer against the installed result; Debian packages in
# zkrDebian.cmake.
#
# Included at the end of the top-level CMakeLists.txt, so that every target (the zkr library, the
# zkr_cli tool of tools/zkr) is defined by the time the install rules look for it.
include_guard(GLOBAL)
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(ZKR_CMAKE_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/zkr"
    CACHE STRING "Where the CMake package files are installed, relative to the prefix")
set(ZKR_PKGCONFIG_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
    CACHE STRING "Where zkr.pc is installed, relative to the prefix")
mark_as_advanced(ZKR_CMAKE_INSTALL_DIR ZKR_PKGCONFIG_INSTALL_DIR)

# ---- The version header ------------------------------------------------------------------------
# Generated into the build tree's include directory, which is part of zkr's public build interface
# (and therefore of every target linking zkr::zkr, tools and tests included).
set(ZKR_GENERATED_INCLUDE_DIR "${PROJECT_BINARY_DIR}/include")
configure_file("${PROJECT_SOURCE_DIR}/include/zkr/version.hpp.in"
               "${ZKR_GENERATED_INCLUDE_DIR}/zkr/version.hpp" @ONLY)
target_include_directories(zkr PUBLIC $<BUILD_INTERFACE:${ZKR_GENERATED_INCLUDE_DIR}>)
target_include_directories(zkr_objects PUBLIC ${ZKR_GENERATED_INCLUDE_DIR})
target_compile_features(zkr_objects PUBLIC cxx_std_20)

# The public headers need C++20 (coroutines, awaitable): say so to consumers, who then get at
# least -std=c++20 from zkr::zkr without setting it themselves.
target_compile_features(zkr PUBLIC cxx_std_20)

# ---- Install rules -----------------------------------------------------------------------------
# Runtime: the shared library with its SONAME link, and the command-line tool.
# Development: the linker name link (libzkr.so), headers, CMake package and pkg-config file.
install(TARGETS zkr EXPORT zkrTargets
    LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        COMPONENT Runtime NAMELINK_COMPONENT Development
    ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}" COMPONENT Development
    RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT Runtime)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/zkr"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}"
        COMPONENT Development
        FILES_MATCHING PATTERN "*.hpp")
install(FILES "${ZKR_GENERATED_INCLUDE_DIR}/zkr/version.hpp"
        DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/zkr"
        COMPONENT Development)

if(TARGET zkr_cli)
    # Found next to the library when installed under a non-system prefix.
    get_target_property(_zkr_cli_rpath zkr_cli INSTALL_RPATH)
    if(NOT _zkr_cli_rpath)
        file(RELATIVE_PATH _zkr_bin_to_lib "${CMAKE_INSTALL_FULL_BINDIR}"
             "${CMAKE_INSTALL_FULL_LIBDIR}")
        set_target_properties(zkr_cli PROPERTIES INSTALL_RPATH "$ORIGIN/${_zkr_bin_to_lib}")
    endif()
    install(TARGETS zkr_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}" COMPONENT Runtime)
    install(FILES "${PROJECT_SOURCE_DIR}/docs/zkr.1"
            DESTINATION "${CMAKE_INSTALL_MANDIR}/man1"
            COMPONENT Runtime)
    # The man page is written by hand: this test fails when the tool's help names a subcommand
    # or option it lacks, or when groff warns about it.
    if(ZKR_BUILD_TESTS)
        add_test(NAME manpage
                 COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/manpage-test.sh"
                         "$<TARGET_FILE:zkr_cli>" "${PROJECT_SOURCE_DIR}/docs/zkr.1")
        set_tests_properties(manpage PROPERTIES LABELS "tooling")
    endif()
endif()

# ---- CMake package: find_package(zkr 0.2 REQUIRED) -> zkr::zkr ---------------------------------
# zkr's private dependencies (the ZooKeeper C client, zkr_warnings) stay out of the export: a
# shared library's PRIVATE links are not part of its INTERFACE_LINK_LIBRARIES, and zkr_warnings
# is wrapped in $<BUILD_INTERFACE:>. Only Boost and Threads are public, found by zkrConfig.cmake.
install(EXPORT zkrTargets
        NAMESPACE zkr::
        FILE zkrTargets.cmake
        DESTINATION "${ZKR_CMAKE_INSTALL_DIR}"
        COMPONENT Development)
if(TARGET zkr_prometheus)
    # In an export set of its own, included by zkrConfig.cmake only where prometheus-cpp is found.
    install(TARGETS zkr_prometheus EXPORT zkrPrometheusTargets)
    install(EXPORT zkrPrometheusTargets
            NAMESPACE zkr::
            FILE zkrPrometheusTargets.cmake
            DESTINATION "${ZKR_CMAKE_INSTALL_DIR}"
            COMPONENT Development)
endif()

configure_package_config_file("${CMAKE_CURRENT_LIST_DIR}/zkrConfig.cmake.in"
    "${PROJECT_BINARY_DIR}/zkrConfig.cmake"
    INSTALL_DESTINATION "${ZKR_CMAKE_INSTALL_DIR}"
    NO_SET_AND_CHECK_MACRO)
# Before 1.0 a minor release may break the API (the SONAME is MAJOR.MINOR): 0.2 accepts 0.2.x only.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/zkrConfigVersion.cmake"
    VERSION "${PROJECT_VERSION}"
    COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/zkrConfig.cmake"
              "${PROJECT_BINARY_DIR}/zkrConfigVersion.cmake"
        DESTINATION "${ZKR_CMAKE_INSTALL_DIR}"
        COMPONENT Development)

# ---- pkg-config: pkg-config --cflags --libs zkr ------------------------------------------------
# Boost ships no .pc files, so nothing goes into Requires: its flags are spelled out, as the
# imported Boost::log target would give them (BOOST_LOG_DYN_LINK, the shared libraries). The
# prefix is the one zkr is installed to (`cmake --install --prefix` included), written at install
# time, so that pkg-config recognises and drops system directories such as -I/usr/include.
function(_zkr_pkgconfig_dir_flag out flag dir)
    set(${out} "" PARENT_SCOPE)
    if(NOT dir)
        return()
    endif()
    foreach(implicit IN LISTS CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES
                              CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
        if(dir STREQUAL implicit)
            return()
        endif()
    endforeach()
    set(${out} "${flag}${dir}" PARENT_SCOPE)
endfunction()

function(_zkr_write_pkgconfig_template)
    set(boost_lib "")
    foreach(prop IMPORTED_LOCATION_RELEASE IMPORTED_LOCATION_RELWITHDEBINFO
                 IMPORTED_LOCATION_DEBUG IMPORTED_LOCATION)
        get_target_property(boost_lib Boost::log ${prop})
        if(boost_lib)
            break()
        endif()
    endforeach()
    set(boost_libdir "")
    if(boost_lib)
        get_filename_component(boost_libdir "${boost_lib}" DIRECTORY)
    endif()
    get_target_property(boost_includedir Boost::headers INTERFACE_INCLUDE_DIRECTORIES)
    list(GET boost_includedir 0 boost_includedir)
    _zkr_pkgconfig_dir_flag(boost_L "-L" "${boost_libdir}")
    _zkr_pkgconfig_dir_flag(boost_I "-I" "${boost_includedir}")

    foreach(dir LIBDIR INCLUDEDIR)
        if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
            set(ZKR_PC_${dir} "${CMAKE_INSTALL_${dir}}")
        else()
            set(ZKR_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
        endif()
    endforeach()
    # The public headers need C++20: a consumer gets it from pkg-config as from zkr::zkr.
    string(JOIN " " ZKR_PC_CFLAGS -std=c++20 ${boost_I} -DBOOST_LOG_DYN_LINK -pthread)
    string(JOIN " " ZKR_PC_LIBS ${boost_L} -lboost_log -lboost_thread -pthread)
    # Substituted at install time (below), when the prefix is known.
    set(ZKR_PC_PREFIX "@ZKR_PC_INSTALL_PREFIX@")
    configure_file("${CMAKE_CURRENT_FUNCTION_LIST_DIR}/zkr.pc.in"
                   "${PROJECT_BINARY_DIR}/pkgconfig/zkr.pc.in" @ONLY)
endfunction()
_zkr_write_pkgconfig_template()
install(CODE "
    set(ZKR_PC_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
    configure_file(\"${PROJECT_BINARY_DIR}/pkgconfig/zkr.pc.in\"
                   \"${PROJECT_BINARY_DIR}/pkgconfig/zkr.pc\" @ONLY)"
    COMPONENT Development)
install(FILES "${PROJECT_BINARY_DIR}/pkgconfig/zkr.pc"
        DESTINATION "${ZKR_PKGCONFIG_INSTALL_DIR}"
        COMPONENT Development)

# ---- Consumer test -----------------------------------------------------------------------------
# Installs this build into a temporary prefix and builds tests/consumer against it, once with
# find_package and once with pkg-config. Run it after building (ctest -R consumer).
if(ZKR_BUILD_TESTS)
    # A sanitized libzkr needs the same runtime in the consumer (and TSan builds of Asio must
    # agree on its atomics configuration on both sides).
    set(_zkr_consumer_flags "")
    if(ZKR_SANITIZE STREQUAL "address")
        set(_zkr_consumer_flags "-fsanitize=address,undefined -fno-omit-frame-pointer")
    elseif(ZKR_SANITIZE STREQUAL "thread")
        set(_zkr_consumer_flags
            "-fsanitize=thread -DBOOST_ASIO_DISABLE_STD_ATOMIC -DBOOST_ASIO_DISABLE_FENCED_BLOCK")
    endif()
    add_test(NAME consumer
             COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/consumer-test.sh"
                     "${PROJECT_BINARY_DIR}" "${PROJECT_SOURCE_DIR}/tests/consumer")
    set(_zkr_consumer_env
        "CMAKE_COMMAND=${CMAKE_COMMAND}"
        "CXX=${CMAKE_CXX_COMPILER}"
        "ZKR_GENERATOR=${CMAKE_GENERATOR}"
        "ZKR_MAKE_PROGRAM=${CMAKE_MAKE_PROGRAM}"
        "ZKR_LIBDIR=${CMAKE_INSTALL_LIBDIR}"
        "ZKR_PKGCONFIG_DIR=${ZKR_PKGCONFIG_INSTALL_DIR}"
        "ZKR_CONSUMER_FLAGS=${_zkr_consumer_flags}")
    set_tests_properties(consumer PROPERTIES
        TIMEOUT 600
        LABELS "package"
        ENVIRONMENT "${_zkr_consumer_env}")
endif()

include("${CMAKE_CURRENT_LIST_DIR}/zkrTooling.cmake")
include("${CMAKE_CURRENT_LIST_DIR}/zkrDebian.cmake")
