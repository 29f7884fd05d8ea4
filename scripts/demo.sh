#!/usr/bin/env bash
# The README's demo command: installs what is needed, builds, starts the
# all-in-one manager (local driver) and walks through an order's life from
# the CLI. Leaves nothing running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
fogbow=${FOGBOW_BUILD_DIR:-$root/build}/fogbow

data=$(mktemp -d /tmp/fogbow-demo-XXXXXX)
log=$data/manager.log
"$fogbow" --role=all --config "$root/config/all-in-one.toml" \
  --data-dir "$data" --http-port 0 2>"$log" &
manager=$!
cleanup() {
  kill "$manager" 2>/dev/null && wait "$manager" 2>/dev/null || true
  # Local instances outlive their manager (like VMs); stop any left over.
  for proc in /proc/[0-9]*; do
    case "$(readlink "$proc/cwd" 2>/dev/null)" in
      "$data"/*) kill -9 "${proc#/proc/}" 2>/dev/null || true ;;
    esac
  done
  rm -rf "$data"
}
trap cleanup EXIT

port=""
for _ in $(seq 100); do
  port=$(sed -n 's|.*listening on http://[^:]*:\([0-9]*\).*|\1|p' "$log")
  [[ -n "$port" ]] && break
  kill -0 "$manager" 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
[[ -n "$port" ]] || { echo "manager did not start"; cat "$log"; exit 1; }

export FOGBOW_URL=http://127.0.0.1:$port FOGBOW_TOKEN=alice-secret
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

cat >"$data/boot.sh" <<'SCRIPT'
echo "hello from $FOGBOW_INSTANCE_ID, booted at $(date -u +%H:%M:%S)"
SCRIPT

echo "manager running on $FOGBOW_URL (log: $log), user alice"
step "$fogbow" member list
id=$("$fogbow" order create --kind compute --vcpu 1 --memory-mb 512 \
  --user-data-file "$data/boot.sh" --json | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["orders"][0]["id"])')
echo "created order $id"
step "$fogbow" order show "$id"
for _ in $(seq 50); do
  state=$("$fogbow" order show "$id" --json | python3 -c \
    'import json,sys; print(json.load(sys.stdin)["state"])')
  [[ "$state" == fulfilled ]] && break
  sleep 0.1
done
step "$fogbow" order list
step "$fogbow" compute list
step "$fogbow" quota show
sleep 0.5
echo; echo "the instance's console.log:"
cat "$data"/instances/*/console.log
step "$fogbow" order delete "$id"
sleep 0.5
step "$fogbow" order list
step "$fogbow" compute list
echo; echo "demo done"
