#!/usr/bin/env bash
# Configures and builds fogbow into build/ (or $FOGBOW_BUILD_DIR).
# FOGBOW_CMAKE_ARGS adds cmake arguments, e.g. "-DFOGBOW_SANITIZE=ON".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FOGBOW_BUILD_DIR:-$root/build}
jobs=${FOGBOW_JOBS:-$(nproc)}
read -ra extra <<<"${FOGBOW_CMAKE_ARGS:-}"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON "${extra[@]}" >/dev/null
cmake --build "$build" -j "$jobs"
