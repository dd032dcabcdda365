#!/usr/bin/env bash
# The Debian package test (ctest -R deb): makes the .deb packages of a zkr build with cpack,
# checks their control fields and file lists, unpacks them into a scratch root, builds and runs
# tests/consumer against that root only (consumer-build.sh), and runs the unpacked zkr tool.
#   deb-test.sh BUILD_DIR CONSUMER_SOURCE_DIR
# Besides consumer-build.sh's environment: CPACK_COMMAND, the package names (ZKR_DEB_RUNTIME,
# ZKR_DEB_DEV) and their version (ZKR_DEB_VERSION, VERSION-RELEASE), from zkrDebian.cmake.
# Exits 77 (skipped) where there is no dpkg.
set -euo pipefail

build=$1
source=$2
# shellcheck source=SCRIPTDIR/consumer-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/consumer-build.sh"
cpack=${CPACK_COMMAND:-cpack}
runtime=${ZKR_DEB_RUNTIME:?}
dev=${ZKR_DEB_DEV:?}
version=${ZKR_DEB_VERSION:?}

if ! command -v dpkg-deb >/dev/null || ! command -v dpkg >/dev/null; then
    echo "deb-test: dpkg not found: not a Debian system, skipped"
    exit 77
fi

fail() {
    echo "deb-test: $*" >&2
    exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-deb-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== cpack -G DEB in $build"
"$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1 || {
    cat "$work/cpack.log"
    exit 1
}
arch=$(dpkg --print-architecture)
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || true)
if [ -n "$multiarch" ] && [ "$libdir" != "lib/$multiarch" ]; then
    echo "deb-test: note: the library goes to usr/$libdir, not usr/lib/$multiarch" \
        "(configure with -DCMAKE_INSTALL_PREFIX=/usr for the multiarch directory)"
fi
runtime_deb=$work/out/${runtime}_${version}_$arch.deb
dev_deb=$work/out/${dev}_${version}_$arch.deb
for deb in "$runtime_deb" "$dev_deb"; do
    [ -f "$deb" ] || { cat "$work/cpack.log"; fail "${deb##*/} was not made"; }
done

# field DEB NAME: one control field of a package.
field() { dpkg-deb -f "$1" "$2"; }
# contents DEB: the package's paths, "./usr/..." (symbolic links without their targets).
contents() { dpkg-deb -c "$1" | awk '{print $6}'; }
# expect_depends DEB PACKAGE...: each PACKAGE is one of DEB's dependencies (any version).
expect_depends() {
    local deb=$1 depends p
    shift
    depends=$(field "$deb" Depends | tr ',' '\n' | sed 's/^ *//; s/ *(.*//')
    for p in "$@"; do
        grep -qx -- "$p" <<<"$depends" ||
            fail "${deb##*/}: Depends lacks $p: $(field "$deb" Depends)"
    done
}
# expect_files DEB PATH...: DEB holds each PATH (relative to /).
expect_files() {
    local deb=$1 list p
    shift
    list=$(contents "$deb")
    for p in "$@"; do
        grep -qxF -- "./$p" <<<"$list" || fail "${deb##*/} lacks /$p"
    done
}
# expect_no_files DEB REGEX: no path of DEB matches REGEX (extended, on "./usr/...").
expect_no_files() {
    if contents "$1" | grep -E -- "$2"; then
        fail "${1##*/} holds files it should not (above; pattern $2)"
    fi
}

for deb in "$runtime_deb" "$dev_deb"; do
    echo "== dpkg-deb -I ${deb##*/}"
    dpkg-deb -f "$deb"
    [ "$(field "$deb" Version)" = "$version" ] || fail "${deb##*/}: Version is not $version"
    [ "$(field "$deb" Architecture)" = "$arch" ] || fail "${deb##*/}: Architecture is not $arch"
    [ -n "$(field "$deb" Maintainer)" ] || fail "${deb##*/}: no Maintainer"
    # Everything under /usr: a library package puts nothing in /usr/local or the build's prefix.
    outside=$(contents "$deb" | grep -Ev '^\./$|^\./usr/' || true)
    [ -z "$outside" ] || fail "${deb##*/} holds files outside /usr: $outside"
    expect_no_files "$deb" '^\./usr/local/'
done

[ "$(field "$runtime_deb" Section)" = libs ] || fail "$runtime: Section is not libs"
[ "$(field "$dev_deb" Section)" = libdevel ] || fail "$dev: Section is not libdevel"
# dpkg-shlibdeps' answer: the Debian packages of the libraries libzkr and zkr are linked to.
expect_depends "$runtime_deb" libc6 libstdc++6 libzookeeper-st2 libboost-log1.81.0 libboost-json1.81.0
expect_depends "$dev_deb" "$runtime" libboost1.81-dev libboost-log1.81-dev libboost-thread1.81-dev
field "$dev_deb" Depends | grep -qF "$runtime (= $version)" ||
    fail "$dev does not depend on $runtime (= $version)"
# The shlibs file: packages built against libzkr depend on this package in turn.
dpkg-deb -I "$runtime_deb" shlibs | grep -q "^libzkr [0-9.]* $runtime " ||
    fail "$runtime has no shlibs entry for libzkr"

soname=libzkr.so.${runtime#libzkr}
expect_files "$runtime_deb" "usr/$libdir/$soname" "usr/$libdir/libzkr.so.${version%-*}" \
    usr/bin/zkr usr/share/man/man1/zkr.1
expect_no_files "$runtime_deb" '/libzkr\.so$|/include/|/cmake/|/pkgconfig/'
expect_files "$dev_deb" "usr/$libdir/libzkr.so" usr/include/zkr/session.hpp \
    usr/include/zkr/version.hpp "usr/$libdir/cmake/zkr/zkrConfig.cmake" \
    "usr/$libdir/cmake/zkr/zkrConfigVersion.cmake" "usr/$libdir/cmake/zkr/zkrTargets.cmake" \
    "usr/$pcdir/zkr.pc"
expect_no_files "$dev_deb" '/libzkr\.so\.|/bin/|/man/'

root=$work/root
echo "== dpkg -x into $root"
dpkg -x "$runtime_deb" "$root"
dpkg -x "$dev_deb" "$root"
# zkr.pc is written at install time from the prefix: it must say /usr, not the staging path.
grep -qx 'prefix=/usr' "$root/usr/$pcdir/zkr.pc" || {
    cat "$root/usr/$pcdir/zkr.pc"
    fail "zkr.pc in $dev does not have prefix=/usr"
}
if grep -q "$work" "$root/usr/$pcdir/zkr.pc" "$root/usr/$libdir"/cmake/zkr/*.cmake; then
    fail "$dev refers to the directory the packages were made in"
fi
check_installed "$root/usr" "$build" "$source"

echo "== zkr --version from the unpacked $runtime"
# Run only with the unpacked library on the loader's path (whatever the binary's RUNPATH says).
got=$(LD_LIBRARY_PATH=$root/usr/$libdir${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} \
    "$root/usr/bin/zkr" --version)
echo "$got"
[ "$got" = "zkr ${version%-*}" ] || fail "zkr --version printed '$got', not 'zkr ${version%-*}'"

build_consumers "$source" "$work" "$root/usr" "$root"

echo "== deb test passed"
