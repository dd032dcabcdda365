#!/usr/bin/env bash
# Checks that zkr's own C++ files follow .clang-format (clang-format 14); CI runs it as the CTest
# test `format`. With --fix, reformats them in place instead.
#   tools/check-format.sh [--fix]
# CLANG_FORMAT names the binary (default: clang-format-14, else clang-format). Exits 77 (reported
# by CTest as skipped) when no clang-format is installed (Debian package clang-format).
set -euo pipefail
cd "$(dirname "$0")/.."

mode=(--dry-run -Werror)
if [ "${1:-}" = "--fix" ]; then
    mode=(-i)
elif [ $# -gt 0 ]; then
    echo "usage: $0 [--fix]" >&2
    exit 64
fi

clang_format=${CLANG_FORMAT:-$(command -v clang-format-14 || command -v clang-format || true)}
if [ -z "$clang_format" ] || ! command -v "$clang_format" >/dev/null; then
    echo "check-format: clang-format not found (Debian package clang-format); skipped" >&2
    exit 77
fi

# Our own sources only: nothing generated, nothing from a build directory.
dirs=()
for d in src include recipes tests integration examples tools bench; do
    [ -d "$d" ] && dirs+=("$d")
done
mapfile -t files < <(find "${dirs[@]}" -type f \( -name '*.cpp' -o -name '*.hpp' \) | LC_ALL=C sort)
if [ ${#files[@]} -eq 0 ]; then
    echo "check-format: no files" >&2
    exit 1
fi

if "$clang_format" --style=file "${mode[@]}" "${files[@]}"; then
    verb=ok
    [ "${mode[0]}" = -i ] && verb=formatted
    echo "check-format: ${#files[@]} files $verb ($("$clang_format" --version | head -1))"
else
    echo "check-format: files above differ from .clang-format; run tools/check-format.sh --fix" >&2
    exit 1
fi
