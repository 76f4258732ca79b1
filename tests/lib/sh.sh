# Helpers for shell tests: read the loopback servers' env file, run a command
# and check its exit status and output, and drive posta-peer.

FAILS=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; [ -n "${PEER_PID:-}" ] && kill "$PEER_PID" 2>/dev/null' EXIT

# envget KEY: the value of KEY in $POSTA_TEST_ENV (values may hold spaces).
envget() {
    local v
    v=$(grep -m1 "^$1=" "${POSTA_TEST_ENV:?POSTA_TEST_ENV is not set: are the test servers running?}") || {
        echo "FAIL: $1 missing from $POSTA_TEST_ENV" >&2
        exit 1
    }
    printf '%s\n' "${v#*=}"
}

# check NAME STATUS SUBSTRING CMD...: CMD must exit with STATUS and print
# SUBSTRING (stdout and stderr together).
check() {
    local name=$1 want_status=$2 want=$3
    shift 3
    local out status
    out=$("$@" 2>&1)
    status=$?
    if [ "$status" -ne "$want_status" ]; then
        printf 'FAIL %s: exit status %s, expected %s\n  command: %s\n%s\n' "$name" "$status" "$want_status" "$*" "$out" >&2
        FAILS=$((FAILS + 1))
    elif ! grep -qF -- "$want" <<<"$out"; then
        printf 'FAIL %s: output lacks "%s"\n  command: %s\n%s\n' "$name" "$want" "$*" "$out" >&2
        FAILS=$((FAILS + 1))
    else
        printf 'ok   %s\n' "$name"
    fi
}

# run NAME STATUS INPUT CMD...: feed INPUT (printf %b escapes) to CMD, which
# must exit with STATUS; its output is kept in $TMP/out for has and lacks.
run() {
    local name=$1 want=$2 input=$3
    shift 3
    printf '%b' "$input" | timeout 60 "$@" >"$TMP/out" 2>&1
    local status=$?
    if [ "$status" -ne "$want" ]; then
        printf 'FAIL %s: exit status %s, expected %s\n' "$name" "$status" "$want" >&2
        cat -v "$TMP/out" >&2
        FAILS=$((FAILS + 1))
        return 1
    fi
    printf 'ok   %s\n' "$name"
}

# has NAME TEXT / lacks NAME TEXT: the last output ($TMP/out) holds TEXT, or
# does not.  Failures show the output with control characters made visible.
has() {
    if grep -qF -- "$2" "$TMP/out"; then
        printf 'ok   %s\n' "$1"
    else
        printf 'FAIL %s: output lacks "%s"\n' "$1" "$2" >&2
        cat -v "$TMP/out" >&2
        FAILS=$((FAILS + 1))
    fi
}

lacks() {
    if grep -qF -- "$2" "$TMP/out"; then
        printf 'FAIL %s: output holds "%s"\n' "$1" "$2" >&2
        cat -v "$TMP/out" >&2
        FAILS=$((FAILS + 1))
    else
        printf 'ok   %s\n' "$1"
    fi
}

# start_peer SCRIPT [posta-peer options]: sets PEER_PORT and PEER_PID.
start_peer() {
    local script=$1
    shift
    printf '%s\n' "$script" >"$TMP/script"
    rm -f "$TMP/port"
    "${POSTA_PEER:?POSTA_PEER is not set}" --timeout 5000 --port-file "$TMP/port" "$@" "$TMP/script" 2>"$TMP/peer.err" &
    PEER_PID=$!
    local i
    for i in $(seq 100); do
        [ -s "$TMP/port" ] && break
        sleep 0.02
    done
    PEER_PORT=$(cat "$TMP/port")
}

# finish_peer NAME: the peer must have followed its script.
finish_peer() {
    if wait "$PEER_PID"; then
        printf 'ok   %s\n' "$1"
    else
        printf 'FAIL %s: %s\n' "$1" "$(cat "$TMP/peer.err")" >&2
        FAILS=$((FAILS + 1))
    fi
    PEER_PID=
}

summary() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$FAILS check(s) failed" >&2
        exit 1
    fi
    echo "all checks passed"
}
