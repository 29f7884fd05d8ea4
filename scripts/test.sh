#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every
# test (unit and integration) with ctest, two at a time.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${FOGBOW_BUILD_DIR:-$root/build}
cd "$build"
ctest -j "${FOGBOW_TEST_JOBS:-2}" --output-on-failure "$@"
