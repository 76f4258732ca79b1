#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build the man page's example
# against the installed posta-imclient with pkg-config, and check what the
# shared library exports.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

prefix=$TMP/prefix
check "cmake --install" 0 "" cmake --install "$POSTA_BINARY_DIR" --prefix "$prefix"
pc=$(find "$prefix" -name posta-imclient.pc | head -1)
check "pkg-config file installed" 0 "" test -f "$pc"
libdir=$(dirname "$(dirname "$pc")")
for h in imclient.h sasl.h xmalloc.h; do
    check "<cyrus/$h> installed" 0 "" test -f "$prefix/include/posta-imclient/cyrus/$h"
done
check "shared library with versioned soname" 0 "libposta-imclient.so.0" \
    bash -c "readelf -d $libdir/libposta-imclient.so | grep SONAME"
check "static library installed" 0 "" test -f "$libdir/libposta-imclient.a"

export PKG_CONFIG_PATH=$libdir/pkgconfig
check "pkg-config knows posta-imclient" 0 "-lposta-imclient" pkg-config --libs posta-imclient
check "the include path leads to <cyrus/imclient.h>" 0 "posta-imclient" pkg-config --cflags posta-imclient
build() {
    ${POSTA_C_COMPILER:-cc} -std=c11 -Wall -Wno-implicit-int -Wno-strict-prototypes -Wno-shadow -Werror \
        ${IMCLIENT_TEST_CFLAGS:-} $(pkg-config --cflags posta-imclient) "$IMCLIENT_EXAMPLE_SRC" \
        -o "$TMP/example" $(pkg-config --libs posta-imclient)
}
check "build the man page's example with pkg-config" 0 "" build
# libposta-imclient finds libposta next to itself ($ORIGIN), which is what
# let the link above succeed without help.
check "libposta-imclient's run path is \$ORIGIN" 0 'RUNPATH' \
    bash -c "readelf -d $libdir/libposta-imclient.so | grep -F '[\$ORIGIN]'"
export LD_LIBRARY_PATH=$libdir
check "the example uses the installed libraries" 0 "$libdir/libposta.so.0" ldd "$TMP/example"
# An unknown host: imclient_connect returns nonzero and the example says so.
sed 's/^char server\[\] = "localhost" ;/char server[] = "no-such-host.invalid" ;/' "$IMCLIENT_EXAMPLE_SRC" >"$TMP/nohost.c"
check "build a variant for an unknown host" 0 "" \
    bash -c "${POSTA_C_COMPILER:-cc} -std=c11 -w ${IMCLIENT_TEST_CFLAGS:-} \$(pkg-config --cflags posta-imclient) $TMP/nohost.c -o $TMP/nohost \$(pkg-config --libs posta-imclient)"
check "run against the installed shared library" 1 "Couldn't connect to no-such-host.invalid imap" \
    "$TMP/nohost"

# The imclient API and the descriptors leave the library; fatal stays the
# application's; nothing of posta's internals.
# (AddressSanitizer adds an __odr_asan.* companion to each exported variable.)
exports=$(nm -D --defined-only "$IMCLIENT_LIB" | awk '$2 ~ /^[TDBRW]$/ && $3 !~ /^__odr_asan/ {print $3}')
bad=$(grep -Ev '^(imclient_|x(malloc|zmalloc|calloc|realloc|strdup|strndup|strdupnull|strdupsafe|memdup)$|sasl_prottostring$|[a-z0-9_]+_sasl_client$)' <<<"$exports" || true)
check "only the imclient API is exported" 0 "" test -z "$bad"
[ -n "$bad" ] && echo "exported by mistake: $bad" >&2
check "krb_sasl_client exported" 0 "krb_sasl_client" echo "$exports"
check "fatal is left to the application" 0 "U fatal" nm -D "$IMCLIENT_LIB"
summary
