#!/usr/bin/env bash
# README command 1: installs what is missing, builds zkr and its tool, starts a local ZooKeeper
# and runs the demo (tools/demo/run.sh) against it, then stops the server.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/install-deps.sh
echo "== building zkr (build/release)"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DZKR_BUILD_TESTS=OFF \
    -DZKR_BUILD_BENCH=OFF >/dev/null
cmake --build build/release --target zkr_cli
echo "== starting a local ZooKeeper and running the demo"
bash tools/with-zookeeper.sh bash tools/demo/run.sh build/release/tools/zkr/zkr @HOSTS@
