#!/usr/bin/env bash
# A tour of posta against the loopback servers ($POSTA_TEST_ENV); run by
# scripts/demo.sh.  Each step says what it shows, then shows it.
set -uo pipefail
posta=$1
build=$(dirname "$(dirname "$posta")")
get() { grep -m1 "^$1=" "$POSTA_TEST_ENV" | cut -d= -f2-; }
H=$(get HOST)
CA=$(get CA_FILE)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

step() {
    printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"
    "${@:2}"
    printf '(exit status %d)\n' "$?"
}

step "IMAP over implicit TLS, verified against the per-run test CA" \
    "$posta" connect --tls --cafile "$CA" "$H:$(get IMAPS_PORT)"
step "The same server without the test CA: verification fails, with the reason" \
    "$posta" connect --tls "$H:$(get IMAPS_PORT)"
step "STARTTLS on IMAP" \
    "$posta" connect --starttls imap --cafile "$CA" "$H:$(get IMAP_PORT)"
step "STLS on POP3" \
    "$posta" connect --starttls pop3 --cafile "$CA" "$H:$(get POP3_PORT)"
step "STARTTLS on submission" \
    "$posta" connect --starttls smtp --cafile "$CA" "localhost:$(get SUBMISSION_PORT)"
step "A name the certificate is not for" \
    "$posta" connect --tls --cafile "$CA" --servername mail.example.org "$H:$(get IMAPS_PORT)"
step "--insecure connects, and says plainly that nothing was verified" \
    "$posta" connect --tls --insecure "$H:$(get POP3S_PORT)"

# IMAP: the Cyrus-style test client, logging in and running two commands.
printf 'a1 SELECT INBOX\na2 LOGOUT\n' > "$tmp/imap-commands"
step "posta imtest: log in with SCRAM-SHA-256 after STARTTLS, then run commands from a file" \
    "$posta" imtest --cafile "$CA" -a "$(get USER1)" -w "$(get PASS1)" -m SCRAM-SHA-256 \
    -f "$tmp/imap-commands" -p "$(get IMAP_PORT)" "$H"
step "The library's own example: list every mailbox over implicit TLS" \
    env IMAP_PASSWORD="$(get PASS1)" "$build/examples/example_imap_mailboxes" -s \
    "$H:$(get IMAPS_PORT)" "$(get USER1)" "$CA"

# Something odd from a server?  posta parse imap shows what the parser saw.
printf '* OK [CAPABILITY IMAP4rev1 IDLE] hi\r\n* 1 FETCH (UID 7 FLAGS (\\Seen) BODY[] {5}\r\nhello)\r\na1 OK done\r\n' \
    > "$tmp/transcript"
step "posta parse imap: one JSON object per response, fed one byte at a time" \
    "$posta" parse imap --chunk 1 < "$tmp/transcript"
printf '* 1 FETCH (BODY[] {99999999999999999999}\r\n' > "$tmp/bad"
step "...and a clear error with the byte offset when the input is broken" \
    "$posta" parse imap < "$tmp/bad"

# SMTP: submission with STARTTLS and SCRAM, relayed by Dovecot to smtp-sink.
printf 'From: Alice <alice@example.org>\nTo: bob@example.org\nBcc: hidden@example.org\nSubject: posta tour\n\nHello from posta.\n.leading dot survives\n' \
    > "$tmp/message"
printf '%s' "$(get PASS1)" > "$tmp/password" && chmod 600 "$tmp/password"
step "posta send -t: STARTTLS, AUTH, recipients from the headers, Bcc stripped" \
    "$posta" send -t -v --server "localhost:$(get SUBMISSION_PORT)" --cafile "$CA" \
    --user "$(get USER1)" --password-file "$tmp/password" < "$tmp/message"
step "What arrived at the sink (smtp-sink writes one file per transaction)" \
    bash -c "sleep 0.3; cat \"\$(ls -t '$(get SINK_DIR)'/* | head -1)\""
step "A recipient the server refuses: named, with the server's reply, and sysexits 67" \
    "$posta" send --server "$H:$(get LMTP_PORT)" --lmtp --no-tls -f alice@example.org \
    nosuchuser < "$tmp/message"
exit 0
