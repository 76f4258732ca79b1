#!/usr/bin/env bash
# posta lmtptest, pop3test and smtptest end to end: deliver a message over
# LMTP, read and delete it over POP3, submit one over SMTP to smtp-sink; the
# exit statuses and refusals that Cyrus's tools do not have.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

P=$POSTA_BIN
H=$(envget HOST)
CA=$(envget CA_FILE)
U=$(envget USER1)
PW=$(envget PASS1)
# dave is kept for this test alone: it reads and deletes message 1.
U2=$(envget USER4)
PW2=$(envget PASS4)
POP3=$(envget POP3_PORT)
POP3S=$(envget POP3S_PORT)
SUBM=$(envget SUBMISSION_PORT)
LMTP=$(envget LMTP_PORT)
SINK=$(envget SINK_PORT)

subject="posta mtest $$"

# --- LMTP: deliver to bob -------------------------------------------------------
run "lmtptest delivers a message" 0 \
    "MAIL FROM:<$U@example.org>\nRCPT TO:<$U2>\nDATA\nSubject: $subject\n\nhello bob\n.\nQUIT\n" \
    $P lmtptest --cafile "$CA" -p "$LMTP" "$H"
has "lmtptest LHLO" "C: LHLO lmtptest"
has "lmtptest STARTTLS" "TLS connection established"
has "lmtptest: no AUTH offered" "Authentication failed. no mechanism available"
has "lmtptest delivery accepted" "250 2.0.0 <$U2>"

# --- POP3: read it and delete it ------------------------------------------------------
run "pop3test -m user reads the message" 0 "STAT\nTOP 1 0\n" \
    $P pop3test --cafile "$CA" -p "$POP3" -m user -a "$U2" -w "$PW2" "$H"
has "pop3test USER shown" "C: USER $U2"
has "pop3test PASS omitted" "C: PASS <omitted>"
has "pop3test the delivered message is there" "Subject: $subject"
run "pop3test -s -m apop deletes it" 0 "DELE 1\n" \
    $P pop3test --cafile "$CA" -s -p "$POP3S" -m apop -a "$U2" -w "$PW2" "$H"
has "pop3test APOP shown" "C: APOP $U2 "
has "pop3test DELE" "+OK Marked to be deleted."
run "pop3test wrong password exits 2" 2 "" \
    $P pop3test --cafile "$CA" -p "$POP3" -m apop -a "$U2" -w wrong "$H"
run "pop3test a mechanism not offered" 2 "" \
    $P pop3test --cafile "$CA" -p "$POP3" -m GSSAPI -a "$U2" -w "$PW2" "$H"
has "pop3test not advertised" "[Server did not advertise SASL GSSAPI]"
run "pop3test --cleartext -m user" 0 "" \
    $P pop3test --cleartext -p "$POP3" -m user -a "$U2" -w "$PW2" "$H"

# --- SMTP: submit to the sink through Dovecot's submission service ------------------
run "smtptest submits a message" 0 \
    "MAIL FROM:<$U@example.org>\nRCPT TO:<someone@example.net>\nDATA\nSubject: $subject\n\nhi\n.\nQUIT\n" \
    $P smtptest --cafile "$CA" -p "$SUBM" -a "$U" -w "$PW" "$H"
has "smtptest EHLO" "C: EHLO smtptest"
has "smtptest authenticated" "Authenticated."
has "smtptest message accepted" "250 2.0.0 "
check "the sink received it" 0 "$subject" bash -c "sleep 0.5; cat $(envget SINK_DIR)/* 2>/dev/null"
run "smtptest wrong password exits 2" 2 "" \
    $P smtptest --cafile "$CA" -p "$SUBM" -m PLAIN -a "$U" -w wrong "$H"
run "smtptest: a server without STARTTLS is refused" 1 "" \
    $P smtptest -p "$SINK" -a "$U" -w "$PW" "$H"
has "smtptest names --cleartext" "--cleartext"
run "smtptest: 250 to AUTH is not success" 2 "" \
    $P smtptest --cleartext -p "$SINK" -m PLAIN -a "$U" -w "$PW" "$H"
run "lmtptest has no -s" 64 "" $P lmtptest -s "$H"

summary
