#!/usr/bin/env bash
# posta imtest, pop3test, smtptest and lmtptest against Cyrus's own tools
# (/usr/lib/cyrus/bin), run against the same Dovecot: the transcripts must
# agree line by line once what changes from run to run is masked and the
# documented deviations (tools/mtest_DEVIATIONS.md) are applied to Cyrus's
# side.  Cyrus does not verify certificates; posta does, with the test CA.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

CYRUS=${POSTA_CYRUS_BIN:-/usr/lib/cyrus/bin}
if [ ! -x "$CYRUS/imtest" ]; then
    echo "cyrus-clients is not installed (scripts/deps.sh installs it); nothing to compare"
    exit 0
fi

P=$POSTA_BIN
H=$(envget HOST)
H2=$(envget HOST2)
CA=$(envget CA_FILE)
U=$(envget USER1)
PW=$(envget PASS1)
MU=$(envget MASTER_USER)
MPW=$(envget MASTER_PASS)
IMAP=$(envget IMAP_PORT)
IMAPS=$(envget IMAPS_PORT)
POP3=$(envget POP3_PORT)
POP3S=$(envget POP3S_PORT)
SUBM=$(envget SUBMISSION_PORT)
LMTP=$(envget LMTP_PORT)

# What changes from run to run: timings, APOP timestamps and digests, the
# base64 of nonce-based SASL exchanges.  Line ends: both print CRLF for
# protocol lines; compared without them.
mask() {
    tr -d '\r' | sed -E \
        -e 's/\([0-9.]+ \+ [0-9.]+( \+ [0-9.]+)? secs\)/(TIME secs)/' \
        -e 's/<[^<> ]*@[^<> ]*>/<TIMESTAMP>/g' \
        -e 's/^C: APOP ([^ ]+) [0-9a-f]{32}$/C: APOP \1 <DIGEST>/' \
        -e 's/^(C: (A01 )?AUTH(ENTICATE)? (SCRAM|DIGEST|CRAM)[A-Z0-9-]*) [A-Za-z0-9+\/=]+$/\1 <B64>/' \
        -e 's/^C: [A-Za-z0-9+\/=]{4,}$/C: <B64>/' \
        -e 's/^S: (\+|334) [A-Za-z0-9+\/=]{4,}$/S: \1 <B64>/'
}

# The documented deviations, applied to Cyrus's transcript
# (tools/mtest_DEVIATIONS.md numbers them).
deviations() {
    sed -E \
        -e '/^verify error:num=/d' \
        -e '/^issuer= /d' \
        -e 's/^(C: (A01 )?AUTH(ENTICATE)? (PLAIN|LOGIN|XOAUTH2|OAUTHBEARER)) [A-Za-z0-9+\/=]+$/\1 <omitted>/' \
        -e 's/^Authentication failed\. .*/Authentication failed. <REASON>/'
}

# compare NAME "posta tool and options" "cyrus tool and options" [posta status]
compare() {
    local name=$1 mine=$2 theirs=$3 want=${4:-0}
    local status
    eval "timeout 30 $P $mine" </dev/null >"$TMP/posta.out" 2>"$TMP/posta.err"
    status=$?
    eval "timeout 30 $CYRUS/$theirs" </dev/null >"$TMP/cyrus.out" 2>"$TMP/cyrus.err"
    mask <"$TMP/posta.out" | sed -E 's/^Authentication failed\. .*/Authentication failed. <REASON>/' >"$TMP/posta.m"
    mask <"$TMP/cyrus.out" | deviations >"$TMP/cyrus.m"
    if [ "$status" -ne "$want" ]; then
        printf 'FAIL %s: posta exit status %s, expected %s\n' "$name" "$status" "$want" >&2
        cat "$TMP/posta.out" "$TMP/posta.err" >&2
        FAILS=$((FAILS + 1))
    elif ! diff -u "$TMP/cyrus.m" "$TMP/posta.m" >"$TMP/diff"; then
        printf 'FAIL %s: transcripts differ (- cyrus, + posta)\n' "$name" >&2
        cat "$TMP/diff" >&2
        FAILS=$((FAILS + 1))
    elif ! grep -q '^Security strength factor: ' "$TMP/posta.m"; then
        printf 'FAIL %s: no login phase\n' "$name" >&2
        cat "$TMP/posta.out" "$TMP/posta.err" >&2
        FAILS=$((FAILS + 1))
    else
        printf 'ok   %s\n' "$name"
    fi
}

V="--cafile $CA"
A="-a $U -w $PW"

compare "imtest STARTTLS, automatic mechanism" "imtest $V -p $IMAP $A $H" "imtest -t '' -p $IMAP $A $H"
compare "imtest -t ''" "imtest $V -t '' -p $IMAP $A $H" "imtest -t '' -p $IMAP $A $H"
compare "imtest -s" "imtest $V -s -p $IMAPS $A $H" "imtest -s -p $IMAPS $A $H"
for m in login PLAIN SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5 DIGEST-MD5 LOGIN; do
    compare "imtest -m $m" "imtest $V -p $IMAP -m $m $A $H" "imtest -t '' -p $IMAP -m $m $A $H"
done
compare "imtest -u differs from -a (master user)" "imtest $V -p $IMAP -m PLAIN -u $U -a $MU -w $MPW $H" \
    "imtest -t '' -p $IMAP -m PLAIN -u $U -a $MU -w $MPW $H"
compare "imtest wrong password" "imtest $V -p $IMAP -m PLAIN -a $U -w wrong $H" \
    "imtest -t '' -p $IMAP -m PLAIN -a $U -w wrong $H" 2
compare "imtest -m login wrong password" "imtest $V -p $IMAP -m login -a $U -w wrong $H" \
    "imtest -t '' -p $IMAP -m login -a $U -w wrong $H" 2
compare "imtest LOGINDISABLED without TLS" "imtest --cleartext -p $IMAP -m login $A $H2" \
    "imtest -p $IMAP -m login $A $H2" 2
compare "imtest mechanism not advertised" "imtest --cleartext -p $IMAP -m PLAIN $A $H2" \
    "imtest -p $IMAP -m PLAIN $A $H2" 2
compare "imtest --cleartext, automatic mechanism" "imtest --cleartext -p $IMAP $A $H" "imtest -p $IMAP $A $H"
compare "imtest -n 2" "imtest $V -n 2 -p $IMAP -m login $A $H" "imtest -t '' -n 2 -p $IMAP -m login $A $H"

compare "pop3test -m user" "pop3test $V -p $POP3 -m user $A $H" "pop3test -t '' -p $POP3 -m user $A $H"
compare "pop3test -m apop" "pop3test $V -p $POP3 -m apop $A $H" "pop3test -t '' -p $POP3 -m apop $A $H"
compare "pop3test SASL" "pop3test $V -p $POP3 $A $H" "pop3test -t '' -p $POP3 $A $H"
compare "pop3test -m PLAIN -s" "pop3test $V -s -p $POP3S -m PLAIN $A $H" "pop3test -s -p $POP3S -m PLAIN $A $H"
compare "pop3test wrong password" "pop3test $V -p $POP3 -m user -a $U -w wrong $H" \
    "pop3test -t '' -p $POP3 -m user -a $U -w wrong $H" 2
compare "pop3test --cleartext -m user" "pop3test --cleartext -p $POP3 -m user $A $H" "pop3test -p $POP3 -m user $A $H"

compare "smtptest STARTTLS and AUTH" "smtptest $V -p $SUBM $A $H" "smtptest -t '' -p $SUBM $A $H"
compare "smtptest -m PLAIN" "smtptest $V -p $SUBM -m PLAIN $A $H" "smtptest -t '' -p $SUBM -m PLAIN $A $H"
compare "smtptest wrong password" "smtptest $V -p $SUBM -m PLAIN -a $U -w wrong $H" \
    "smtptest -t '' -p $SUBM -m PLAIN -a $U -w wrong $H" 2
compare "lmtptest -p" "lmtptest $V -p $LMTP $H" "lmtptest -t '' -p $LMTP $H"

summary
