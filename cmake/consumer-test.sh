#!/usr/bin/env bash
# The consumer test (ctest -R consumer): installs a zkr build into a temporary prefix, then builds
# and runs tests/consumer against the installed files only (consumer-build.sh: once with CMake's
# find_package, once with pkg-config).
#   consumer-test.sh BUILD_DIR CONSUMER_SOURCE_DIR
# The environment is described in consumer-build.sh.
set -euo pipefail

build=$1
source=$2
# shellcheck source=SCRIPTDIR/consumer-build.sh
. "$(dirname "${BASH_SOURCE[0]}")/consumer-build.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix

echo "== installing $build into $prefix"
"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log" || {
    cat "$work/install.log"
    exit 1
}
check_installed "$prefix" "$build" "$source"
build_consumers "$source" "$work" "$prefix"

echo "== consumer test passed"
