#!/usr/bin/env bash
# posta connect end to end: Dovecot over implicit TLS and STARTTLS for IMAP,
# POP3 and submission, the verification verdicts, and scripted misbehaviour.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

P=$POSTA_BIN
H=$(envget HOST)
CA=$(envget CA_FILE)

check "IMAPS verified with the test CA" 0 "Verification: ok" \
    $P connect --tls --cafile "$CA" "$H:$(envget IMAPS_PORT)"
check "IMAPS greeting shown" 0 "S: * OK [CAPABILITY IMAP4rev1" \
    $P connect --tls --cafile "$CA" "$H:$(envget IMAPS_PORT)"
check "IMAPS without the test CA fails" 1 "certificate verify failed: unable to get local issuer certificate" \
    $P connect --tls "$H:$(envget IMAPS_PORT)"
check "POP3S verified with a CA directory" 0 "Verification: ok" \
    $P connect --tls --capath "$(envget CA_DIR)" "$H:$(envget POP3S_PORT)"
check "STARTTLS imap upgrades" 0 "S: b OK Begin TLS negotiation now." \
    $P connect --starttls imap --cafile "$CA" "$H:$(envget IMAP_PORT)"
check "STARTTLS imap asks capabilities again" 0 "C: c CAPABILITY" \
    $P connect --starttls imap --cafile "$CA" "$H:$(envget IMAP_PORT)"
check "STLS pop3 upgrades" 0 "Verification: ok" \
    $P connect --starttls pop3 --cafile "$CA" "$H:$(envget POP3_PORT)"
check "STARTTLS submission upgrades" 0 "S: 220 2.0.0 Begin TLS negotiation now." \
    $P connect --starttls smtp --cafile "$CA" "localhost:$(envget SUBMISSION_PORT)"
check "--insecure says it did not verify" 0 "NOT VERIFIED (--insecure was given)" \
    $P connect --tls --insecure "$H:$(envget IMAPS_PORT)"
check "--insecure names what would have failed" 0 "verification would have failed: certificate verify failed" \
    $P connect --tls --insecure "$H:$(envget IMAPS_PORT)"
check "wrong name against Dovecot" 1 "host name mismatch: certificate is for localhost, 127.0.0.1, 127.0.0.2, not other.example" \
    $P connect --tls --cafile "$CA" --servername other.example "$H:$(envget IMAPS_PORT)"
check "refused connection" 2 "connect 127.0.0.1:1: connection refused" \
    $P connect 127.0.0.1:1
check "usage error" 64 "usage: posta connect" \
    $P connect --tls --starttls imap x
check "--help" 0 "--starttls PROTO" \
    $P connect --help

# Scripted servers for what Dovecot will not do.
peer_check() { # name status expected script cert key [posta args...]
    local name=$1 status=$2 want=$3 script=$4 cert=$5 key=$6
    shift 6
    start_peer "$script" --cert "$(envget "$cert")" --key "$(envget "$key")"
    check "$name" "$status" "$want" $P connect --cafile "$CA" --timeout 5 "$@" "$H:$PEER_PORT"
    finish_peer "$name (peer)"
}
peer_check "expired certificate" 1 "certificate has expired (notAfter 2020-02-01)" \
    '!tls-abort' EXPIRED_CERT EXPIRED_KEY --tls
peer_check "wrong host certificate" 1 "host name mismatch: certificate is for other.example, not 127.0.0.1" \
    '!tls-abort' WRONGHOST_CERT WRONGHOST_KEY --tls
peer_check "self-signed certificate" 1 "certificate verify failed: self-signed certificate" \
    '!tls-abort' SELFSIGNED_CERT SELFSIGNED_KEY --tls
peer_check "unknown CA" 1 "certificate verify failed: unable to get local issuer certificate" \
    '!tls-abort' OTHERCA_SERVER_CERT OTHERCA_SERVER_KEY --tls
peer_check "bytes injected after the STARTTLS go-ahead" 2 "unexpected bytes after the STARTTLS go-ahead" \
    'S: * OK [CAPABILITY IMAP4rev1 STARTTLS] hi
C: b STARTTLS
S+ b OK go\r\n* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] injected\r\n
!expect-close' SERVER_CERT SERVER_KEY --starttls imap
peer_check "PREAUTH refused when STARTTLS was asked" 2 "PREAUTH" \
    'S: * PREAUTH [CAPABILITY IMAP4rev1 STARTTLS] welcome
!expect-close' SERVER_CERT SERVER_KEY --starttls imap
peer_check "STARTTLS not offered" 2 "server does not offer STARTTLS" \
    'S: * OK [CAPABILITY IMAP4rev1] hi
!expect-close' SERVER_CERT SERVER_KEY --starttls imap
peer_check "STARTTLS asked with CAPABILITY when the greeting has none" 0 "Verification: ok" \
    'S: * OK hi
C: a CAPABILITY
S: * CAPABILITY IMAP4rev1 STARTTLS
S: a OK done
C: b STARTTLS
S: b OK go
!starttls
C: c CAPABILITY
S: * CAPABILITY IMAP4rev1 AUTH=PLAIN
S: c OK done
C: d LOGOUT
S: * BYE bye
S: d OK bye' SERVER_CERT SERVER_KEY --starttls imap
start_peer '!tls-abort' --cert "$(envget SERVER_CERT)" --key "$(envget SERVER_KEY)" --alpn pop3
check "ALPN mismatch aborts" 1 'server selected ALPN protocol "pop3", but only "imap" was offered' \
    $P connect --tls --cafile "$CA" --alpn imap "$H:$PEER_PORT"
finish_peer "ALPN mismatch (peer)"
start_peer '!tls
S: * OK hi' --cert "$(envget SERVER_CERT)" --key "$(envget SERVER_KEY)" --alpn imap
check "ALPN imap accepted" 0 "ALPN: imap" \
    $P connect --tls --cafile "$CA" --alpn imap "$H:$PEER_PORT"
finish_peer "ALPN match (peer)"

summary
