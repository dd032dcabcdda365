#!/usr/bin/env bash
# TLS beside plaintext, in one command: builds the drivers (Release, the tree of bench/run.sh),
# makes a throw-away CA (tools/test-ca.sh), starts a standalone ZooKeeper with a TLS port beside
# its plaintext one, and runs zkr over each (rows zkr and zkr-tls, with the bare single-threaded
# client floor-st as the reference) interleaved on that one server: an uncontended lock cycle,
# eight contenders, and a thousand sessions connected one after another (the connection set-up,
# the TLS handshake included). Prints the table; the JSON lines go to a file (path printed).
#
#   bash bench/tls.sh [--quick] [--reps N] [--rows floor-st,zkr,zkr-tls]
#                     [--scenarios uncontended,c8,sessions] [--out FILE.jsonl]
#
#   --quick   one repetition, 0.5 s per timed scenario, 200 sessions (about a minute).
# Environment as bench/run.sh's. See bench/README.md, "TLS".
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command="bash bench/tls.sh${*:+ $*}"
source "$here/serve.sh"
ca=$(mktemp -d "${TMPDIR:-/tmp}/zkr-bench-ca.XXXXXX")
bash "$root/tools/test-ca.sh" "$ca" >/dev/null
BENCH_SERVER_OPTIONS="--tls $ca --plaintext" bench_build_and_serve zkr-bench-floor-st zkr-bench-zkr
trap 'stop_server; rm -rf "$ca"' EXIT

/usr/bin/python3 "$here/orchestrate.py" --hosts "$hosts" --secure-hosts "$secure_hosts" \
    --tls-ca "$ca/ca.pem" --build "$build" --command "$command" \
    --server-pid "$(cat "$zkdir/1/pid")" --rows floor-st,zkr,zkr-tls \
    --scenarios uncontended,c8,sessions "$@"
