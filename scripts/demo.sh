#!/usr/bin/env bash
# The README's demo command: installs what is needed, builds, starts the
# all-in-one process (manager with the local driver, plus the reverse
# tunnel) and walks through an order's life from the CLI: the instance's
# web page is fetched through the tunnel. Leaves nothing running.
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

# The instance's boot script (its user data): a small web page on a private
# port, published through the reverse tunnel as the named port "http".
cat >"$data/boot.sh" <<'SCRIPT'
echo "hello from $FOGBOW_INSTANCE_ID, booted at $(date -u +%H:%M:%S)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p www && echo "served by instance $FOGBOW_INSTANCE_ID" > www/index.html
nohup python3 -m http.server "$port" --bind 127.0.0.1 --directory www >http.log 2>&1 &
"$HOME/.fogbow-tunnel/connect" http "$port" >>tunnel-http.log 2>&1 &
SCRIPT

echo "manager running on $FOGBOW_URL (log: $log), user alice; web dashboard: $FOGBOW_URL/ (token alice-secret)"
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
instance=$("$fogbow" order show "$id" --json | python3 -c \
  'import json,sys; print(json.load(sys.stdin)["instance_id"])')
# The agent in the user data opens `ssh -R` to the tunnel; its public ports
# appear on the instance once they are connected.
for _ in $(seq 100); do
  http=$("$fogbow" compute show "$instance" --json | python3 -c \
    'import json,sys; print((json.load(sys.stdin).get("extra_ports") or {}).get("http") or "")')
  [[ -n "$http" ]] && curl -fsS -m 2 "http://$http/" >/dev/null 2>&1 && break
  sleep 0.2
done
step "$fogbow" compute show "$instance"
echo; echo "the instance's web page, fetched through the tunnel at $http:"
curl -fsS -m 5 "http://$http/" || echo "(not reachable through the tunnel)"
echo; echo "the instance's console.log:"
cat "$data"/instances/*/console.log
step "$fogbow" order delete "$id"
sleep 0.5
step "$fogbow" order list
step "$fogbow" compute list
echo; echo "demo done"
