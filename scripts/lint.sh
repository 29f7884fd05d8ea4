#!/usr/bin/env bash
# The house checks for C++: clang-format (.clang-format) on every C++ file
# of src/, tests/ and bench/, and clang-tidy (.clang-tidy) on every source
# file of src/. Exits 1 on any finding, so CI fails on a new one.
#
# Usage: scripts/lint.sh [--check] [--fix] [--format-only | --tidy-only] [FILE...]
#   --check        report findings and change nothing (the default; CI
#                  names it to say so)
#   --fix          rewrite files with clang-format instead of reporting
#   --format-only  skip clang-tidy (it needs a configured build folder)
#   --tidy-only    skip clang-format
#   FILE...        check only these files
# clang-tidy reads build/compile_commands.json (FOGBOW_BUILD_DIR overrides;
# scripts/build.sh writes it). Debian 12's clang-format and clang-tidy 14.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FOGBOW_BUILD_DIR:-$root/build}
jobs=${FOGBOW_JOBS:-$(nproc)}
fix=0 format=1 tidy=1 files=()
for arg in "$@"; do
  case "$arg" in
    --check) ;;
    --fix) fix=1 ;;
    --format-only) tidy=0 ;;
    --tidy-only) format=0 ;;
    -*) echo "lint: unknown option $arg" >&2; exit 2 ;;
    *) files+=("$(realpath "$arg")") ;;
  esac
done
if ((!format && !tidy)); then
  echo "lint: --format-only and --tidy-only leave nothing to check" >&2
  exit 2
fi
cd "$root"
if ((${#files[@]} == 0)); then
  mapfile -t files < <(git ls-files -- 'src/*.cpp' 'src/*.hpp' \
    'tests/*.cpp' 'tests/*.hpp' 'bench/*.cpp' | sed "s|^|$root/|")
fi

status=0
if ((format && fix)); then
  clang-format -i "${files[@]}"
elif ((format)) && ! clang-format --dry-run -Werror "${files[@]}"; then
  echo "lint: clang-format findings above (scripts/lint.sh --fix mends them)" >&2
  status=1
fi

if ((tidy)); then
  if [[ ! -f "$build/compile_commands.json" ]]; then
    echo "lint: no $build/compile_commands.json; run scripts/build.sh first" >&2
    exit 2
  fi
  mapfile -t sources < <(printf '%s\n' "${files[@]}" | grep "^$root/src/.*\.cpp$" || true)
  if ((${#sources[@]})) && ! printf '%s\0' "${sources[@]}" \
      | xargs -0 -n 1 -P "$jobs" clang-tidy -p "$build" --quiet 2>/dev/null; then
    echo "lint: clang-tidy findings above" >&2
    status=1
  fi
fi
exit "$status"
