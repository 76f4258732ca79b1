#!/usr/bin/env bash
# A tour of posta against the loopback servers ($POSTA_TEST_ENV); run by
# scripts/demo.sh.  Each step says what it shows, then shows it.
set -uo pipefail
posta=$1
get() { grep -m1 "^$1=" "$POSTA_TEST_ENV" | cut -d= -f2-; }
H=$(get HOST)
CA=$(get CA_FILE)

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
exit 0
