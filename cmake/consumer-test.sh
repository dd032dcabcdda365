#!/usr/bin/env bash
# The consumer test (ctest -R consumer): installs a zkr build into a temporary prefix, then builds
# and runs tests/consumer against the installed files only, twice:
#   1. CMake:      find_package(zkr 0.2 REQUIRED), target zkr::zkr;
#   2. pkg-config: c++ -std=c++20 main.cpp $(pkg-config --cflags --libs zkr).
#   consumer-test.sh BUILD_DIR CONSUMER_SOURCE_DIR
# The environment gives the tools (CMAKE_COMMAND, CXX, ZKR_GENERATOR, ZKR_MAKE_PROGRAM), the
# install layout (ZKR_LIBDIR, ZKR_PKGCONFIG_DIR, relative to the prefix) and the compile flags a
# sanitized build needs (ZKR_CONSUMER_FLAGS).
set -euo pipefail

build=$1
source=$2
cmake=${CMAKE_COMMAND:-cmake}
cxx=${CXX:-c++}
libdir=${ZKR_LIBDIR:-lib}
pcdir=${ZKR_PKGCONFIG_DIR:-$libdir/pkgconfig}
flags=${ZKR_CONSUMER_FLAGS:-}

work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== installing $build into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    exit 1
}
for f in "$libdir/libzkr.so" "$libdir/cmake/zkr/zkrConfig.cmake" "$pcdir/zkr.pc" \
    include/zkr/session.hpp include/zkr/version.hpp; do
    [ -e "$prefix/$f" ] || { echo "consumer-test: $f was not installed" >&2; exit 1; }
done
# Only the installed tree may be used: the consumer must not see the build or source trees.
tree=$(cd "$source/../.." && pwd)
if cat "$prefix/$libdir"/cmake/zkr/*.cmake "$prefix/$pcdir/zkr.pc" | sed "s|$prefix||g" |
    grep -qs -e "$(cd "$build" && pwd)" -e "$tree/"; then
    echo "consumer-test: the installed package refers to the build or source tree" >&2
    exit 1
fi

echo "== CMake consumer: find_package(zkr 0.2 REQUIRED)"
generator=()
[ -n "${ZKR_GENERATOR:-}" ] && generator=(-G "$ZKR_GENERATOR")
[ -n "${ZKR_MAKE_PROGRAM:-}" ] && generator+=("-DCMAKE_MAKE_PROGRAM=$ZKR_MAKE_PROGRAM")
"$cmake" -S "$source" -B "$work/cmake-build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$work/configure.log" || {
    cat "$work/configure.log"
    exit 1
}
"$cmake" --build "$work/cmake-build"
"$work/cmake-build/zkr_consumer"

echo "== pkg-config consumer: pkg-config --cflags --libs zkr"
pkgconfig=$(command -v pkg-config || command -v pkgconf || true)
if [ -z "$pkgconfig" ]; then
    echo "consumer-test: pkg-config not found (Debian package pkg-config)" >&2
    exit 1
fi
export PKG_CONFIG_PATH=$prefix/$pcdir
pc_flags=$("$pkgconfig" --cflags --libs zkr)
echo "pkg-config: $pc_flags"
# shellcheck disable=SC2086 # word splitting of the flags is intended
"$cxx" -std=c++20 $flags "$source/main.cpp" -o "$work/pc-consumer" $pc_flags \
    -Wl,-rpath,"$prefix/$libdir"
"$work/pc-consumer"

echo "== consumer test passed"
