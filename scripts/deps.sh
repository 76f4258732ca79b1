#!/usr/bin/env bash
# Install, with apt-get, whatever posta needs to build and test that this
# Debian 12 machine does not have yet.  Needs root; does nothing when all is
# present.
#   scripts/deps.sh          build and test
#   scripts/deps.sh bench    also the peers bench/run.sh measures against
set -euo pipefail

PACKAGES=(
    # build
    build-essential cmake pkg-config clang libclang-rt-14-dev
    libssl-dev libsasl2-dev zlib1g-dev
    # runtime: SASL client plugins
    libsasl2-modules
    # loopback test servers and tools the tests compare against
    openssl dovecot-imapd dovecot-pop3d dovecot-submissiond dovecot-lmtpd
    postfix cyrus-clients iproute2 procps
    # libESMTP's own examples/mail-file.c, built against posta-esmtp in a test
    libesmtp6
)
if [ "${1:-}" = bench ]; then
    # benchmarks: the peers and the measuring tools
    PACKAGES+=(libetpan-dev libesmtp-dev curl valgrind time)
fi

missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "posta: these packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
fi
echo "posta: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix is installed only for smtp-sink; no daemon is configured or started.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
