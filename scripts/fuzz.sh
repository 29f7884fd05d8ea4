#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz/ with clang, ASan and UBSan
# (build-fuzz/, or $FOGBOW_FUZZ_BUILD_DIR) and runs each for SECONDS
# (default 60) on one core, starting from its seed corpus
# tests/fuzz/corpus/<target>/. New inputs go to a scratch corpus beside the
# build, not into the tree; a crash, leak, sanitizer report or timeout
# leaves its input in the build directory (fuzz/artifacts/) and fails the
# run. FOGBOW_FUZZ_TARGETS limits the run ("fuzz_xml fuzz_config");
# FOGBOW_FUZZ_PARALLEL runs that many targets at once (default 1).
#   scripts/fuzz.sh [SECONDS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
build=${FOGBOW_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${FOGBOW_JOBS:-$(nproc)}
CXX=${FOGBOW_FUZZ_CXX:-clang++} cmake -S "$root" -B "$build" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFOGBOW_FUZZ=ON >/dev/null
cmake --build "$build" -j "$jobs"

targets=${FOGBOW_FUZZ_TARGETS:-$(cd "$root/tests/fuzz" && ls fuzz_*.cpp | sed 's/\.cpp$//')}
mkdir -p "$build/fuzz/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Runs one target; prints one line saying how it went; fails on a finding.
run_target() {
  local target=$1 seeds scratch log runs
  seeds=$root/tests/fuzz/corpus/${target#fuzz_}
  scratch=$build/fuzz/corpus/${target#fuzz_}
  mkdir -p "$scratch"
  log=$build/fuzz/$target.log
  # -rss_limit_mb and -timeout: a slow or memory-hungry input is a finding
  # too (a stranger could send it); -max_len bounds what one input may be.
  if "$build/fuzz/$target" "$scratch" "$seeds" -max_total_time="$seconds" \
    -rss_limit_mb=2048 -timeout=10 -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz/artifacts/$target-" >"$log" 2>&1; then
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
    echo "fuzz: $target: ok, ${runs:-?} executions in ${seconds}s"
  else
    echo "fuzz: $target: FAILED (see $log):" >&2
    grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 >&2
    return 1
  fi
}

# FOGBOW_FUZZ_PARALLEL targets at a time (default 1: one core).
parallel=${FOGBOW_FUZZ_PARALLEL:-1}
status=0 running=0
for target in $targets; do
  if ((running >= parallel)); then
    wait -n || status=1
    running=$((running - 1))
  fi
  run_target "$target" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n || status=1
  running=$((running - 1))
done
exit "$status"
