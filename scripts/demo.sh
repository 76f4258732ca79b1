#!/usr/bin/env bash
# The main job: set up (packages, build), start the loopback test servers,
# and tour posta against them.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh build >/dev/null
exec bash tests/harness/servers.sh run "$PWD/build/demo-servers" -- bash scripts/tour.sh "$PWD/build/tools/posta"
