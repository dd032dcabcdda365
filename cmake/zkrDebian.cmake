# Debian packages of zkr: `cpack -G DEB` (or `cmake --build <dir> --target package`) in a build
# directory makes two, from the install components of zkrPackage.cmake:
#   libzkr0.2  (Runtime)      libzkr.so.0.2* and its SONAME link, the zkr tool and its man page;
#   libzkr-dev (Development)  headers, the libzkr.so link, the CMake package and zkr.pc.
# The runtime package is named after the SONAME (libzkr.so.0.2), as Debian names libraries, so
# that a later, incompatible 0.3 installs beside it.
#
# The files go under /usr. Configure with -DCMAKE_INSTALL_PREFIX=/usr for the multiarch library
# directory (usr/lib/<triplet>): GNUInstallDirs picks it only for that prefix, when the install
# rules are written; another prefix packages the library into usr/lib.
#
# Included at the end of zkrPackage.cmake, once the install rules and the consumer test exist.
include_guard(GLOBAL)

set(_zkr_deb_runtime "libzkr${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}")
set(_zkr_deb_dev "libzkr-dev")
set(_zkr_deb_multiarch "lib/${CMAKE_LIBRARY_ARCHITECTURE}")
if(CMAKE_LIBRARY_ARCHITECTURE AND NOT CMAKE_INSTALL_LIBDIR STREQUAL _zkr_deb_multiarch)
    message(STATUS "zkr: Debian packages will hold the library in usr/${CMAKE_INSTALL_LIBDIR}; "
                   "configure with -DCMAKE_INSTALL_PREFIX=/usr for usr/${_zkr_deb_multiarch}")
endif()

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "zkr")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Whoever builds packages for distribution sets their own name and address here.
set(ZKR_DEB_MAINTAINER "zkr maintainers <maintainers@zkr.example>"
    CACHE STRING "Maintainer field of the Debian packages (Name <address>)")
mark_as_advanced(ZKR_DEB_MAINTAINER)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${ZKR_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # name_version-release_arch.deb
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)

# Installed with /usr as CMAKE_INSTALL_PREFIX (CPACK_INSTALL_PREFIX, not the build's prefix) and
# the staging directory as DESTDIR: zkr.pc is written at install time from CMAKE_INSTALL_PREFIX,
# which without DESTDIR would be the staging path. CPACK_PACKAGING_INSTALL_PREFIX says /usr too.
set(CPACK_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_SET_DESTDIR ON)
# Debian ships stripped binaries (a RelWithDebInfo library is thirty times the size otherwise).
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL Runtime Development)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME "${_zkr_deb_runtime}")
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME "${_zkr_deb_dev}")
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION
    "Apache ZooKeeper recipes for C++ with Boost.Asio (library and zkr tool)
zkr provides a distributed mutex, leader election, a read-write lock, a
counting semaphore and multi-locks on Apache ZooKeeper, with an asynchronous
Boost.Asio API and fencing tokens. Its lock nodes are named as Apache
Curator's, so C++, Java and Python processes can share one lock.

This package holds the shared library and the zkr command-line tool, which
runs a command under a lock, a semaphore lease or leadership.")
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION
    "Apache ZooKeeper recipes for C++ with Boost.Asio (development files)
zkr provides a distributed mutex, leader election, a read-write lock, a
counting semaphore and multi-locks on Apache ZooKeeper, with an asynchronous
Boost.Asio API and fencing tokens.

This package holds the headers, the CMake package (find_package(zkr)) and
the pkg-config file.")

# The runtime package's dependencies are read from the binaries by dpkg-shlibdeps (Debian
# package dpkg-dev, in tools/install-deps.sh): they name the packages of the libraries actually
# linked, with the versions their symbols need, for whatever Boost, ZooKeeper client or
# sanitizer runtime this build used; a list kept by hand would go stale. Without dpkg-shlibdeps
# cpack leaves Depends empty, which the deb test catches.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# A shlibs file (only the runtime package holds a shared library), so that packages built
# against libzkr0.2 depend on it in turn; ">=": any later 0.2.x provides the same ABI (the SONAME
# changes with the minor version).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
find_program(ZKR_DPKG_SHLIBDEPS dpkg-shlibdeps DOC "dpkg-shlibdeps, used by cpack -G DEB")
mark_as_advanced(ZKR_DPKG_SHLIBDEPS)
if(NOT ZKR_DPKG_SHLIBDEPS)
    message(STATUS "zkr: dpkg-shlibdeps not found (Debian package dpkg-dev): "
                   "cpack -G DEB would make a runtime package without dependencies")
endif()

# The -dev package: the exact runtime package (CPack adds "libzkr0.2 (= version)"), and what
# zkrConfig.cmake and zkr.pc make a consumer find and link: Boost 1.81's headers, Boost.Log and
# Boost.Thread (whose -dev packages bring the CMake files of the components they need).
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)
set(CPACK_COMPONENT_DEVELOPMENT_DEPENDS Runtime)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS
    "libboost1.81-dev, libboost-log1.81-dev, libboost-thread1.81-dev")

include(CPack)

# ---- Debian package test: ctest -R deb ---------------------------------------------------------
# Makes the packages, checks their control fields and contents, unpacks them into a scratch root
# and builds tests/consumer against that root, as the consumer test does against an install.
if(ZKR_BUILD_TESTS)
    # The consumer's environment (tools, layout, a sanitized build's flags) and the packages'.
    set(_zkr_deb_env ${_zkr_consumer_env}
        "CPACK_COMMAND=${CMAKE_CPACK_COMMAND}"
        "ZKR_DEB_RUNTIME=${_zkr_deb_runtime}"
        "ZKR_DEB_DEV=${_zkr_deb_dev}"
        "ZKR_DEB_VERSION=${PROJECT_VERSION}-${CPACK_DEBIAN_PACKAGE_RELEASE}")
    add_test(NAME deb
             COMMAND bash "${CMAKE_CURRENT_LIST_DIR}/deb-test.sh"
                     "${PROJECT_BINARY_DIR}" "${PROJECT_SOURCE_DIR}/tests/consumer")
    set_tests_properties(deb PROPERTIES
        TIMEOUT 600
        LABELS "package"
        SKIP_RETURN_CODE 77
        ENVIRONMENT "${_zkr_deb_env}")
    # Both install this build, and the install step writes zkr.pc into the build tree with the
    # prefix of the moment (/usr here, a temporary one there): never at the same time.
    set_tests_properties(consumer deb PROPERTIES RESOURCE_LOCK zkr_install)
endif()
