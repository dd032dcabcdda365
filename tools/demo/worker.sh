#!/usr/bin/env bash
# A demo worker: sells items one lock at a time until the stock is gone.
#   worker.sh ZKR STORE SALES ID HOLDER_FILE
zkr=$1 store=$2 sales=$3 id=$4 holder=$5
here=$(cd "$(dirname "$0")" && pwd)
while true; do
    "$zkr" --session-timeout 3000 lock --quiet /demo/stock -- \
        bash "$here/sell.sh" "$store" "$sales" "$id" "$holder"
    case $? in
        0 | 3) ;;          # sold one / refused as stale
        10) exit 0 ;;      # sold out
        *) sleep 0.2 ;;    # lock or connection trouble: try again
    esac
done
