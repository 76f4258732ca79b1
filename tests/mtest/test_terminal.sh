#!/usr/bin/env bash
# posta imtest on a terminal and on a -x socket: the password prompt without
# echo, the line editor (editing keys, history, ^D, ^C), and clients taking
# turns on the socket with the mailbox reset between them.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

P=$POSTA_BIN
D=${MTEST_DRIVE:?MTEST_DRIVE is not set}
H=$(envget HOST)
CA=$(envget CA_FILE)
U=$(envget USER1)
PW=$(envget PASS1)
IMAP=$(envget IMAP_PORT)
T="$P imtest --cafile $CA -p $IMAP"

# drive NAME SCRIPT-TEXT CMD...: run CMD on a pty through the script; the
# transcript is left in $TMP/out.
drive() {
    local name=$1
    printf '%s\n' "$2" >"$TMP/script"
    shift 2
    if TERM=xterm "$D" --timeout 20000 "$TMP/script" -- "$@" >"$TMP/out" 2>"$TMP/err"; then
        printf 'ok   %s\n' "$name"
    else
        printf 'FAIL %s: %s\n' "$name" "$(cat "$TMP/err")" >&2
        cat -v "$TMP/out" >&2
        FAILS=$((FAILS + 1))
    fi
}

# --- the prompt and the editor ------------------------------------------------
drive "password prompt and line editing on a terminal" "expect Please enter your password: 
send $PW\r
expect Security strength factor: 
send a1 NOPP\x7f\x7fOP\r
expect a1 OK NOOP completed
send a2 OP\e[D\e[DNO\r
expect a2 OK NOOP completed
send \e[A\e[A\r
expect a1 OK NOOP completed
send xx\x01a3 NOOP \x0b\r
expect a3 OK NOOP completed
send \x04
expect C: Q01 LOGOUT
expect Connection closed.
wait" $T -m login -a "$U" "$H"
has "editor: logged in after the prompt" "Authenticated."
lacks "the password is not echoed" "$PW"
has "exit status 0" "[exit 0]"

# A command answered first: the interactive phase (and its ^C handler) runs.
drive "^C logs out" "expect Security strength factor: 
send a0 NOOP\r
expect a0 OK
send a1 NO
send \x03
expect C: Q01 LOGOUT
expect Connection closed.
wait" $T -m login -a "$U" -w "$PW" "$H"
lacks "^C: the half-typed line is not sent" "a1 BAD"

drive "--no-edit reads lines as typed" "expect Security strength factor: 
send a1 NOOP\r
expect a1 OK NOOP completed
send \x04
expect Connection closed.
wait" $T --no-edit -m login -a "$U" -w "$PW" "$H"

# --- -x: clients take turns on a socket -------------------------------------------
sock=$TMP/imtest.sock
$T -x "$sock" -m login -a "$U" -w "$PW" "$H" </dev/null >"$TMP/x.out" 2>&1 &
xpid=$!
printf '%s\n' 'send x1 SELECT INBOX\r\n' 'expect x1 OK' 'close' 'wait' >"$TMP/c1"
check "-x first client" 0 "[READ-WRITE]" "$D" --timeout 20000 --unix "$sock" "$TMP/c1"
# The first client's SELECT was undone before the second came: CHECK needs one.
printf '%s\n' 'send x2 CHECK\r\n' 'expect x2 BAD' 'send x3 LOGOUT\r\n' 'wait' >"$TMP/c2"
check "-x second client starts unselected; LOGOUT ends only the client" 0 "x2 BAD" \
    "$D" --timeout 20000 --unix "$sock" "$TMP/c2"
printf '%s\n' 'send x4 NOOP\r\n' 'expect x4 OK' 'close' 'wait' >"$TMP/c3"
check "-x third client, same session" 0 "x4 OK NOOP completed" "$D" --timeout 20000 --unix "$sock" "$TMP/c3"
kill -INT "$xpid"
wait "$xpid"
check "-x ended by SIGINT with a LOGOUT" 0 "C: Q01 LOGOUT" cat "$TMP/x.out"
check "-x the socket is removed" 1 "" test -e "$sock"

summary
