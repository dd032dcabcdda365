#!/usr/bin/env bash
# One sale, run by `zkr lock` while it holds /demo/stock:  sell.sh STORE SALES WORKER HOLDER_FILE
# The store is a file "stock fence" that, like a database row, refuses a write whose fencing token
# is older than the newest it has seen: a holder that lost the lock cannot sell.
set -euo pipefail
store=$1 sales=$2 worker=$3 holder=$4
echo "$worker $ZKR_FENCING_TOKEN" > "$holder"   # who holds the lock now, for the demo's view
sleep "0.$((RANDOM % 2 + 1))"                     # the slow part of a sale (payment, shipping)
exec 9>>"$store.lock"
flock 9
read -r stock fence < "$store"
if (( ZKR_FENCING_TOKEN < fence )); then
    echo "rejected $worker $ZKR_FENCING_TOKEN" >> "$sales"
    exit 3
fi
if (( stock == 0 )); then
    exit 10   # sold out
fi
echo "$((stock - 1)) $ZKR_FENCING_TOKEN" > "$store.new"
mv "$store.new" "$store"
echo "sale $worker $ZKR_FENCING_TOKEN $(date +%s.%N) $stock" >> "$sales"
