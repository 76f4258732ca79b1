#!/bin/bash
# Runs every IMAP parser fixture through `posta parse imap --raw` whole, one
# byte at a time and in other fixed and random chunk sizes; each run must
# print exactly NAME.out, and exactly NAME.err on stderr with status 1 when
# that file exists (else nothing on stderr and status 0).  NAME.args, when
# present, holds extra options (limits) for every run of that fixture.
#
#   fixtures.sh [NAME...]      only the named fixtures
#   UPDATE=1 fixtures.sh       rewrite .out/.err from a whole run (then review them!)
set -u
: "${POSTA_BIN:?set POSTA_BIN to the posta executable}"
src=${POSTA_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
dir="$src/tests/imap/fixtures"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

modes=(whole 1 2 7 r1 r2)
failed=0
total=0

if [ $# -gt 0 ]; then
    inputs=()
    for n in "$@"; do inputs+=("$dir/$n.in"); done
else
    inputs=("$dir"/*.in)
fi

for in in "${inputs[@]}"; do
    name=${in%.in}
    base=$(basename "$name")
    extra=()
    [ -f "$name.args" ] && read -r -a extra < "$name.args"
    total=$((total + 1))
    if [ -n "${UPDATE:-}" ]; then
        "$POSTA_BIN" parse imap --raw "${extra[@]}" < "$in" > "$name.out" 2> "$name.err"
        [ -s "$name.err" ] || rm -f "$name.err"
        [ -s "$name.out" ] || rm -f "$name.out"
        continue
    fi
    want_out="$name.out"
    [ -f "$want_out" ] || want_out=/dev/null
    for mode in "${modes[@]}"; do
        case $mode in
            whole) chunk=() ;;
            r*) chunk=(--chunk 16 --seed "${mode#r}") ;;
            *) chunk=(--chunk "$mode") ;;
        esac
        "$POSTA_BIN" parse imap --raw "${extra[@]}" "${chunk[@]}" < "$in" > "$tmp/out" 2> "$tmp/err"
        rc=$?
        why=
        if ! cmp -s "$tmp/out" "$want_out"; then
            why="stdout differs"
        elif [ -f "$name.err" ]; then
            if [ $rc -ne 1 ]; then why="exit status $rc, expected 1"
            elif ! cmp -s "$tmp/err" "$name.err"; then why="stderr differs"; fi
        elif [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
            why="exit status $rc, stderr: $(head -c 300 "$tmp/err")"
        fi
        if [ -n "$why" ]; then
            echo "FAIL $base (${chunk[*]:-whole}): $why"
            diff <(cat "$want_out" ${name}.err 2>/dev/null) <(cat "$tmp/out" "$tmp/err") | head -20
            failed=$((failed + 1))
            break
        fi
    done
done

echo "$total fixtures, $failed failed"
[ $failed -eq 0 ]
