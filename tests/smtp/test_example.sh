#!/usr/bin/env bash
# examples/smtp_send against the loopback servers: smtp-sink, Dovecot
# submission (STARTTLS, AUTH) and Dovecot LMTP.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"
ex=$POSTA_BINARY_DIR/examples/example_smtp_send
H=$(envget HOST)
token="posta-example-$$-$RANDOM"
msg() { printf 'X-Token: %s\nSubject: example\n\nline one\n.\nlast line\n' "$token"; }

check "smtp_send to smtp-sink" 0 "message: 250" \
    bash -c "$(declare -f msg); token=$token; msg | '$ex' -s '$H:$(envget SINK_PORT)' -t disabled -f a@example.org b@example.org c@example.org"
found=
for i in $(seq 50); do
    f=$(grep -l -- "$token" "$(envget SINK_DIR)"/* 2>/dev/null | head -1)
    [ -n "$f" ] && { found=$f; break; }
    sleep 0.1
done
if [ -n "$found" ] && grep -q '^\.$' "$found" && grep -q '^last line$' "$found" \
   && grep -q '^Message-Id: <' "$found" && grep -q '^To: b@example.org, c@example.org$' "$found"; then
    echo "ok   the sink got the message, dot-stuffing undone, headers added"
else
    echo "FAIL the sink's copy is missing or wrong: ${found:-none}" >&2
    FAILS=$((FAILS + 1))
fi
check "smtp_send -v shows the exchange" 0 "C: MAIL FROM:<a@example.org>" \
    bash -c "$(declare -f msg); token=$token; msg | '$ex' -v -s '$H:$(envget SINK_PORT)' -t disabled -f a@example.org b@example.org"
check "smtp_send requires TLS by default" 1 "STARTTLS" \
    bash -c "$(declare -f msg); token=$token; msg | '$ex' -s '$H:$(envget SINK_PORT)' -f a@example.org b@example.org"
check "smtp_send over STARTTLS with AUTH" 0 "message: 250" \
    bash -c "$(declare -f msg); token=$token; msg | SMTP_PASSWORD='$(envget PASS1)' '$ex' -s '$H:$(envget SUBMISSION_PORT)' -c '$(envget CA_FILE)' -u '$(envget USER1)' -f a@example.org b@example.org"
check "smtp_send with a wrong password" 1 "authentication" \
    bash -c "$(declare -f msg); token=$token; msg | SMTP_PASSWORD=wrong '$ex' -s '$H:$(envget SUBMISSION_PORT)' -c '$(envget CA_FILE)' -u '$(envget USER1)' -f a@example.org b@example.org"
check "smtp_send over LMTP" 0 "bob: 250" \
    bash -c "$(declare -f msg); token=$token; msg | '$ex' -L -t disabled -s '$H:$(envget LMTP_PORT)' -f a@example.org bob"
check "smtp_send over LMTP, unknown user" 1 "nosuchuser: 550" \
    bash -c "$(declare -f msg); token=$token; msg | '$ex' -L -t disabled -s '$H:$(envget LMTP_PORT)' -f a@example.org nosuchuser"
summary
