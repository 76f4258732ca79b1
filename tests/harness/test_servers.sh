#!/bin/bash
# Self-test of the loopback test servers started by servers.sh: TLS with verification,
# STARTTLS, logins, LOGINDISABLED, the master user, fast failures, submission to the sink
# and LMTP delivery, all checked with the openssl CLI and bash's /dev/tcp.
#
# Under ctest POSTA_TEST_ENV is set; by hand:
#   bash tests/harness/servers.sh run /tmp/h1 -- bash tests/harness/test_servers.sh

# Each check runs in a subshell on purpose (its TRANSCRIPT and failures stay its own).
# shellcheck disable=SC2030,SC2031
set -uo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
# shellcheck source=load_env.sh
. "$HERE/load_env.sh"
posta_load_env "${POSTA_TEST_ENV:-}" || exit 1

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# A token unique to this run, to recognise our own messages.
TOKEN=posta-harness-$$-$RANDOM$RANDOM
FAILURES=0

# ---------------------------------------------------------------------------------------
# A tiny line-based conversation driver.  A conversation is either a plain TCP socket
# (/dev/tcp) or an "openssl s_client" process behind two FIFOs; TRANSCRIPT records both
# directions so that a failing check can show exactly what the server said.
# ---------------------------------------------------------------------------------------

CONV_IN="" CONV_OUT="" CONV_PID="" TRANSCRIPT="" LAST=""
CONV_CA=()

conv_open_tcp() {   # HOST PORT
    TRANSCRIPT+="-- connect $1:$2"$'\n'
    { exec {CONV_IN}<>"/dev/tcp/$1/$2"; } 2>/dev/null || { TRANSCRIPT+="connect failed"$'\n'; return 1; }
    CONV_OUT=$CONV_IN CONV_PID=""
}

# HOST:PORT [s_client options...]: TLS with verification on against the trust anchors in
# CONV_CA (the test CA file unless a check says otherwise), failing the handshake on any
# verification error.
conv_open_tls() {
    local addr=$1
    shift
    local -a ca=("${CONV_CA[@]:-}")
    [[ -n ${ca[0]} ]] || ca=(-CAfile "$CA_FILE")
    TRANSCRIPT+="-- openssl s_client -connect $addr ${ca[*]} $*"$'\n'
    # FIFOs rather than a bash coproc: bash closes a coproc's descriptors as soon as it
    # exits, losing the server's last lines (e.g. the tagged OK after * BYE).
    rm -f "$TMP/to" "$TMP/from"
    mkfifo "$TMP/to" "$TMP/from"
    openssl s_client -connect "$addr" -quiet -verify_return_error -verify_hostname localhost \
        "${ca[@]}" "$@" < "$TMP/to" > "$TMP/from" 2> "$TMP/s_client.err" &
    CONV_PID=$!
    # Same order as the redirections above, so neither side blocks on its open.
    exec {CONV_OUT}>"$TMP/to" {CONV_IN}<"$TMP/from"
}

conv_close() {
    if [[ -n $CONV_PID ]]; then
        kill "$CONV_PID" 2>/dev/null
        wait "$CONV_PID" 2>/dev/null
        exec {CONV_OUT}>&-
    fi
    [[ -n $CONV_IN ]] && exec {CONV_IN}<&-
    CONV_IN="" CONV_OUT="" CONV_PID=""
}

send() {   # LINE (sent with CRLF)
    TRANSCRIPT+="C: $1"$'\n'
    printf '%s\r\n' "$1" 1>&"$CONV_OUT" 2>/dev/null
}

# Read lines until one matches the extended regex $1 (5 s per line); the line is in LAST.
expect() {
    local line
    while IFS= read -r -t 5 -u "$CONV_IN" line; do
        line=${line%$'\r'}
        TRANSCRIPT+="S: $line"$'\n'
        LAST=$line
        [[ $line =~ $1 ]] && return 0
    done
    TRANSCRIPT+="(no line matching /$1/ before timeout or end of stream)"$'\n'
    return 1
}

# Read up to the line matching $1; it must start with $2, else fail with message $3.
reply() {
    expect "$1" || fail "$3"
    [[ $LAST == "$2"* ]] || fail "$3"
}

# Fail the current check: say what was expected and show what happened.
fail() {
    echo "FAIL: $*" >&2
    printf '%s' "$TRANSCRIPT" | sed 's/^/    /' >&2
    if [[ -s $TMP/s_client.err ]]; then
        echo "    s_client stderr:" >&2
        sed 's/^/      /' "$TMP/s_client.err" >&2
    fi
    exit 1
}

# Run one check in a subshell, so that a failure ends only that check.
check() {   # DESCRIPTION FUNCTION
    echo "check: $1"
    if (TRANSCRIPT="" ; : > "$TMP/s_client.err"; "$2"); then
        echo "  ok"
    else
        echo "  FAILED: $1"
        FAILURES=$((FAILURES + 1))
    fi
}

now_us() { echo "${EPOCHREALTIME//[.,]/}"; }

# ---------------------------------------------------------------------------------------
# The generated certificates, checked offline with "openssl verify".
# ---------------------------------------------------------------------------------------

# verify_ok|verify_fails EXPECTED_TEXT ARGS...: run openssl verify and judge the outcome.
verify_ok() {
    local out
    out=$(openssl verify "$@" 2>&1) || fail "openssl verify $* should succeed; got: $out"
}
verify_fails() {
    local want=$1 out
    shift
    if out=$(openssl verify "$@" 2>&1); then
        fail "openssl verify $* should fail ($want); got: $out"
    fi
    [[ $out == *"$want"* ]] || fail "openssl verify $* failed, but not with '$want'; got: $out"
}

t_pki() {
    verify_ok -CAfile "$CA_FILE" -verify_hostname localhost -purpose sslserver "$SERVER_CERT"
    verify_ok -CAfile "$CA_FILE" -verify_ip 127.0.0.1 "$SERVER_CERT"
    verify_ok -CAfile "$CA_FILE" -verify_ip 127.0.0.2 "$SERVER_CERT"
    verify_ok -CApath "$CA_DIR" -verify_hostname localhost "$SERVER_CERT"
    verify_fails "certificate has expired" -CAfile "$CA_FILE" "$EXPIRED_CERT"
    verify_fails "hostname mismatch" -CAfile "$CA_FILE" -verify_hostname localhost "$WRONGHOST_CERT"
    verify_fails "self-signed certificate" -CAfile "$CA_FILE" "$SELFSIGNED_CERT"
    verify_fails "unable to get local issuer certificate" -CAfile "$CA_FILE" "$OTHERCA_SERVER_CERT"
    verify_ok -CAfile "$OTHERCA_CERT" -verify_hostname localhost "$OTHERCA_SERVER_CERT"
    verify_ok -CAfile "$CA_FILE" -purpose sslclient "$CLIENT_CERT"
    local f
    for f in "$SERVER_KEY" "$EXPIRED_KEY" "$WRONGHOST_KEY" "$SELFSIGNED_KEY" \
            "$OTHERCA_SERVER_KEY" "$CLIENT_KEY"; do
        openssl pkey -in "$f" -noout 2>/dev/null || fail "$f is not a readable private key"
    done
}

# ---------------------------------------------------------------------------------------
# TLS and STARTTLS.
# ---------------------------------------------------------------------------------------

t_imaps() {
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting over IMAPS"
    send "a LOGIN $USER1 $PASS1"
    reply '^a ' "a OK" "LOGIN $USER1 over IMAPS: expected a OK"
    send "b LOGOUT"
    expect '^b OK' || fail "LOGOUT"
    conv_close
}

t_imaps_wrong_ca() {
    # Verification must really be on: the unknown CA alone cannot verify the server.
    if out=$(openssl s_client -connect "$HOST:$IMAPS_PORT" -verify_return_error \
            -CAfile "$OTHERCA_CERT" < /dev/null 2>&1); then
        fail "s_client with the wrong CA file should fail; got: $out"
    fi
    [[ $out == *"unable to get local issuer certificate"* ]] ||
        fail "expected 'unable to get local issuer certificate'; got: $out"
}

t_imaps_capath() {
    CONV_CA=(-CApath "$CA_DIR")
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting over IMAPS verified with CA_DIR"
    conv_close
}

t_imaps_client_cert() {
    # Only connections to HOST2 ask for a client certificate.
    conv_open_tls "$HOST2:$IMAPS_PORT" -cert "$CLIENT_CERT" -key "$CLIENT_KEY"
    expect '^\* OK ' || fail "no IMAP greeting over IMAPS with a client certificate"
    send "a LOGIN $USER1 $PASS1"
    reply '^a ' "a OK" "LOGIN with a client certificate: expected a OK"
    conv_close
}

t_carol() {
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting"
    send "a LOGIN $USER3 \"$PASS3\""
    reply '^a ' "a OK" "LOGIN $USER3 with a quoted password: expected a OK"
    conv_close
}

t_pop3s() {
    conv_open_tls "$HOST:$POP3S_PORT"
    expect '^\+OK' || fail "no POP3 greeting over POP3S"
    send "USER $USER1"
    reply '^[-+]' "+OK" "USER: expected +OK"
    send "PASS $PASS1"
    reply '^[-+]' "+OK" "PASS: expected +OK"
    send "QUIT"
    expect '^\+OK' || fail "QUIT"
    conv_close
}

t_submissions() {
    conv_open_tls "$HOST:$SUBMISSIONS_PORT"
    expect '^220 ' || fail "no SMTP greeting over implicit TLS (submissions)"
    send "EHLO localhost"
    expect '^250 ' || fail "EHLO"
    send "QUIT"
    expect '^221' || fail "QUIT"
    conv_close
}

t_starttls_imap() {
    conv_open_tls "$HOST:$IMAP_PORT" -starttls imap
    send "a CAPABILITY"
    reply '^a ' "a OK" "CAPABILITY after STARTTLS: expected a OK"
    [[ $TRANSCRIPT == *"AUTH=PLAIN"* ]] || fail "AUTH=PLAIN should be offered after STARTTLS"
    send "b LOGIN $USER2 $PASS2"
    reply '^b ' "b OK" "LOGIN after STARTTLS: expected b OK"
    conv_close
}

t_starttls_pop3() {
    conv_open_tls "$HOST:$POP3_PORT" -starttls pop3
    send "USER $USER2"
    reply '^[-+]' "+OK" "USER after STLS: expected +OK"
    send "PASS $PASS2"
    reply '^[-+]' "+OK" "PASS after STLS: expected +OK"
    send "QUIT"
    conv_close
}

t_starttls_smtp() {
    conv_open_tls "$HOST:$SUBMISSION_PORT" -starttls smtp
    send "EHLO localhost"
    expect '^250 ' || fail "EHLO after STARTTLS"
    [[ $TRANSCRIPT == *"AUTH "* ]] || fail "AUTH should be offered after STARTTLS"
    send "QUIT"
    conv_close
}

# ---------------------------------------------------------------------------------------
# Authentication.
# ---------------------------------------------------------------------------------------

greeting() {   # HOST PORT: the first line, in LAST
    conv_open_tcp "$1" "$2" || fail "cannot connect to $1:$2"
    expect '' || fail "no greeting from $1:$2"
    conv_close
}

t_logindisabled() {
    greeting "$HOST2" "$IMAP_PORT"
    [[ $LAST == *LOGINDISABLED* ]] || fail "plain IMAP on $HOST2 should show LOGINDISABLED; got: $LAST"
    greeting "$HOST" "$IMAP_PORT"
    [[ $LAST == *AUTH=* ]] || fail "IMAP greeting on $HOST should carry AUTH=; got: $LAST"
    [[ $LAST != *LOGINDISABLED* ]] || fail "plain IMAP on $HOST should not show LOGINDISABLED; got: $LAST"
}

t_master_login() {
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting"
    send "a LOGIN $USER1$MASTER_SEPARATOR$MASTER_USER $MASTER_PASS"
    reply '^a ' "a OK" "master LOGIN: expected a OK"
    conv_close
}

t_master_authzid() {
    local ir
    ir=$(printf '%s\0%s\0%s' "$USER2" "$MASTER_USER" "$MASTER_PASS" | base64 -w0)
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting"
    send "a AUTHENTICATE PLAIN $ir"
    reply '^a ' "a OK" "AUTHENTICATE PLAIN with authzid $USER2, authcid $MASTER_USER: expected a OK"
    conv_close
}

t_anonymous() {
    conv_open_tcp "$HOST" "$IMAP_PORT" || fail "cannot connect"
    expect '^\* OK' || fail "no greeting"
    [[ $LAST == *AUTH=ANONYMOUS* ]] || fail "AUTH=ANONYMOUS not offered"
    # SASL-IR: the initial response is a base64 trace string.
    send "a AUTHENTICATE ANONYMOUS $(printf 'posta harness' | base64 -w0)"
    reply '^a ' "a OK" "AUTHENTICATE ANONYMOUS: expected a OK"
    conv_close
}

# One LOGIN over plain IMAP on 127.0.0.1; prints the reply and the time it took in ms.
timed_login() {   # USER PASS
    local t0 t1
    conv_open_tcp "$HOST" "$IMAP_PORT" || fail "cannot connect"
    expect '^\* OK' || fail "no greeting"
    t0=$(now_us)
    send "a LOGIN $1 $2"
    expect '^a ' || fail "no reply to LOGIN"
    t1=$(now_us)
    conv_close
    ELAPSED_MS=$(((t1 - t0) / 1000))
}

t_fast_failure() {
    timed_login "$USER1" wrong-password
    [[ $LAST == "a NO"* ]] || fail "wrong password should give a NO; got: $LAST"
    ((ELAPSED_MS < 1000)) || fail "wrong password took ${ELAPSED_MS} ms (want < 1000)"
    echo "  wrong password refused in ${ELAPSED_MS} ms"
    timed_login "$USER1$MASTER_SEPARATOR$MASTER_USER" wrong-password
    [[ $LAST == "a NO"* ]] || fail "wrong master password should give a NO; got: $LAST"
    ((ELAPSED_MS < 1000)) || fail "wrong master password took ${ELAPSED_MS} ms (want < 1000)"
    # Failures must not slow down later logins from the same address either.
    timed_login "$USER1" "$PASS1"
    [[ $LAST == "a OK"* ]] || fail "right password after failures: expected a OK; got: $LAST"
    ((ELAPSED_MS < 1000)) || fail "login after failures took ${ELAPSED_MS} ms (want < 1000)"
}

# ---------------------------------------------------------------------------------------
# Mail flow.
# ---------------------------------------------------------------------------------------

t_submission_to_sink() {
    local ir f i
    ir=$(printf '\0%s\0%s' "$USER1" "$PASS1" | base64 -w0)
    conv_open_tls "$HOST:$SUBMISSION_PORT" -starttls smtp
    send "EHLO localhost"
    expect '^250 ' || fail "EHLO"
    send "AUTH PLAIN $ir"
    reply '^[0-9]{3} ' "235" "AUTH PLAIN: expected 235"
    send "MAIL FROM:<$USER1@localhost>"
    reply '^[0-9]{3} ' "250" "MAIL FROM: expected 250"
    send "RCPT TO:<someone@example.net>"
    reply '^[0-9]{3} ' "250" "RCPT TO: expected 250"
    send "DATA"
    reply '^[0-9]{3} ' "354" "DATA: expected 354"
    send "From: <$USER1@localhost>"
    send "To: <someone@example.net>"
    send "Subject: $TOKEN submission"
    send ""
    send "Relayed by Dovecot submission to smtp-sink."
    send "."
    reply '^[0-9]{3} ' "250" "end of DATA: expected 250"
    send "QUIT"
    conv_close
    # smtp-sink writes one file per transaction.
    for ((i = 0; i < 50; i++)); do
        f=$(grep -l -r -- "$TOKEN submission" "$SINK_DIR" 2>/dev/null | head -n1)
        [[ -n $f ]] && { echo "  arrived in $f"; return 0; }
        sleep 0.1
    done
    fail "message with Subject '$TOKEN submission' not found in $SINK_DIR ($(find "$SINK_DIR" -type f | wc -l) files there)"
}

# MESSAGES count of USER2's INBOX, over IMAPS; in COUNT.
inbox_count() {
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting"
    send "a LOGIN $USER2 $PASS2"
    reply '^a ' "a OK" "LOGIN $USER2: expected a OK"
    send "b STATUS INBOX (MESSAGES)"
    expect '^\* STATUS ' || fail "STATUS INBOX: no * STATUS"
    [[ $LAST =~ MESSAGES\ ([0-9]+) ]] || fail "STATUS: no MESSAGES count in: $LAST"
    COUNT=${BASH_REMATCH[1]}
    reply '^b ' "b OK" "STATUS: expected b OK"
    conv_close
}

t_lmtp_delivery() {
    local before
    inbox_count
    before=$COUNT
    conv_open_tcp "$HOST" "$LMTP_PORT" || fail "cannot connect to LMTP"
    expect '^220 ' || fail "LMTP greeting"
    send "LHLO localhost"
    expect '^250 ' || fail "LHLO"
    send "MAIL FROM:<$USER1@localhost>"
    reply '^[0-9]{3} ' "250" "MAIL FROM: expected 250"
    send "RCPT TO:<$USER2>"
    reply '^[0-9]{3} ' "250" "RCPT TO:<$USER2>: expected 250"
    send "DATA"
    reply '^[0-9]{3} ' "354" "DATA: expected 354"
    send "From: <$USER1@localhost>"
    send "To: <$USER2@localhost>"
    send "Subject: $TOKEN lmtp"
    send ""
    send "Delivered over LMTP."
    send "."
    reply '^[0-9]{3} ' "250" "end of DATA: expected 250 for $USER2"
    send "QUIT"
    conv_close
    TRANSCRIPT=""
    inbox_count
    # Other tests deliver to the same user at the same time: count our
    # token's messages, not the whole INBOX.
    ((COUNT >= before + 1)) || fail "$USER2's INBOX had $before messages, now $COUNT"
    conv_open_tls "$HOST:$IMAPS_PORT"
    expect '^\* OK ' || fail "no IMAP greeting"
    send "a LOGIN $USER2 $PASS2"
    reply '^a ' "a OK" "LOGIN $USER2: expected a OK"
    send "b EXAMINE INBOX"
    reply '^b ' "b OK" "EXAMINE INBOX: expected b OK"
    send "c SEARCH SUBJECT \"$TOKEN lmtp\""
    expect '^\* SEARCH' || fail "SEARCH: no * SEARCH"
    [[ $LAST =~ ^\*\ SEARCH\ [0-9]+$ ]] || fail "expected exactly one message with '$TOKEN lmtp', got: $LAST"
    reply '^c ' "c OK" "SEARCH: expected c OK"
    conv_close
    echo "  $USER2's INBOX: $before -> $COUNT messages, ours among them"
}

# ---------------------------------------------------------------------------------------

echo "servers from $POSTA_TEST_ENV (Dovecot log: $DOVECOT_LOG)"
check "test certificates verify (or fail) as intended" t_pki
check "IMAPS on $HOST:$IMAPS_PORT verifies against CA_FILE; $USER1 LOGIN gives a OK" t_imaps
check "IMAPS does not verify against the unknown CA" t_imaps_wrong_ca
check "IMAPS verifies against the hashed CA_DIR" t_imaps_capath
check "IMAPS on $HOST2 with the client certificate" t_imaps_client_cert
check "$USER3 logs in with a password holding spaces" t_carol
check "POP3S on $HOST:$POP3S_PORT; USER/PASS" t_pop3s
check "submissions (implicit TLS) on $HOST:$SUBMISSIONS_PORT" t_submissions
check "STARTTLS on IMAP $HOST:$IMAP_PORT" t_starttls_imap
check "STLS on POP3 $HOST:$POP3_PORT" t_starttls_pop3
check "STARTTLS on submission $HOST:$SUBMISSION_PORT" t_starttls_smtp
check "LOGINDISABLED on $HOST2, not on $HOST" t_logindisabled
check "master user: LOGIN $USER1$MASTER_SEPARATOR$MASTER_USER" t_master_login
check "master user: SASL PLAIN authzid $USER2, authcid $MASTER_USER" t_master_authzid
check "SASL ANONYMOUS on $HOST" t_anonymous
check "wrong passwords fail fast and do not slow later logins" t_fast_failure
check "submission relays a message into SINK_DIR" t_submission_to_sink
check "LMTP delivery to $USER2 shows in STATUS INBOX" t_lmtp_delivery

if ((FAILURES)); then
    echo "$FAILURES check(s) failed"
    exit 1
fi
echo "all checks passed"
