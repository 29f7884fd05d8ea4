#!/usr/bin/env bash
# Stops the OpenStack that scripts/openstack-up.sh started in DIR: every
# process by its recorded PID (and that PID's direct children, e.g. the
# WSGI workers, and Cinder's per-backend cinder-volume child), RabbitMQ
# through rabbitmqctl, PostgreSQL through pg_ctl.
# Usage: scripts/openstack-down.sh DIR [--keep]   (--keep: leave DIR on disk)
set -uo pipefail
D=${1:?usage: $0 DIR [--keep]}
[[ -d "$D" ]] || { echo "openstack-down: no folder $D" >&2; exit 1; }
if [[ -d "$D/rabbit/mnesia" ]]; then
  HOME=$D/rabbit timeout 30 rabbitmqctl -n rabbit@localhost stop >/dev/null 2>&1
fi
pids=()
for f in "$D"/*.pid; do
  [[ -f "$f" ]] || continue
  p=$(cat "$f")
  rm -f "$f"
  [[ "$p" =~ ^[0-9]+$ ]] || continue
  for c in $(pgrep -P "$p" 2>/dev/null); do kill "$c" 2>/dev/null && pids+=("$c"); done
  kill "$p" 2>/dev/null && pids+=("$p")
done
# Give them 10 s, then SIGKILL what is left of the same PIDs.
for _ in $(seq 50); do
  alive=0
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
  ((alive)) || break
  sleep 0.2
done
for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
if [[ -d "$D/pg/data" ]]; then
  su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D $D/pg/data stop -m fast" >/dev/null 2>&1
fi
# RabbitMQ's port mapper daemon (epmd) was started on loopback for it.
epmd -kill >/dev/null 2>&1
[[ "${2:-}" == "--keep" ]] || rm -rf "$D"
echo "openstack-down: stopped" >&2
exit 0
