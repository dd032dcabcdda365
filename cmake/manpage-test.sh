#!/usr/bin/env bash
# The man page test (ctest -R manpage): docs/zkr.1 documents every subcommand and long option the
# zkr tool's help prints, each option as an item of the right section (GLOBAL OPTIONS, or the
# subcommand's own), and renders without warnings.
#   manpage-test.sh ZKR_BINARY MANPAGE
# The rendering checks need groff (Debian package groff-base) and man (man-db); without them
# only the comparison with the help runs.
set -euo pipefail

zkr=$1
page=$2
failed=0

complain() {
    echo "manpage-test: $*" >&2
    failed=1
}

# unroff: roff text as a reader sees it (escaped dashes and font changes removed).
unroff() { sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g'; }
# items SECTION_REGEX: the tags of the .TP/.TQ items in the .SH/.SS section whose heading
# matches SECTION_REGEX (up to the next heading).
items() {
    awk -v start="$1" '
        /^\.S[HS] / { in_section = ($0 ~ start) }
        in_section && previous ~ /^\.T[PQ]/ { print }
        { previous = $0 }' "$page" | unroff
}
# long_options: the long options in the text on standard input, one a line.
long_options() { grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u || true; }
# expect_items SECTION_REGEX WHERE OPTION...: each OPTION is an item of that section.
expect_items() {
    local section=$1 where=$2 tags option
    shift 2
    tags=$(items "$section")
    for option in "$@"; do
        grep -qE -- "(^|[^[:alnum:]-])$option([^[:alnum:]-]|$)" <<<"$tags" ||
            complain "$option ($where) is not an item of its section in ${page##*/}"
    done
}

help=$("$zkr" --help)
# Usage lines: "usage: zkr [global options] COMMAND", "  zkr --version", "  zkr SUB [options]".
subcommands=()
while read -r line; do
    line=${line#usage: }
    read -ra words <<<"$line"
    [ "${words[0]:-}" = zkr ] || continue
    mapfile -t options < <(long_options <<<"$line")
    if [[ ${words[1]:-} =~ ^[a-z][a-z-]*$ ]]; then
        sub=${words[1]}
        subcommands+=("$sub")
        heading="^[.]SS \"?$sub( |\"|\$)"
        grep -qE "$heading" "$page" ||
            { complain "subcommand $sub has no section in ${page##*/}"; continue; }
        # Per-subcommand help, where the tool has it (exit 0, not the global help again), lists
        # more of its options.
        if sub_help=$(timeout 10 "$zkr" "$sub" --help 2>/dev/null </dev/null) &&
            [ "$sub_help" != "$help" ]; then
            mapfile -t -O "${#options[@]}" options < <(long_options <<<"$sub_help")
        fi
        [ ${#options[@]} -eq 0 ] || expect_items "$heading" "zkr $sub" "${options[@]}"
    else
        [ ${#options[@]} -eq 0 ] || expect_items '^[.]SH "?GLOBAL OPTIONS' global "${options[@]}"
    fi
done <<<"$help"
[ ${#subcommands[@]} -gt 0 ] || complain "no subcommand found in zkr --help"

# Options the help names in its prose must be somewhere in the page too.
text=$(unroff <"$page")
while read -r option; do
    [ -z "$option" ] || grep -qE -- "(^|[^[:alnum:]-])$option([^[:alnum:]-]|$)" <<<"$text" ||
        complain "$option (zkr --help) is not in ${page##*/}"
done < <(long_options <<<"$help")
# The environment variables the tool reads or sets.
for variable in ZKR_HOSTS ZKR_LOCK_PATH ZKR_FENCING_TOKEN ZKR_SEQUENCER ZKR_NODE_PATH; do
    grep -qE "^\.B $variable\$" <<<"$(items '^[.]SH "?ENVIRONMENT')" ||
        complain "$variable is not an item of ENVIRONMENT in ${page##*/}"
done
echo "checked ${#subcommands[@]} subcommands (${subcommands[*]}) and their options"

if command -v groff >/dev/null; then
    warnings=$(groff -man -ww -z -Tutf8 "$page" 2>&1 || echo "groff failed")
    [ -z "$warnings" ] || complain "groff -man -ww: $warnings"
    if command -v man >/dev/null; then
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings=all -l "$page" 2>&1 >/dev/null ||
            echo "man -l failed")
        [ -z "$warnings" ] || complain "man -l: $warnings"
    fi
    [ "$failed" -ne 0 ] || echo "rendered without warnings"
else
    echo "groff not found (Debian package groff-base): rendering not checked"
fi
exit "$failed"
