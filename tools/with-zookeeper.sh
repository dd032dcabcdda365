#!/usr/bin/env bash
# Runs a command against a throw-away local ZooKeeper: starts one (tools/zk.sh), replaces
# every argument "@HOSTS@" with its connect string, runs the command, stops the server.
#   tools/with-zookeeper.sh CMD [ARGS...]      (exit status: the command's)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/zkr-zk-XXXXXX")
trap 'bash "$here/tools/zk.sh" stop "$dir/zk"; rmdir "$dir" 2>/dev/null || true' EXIT
hosts=$(bash "$here/tools/zk.sh" start "$dir/zk")
args=()
for a in "$@"; do args+=("${a//@HOSTS@/$hosts}"); done
"${args[@]}"
