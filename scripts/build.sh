#!/usr/bin/env bash
# Configures and builds fogbow into build/ (or $FOGBOW_BUILD_DIR).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FOGBOW_BUILD_DIR:-$root/build}
jobs=${FOGBOW_JOBS:-$(nproc)}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$jobs"
