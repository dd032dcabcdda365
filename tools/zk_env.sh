# zk_env.sh - sourceable helper: a throw-away ZooKeeper server for a test script.
#
#   source tools/zk_env.sh
#   zk_up                   # or: zk_up --ensemble 3
#   ./my_test "$ZKR_TEST_HOSTS"
#
# zk_up [ARGS...]  creates a temp dir (mktemp -d under ${TMPDIR:-/tmp}), runs
#                  "zk.sh start DIR ARGS..." (standalone by default), exports
#                  ZKR_TEST_HOSTS (connect string), ZK_DIR (the server dir, usable
#                  with "$ZK_SH kill|restart|pause|resume|leader|mntr $ZK_DIR ...")
#                  and ZK_SH (path of zk.sh), and installs an EXIT trap that runs
#                  zk_down. Note: that replaces any EXIT trap the caller had set.
#                  Returns 1 (with the server logs on stderr) if the server did not start.
# zk_down          stops the server and removes ZK_DIR (idempotent).
#
# Works with or without `set -e` in the sourcing script.

ZK_SH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/zk.sh"
export ZK_SH

zk_up() {
  local dir hosts
  dir=$(mktemp -d "${TMPDIR:-/tmp}/zkr-zk.XXXXXX") || return 1
  # zk.sh start accepts an existing empty dir; it removes it itself on failure.
  hosts=$("$ZK_SH" start "$dir" "$@") || { rm -rf "$dir"; return 1; }
  ZK_DIR=$dir
  ZKR_TEST_HOSTS=$hosts
  export ZK_DIR ZKR_TEST_HOSTS
  trap zk_down EXIT
}

zk_down() {
  if [[ -n ${ZK_DIR:-} ]]; then
    "$ZK_SH" stop "$ZK_DIR" || true
    ZK_DIR=
  fi
}
