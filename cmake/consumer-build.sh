# Sourced by consumer-test.sh (a `cmake --install` prefix) and deb-test.sh (the unpacked .deb
# files): checks an installed zkr and builds and runs tests/consumer against it, twice:
#   1. CMake:      find_package(zkr 0.2 REQUIRED), target zkr::zkr;
#   2. pkg-config: c++ main.cpp $(pkg-config --cflags --libs zkr) (which gives -std=c++20).
# The environment gives the tools (CMAKE_COMMAND, CXX, ZKR_GENERATOR, ZKR_MAKE_PROGRAM), the
# install layout (ZKR_LIBDIR, ZKR_PKGCONFIG_DIR, relative to the prefix) and the compile flags a
# sanitized build needs (ZKR_CONSUMER_FLAGS).
# shellcheck shell=bash

cmake=${CMAKE_COMMAND:-cmake}
cxx=${CXX:-c++}
libdir=${ZKR_LIBDIR:-lib}
pcdir=${ZKR_PKGCONFIG_DIR:-$libdir/pkgconfig}
flags=${ZKR_CONSUMER_FLAGS:-}

# check_installed PREFIX BUILD_DIR CONSUMER_SOURCE_DIR
# The files a consumer needs are there, and none of them points back into the build or source
# tree (which a consumer on another machine would not have). PREFIX itself is cut out first: it
# may lie anywhere, in the build tree included.
check_installed() {
    local prefix=$1 build=$2 source=$3 f tree
    for f in "$libdir/libzkr.so" "$libdir/cmake/zkr/zkrConfig.cmake" "$pcdir/zkr.pc" \
        include/zkr/session.hpp include/zkr/version.hpp; do
        [ -e "$prefix/$f" ] || { echo "${0##*/}: $f was not installed" >&2; return 1; }
    done
    tree=$(cd "$source/../.." && pwd)
    if cat "$prefix/$libdir"/cmake/zkr/*.cmake "$prefix/$pcdir/zkr.pc" | sed "s|$prefix||g" |
        grep -qs -e "$(cd "$build" && pwd)" -e "$tree/"; then
        echo "${0##*/}: the installed package refers to the build or source tree" >&2
        return 1
    fi
}

# build_consumers CONSUMER_SOURCE_DIR WORK_DIR PREFIX [SYSROOT]
# Builds the consumer both ways in WORK_DIR against the zkr installed in PREFIX, and runs each
# with PREFIX's libdir first on the loader's path. SYSROOT, when the files were unpacked under a
# root other than /, is where pkg-config finds what zkr.pc names (PREFIX is SYSROOT/usr then).
build_consumers() {
    local source=$1 work=$2 prefix=$3 sysroot=${4:-}
    local run_path=$prefix/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

    echo "== CMake consumer: find_package(zkr 0.2 REQUIRED)"
    local generator=()
    [ -n "${ZKR_GENERATOR:-}" ] && generator=(-G "$ZKR_GENERATOR")
    [ -n "${ZKR_MAKE_PROGRAM:-}" ] && generator+=("-DCMAKE_MAKE_PROGRAM=$ZKR_MAKE_PROGRAM")
    "$cmake" -S "$source" -B "$work/cmake-build" "${generator[@]}" \
        -DCMAKE_BUILD_TYPE=Debug \
        -DCMAKE_CXX_COMPILER="$cxx" \
        -DCMAKE_CXX_FLAGS="$flags" \
        -DCMAKE_PREFIX_PATH="$prefix" \
        -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" || {
        cat "$work/configure.log"
        return 1
    }
    "$cmake" --build "$work/cmake-build"
    LD_LIBRARY_PATH=$run_path "$work/cmake-build/zkr_consumer"
    if [ -f "$prefix/$libdir/cmake/zkr/zkrPrometheusTargets.cmake" ]; then
        LD_LIBRARY_PATH=$run_path "$work/cmake-build/zkr_consumer_metrics"
    fi

    echo "== pkg-config consumer: pkg-config --cflags --libs zkr"
    local pkgconfig pc_flags pc_env=("PKG_CONFIG_PATH=$prefix/$pcdir")
    pkgconfig=$(command -v pkg-config || command -v pkgconf || true)
    if [ -z "$pkgconfig" ]; then
        echo "${0##*/}: pkg-config not found (Debian package pkg-config)" >&2
        return 1
    fi
    [ -z "$sysroot" ] || pc_env+=("PKG_CONFIG_SYSROOT_DIR=$sysroot")
    pc_flags=$(env "${pc_env[@]}" "$pkgconfig" --cflags --libs zkr)
    echo "pkg-config: $pc_flags"
    # shellcheck disable=SC2086 # word splitting of the flags is intended
    "$cxx" $flags "$source/main.cpp" -o "$work/pc-consumer" $pc_flags
    LD_LIBRARY_PATH=$run_path "$work/pc-consumer"
}
