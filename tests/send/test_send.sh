#!/usr/bin/env bash
# posta send against the loopback servers and scripted peers: the sink
# (content canonicalized, -t with Bcc, DSN, sendmail flags), Dovecot
# submission with STARTTLS and AUTH (carol's password has spaces), LMTP to
# bob checked over IMAP, refused and deferred recipients with their exit
# codes and report, usage errors, accounts in the configuration file, the
# permission checks, and the progress bar on a terminal.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

host=$(envget HOST)
sink=$host:$(envget SINK_PORT)
sink_dir=$(envget SINK_DIR)
ca=$(envget CA_FILE)
token=send-$$-$RANDOM
export POSTA_CONFIG=$TMP/no-config   # unless a test says otherwise
touch "$POSTA_CONFIG"

ps() { "$POSTA_BIN" send "$@"; }

# The sink file holding $1, printed.
sink_file() {
    local i f
    for i in $(seq 100); do
        f=$(grep -l -- "$1" "$sink_dir"/* 2>/dev/null | head -1)
        [ -n "$f" ] && { cat "$f"; return 0; }
        sleep 0.05
    done
    echo "no sink file holds $1"
    return 1
}

# --- to the sink ------------------------------------------------------------------

# Mixed line endings, dot lines and no final newline: the sink (which
# unstuffs and stores LF) must see the lines as they were.
printf 'From: a@example.org\nTo: b@example.org\r\nSubject: %s-1\n\nline one\r\n.\n..two dots\r\n.\r\nlast line' \
    "$token" >"$TMP/m1"
check "to the sink" 0 "" ps --no-tls --server "$sink" -f a@example.org b@example.org <"$TMP/m1"
got=$(sink_file "$token-1")
check "the envelope" 0 "X-Rcpt-Args: <b@example.org>" echo "$got"
check "Date added" 0 "" grep -q '^Date: ' <<<"$got"
check "Message-Id added" 0 "" grep -qi '^Message-Id: <' <<<"$got"
body=$(sed -n '/^$/,$p' <<<"$got")
for line in 'line one' '.' '..two dots' 'last line'; do
    check "body line '$line' arrives intact" 0 "" grep -qxF -- "$line" <<<"$body"
done
check "no CR left in what the sink stored" 1 "" grep -q $'\r' <<<"$got"

# -t: To, Cc and Bcc (groups, display names, comments, folding); Bcc stripped.
cat >"$TMP/m2" <<EOF
From: Alice <a@example.org>
To: "Bob, B." <bob@example.org>, carol@example.org (Carol)
Cc: friends: dave@example.org, Eve <eve@example.org>;,
  frank@example.org
Bcc: hidden@example.org
Subject: $token-2

hello
EOF
check "-t with Bcc" 0 "" ps -t -oi -odi --no-tls --server "$sink" <"$TMP/m2"
got=$(sink_file "$token-2")
for r in bob carol dave eve frank hidden; do
    check "-t: $r is a recipient" 0 "X-Rcpt-Args: <$r@example.org>" echo "$got"
done
check "-t: the sender comes from From:" 0 "X-Mail-Args: <a@example.org>" echo "$got"
check "-t: Bcc is not transmitted" 1 "" grep -qiE '^Bcc:|hidden@example.org$' <<<"$(sed -n '/^Received/,$p' <<<"$got")"
check "-t: To is kept" 0 'To: "Bob, B." <bob@example.org>' echo "$got"

printf 'Subject: %s-3\n\nx\n' "$token" >"$TMP/m3"
check "DSN options and sendmail's -i" 0 "" \
    ps -i -N success,failure -R hdrs -V env1 --no-tls --server "$sink" -f a@example.org b@example.org <"$TMP/m3"
got=$(sink_file "$token-3")
check "DSN: RET and ENVID" 0 "RET=HDRS ENVID=env1" echo "$got"
check "DSN: NOTIFY" 0 "NOTIFY=SUCCESS,FAILURE" echo "$got"
check "a From made from the sender" 0 "" grep -qx 'From: a@example.org' <<<"$got"

# --- submission: STARTTLS and AUTH -------------------------------------------------

submission=$host:$(envget SUBMISSION_PORT)
printf '%s\n' "$(envget PASS3)" >"$TMP/carol.pw"
chmod 600 "$TMP/carol.pw"
printf 'From: carol@example.org\nTo: x@example.org\nSubject: %s-4\n\nvia submission\n' "$token" >"$TMP/m4"
check "STARTTLS and AUTH (a password with spaces)" 0 "" \
    ps -t --server "$submission" --cafile "$ca" --user "$(envget USER3)" --password-file "$TMP/carol.pw" <"$TMP/m4"
check "relayed to the sink" 0 "Subject: $token-4" sink_file "$token-4"
check "-v shows STARTTLS and AUTH, not the password" 0 "C: STARTTLS" \
    ps -v -t --server "$submission" --cafile "$ca" --user carol --password-file "$TMP/carol.pw" <"$TMP/m4"
out=$(ps -v -t --server "$submission" --cafile "$ca" --user carol --password-file "$TMP/carol.pw" <"$TMP/m4" 2>&1)
check "-v never shows the password" 1 "" grep -q "pass with spaces" <<<"$out"
check "a wrong password: 77" 77 "authentication" \
    ps -t --server "$submission" --cafile "$ca" --user carol --password-file <(echo wrong) <"$TMP/m4"
check "an untrusted certificate: 69" 69 "certificate" \
    ps -t --server "$submission" --user carol --password-file "$TMP/carol.pw" <"$TMP/m4"
check "TLS required, the sink has none: 69" 69 "STARTTLS" \
    ps --server "$sink" -f a@example.org b@example.org <"$TMP/m3"

# --- LMTP into bob's mailbox, then IMAP -----------------------------------------------

lmtp=$host:$(envget LMTP_PORT)
printf 'From: a@example.org\nTo: bob\nSubject: %s-5\n\nfor bob\n' "$token" >"$TMP/m5"
check "LMTP to bob" 0 "" ps --lmtp --server "$lmtp" --cafile "$ca" -f a@example.org bob <"$TMP/m5"
check "LMTP: a user that does not exist: 67" 67 "nosuchuser: 550" \
    ps --lmtp --server "$lmtp" --cafile "$ca" -f a@example.org bob nosuchuser <"$TMP/m5"
imap_search() {
    printf 'a LOGIN %s %s\r\nb SELECT INBOX\r\nc SEARCH HEADER Subject %s\r\nd LOGOUT\r\n' \
        "$(envget USER2)" "$(envget PASS2)" "$1" |
        timeout 20 openssl s_client -quiet -verify_return_error -CAfile "$ca" \
            -connect "$host:$(envget IMAPS_PORT)" 2>/dev/null
}
search=$(imap_search "$token-5" | tr -d '\r')
check "bob's INBOX holds it (IMAP SEARCH finds it)" 0 "" grep -qE '^\* SEARCH [0-9]+' <<<"$search"

# --- refusals, temporary failures, exit codes ----------------------------------------------

full() {   # a message whose headers posta need not add to
    printf 'From: a@example.org\nTo: ok@example.org\nDate: Thu, 01 Jan 2026 00:00:00 +0000\n'
    printf 'Message-Id: <1@example.org>\nSubject: s\n\nhi\n'
}
full >"$TMP/full"
WIRE='C: From: a@example.org
C: To: ok@example.org
C: Date: Thu, 01 Jan 2026 00:00:00 +0000
C: Message-Id: <1@example.org>
C: Subject: s
C: 
C: hi
C: .'
start_peer "S: 220 peer ESMTP
C~ EHLO .*
S: 250-peer
S: 250 PIPELINING
C: MAIL FROM:<a@example.org>
C: RCPT TO:<ok@example.org>
C: RCPT TO:<bad@example.org>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 550 5.1.1 <bad@example.org>: no such user
S: 354 go on
$WIRE
S: 250 2.0.0 queued
C: QUIT
S: 221 bye"
check "a refused recipient: 67 and the server's words" 67 "bad@example.org: 550 5.1.1 <bad@example.org>: no such user" \
    ps --no-tls --server "127.0.0.1:$PEER_PORT" -f a@example.org ok@example.org bad@example.org <"$TMP/full"
finish_peer "the refused recipient's session"

start_peer "S: 220 peer ESMTP
C~ EHLO .*
S: 250-peer
S: 250 PIPELINING
C: MAIL FROM:<a@example.org>
C: RCPT TO:<ok@example.org>
C: RCPT TO:<later@example.org>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 451 4.3.0 try again later
S: 354 go on
$WIRE
S: 250 2.0.0 queued
C: QUIT
S: 221 bye"
check "a deferred recipient: 75" 75 "later@example.org: 451 4.3.0 try again later" \
    ps --no-tls --server "127.0.0.1:$PEER_PORT" -f a@example.org ok@example.org later@example.org <"$TMP/full"
finish_peer "the deferred recipient's session"

start_peer "S: 421 4.3.2 too busy, come back later"
check "a server that is busy: 75" 75 "421" \
    ps --no-tls --server "127.0.0.1:$PEER_PORT" -f a@example.org ok@example.org <"$TMP/full"
finish_peer "the busy server's session"

start_peer "S: 220 peer ESMTP
C~ EHLO .*
S: 250 peer
C: MAIL FROM:<a@example.org>
S: 553 5.7.1 sender not allowed
C: QUIT
S: 221 bye"
check "a refused sender: 69" 69 "553 5.7.1 sender not allowed" \
    ps --no-tls --server "127.0.0.1:$PEER_PORT" -f a@example.org ok@example.org <"$TMP/full"
finish_peer "the refused sender's session"

start_peer "S: 220 peer ESMTP
C~ EHLO .*
S: 250-peer
S: 250 PIPELINING
C: MAIL FROM:<a@example.org>
C: RCPT TO:<ok@example.org>
C: DATA
S: 250 2.1.0 ok
S: 250 2.1.5 ok
S: 354 go on
$WIRE
S: 554 5.7.1 content refused
C: QUIT
S: 221 bye"
out=$(ps --no-tls --server "127.0.0.1:$PEER_PORT" -f a@example.org ok@example.org <"$TMP/full" 2>&1)
status=$?
finish_peer "the refused message's session"
check "the message refused after the data: 69" 0 "" test "$status" = 69
check "  reported once" 0 "" test "$(grep -c '554 5.7.1' <<<"$out")" = 1
check "  with the server's words" 0 "message not sent: 554 5.7.1 content refused" echo "$out"

check "a null sender and no From header: 65" 65 "no From: header" \
    ps --no-tls --server "$sink" -f '<>' b@example.org <"$TMP/m3"
check "nothing listening: 69" 69 "" ps --no-tls --server 127.0.0.1:1 -f a@example.org b@example.org <"$TMP/m3"
check "an unknown host: 68" 68 "" ps --no-tls --server no-such-host.invalid -f a@example.org b@example.org <"$TMP/m3"

# --- usage ------------------------------------------------------------------------------

check "--help" 0 "usage: posta send" ps --help
check "posta --help lists send" 0 "send" "$POSTA_BIN" --help
check "an unknown option: 64" 64 "bad option" ps --frobnicate <"$TMP/m3"
check "a missing option value: 64" 64 "missing value" ps --no-tls --server <"$TMP/m3"
check "no recipients: 64" 64 "no recipients" ps --no-tls --server "$sink" -f a@example.org <"$TMP/m3"
check "-t and none in the message: 64" 64 "none in To, Cc or Bcc" ps -t --no-tls --server "$sink" -f a@example.org <"$TMP/m3"
check "no server: 64" 64 "no server" ps -f a@example.org b@example.org <"$TMP/m3"
check "a recipient with CR LF: 64" 64 "recipient" ps --no-tls --server "$sink" -f a@example.org $'b@example.org\r\nRCPT TO:<c@example.org>' <"$TMP/m3"
check "--auth without --user: 64" 64 "needs --user" ps --auth PLAIN --server "$sink" b@example.org <"$TMP/m3"
check "sendmail -bs is not supported: 64" 64 "bad option" ps -bs <"$TMP/m3"

# --- accounts -----------------------------------------------------------------------------

cat >"$TMP/accounts" <<EOF
# posta send accounts
defaults
    tls none

account broken
    server 127.0.0.1:1
    from broken@example.org

account sink
    server $sink
    from sink-account@example.org

account default
    server 127.0.0.1:1
    from default@example.org
EOF
export POSTA_CONFIG=$TMP/accounts
printf 'Subject: %s-6\n\nx\n' "$token" >"$TMP/m6"
check "-a picks an account" 0 "" ps -a sink b@example.org <"$TMP/m6"
check "  its from is the sender" 0 "X-Mail-Args: <sink-account@example.org>" sink_file "$token-6"
printf 'Subject: %s-7\n\nx\n' "$token" >"$TMP/m7"
check "-f picks the account with that from" 0 "" ps -f sink-account@example.org b@example.org <"$TMP/m7"
check "  and it was used" 0 "X-Mail-Args: <sink-account@example.org>" sink_file "$token-7"
check "otherwise the one named default" 69 "127.0.0.1:1" ps b@example.org <"$TMP/m3"
check "an unknown account: 64" 64 "no account 'nope'" ps -a nope b@example.org <"$TMP/m3"
check "the command line beats the account" 0 "" ps -a broken --server "$sink" b@example.org <"$TMP/m3"
printf 'account x\n    bogus value\n' >"$TMP/bad-config"
check "a bad setting: 78 with file and line" 78 "bad-config:2: bad setting" \
    env POSTA_CONFIG="$TMP/bad-config" "$POSTA_BIN" send b@example.org <"$TMP/m3"
check "a missing \$POSTA_CONFIG: 66" 66 "cannot read" \
    env POSTA_CONFIG="$TMP/nonexistent" "$POSTA_BIN" send b@example.org <"$TMP/m3"

printf 'account s\n    server %s\n    from a@example.org\n    user carol\n    password pass with spaces\n' \
    "$submission" >"$TMP/pw-config"
chmod 644 "$TMP/pw-config"
check "a password in a file others may read: 77" 77 "chmod 600" \
    env POSTA_CONFIG="$TMP/pw-config" "$POSTA_BIN" send b@example.org <"$TMP/m3"
chmod 600 "$TMP/pw-config"
printf 'cafile %s\n' "$ca" >>"$TMP/pw-config"
printf 'From: a@example.org\nSubject: %s-8\n\nx\n' "$token" >"$TMP/m8"
check "the same file, private: sent with its password" 0 "" \
    env POSTA_CONFIG="$TMP/pw-config" "$POSTA_BIN" send b@example.org <"$TMP/m8"
check "  and relayed" 0 "Subject: $token-8" sink_file "$token-8"
chmod 640 "$TMP/carol.pw"
check "a password file others may read: 77" 77 "chmod 600" \
    ps --server "$submission" --user carol --password-file "$TMP/carol.pw" -f a@example.org b@example.org <"$TMP/m3"

# --- the progress bar, on a terminal only ------------------------------------------------------

export POSTA_CONFIG=$TMP/no-config
{ printf 'Subject: %s-9\n\n' "$token"; head -c 3000000 /dev/zero | tr '\0' 'x' | fold -w 76; echo; } >"$TMP/big"
check "no progress bar without a terminal" 1 "" bash -c \
    "'$POSTA_BIN' send --no-tls --server '$sink' -f a@example.org b@example.org <'$TMP/big' 2>&1 | grep -q '100%'"
check "a progress bar on a terminal" 0 "100%" \
    script -qec "'$POSTA_BIN' send --no-tls --server '$sink' -f a@example.org b@example.org <'$TMP/big'" /dev/null
summary
