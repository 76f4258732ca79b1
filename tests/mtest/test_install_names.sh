#!/usr/bin/env bash
# POSTA_INSTALL_CYRUS_NAMES: off by default (no imtest in bin/); on, a build
# of the posta command installs imtest, pop3test, smtptest and lmtptest as
# symlinks to posta, and each runs its own tool by its name.
set -u
. "$POSTA_SOURCE_DIR/tests/lib/sh.sh"

b=$TMP/build
check "configure with POSTA_INSTALL_CYRUS_NAMES=ON" 0 "" \
    cmake -S "$POSTA_SOURCE_DIR" -B "$b" -DPOSTA_INSTALL_CYRUS_NAMES=ON -DPOSTA_BUILD_TESTS=OFF \
    -DPOSTA_BUILD_EXAMPLES=OFF -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER="${POSTA_C_COMPILER:-cc}"
check "build" 0 "" cmake --build "$b" -j "$(nproc)"
check "install with DESTDIR" 0 "imtest -> posta" \
    env DESTDIR="$TMP/dest" cmake --install "$b" --prefix /usr/local
for name in imtest pop3test smtptest lmtptest; do
    check "$name is a symlink to posta" 0 "posta" readlink "$TMP/dest/usr/local/bin/$name"
    check "$name runs by its name" 0 "Usage: $name [options] hostname" "$TMP/dest/usr/local/bin/$name" -h
done

check "reconfigure with the default (OFF)" 0 "" cmake -S "$POSTA_SOURCE_DIR" -B "$b" -UPOSTA_INSTALL_CYRUS_NAMES
check "the default installs no Cyrus names" 0 "" \
    bash -c "DESTDIR='$TMP/off' cmake --install '$b' --prefix /usr/local >/dev/null && test -x '$TMP/off/usr/local/bin/posta' && test ! -e '$TMP/off/usr/local/bin/imtest'"

summary
