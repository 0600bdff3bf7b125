#!/usr/bin/env bash
# The whole test suite: installs the Debian tools the tests use, runs ava (unit and end-to-end) with a
# bound on time, and prints "N passed, N failed" as the last line.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-test-deps.sh || { echo "installing test dependencies failed"; echo "0 passed, 1 failed"; exit 1; }
timeout --kill-after=30 2400 npx ava --tap "$@" | node scripts/tap-summary.mjs
