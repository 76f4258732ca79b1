#!/usr/bin/env bash
# The programs in examples/ run against the loopback servers.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"
ex=$POSTA_BINARY_DIR/examples
H=$(envget HOST)
check "tls_probe verifies Dovecot IMAPS" 0 "verified: ok" \
    "$ex/example_tls_probe" "$H:$(envget IMAPS_PORT)" "$(envget CA_FILE)"
check "tls_probe prints the greeting" 0 "* OK" \
    "$ex/example_tls_probe" "$H:$(envget IMAPS_PORT)" "$(envget CA_FILE)"
check "tls_probe refuses an unknown CA" 1 "certificate verify failed" \
    "$ex/example_tls_probe" "$H:$(envget IMAPS_PORT)"
check "imap_mailboxes lists INBOX over STARTTLS" 0 "INBOX" \
    env IMAP_PASSWORD="$(envget PASS1)" "$ex/example_imap_mailboxes" "$H:$(envget IMAP_PORT)" "$(envget USER1)" "$(envget CA_FILE)"
check "imap_mailboxes over implicit TLS" 0 "INBOX" \
    env IMAP_PASSWORD="$(envget PASS3)" "$ex/example_imap_mailboxes" -s "$H:$(envget IMAPS_PORT)" "$(envget USER3)" "$(envget CA_FILE)"
check "imap_mailboxes with a wrong password" 1 "AUTHENTICATIONFAILED" \
    env IMAP_PASSWORD=wrong "$ex/example_imap_mailboxes" "$H:$(envget IMAP_PORT)" "$(envget USER1)" "$(envget CA_FILE)"
summary
