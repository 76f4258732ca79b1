#!/bin/bash
# `posta parse imap` prints typed JSON for responses a decoder exists for:
# every line must be valid JSON (python3 json), and chosen fields must hold
# the decoded values.
set -u
: "${POSTA_BIN:?set POSTA_BIN to the posta executable}"
src=${POSTA_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() { echo "FAIL $*"; failed=1; }

# every line of every seed (the first byte of a seed is the fuzzer's control byte)
for seed in "$src"/fuzz/corpus/imap_decode/*; do
    tail -c +2 "$seed" | "$POSTA_BIN" parse imap --inline-limit 30 > "$tmp/out" 2> "$tmp/err" ||
        fail "$(basename "$seed"): exit status $?: $(head -c 300 "$tmp/err")"
    python3 -c '
import json, sys
for n, line in enumerate(open(sys.argv[1], encoding="utf-8", errors="surrogateescape"), 1):
    json.loads(line)
' "$tmp/out" || fail "$(basename "$seed"): invalid JSON"
done

# field checks: input line, python expression over the object o, expected value
check() {
    printf '%b' "$1" | "$POSTA_BIN" parse imap > "$tmp/one" 2> "$tmp/err" || { fail "$1: exit $?"; return; }
    got=$(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).readline()); print(json.dumps(eval(sys.argv[2]), ensure_ascii=False))' "$tmp/one" "$2" 2>&1)
    [ "$got" = "$3" ] || fail "$1: $2 is $got, expected $3"
}
check '* 12 FETCH (UID 7 INTERNALDATE "17-Jul-1996 02:44:25 -0700")\r\n' 'o["internaldate"]' '{"time": 837596665, "zone": "-0700"}'
check '* 12 FETCH (UID 7)\r\n' '[o["type"], o["seq"], o["uid"]]' '["FETCH", 12, 7]'
check 'a1 OK [COPYUID 9 1:3 7:9] done\r\n' 'o["code"]' '{"type": "COPYUID", "uidvalidity": 9, "source": "1:3", "destination": "7:9"}'
check '* OK [UIDNEXT] x\r\n' 'o["code"]["bad_args"]' 'true'
check '* LIST (\\HasNoChildren) "/" "&ZeVnLIqe-"\r\n' '[o["mailbox"], o["mailbox_raw"]]' '["日本語", "&ZeVnLIqe-"]'
check '* THREAD (3 6 (4 23)(44 7 96))\r\n' 'o["threads"]' '[[3, 6, [4, 23], [44, 7, 96]]]'
check '* ESEARCH (TAG "a") UID ALL 1:3,5\r\n' '[o["search_tag"], o["uid"], o["all"]]' '["a", true, "1:3,5"]'
check '* STATUS x (MESSAGES 2 APPENDLIMIT NIL)\r\n' '[o["messages"], o["appendlimit"]]' '[2, null]'
check '* 0 FETCH (UID 1)\r\n' 'o["decode_error"]' '"FETCH for message number 0"'
check '* XYZZY 1\r\n' '"type" in o' 'false'
check '* 5 FETCH (BODY[] {40}\r\n0123456789012345678901234567890123456789)\r\n' 'o["sections"][0]["size"]' '40'
check '* NAMESPACE (("" "/" "X" ("a"))) NIL NIL\r\n' 'o["personal"][0]["extensions"]' '[{"name": "X", "values": ["a"]}]'

# --raw keeps the generic tree
printf '* 1 EXISTS\r\n' | "$POSTA_BIN" parse imap --raw | grep -q '"keyword":"EXISTS"' || fail "--raw is not generic"

[ $failed -eq 0 ] && echo "ok parse_typed"
exit $failed
