#!/usr/bin/env bash
# Two federated sites on one host (docs/federation.md walks through it):
# a throw-away Prosody, a rendezvous, manager A whose cloud has no room
# (`local` driver, instances = 0) and manager B (`local` driver plus its own
# reverse tunnel). An order posted at A is forwarded to B over XMPP,
# fulfilled there, and its web page is fetched through B's tunnel; deleting
# it at A removes it at B. Prints every step; leaves nothing running.
# With --domains 2, as deployed: each site has its own XMPP server (a.test
# and b.test, each on its own loopback address), the servers joined by
# server-to-server links over TLS with certificate authentication (a
# throw-away CA), and a rendezvous per domain pulling the other.
# Usage: scripts/federation-demo.sh [--domains 1|2]
#        (FOGBOW_BUILD_DIR picks the build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
domains=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --domains) domains=${2:-}; shift 2 ;;
    --domains=*) domains=${1#*=}; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $domains == 1 || $domains == 2 ]] || { echo "--domains: 1 or 2" >&2; exit 2; }
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
fogbow=${FOGBOW_BUILD_DIR:-$root/build}/fogbow

work=$(mktemp -d /tmp/fogbow-federation-XXXXXX)
# Prosody's own directory: owned by `nobody` when we are root (Prosody
# refuses to run as root), so it cannot live inside the private $work.
pdir=$(mktemp -d /tmp/fogbow-federation-prosody-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  # Local instances outlive their manager (like VMs); stop any left over.
  for proc in /proc/[0-9]*; do
    case "$(readlink "$proc/cwd" 2>/dev/null)" in
      "$work"/*) kill -9 "${proc#/proc/}" 2>/dev/null || true ;;
    esac
  done
  rm -rf "$work" "$pdir"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# Ten consecutive free ports below the ephemeral range, for B's tunnel.
free_range() {
  python3 - <<'PY'
import random, socket
low_eph = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    low = random.randint(10000, low_eph - 11)
    socks = []
    try:
        for p in range(low, low + 10):
            s = socket.socket(); socks.append(s); s.bind(("127.0.0.1", p))
        print(low, low + 9); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
}
wait_for() { # FILE PATTERN PID: until FILE has a line matching PATTERN
  for _ in $(seq 300); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    kill -0 "$3" 2>/dev/null || { echo "process $3 exited:"; cat "$1"; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for '$2' in $1"; cat "$1"; exit 1
}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step() { printf '\033[1m$ %s\033[0m\n' "$*"; "$@"; }

# --- 1. Throw-away XMPP server(s) -----------------------------------------
# One domain: one Prosody on a free loopback port, serving `localhost`.
one_domain() {
  xmpp=$(free_port)
  mkdir -p "$pdir/data/localhost/accounts"
  cat >"$pdir/prosody.cfg.lua" <<EOF
pidfile = "$pdir/prosody.pid"
data_path = "$pdir/data"
log = { { levels = { min = "warn" }, to = "file", filename = "$pdir/prosody.log" } }
interfaces = { "127.0.0.1" }
c2s_ports = { $xmpp }
c2s_direct_tls_ports = { }
s2s_ports = { }
http_ports = { }
https_ports = { }
component_ports = { }
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "posix" }
modules_disabled = { "s2s"; "offline"; "c2s_limits" }
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
VirtualHost "localhost"
EOF
  # One account per role (Prosody's file-name encoding: '-' is %2d).
  for account in rendezvous:rdv-pw site%2da:a-pw site%2db:b-pw; do
    printf 'return {\n\t["password"] = "%s";\n};\n' "${account#*:}" \
      >"$pdir/data/localhost/accounts/${account%%:*}.dat"
  done
  runas=()
  if [[ $(id -u) == 0 ]]; then
    chown -R nobody:nogroup "$pdir"
    runas=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  fi
  "${runas[@]}" prosody -F --config "$pdir/prosody.cfg.lua" \
    >"$pdir/stdout.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$xmpp") 2>/dev/null && break
    sleep 0.1
  done
  say "Prosody (XMPP) on 127.0.0.1:$xmpp with accounts rendezvous, site-a, site-b @localhost"
  domain_a=localhost domain_b=localhost addr_a=127.0.0.1 addr_b=127.0.0.1
  port_a=$xmpp port_b=$xmpp
}
# Two domains joined by s2s over TLS (certificates from a throw-away CA,
# s2s_secure_auth): the integration tests' harness, run as a process.
two_domains() {
  python3 "$root/tests/integration/s2s_harness.py" --ready "$work/xmpp" \
    --account rendezvous@a.test:rdv-pw --account rendezvous@b.test:rdv-pw \
    --account site-a@a.test:a-pw --account site-b@b.test:b-pw \
    a.test b.test >"$work/xmpp.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 300); do
    [[ -e $work/xmpp ]] && break
    kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/xmpp.log"; exit 1; }
    sleep 0.1
  done
  read -r domain_a addr_a port_a < <(sed -n 1p "$work/xmpp")
  read -r domain_b addr_b port_b < <(sed -n 2p "$work/xmpp")
  say "Prosody a.test on $addr_a:$port_a, b.test on $addr_b:$port_b, joined by s2s (TLS, certificates of a throw-away CA)"
}
if [[ $domains == 1 ]]; then one_domain; else two_domains; fi

xmpp_section() { # ADDRESS PORT
  printf '[xmpp]\nhost = "%s"\nport = %s\n' "$1" "$2"
  echo 'tls = "disabled"   # a loopback test server only: never in production'
}
users='[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"   # DEMO VALUE'

# --- 2. The rendezvous: how the managers find each other ------------------
# One per domain; with two, each pulls the other's members (neighbours).
start_rendezvous() { # DOMAIN ADDRESS PORT OTHER_DOMAIN
  local neighbors=""
  if [[ $1 != "$4" ]]; then
    neighbors="neighbors = [\"rendezvous@$4/fogbow\"]
sync_interval_ms = 1000"
  fi
  cat >"$work/rendezvous-$1.toml" <<EOF
$(xmpp_section "$2" "$3")
[rendezvous]
jid = "rendezvous@$1/fogbow"
password = "rdv-pw"
period_ms = 1000
$neighbors
EOF
  "$fogbow" --role=rendezvous --config "$work/rendezvous-$1.toml" \
    >"$work/rendezvous-$1.log" 2>&1 &
  pids+=($!)
  wait_for "$work/rendezvous-$1.log" "connected to" "${pids[-1]}"
  say "rendezvous@$1/fogbow connected"
}
start_rendezvous "$domain_a" "$addr_a" "$port_a" "$domain_b"
if [[ $domains == 2 ]]; then
  start_rendezvous "$domain_b" "$addr_b" "$port_b" "$domain_a"
fi

# --- 3. Site B: a local cloud with room, and its own reverse tunnel -------
read -r tunnel_low tunnel_high < <(free_range)
mkdir -p "$work/site-b"
cat >"$work/site-b/config.toml" <<EOF
$(xmpp_section "$addr_b" "$port_b")
[manager.driver]
kind = "local"
instances = 4
[manager.federation]
jid = "site-b@$domain_b/fogbow"
password = "b-pw"
rendezvous = "rendezvous@$domain_b/fogbow"
[tunnel]
ssh_bind = "127.0.0.1"
ssh_port = 0
public_bind = "127.0.0.1"
port_low = $tunnel_low
port_high = $tunnel_high
http_bind = "127.0.0.1"
http_port = 0
manager_secret = "demo-tunnel-secret-0123"   # DEMO VALUE
$users
EOF
(cd "$work/site-b" && exec "$fogbow" --role=all --config config.toml \
  --data-dir "$work/site-b/data" --http-port 0 >"$work/site-b/log" 2>&1) &
pids+=($!)
wait_for "$work/site-b/log" "listening on" "${pids[-1]}"
url_b=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$work/site-b/log" | head -1)
say "site B: manager + tunnel at $url_b, local cloud with room for 4 instances"

# --- 4. Site A: a local cloud with no room at all -------------------------
mkdir -p "$work/site-a"
cat >"$work/site-a/config.toml" <<EOF
$(xmpp_section "$addr_a" "$port_a")
[manager.driver]
kind = "local"
instances = 0        # A's cloud is full: its orders must go elsewhere
[manager.federation]
jid = "site-a@$domain_a/fogbow"
password = "a-pw"
rendezvous = "rendezvous@$domain_a/fogbow"
$users
EOF
(cd "$work/site-a" && exec "$fogbow" --role=manager --config config.toml \
  --data-dir "$work/site-a/data" --http-port 0 >"$work/site-a/log" 2>&1) &
pids+=($!)
wait_for "$work/site-a/log" "listening on" "${pids[-1]}"
url_a=$(sed -n 's|.*listening on \(http://[^ ]*\).*|\1|p' "$work/site-a/log" | head -1)
say "site A: manager at $url_a, local cloud with room for 0 instances"

export FOGBOW_URL=$url_a FOGBOW_TOKEN=alice-secret
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

say "A and B find each other through the rendezvous (A asks $domain_a's)"
for _ in $(seq 100); do
  alive=$("$fogbow" member list --json | json \
    'sum(m["alive"] for m in d["members"])')
  [[ "$alive" == 2 ]] && break
  sleep 0.2
done
step "$fogbow" member list
step "$fogbow" member quota "site-b@$domain_b"

# The instance's boot script: a web page on a private port, published
# through the tunnel of the site that runs it as the named port "http".
cat >"$work/boot.sh" <<'SCRIPT'
echo "hello from $FOGBOW_INSTANCE_ID"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p www && echo "served by instance $FOGBOW_INSTANCE_ID" > www/index.html
nohup python3 -m http.server "$port" --bind 127.0.0.1 --directory www >http.log 2>&1 &
"$HOME/.fogbow-tunnel/connect" http "$port" >>tunnel-http.log 2>&1 &
SCRIPT

say "an order at A, which has no room: A forwards it to B"
id=$("$fogbow" order create --kind compute --user-data-file "$work/boot.sh" \
  --json | json 'd["orders"][0]["id"]')
state=""
for _ in $(seq 300); do
  state=$("$fogbow" order show "$id" --json | json 'd["state"]')
  [[ "$state" == fulfilled ]] && break
  sleep 0.1
done
step "$fogbow" order show "$id"
[[ "$state" == fulfilled ]] || { echo "not fulfilled; A's log:"; tail -20 "$work/site-a/log"; exit 1; }
instance=$("$fogbow" order show "$id" --json | json 'd["instance_id"]')
say "A lists the remote instance $instance beside its own (none)"
step "$fogbow" compute list

say "B runs it (B's own status, which counts the instances it serves)"
step curl -fsS "$url_b/v1/status"; echo

say "the instance's web page, through B's tunnel, at the address A shows"
http=""
for _ in $(seq 150); do
  http=$("$fogbow" compute show "$instance" --json | json \
    '(d.get("extra_ports") or {}).get("http") or ""')
  [[ -n "$http" ]] && curl -fsS -m 2 "http://$http/" >/dev/null 2>&1 && break
  sleep 0.2
done
step "$fogbow" compute show "$instance"
step curl -fsS -m 5 "http://$http/" || echo "(not reachable through the tunnel)"

say "deleting the order at A removes the instance at B"
step "$fogbow" order delete "$id"
for _ in $(seq 100); do
  n=$(curl -fsS "$url_b/v1/status" | json 'd["instances"]')
  [[ "$n" == 0 ]] && break
  sleep 0.1
done
echo "instances at B: $n"
step "$fogbow" compute list
echo; echo "federation demo done"
