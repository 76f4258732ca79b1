#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build a program against the
# installed posta with pkg-config and with find_package(posta), and check
# that the shared library exports posta_ symbols only.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

prefix=$TMP/prefix
check "cmake --install" 0 "" cmake --install "$POSTA_BINARY_DIR" --prefix "$prefix"
check "umbrella header installed" 0 "" test -f "$prefix/include/posta/posta.h"
check "stream header installed" 0 "" test -f "$prefix/include/posta/stream.h"
libdir=$(dirname "$(find "$prefix" -name posta.pc | head -1)")/..
check "shared library with versioned soname" 0 "libposta.so.0" \
    bash -c "ls $libdir; readelf -d $libdir/libposta.so | grep SONAME"
check "static library installed" 0 "" test -f "$libdir/libposta.a"
check "posta command installed" 0 "posta" "$prefix/bin/posta" --version
check "man page installed" 0 "" test -f "$prefix/share/man/man1/posta.1"
check "man page documents connect" 0 ".SS posta connect" cat "$prefix/share/man/man1/posta.1"

cat >"$TMP/hello.c" <<'C'
#include <posta/posta.h>
#include <stdio.h>
int main(void)
{
    posta_stream *s;
    if (posta_stream_new(&s) != 0)
        return 1;
    printf("posta %s: %s\n", posta_version(), posta_strerror(POSTA_EVERIFY));
    posta_stream_free(s);
    return 0;
}
C
export PKG_CONFIG_PATH=$libdir/pkgconfig
check "pkg-config knows posta" 0 "-lposta" pkg-config --libs posta
check "build with pkg-config" 0 "" \
    bash -c "${POSTA_C_COMPILER:-cc} -std=c11 -Wall -Werror ${POSTA_TEST_CFLAGS:-} \$(pkg-config --cflags posta) $TMP/hello.c -o $TMP/hello \$(pkg-config --libs posta)"
check "run against the installed shared library" 0 "certificate verify failed" \
    env LD_LIBRARY_PATH="$libdir" "$TMP/hello"

mkdir -p "$TMP/cm"
cp "$TMP/hello.c" "$TMP/cm/"
cat >"$TMP/cm/CMakeLists.txt" <<'C'
cmake_minimum_required(VERSION 3.20)
project(hello C)
find_package(posta REQUIRED)
add_executable(hello hello.c)
target_link_libraries(hello posta::posta)
C
check "build with find_package(posta)" 0 "" \
    bash -c "cmake -S $TMP/cm -B $TMP/cm/b -DCMAKE_PREFIX_PATH=$prefix -DCMAKE_C_COMPILER=${POSTA_C_COMPILER:-cc} '-DCMAKE_C_FLAGS=${POSTA_TEST_CFLAGS:-}' >/dev/null && cmake --build $TMP/cm/b"
check "run the find_package build" 0 "posta " env LD_LIBRARY_PATH="$libdir" "$TMP/cm/b/hello"

# Only posta_ symbols leave the shared library.
bad=$(nm -D --defined-only "$POSTA_LIB" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | grep -v '^posta_' || true)
check "only posta_ symbols exported" 0 "" test -z "$bad"
[ -n "$bad" ] && echo "exported by mistake: $bad" >&2
internal=$(nm -D --defined-only "$POSTA_LIB" | awk '{print $3}' | grep '^posta__' || true)
check "no posta__ internals exported" 0 "" test -z "$internal"
summary
