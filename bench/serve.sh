# What the one-command benchmarks beside run.sh share (sourced by cache.sh, discovery.sh,
# counter.sh and queue.sh):
#
#   bench_build_and_serve TARGET...
#
# checks the Debian packages (tools/install-deps.sh; ZKR_BENCH_NO_DEPS=1 skips it), builds
# TARGET... in the Release tree of bench/run.sh ($ZKR_BENCH_BUILD, default build/bench-release)
# under /tmp/zkr-build.lock, so that it never overlaps the machine's other builds, and starts a
# throw-away standalone ZooKeeper on a free loopback port, stopped again by a trap whatever
# happens. Sets $root, $build, $hosts, $secure_hosts and $zkdir (the server's directory). The
# server's heap is $BENCH_SERVER_HEAP (default 1g); $BENCH_SERVER_OPTIONS, more options of
# tools/zk.sh start (bench/tls.sh: a TLS port beside the plaintext one).
#
#   bench_side_by_side NAME TARGET... -- ARG...
#
# does that, then runs bench/NAME_orchestrate.py on the server with ARG... (its footer names
# the command as `bash bench/NAME.sh ARG...`).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${ZKR_BENCH_BUILD:-$root/build/bench-release}

bench_build_and_serve() {
    if [[ ${ZKR_BENCH_NO_DEPS:-0} != 1 ]]; then
        bash "$root/tools/install-deps.sh" >&2
    fi
    command -v javac >/dev/null || { echo "bench: javac (a JDK) is needed for the Curator row" >&2; exit 1; }

    echo "== building the drivers in $build" >&2
    flock /tmp/zkr-build.lock cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DZKR_BUILD_TESTS=OFF -DZKR_BUILD_BENCH=ON >/dev/null
    flock /tmp/zkr-build.lock cmake --build "$build" --target "$@" >&2

    zkdir=$(mktemp -d "${TMPDIR:-/tmp}/zkr-bench-zk.XXXXXX")
    stop_server() { bash "$root/tools/zk.sh" stop "$zkdir" || true; }
    trap stop_server EXIT
    trap 'exit 130' INT TERM HUP
    # The test scripts run the server with C1 only (fast start) and a 256 MB heap; a benchmark
    # wants the JIT a production server has (the last -XX option wins).
    export ZK_JAVA_OPTS="-XX:TieredStopAtLevel=4 -Xmx${BENCH_SERVER_HEAP:-1g}"
    # shellcheck disable=SC2086  # BENCH_SERVER_OPTIONS: zk.sh start's options, word by word
    hosts=$(bash "$root/tools/zk.sh" start "$zkdir" ${BENCH_SERVER_OPTIONS:-})
    # With a TLS port (BENCH_SERVER_OPTIONS="--tls CA_DIR --plaintext"), start names the secure
    # ports: $hosts stays the plaintext connect string, $secure_hosts is the TLS one.
    secure_hosts=
    if [[ -f $zkdir/secure_hosts ]]; then
        secure_hosts=$hosts
        hosts=$(bash "$root/tools/zk.sh" hosts "$zkdir")
    fi
    echo "== ZooKeeper $(echo srvr | nc -N -w 2 "${hosts%:*}" "${hosts##*:}" | head -1 | sed 's/.*version: //; s/-.*//') on $hosts" >&2
}

bench_side_by_side() {
    local name=$1 targets=()
    shift
    while [[ $1 != -- ]]; do
        targets+=("$1")
        shift
    done
    shift
    bench_build_and_serve "${targets[@]}"
    /usr/bin/python3 "$root/bench/${name}_orchestrate.py" --hosts "$hosts" --build "$build" \
        --command "bash bench/$name.sh${*:+ $*}" "$@"
}
