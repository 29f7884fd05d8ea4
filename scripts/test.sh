#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every
# test (unit and integration) with ctest, two at a time; arguments go to
# ctest (e.g. -R scheduler). Then it builds once more with AddressSanitizer
# + UBSan (build-sanitize/, or $FOGBOW_SANITIZE_BUILD_DIR) and runs the
# unit tests and the fast integration tests (labels `unit` and `fast`)
# there; any sanitizer report fails that test. FOGBOW_SANITIZE_PASS=0 skips
# that second pass (e.g. for a quick run of one test). Last, it builds the
# libFuzzer targets (build-fuzz/) and runs each for FOGBOW_FUZZ_SECONDS
# (default 20; 0 skips this pass), one per core: scripts/fuzz.sh, any
# crash fails.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${FOGBOW_BUILD_DIR:-$root/build}
jobs=${FOGBOW_TEST_JOBS:-2}
(cd "$build" && ctest -j "$jobs" --output-on-failure "$@")

if [[ "${FOGBOW_SANITIZE_PASS:-1}" != 0 ]]; then
  sanitize_build=${FOGBOW_SANITIZE_BUILD_DIR:-$root/build-sanitize}
  FOGBOW_BUILD_DIR=$sanitize_build FOGBOW_CMAKE_ARGS="-DFOGBOW_SANITIZE=ON" \
    "$root/scripts/build.sh"
  (cd "$sanitize_build" && ctest -j "$jobs" --output-on-failure -L 'unit|fast')
fi

fuzz_seconds=${FOGBOW_FUZZ_SECONDS:-20}
if [[ "$fuzz_seconds" != 0 ]]; then
  # Nothing else runs now: one target per core.
  FOGBOW_FUZZ_PARALLEL=${FOGBOW_FUZZ_PARALLEL:-$(nproc)} \
    "$root/scripts/fuzz.sh" "$fuzz_seconds"
fi
