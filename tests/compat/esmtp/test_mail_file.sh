#!/usr/bin/env bash
# libESMTP's own example program, examples/mail-file.c, taken at test time
# from Debian's libesmtp6 package (installed, or fetched with apt-get
# download; posta's tree never holds a copy; exit 77, skipped, when neither
# works), built unchanged against posta-esmtp, and used to send to the sink
# and, with STARTTLS and AUTH at a terminal, to Dovecot submission.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

fetch_example() {
    local d
    for d in /usr/share/doc/libesmtp6/examples /usr/share/doc/libesmtp-dev/examples; do
        if [ -f "$d/mail-file.c" ] && [ -f "$d/test-mail" ]; then
            cp "$d/mail-file.c" "$d/test-mail" "$TMP/" && return 0
        fi
    done
    (cd "$TMP" && timeout 60 apt-get download libesmtp6 >/dev/null 2>&1) || return 1
    dpkg-deb -x "$TMP"/libesmtp6_*.deb "$TMP/pkg" || return 1
    cp "$TMP"/pkg/usr/share/doc/libesmtp6/examples/{mail-file.c,test-mail} "$TMP/"
}
if ! fetch_example; then
    echo "SKIP: libESMTP's examples/mail-file.c is not available here (install libesmtp6, or let apt-get download it)"
    exit 77
fi

host=$(envget HOST)
sink=$host:$(envget SINK_PORT)
submission=$host:$(envget SUBMISSION_PORT)
sink_dir=$(envget SINK_DIR)
token=mailfile-$$-$RANDOM

# Errors only for what would mean the API differs from libESMTP's; the
# example's own style is its business.
build() {
    "$POSTA_C_COMPILER" -Wall -Werror=implicit-function-declaration -Werror=incompatible-pointer-types \
        -Werror=int-conversion ${ESMTP_TEST_CFLAGS:-} -I"$ESMTP_INCLUDE" "$TMP/mail-file.c" \
        -o "$TMP/mail-file" -L"$ESMTP_LIBDIR" -lposta-esmtp -Wl,-rpath,"$ESMTP_LIBDIR:$POSTA_LIBDIR"
}
check "mail-file.c builds against <libesmtp.h> and <auth-client.h>" 0 "" build
check "linked to posta-esmtp, not libesmtp" 0 "libposta-esmtp.so" ldd "$TMP/mail-file"
if ldd "$TMP/mail-file" | grep -q 'libesmtp\.so'; then
    echo "FAIL: the example picked up the real libesmtp" >&2
    FAILS=$((FAILS + 1))
fi

# The file in the sink holding $1.
sink_file() {
    local i f
    for i in $(seq 100); do
        f=$(grep -l -- "$1" "$sink_dir"/* 2>/dev/null | head -1)
        [ -n "$f" ] && { cat "$f"; return 0; }
        sleep 0.05
    done
    return 1
}

mf() { "$TMP/mail-file" "$@"; }

check "version" 2 "libESMTP version 1.1.0" mf --version
check "to the sink: transfer status" 0 "250 Ok" \
    mf -c --noauth -h "$sink" -f sender@example.org -s "$token-1" -n success -n failure --mdn \
    "$TMP/test-mail" r1@example.org r2@example.org
check "to the sink: each recipient's status" 0 "r2@example.org: 250" \
    mf -c --noauth -h "$sink" -f sender@example.org -s "$token-2" "$TMP/test-mail" r1@example.org r2@example.org
got=$(sink_file "$token-1")
check "the message arrived" 0 "Subject: $token-1" echo "$got"
check "Return-Path is stripped" 1 "" grep -q '^Return-Path:' <<<"$got"
check "MIME headers pass unchanged" 0 "Content-Type: text/plain;" echo "$got"
check "Date is added" 0 "" grep -q '^Date: ' <<<"$got"
check "Message-Id is added" 0 "" grep -qi '^Message-Id: <' <<<"$got"
check "From comes from the reverse path" 0 "" grep -qx 'From: sender@example.org' <<<"$got"
check "To comes from the recipients" 0 "To: r1@example.org, r2@example.org" echo "$got"
check "the MDN request goes to the sender" 0 "Disposition-Notification-To: sender@example.org" echo "$got"
check "DSN NOTIFY" 0 "X-Rcpt-Args: <r1@example.org> NOTIFY=SUCCESS,FAILURE" echo "$got"
# Dots at line starts survive the trip (stuffed on the wire, unstuffed by the sink).
body=$(sed -n '/^$/,$p' <<<"$got")
for line in '..' '.' '..This is a test' '.More lines' 'End of test---'; do
    check "body line '$line' intact" 0 "" grep -qxF -- "$line" <<<"$body"
done

check "--bcc: the example runs" 0 "250 Ok" \
    mf -c --noauth -h "$sink" -f sender@example.org -s "$token-3" --to to@example.org \
    --cc cc@example.org --bcc hidden@example.org "$TMP/test-mail" to@example.org hidden@example.org
got=$(sink_file "$token-3")
check "--bcc: To and Cc headers" 0 "Cc: cc@example.org" echo "$got"
check "--bcc: Bcc never reaches the server" 1 "" grep -qi '^Bcc:' <<<"$got"
check "--bcc: but the recipient does" 0 "X-Rcpt-Args: <hidden@example.org>" echo "$got"

check "--monitor: commands, replies and headers" 0 "C: MAIL FROM:<sender@example.org>" \
    mf -m -c --noauth -h "$sink" -f sender@example.org -s "$token-4" "$TMP/test-mail" r1@example.org
check "--monitor: header lines marked H:" 0 "H: Subject: $token-5" \
    mf -m -c --noauth -h "$sink" -f sender@example.org -s "$token-5" "$TMP/test-mail" r1@example.org
check "an unknown host: the example's own message" 0 "SMTP server problem" \
    mf -c --noauth -h no-such-host.invalid:25 -f sender@example.org "$TMP/test-mail" r1@example.org

# STARTTLS required and AUTH, the CA where libESMTP looks for it, the
# example's prompts answered on a terminal.
home=$TMP/home
mkdir -p "$home/.authenticate"
chmod 700 "$home" "$home/.authenticate"
cp "$(envget CA_FILE)" "$home/.authenticate/ca.pem"
chmod 600 "$home/.authenticate/ca.pem"
user=$(envget USER1)
pass=$(envget PASS1)
# Run a command on a terminal and answer its prompts as they appear (getpass
# throws away what was typed ahead); prints what the terminal showed and
# exits with the command's status.
on_terminal() {
    python3 - "$@" <<'EOF'
import os, pty, sys
answers = {b"User name: ": sys.argv[1], b"Pass phrase: ": sys.argv[2]}
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
seen = b""
while True:
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
    for prompt, answer in list(answers.items()):
        if seen.endswith(prompt):
            os.write(fd, answer.encode() + b"\n")
            del answers[prompt]
sys.stdout.write(seen.decode(errors="replace"))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
EOF
}
submit() {
    HOME=$1 on_terminal "$user" "$pass" "$TMP/mail-file" -T -h "$submission" -f "$user@example.org" \
        -s "$2" "$TMP/test-mail" rcpt@example.org
}
check "STARTTLS and AUTH to Dovecot submission" 0 "SMTP_EV_STARTTLS_OK - TLS started here." \
    submit "$home" "$token-6"
check "relayed to the sink" 0 "Subject: $token-6" sink_file "$token-6"
check "the transfer status" 0 "rcpt@example.org: 250" submit "$home" "$token-7"
# Without the CA the certificate is refused; the example's handler accepts
# every problem, as it says, and the session goes on.
mkdir -p "$TMP/bare" && chmod 700 "$TMP/bare"
check "the example is asked about the certificate" 0 \
    "SMTP_EV_INVALID_PEER_CERTIFICATE: 20: X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY" \
    submit "$TMP/bare" "$token-8"
summary
