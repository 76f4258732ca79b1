#!/bin/bash
# Checks the posta-peer command: it publishes its port, exits 0 when the
# script was followed and 1 naming the failing line when it was not.
set -u
: "${POSTA_PEER:?POSTA_PEER must name the posta-peer binary}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

cat >"$dir/script" <<'SCRIPT'
# a tiny IMAP session
S: * OK posta-peer ready
C: a1 NOOP
S: a1 OK done
SCRIPT

# Start posta-peer in the background; sets pid and port.
start_peer() {
    rm -f "$dir/port"
    "$POSTA_PEER" --timeout 2000 --port-file "$dir/port" "$dir/script" 2>"$dir/err" &
    pid=$!
    for _ in $(seq 200); do
        [ -s "$dir/port" ] && break
        sleep 0.01
    done
    port=$(cat "$dir/port")
}

# Play one session sending $1 as the command; prints the lines received.
session() {
    exec 3<>"/dev/tcp/127.0.0.1/$port"
    IFS= read -r greeting <&3
    printf '%s\r\n' "$1" >&3
    IFS= read -r reply <&3
    exec 3<&-
    printf '%s|%s\n' "$greeting" "$reply"
}

start_peer
got=$(session "a1 NOOP")
[ "$got" = $'* OK posta-peer ready\r|a1 OK done\r' ] || fail "good session received: $got"
wait "$pid"; rc=$?
[ "$rc" = 0 ] || fail "good session: exit $rc, stderr: $(cat "$dir/err")"

start_peer
session "a1 NOP" >/dev/null
wait "$pid"; rc=$?
[ "$rc" = 1 ] || fail "bad session: exit $rc, expected 1"
grep -q 'peer script line 3: expected "a1 NOOP", got "a1 NOP"' "$dir/err" \
    || fail "bad session: stderr is: $(cat "$dir/err")"

# Without --port-file the port goes to stdout.
"$POSTA_PEER" --timeout 300 "$dir/script" >"$dir/out" 2>/dev/null &
pid=$!
for _ in $(seq 200); do [ -s "$dir/out" ] && break; sleep 0.01; done
grep -Eq '^[0-9]+$' "$dir/out" || fail "no port on stdout: $(cat "$dir/out")"
wait "$pid"; rc=$?
[ "$rc" = 1 ] || fail "no client: exit $rc, expected 1"

"$POSTA_PEER" >/dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "no arguments: exit $rc, expected 2"

[ "$failures" = 0 ] && echo "ok   peer.cli"
exit $((failures > 0))
