#!/usr/bin/env bash
# The man page's example, completed, against Dovecot: the same source built
# with the test server's port in place of "imap", run under a terminal
# (script(1)) that types alice's password at its prompt.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

port=$(envget IMAP_PORT)
user=$(envget USER1)
pass=$(envget PASS1)
warnings=(-std=c11 -Wall -Wextra -Wpedantic -Wformat=2 -Wno-unused-parameter
          -Wno-implicit-int -Wno-strict-prototypes -Wno-shadow -Werror)

check "the example was built unchanged" 0 "" test -x "$IMCLIENT_EXAMPLE_BIN"
sed "s/^char port\[\] = \"imap\";/char port[] = \"$port\";/" "$IMCLIENT_EXAMPLE_SRC" >"$TMP/example.c"
check "only the port differs" 1 "> char port[] = \"$port\";" diff "$IMCLIENT_EXAMPLE_SRC" "$TMP/example.c"
check "build for the test server" 0 "" \
    "$POSTA_C_COMPILER" "${warnings[@]}" ${IMCLIENT_TEST_CFLAGS:-} -I"$IMCLIENT_INCLUDE" \
    "$TMP/example.c" -o "$TMP/example" -L"$IMCLIENT_LIBDIR" -lposta-imclient \
    -Wl,-rpath,"$IMCLIENT_LIBDIR:$POSTA_LIBDIR"

# Kerberos is tried first and skipped (no ticket, not offered); SCRAM asks
# for the current user's password on the terminal.
run_example() {
    printf '%s\n' "$pass" | LOGNAME=$user script -qec "$TMP/example" /dev/null
}
check "prints the server's capability" 0 "capability text is: IMAP4rev1" run_example
check "the password was asked for on the terminal" 0 "Password for $user: " run_example

wrong_password() {
    printf 'wrong\n' | LOGNAME=$user script -qec "$TMP/example" /dev/null
}
check "a wrong password: authenticate fails, the example exits 1" 1 "" wrong_password
summary
