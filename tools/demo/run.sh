#!/usr/bin/env bash
# The zkr demo: four worker processes sell a limited stock, each sale under a zkr lock taken with
# the `zkr` tool. Half-way, the worker holding the lock is killed with SIGKILL. The demo shows the
# sales live, then checks: items sold = stock (no oversell, no lost sale), fencing tokens strictly
# increasing, how long the lock took to come back, nothing left in ZooKeeper.
#   tools/demo/run.sh ZKR_BINARY HOSTS [STOCK]
set -uo pipefail
zkr=$1 hosts=$2 stock=${3:-40}
here=$(cd "$(dirname "$0")" && pwd)
export ZKR_HOSTS=$hosts
work=$(mktemp -d "${TMPDIR:-/tmp}/zkr-demo-XXXXXX")
store=$work/store sales=$work/sales holder=$work/holder
echo "$stock 0" > "$store"
: > "$sales"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 -- "-$pid" 2>/dev/null; done
    rm -rf "$work"
}
trap cleanup EXIT

printf '\nzkr demo: 4 workers sell %d items, one lock per sale (ZooKeeper at %s)\n\n' "$stock" "$hosts"
for id in 1 2 3 4; do
    setsid bash "$here/worker.sh" "$zkr" "$store" "$sales" "$id" "$holder" &
    pids+=($!)
    disown "$!"   # the demo kills one on purpose: no job-control notice
done

start=$(date +%s.%N)
shown=0 killed_at="" victim="" deadline=$((SECONDS + 180))
while (( SECONDS < deadline )); do
    mapfile -t lines < "$sales"
    for (( ; shown < ${#lines[@]}; shown++ )); do
        read -r kind worker token at left <<< "${lines[shown]}"
        if [[ $kind == sale ]]; then
            printf '  %6.2fs  worker %s sold item %2d of %d   (fencing token %s)\n' \
                "$(echo "$at - $start" | bc)" "$worker" "$((stock - left + 1))" "$stock" "$token"
        else
            printf '          worker %s: write with stale token %s REFUSED by the store\n' "$worker" "$token"
        fi
    done
    if [[ -z $killed_at ]] && (( shown >= stock / 2 )) && [[ -s $holder ]]; then
        read -r victim victim_token < "$holder"
        kill -9 -- "-${pids[victim - 1]}" 2>/dev/null
        killed_at=$(date +%s.%N)
        printf '  %6.2fs  *** SIGKILL to worker %s while it holds the lock (token %s) ***\n' \
            "$(echo "$killed_at - $start" | bc)" "$victim" "$victim_token"
    fi
    alive=0
    for i in "${!pids[@]}"; do
        [[ $((i + 1)) == "$victim" ]] && continue
        kill -0 "${pids[i]}" 2>/dev/null && alive=1
    done
    (( alive )) || break
    sleep 0.05
done

# The summary and its checks.
read -r left fence < "$store"
sold=$(grep -c '^sale' "$sales")
refused=$(grep -c '^rejected' "$sales")
mapfile -t tokens < <(awk '$1 == "sale" {print $3}' "$sales")
increasing=yes
for (( i = 1; i < ${#tokens[@]}; i++ )); do
    (( tokens[i] > tokens[i - 1] )) || increasing=no
done
comeback="n/a"
if [[ -n $killed_at ]]; then
    first_after=$(awk -v t="$killed_at" '$1 == "sale" && $4 > t {print $4; exit}' "$sales")
    [[ -n $first_after ]] && comeback=$(printf '%.2fs' "$(echo "$first_after - $killed_at" | bc)")
fi
left_nodes=$("$zkr" status --json /demo/stock | grep -c '"node"')
ok=yes
check() { printf '  %-48s %s\n' "$1" "$2"; [[ $3 == yes ]] || ok=no; }
printf '\nsummary\n'
check "items sold (stock $stock)" "$sold" "$([[ $sold == "$stock" ]] && echo yes || echo no)"
check "stock left" "$left" "$([[ $left == 0 ]] && echo yes || echo no)"
check "fencing tokens strictly increasing" "$increasing" "$increasing"
check "lock back after the SIGKILL (session timeout 3 s)" "$comeback" "$([[ $comeback != n/a ]] && echo yes || echo no)"
check "stale writes refused by the store" "$refused" yes
check "zkr nodes left in /demo/stock" "$left_nodes" "$([[ $left_nodes == 0 ]] && echo yes || echo no)"
if [[ $ok == yes ]]; then
    printf '\ndemo passed: no oversell, no lost sale, the lock survived a killed holder\n'
else
    printf '\ndemo FAILED\n'
    exit 1
fi
