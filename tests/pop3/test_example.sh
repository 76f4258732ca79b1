#!/usr/bin/env bash
# examples/pop3_list.c against Dovecot: STLS and POP3S with the test CA, a
# delivered message in the listing, and the failures it must report.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

EX=$POSTA_BINARY_DIR/examples/example_pop3_list
H=$(envget HOST)
CA=$(envget CA_FILE)
U=$(envget USER2)
PW=$(envget PASS2)

# Deliver one message to bob by LMTP so the listing has something in it.
deliver() {
    exec 3<>"/dev/tcp/$H/$(envget LMTP_PORT)"
    local line cmd
    for cmd in "LHLO t" "MAIL FROM:<t@posta.example>" "RCPT TO:<$U>" "DATA"; do
        printf '%s\r\n' "$cmd" >&3
    done
    printf 'Subject: pop3_list example\r\n\r\nhello\r\n.\r\nQUIT\r\n' >&3
    while read -r -t 5 line <&3; do
        case $line in 221*) break ;; esac
    done
    exec 3<&-
}
deliver

check "pop3_list over STLS" 0 "messages," "$EX" "$H:$(envget POP3_PORT)" "$CA" "$U" "$PW"
check "pop3_list lists a uid" 0 "1 " "$EX" "$H:$(envget POP3_PORT)" "$CA" "$U" "$PW"
check "pop3_list over POP3S" 0 "messages," "$EX" -s "$H:$(envget POP3S_PORT)" "$CA" "$U" "$PW"
check "pop3_list transcript hides the password" 0 "C: AUTH SCRAM-SHA-256 <omitted>" \
    "$EX" -v "$H:$(envget POP3_PORT)" "$CA" "$U" "$PW"
check "pop3_list refuses an unknown CA" 1 "certificate verify failed" \
    "$EX" "$H:$(envget POP3_PORT)" "$(envget OTHERCA_CERT)" "$U" "$PW"
check "pop3_list reports a wrong password" 1 "login: AUTH SCRAM-SHA-256 refused by" \
    "$EX" "$H:$(envget POP3_PORT)" "$CA" "$U" wrong
if "$EX" -v "$H:$(envget POP3_PORT)" "$CA" "$U" "$PW" 2>&1 | grep -qF -- "$PW"; then
    echo "FAIL the password appears in the transcript" >&2
    FAILS=$((FAILS + 1))
fi
summary
