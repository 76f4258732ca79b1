#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build a libESMTP program
# against the installed posta-esmtp with pkg-config (shared and static), and
# check that the shared library exports libESMTP's names and nothing else.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

prefix=$TMP/prefix
check "cmake --install" 0 "" cmake --install "$POSTA_BINARY_DIR" --prefix "$prefix"
pc=$(find "$prefix" -name posta-esmtp.pc | head -1)
check "pkg-config file installed" 0 "" test -f "$pc"
libdir=$(dirname "$(dirname "$pc")")
for h in libesmtp.h auth-client.h; do
    check "<$h> installed" 0 "" test -f "$prefix/include/posta-esmtp/$h"
done
check "shared library with versioned soname" 0 "libposta-esmtp.so.0" \
    bash -c "readelf -d $libdir/libposta-esmtp.so | grep SONAME"
check "static library installed" 0 "" test -f "$libdir/libposta-esmtp.a"

cat >"$TMP/prog.c" <<'EOF'
#include <auth-client.h>
#include <libesmtp.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char v[32], e[128];
    auth_client_init();
    auth_context_t a = auth_create_context();
    smtp_session_t s = smtp_create_session();
    smtp_message_t m = smtp_add_message(s);
    smtp_set_server(s, "127.0.0.1:1");
    smtp_set_message_str(m, "Subject: x\r\n\r\nx\r\n");
    smtp_add_recipient(m, "a@example.org");
    smtp_auth_set_context(s, a);
    smtp_version(v, sizeof v, 0);
    int ok = smtp_start_session(s);
    printf("libESMTP %s: %s\n", v, ok ? "sent" : smtp_strerror(smtp_errno(), e, sizeof e));
    smtp_destroy_session(s);
    auth_destroy_context(a);
    auth_client_exit();
    return 0;
}
EOF
export PKG_CONFIG_PATH=$libdir/pkgconfig
check "pkg-config knows posta-esmtp" 0 "-lposta-esmtp" pkg-config --libs posta-esmtp
check "the include path leads to <libesmtp.h>" 0 "posta-esmtp" pkg-config --cflags posta-esmtp
build_shared() {
    ${POSTA_C_COMPILER:-cc} -std=c11 -Wall -Wextra -Werror ${ESMTP_TEST_CFLAGS:-} \
        $(pkg-config --cflags posta-esmtp) "$TMP/prog.c" -o "$TMP/prog" $(pkg-config --libs posta-esmtp)
}
build_static() {
    ${POSTA_C_COMPILER:-cc} -std=c11 -Wall -Wextra -Werror ${ESMTP_TEST_CFLAGS:-} \
        $(pkg-config --cflags posta-esmtp) "$TMP/prog.c" -o "$TMP/prog-static" \
        "$libdir/libposta-esmtp.a" "$libdir/libposta.a" $(pkg-config --static --libs openssl libsasl2 zlib) -pthread
}
check "build a libESMTP program with pkg-config" 0 "" build_shared
check "it links the installed library" 0 "libposta-esmtp.so.0" bash -c "LD_LIBRARY_PATH=$libdir ldd $TMP/prog"
check "it runs" 0 "libESMTP 1.1.0: Connection refused" env LD_LIBRARY_PATH="$libdir" "$TMP/prog"
check "and statically" 0 "" build_static
check "the static build runs" 0 "libESMTP 1.1.0: Connection refused" "$TMP/prog-static"

# libESMTP 1.1.0's exports, plus the function forms of smtp_set_message_fp
# and smtp_set_message_str; nothing of posta's.
expected="_smtp_message_fp_cb _smtp_message_str_cb auth_client_enabled auth_client_exit
auth_client_init auth_create_context auth_decode auth_destroy_context auth_encode auth_get_ssf
auth_mechanism_name auth_response auth_set_external_id auth_set_interact_cb auth_set_mechanism
auth_set_mechanism_flags auth_set_mechanism_ssf smtp_8bitmime_set_body smtp_add_message
smtp_add_recipient smtp_auth_set_context smtp_create_session smtp_deliverby_set_mode
smtp_destroy_session smtp_dsn_set_envid smtp_dsn_set_notify smtp_dsn_set_orcpt smtp_dsn_set_ret
smtp_enumerate_messages smtp_enumerate_recipients smtp_errno smtp_etrn_add_node
smtp_etrn_enumerate_nodes smtp_etrn_get_application_data smtp_etrn_node_status
smtp_etrn_set_application_data smtp_etrn_set_application_data_release smtp_get_application_data
smtp_get_server_name smtp_message_get_application_data smtp_message_reset_status
smtp_message_set_application_data smtp_message_set_application_data_release
smtp_message_transfer_status smtp_option_require_all_recipients smtp_recipient_check_complete
smtp_recipient_get_application_data smtp_recipient_reset_status smtp_recipient_set_application_data
smtp_recipient_set_application_data_release smtp_recipient_status smtp_reverse_path_status
smtp_set_application_data smtp_set_application_data_release smtp_set_eventcb smtp_set_header
smtp_set_header_option smtp_set_hostname smtp_set_message_fp smtp_set_message_str smtp_set_messagecb
smtp_set_monitorcb smtp_set_resent_headers smtp_set_reverse_path smtp_set_server smtp_set_timeout
smtp_size_set_estimate smtp_start_session smtp_starttls_enable smtp_starttls_set_ctx
smtp_starttls_set_password_cb smtp_strerror smtp_version"
exports=$(nm -D --defined-only "$ESMTP_LIB" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sort)
want=$(tr -s ' \n' '\n\n' <<<"$expected" | sed '/^$/d' | sort)
check "exactly libESMTP's names are exported" 0 "" test "$exports" = "$want"
[ "$exports" = "$want" ] && : || diff <(echo "$want") <(echo "$exports") >&2
summary
