#!/usr/bin/env bash
# Fuzzes the child-name parser (recipes/contender.cpp) with libFuzzer.
#   bash fuzz/run.sh [SECONDS]      default 60
# Needs clang-14 and libclang-rt-14-dev (Debian). New inputs go to fuzz/out/new/ (not kept by
# default); crashes to fuzz/artifacts/. To keep a corpus, minimise it into fuzz/corpus/:
#   fuzz/out/name_parser_fuzz -merge=1 fuzz/corpus.min fuzz/corpus fuzz/out/new
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
seconds=${1:-60}
out=$here/out
mkdir -p "$out/new" "$here/artifacts"
if ! command -v clang++-14 >/dev/null || ! dpkg-query -W libclang-rt-14-dev >/dev/null 2>&1; then
    echo "fuzz: installing clang-14 and libclang-rt-14-dev"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        clang-14 libclang-rt-14-dev >/dev/null
fi
clang++-14 -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$root/recipes" -I"$root/include" "$here/name_parser_fuzz.cpp" "$root/recipes/contender.cpp" \
    -o "$out/name_parser_fuzz"
"$out/name_parser_fuzz" -max_total_time="$seconds" -max_len=512 -timeout=5 \
    -dict="$here/names.dict" -artifact_prefix="$here/artifacts/" \
    "$out/new" "$here/corpus"
