#!/usr/bin/env bash
# README command 1: installs what is missing, builds zkr, starts a local ZooKeeper and runs the
# demo against it, then stops the server. Leaves the build in build/release.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
echo "== building zkr (build/release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DZKR_BUILD_TESTS=OFF >/dev/null
cmake --build build/release --target hello_lock
echo "== starting a local ZooKeeper and running the demo"
bash tools/with-zookeeper.sh build/release/examples/hello_lock @HOSTS@ /zkr/demo
