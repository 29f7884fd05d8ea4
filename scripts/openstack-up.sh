#!/usr/bin/env bash
# Starts a minimal but REAL OpenStack (Zed, Debian 12 packages) on 127.0.0.1
# for the `openstack` driver's integration tests and benchmark:
#   Keystone :5000 (fernet tokens), Placement :8778, Glance :9292 (file
#   store), Neutron API :9696 (ML2, no agents; PostgreSQL on :55432),
#   Nova API :8774 with conductor, scheduler and compute (fake virt driver),
#   RabbitMQ :5672. Keystone, Placement and Glance on SQLite (WAL mode);
#   Nova and Neutron on one private PostgreSQL (Nova on SQLite fails
#   concurrent builds with "database is locked").
#   Optional: Cinder v3 :8776 (api, scheduler, volume; catalog type
#   volumev3) with Cinder's own fake backend (FakeLoggingVolumeDriver from
#   python3-cinder: volumes reach "available" and attach to fake-driver
#   servers, but no storage exists). If Cinder cannot be installed or does
#   not come up, a WARNING is printed and the rest still starts; env.sh then
#   sets FOGBOW_OPENSTACK_CINDER=0 (1 when it works). OPENSTACK_CINDER=0
#   skips it. See docs/openstack-volumes.md.
# Everything lives under one temporary folder; every process started is
# recorded as DIR/<name>.pid, and scripts/openstack-down.sh DIR stops them
# by PID. Must run as root (RabbitMQ and PostgreSQL run as their users).
#
# Usage: scripts/openstack-up.sh [DIR]      (default: a new /tmp/fogbow-openstack.XXXXXX)
# Env:   OPENSTACK_TOKEN_LIFETIME  Keystone token lifetime in s (default 600:
#          short enough that tests see renewal, but keep it well above 120:
#          keystoneauth treats a token with < 120 s left as expired, so the
#          services' own tokens would be renewed on every call and Keystone
#          would be flooded)
# Prints the folder on the last line of stdout and writes DIR/env.sh with
# the demo user's OS_* variables. Accounts it creates:
#   admin / admin-pw   (project admin, role admin)
#   demo  / demo-pw    (project demo, role member; quota 100 instances)
# Flavors small (1 vCPU, 512 MB, 1 GB), medium (2, 2048, 10), large (4, 8192, 20);
# image "cirros-fake" (1 MiB of random bytes; the fake driver never reads it).
# Demo quota for volumes: Cinder's defaults (10 volumes, 1000 GB).
# Known limit: servers boot only with "networks": "none" (nothing binds a
# port on a tenant network), so they have no IP address.
set -euo pipefail
started=$(date +%s)
D=${1:-$(mktemp -d /tmp/fogbow-openstack.XXXXXX)}
mkdir -p "$D"
D=$(cd "$D" && pwd)
# PostgreSQL and RabbitMQ run as their own users: they must be able to
# enter the folder (mktemp -d makes it 0700).
chmod 0755 "$D"
PY=/usr/bin/python3 # Debian's interpreter: its modules are the OpenStack ones
say() { echo "openstack-up: $*" >&2; }

if [[ $(id -u) -ne 0 ]]; then say "must run as root"; exit 1; fi
if (exec 3<>/dev/tcp/127.0.0.1/5000) 2>/dev/null; then
  say "something already listens on 127.0.0.1:5000 (another OpenStack?); stop it first"
  exit 1
fi

packages=(python3-keystone python3-nova python3-placement python3-openstackclient
  python3-pastescript uwsgi-plugin-python3 rabbitmq-server python3-glance glance-api
  nova-common python3-neutron neutron-common python3-psycopg2 postgresql sqlite3 curl)
missing=()
for p in "${packages[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${#missing[@]} packages (about 1 GB, a few minutes)"
  # No maintainer script may start a system-wide service.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get update -q >"$D/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$D/apt.log" 2>&1 \
    || { say "package install failed, see $D/apt.log"; exit 1; }
fi

# Cinder is optional: its package is installed separately so that a
# failure there never stops the rest.
cinder=${OPENSTACK_CINDER:-1}
cinder_why=""
if [[ $cinder == 1 && "$(dpkg-query -W -f='${Status}' python3-cinder 2>/dev/null || true)" != "install ok installed" ]]; then
  say "installing python3-cinder"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-cinder >>"$D/apt.log" 2>&1 \
    || { cinder=0; cinder_why="python3-cinder could not be installed (see $D/apt.log)"; }
fi
[[ $cinder == 1 ]] || cinder_why=${cinder_why:-"disabled by OPENSTACK_CINDER=0"}

mkdir -p "$D/cinder-state/lock" "$D/log" "$D/fernet-keys" "$D/credential-keys" "$D/images" "$D/nova-state/lock" \
  "$D/neutron-state/lock" "$D/rabbit/mnesia" "$D/rabbit/log" "$D/rabbit/ff" "$D/pg"
lifetime=${OPENSTACK_TOKEN_LIFETIME:-600}

service_auth() {
  cat <<A
auth_url = http://127.0.0.1:5000/v3
auth_type = password
project_domain_name = Default
user_domain_name = Default
project_name = service
username = $1
password = $1-pw
A
}

cat >"$D/keystone.conf" <<C
[DEFAULT]
log_dir = $D/log
[database]
connection = sqlite:///$D/keystone.db
[token]
provider = fernet
expiration = $lifetime
[fernet_tokens]
key_repository = $D/fernet-keys
[fernet_receipts]
key_repository = $D/fernet-keys
[credential]
key_repository = $D/credential-keys
C
cat >"$D/placement.conf" <<C
[DEFAULT]
log_dir = $D/log
[placement_database]
connection = sqlite:///$D/placement.db
[api]
auth_strategy = keystone
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(service_auth placement)
C
cp /etc/glance/glance-api-paste.ini "$D/"
cat >"$D/glance-api.conf" <<C
[DEFAULT]
log_dir = $D/log
bind_host = 127.0.0.1
bind_port = 9292
workers = 0
enabled_backends = fs:file
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = $D/images
[database]
connection = sqlite:///$D/glance.db
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(service_auth glance)
[paste_deploy]
flavor = keystone
config_file = $D/glance-api-paste.ini
C
cp /etc/nova/api-paste.ini "$D/nova-api-paste.ini"
# FakeDriver reports a huge hypervisor (1000 vCPUs, 800 GB RAM), so only
# quotas limit how many servers fit: the benchmark boots 50.
cat >"$D/nova.conf" <<C
[DEFAULT]
log_dir = $D/log
state_path = $D/nova-state
transport_url = rabbit://guest:guest@127.0.0.1:5672/
compute_driver = fake.FakeDriver
my_ip = 127.0.0.1
host = fakehost
[api]
auth_strategy = keystone
[api_database]
connection = postgresql+psycopg2://postgres@127.0.0.1:55432/nova_api
[database]
connection = postgresql+psycopg2://postgres@127.0.0.1:55432/nova
[conductor]
workers = 1
[scheduler]
workers = 1
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(service_auth nova)
# Validated user tokens are cached for 5 s only (default 300 s), so a
# token Keystone revoked is refused within seconds (tests rely on it).
token_cache_time = 5
[placement]
$(service_auth placement)
region_name = RegionOne
[glance]
api_servers = http://127.0.0.1:9292
[oslo_concurrency]
lock_path = $D/nova-state/lock
[scheduler]
discover_hosts_in_cells_interval = 10
[wsgi]
api_paste_config = $D/nova-api-paste.ini
[neutron]
$(service_auth neutron)
region_name = RegionOne
[cinder]
os_region_name = RegionOne
catalog_info = volumev3::publicURL
$(service_auth nova)
# Since OSSA-2023-003 Cinder refuses to delete an attachment Nova made
# (detach: 409 ConflictNovaUsingAttachment, volume stuck in "detaching")
# unless Nova's request also carries a service token with role "service".
[service_user]
send_service_user_token = true
$(service_auth nova)
C
cat >"$D/neutron.conf" <<C
[DEFAULT]
log_dir = $D/log
bind_host = 127.0.0.1
bind_port = 9696
api_paste_config = /etc/neutron/api-paste.ini
core_plugin = ml2
service_plugins =
auth_strategy = keystone
api_workers = 0
rpc_workers = 0
transport_url = rabbit://guest:guest@127.0.0.1:5672/
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
state_path = $D/neutron-state
[database]
connection = postgresql+psycopg2://postgres@127.0.0.1:55432/neutron
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(service_auth neutron)
[oslo_concurrency]
lock_path = $D/neutron-state/lock
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
mechanism_drivers =
extension_drivers = port_security
[ml2_type_vxlan]
vni_ranges = 1:1000
[ml2_type_flat]
flat_networks = *
C
cat >"$D/cinder.conf" <<C
[DEFAULT]
log_dir = $D/log
state_path = $D/cinder-state
transport_url = rabbit://guest:guest@127.0.0.1:5672/
auth_strategy = keystone
osapi_volume_listen = 127.0.0.1
osapi_volume_listen_port = 8776
osapi_volume_workers = 1
api_paste_config = $D/cinder-api-paste.ini
my_ip = 127.0.0.1
host = fakehost
enabled_backends = fake
default_volume_type = __DEFAULT__
glance_api_servers = http://127.0.0.1:9292
resource_query_filters_file = $D/cinder-resource-filters.json
[database]
connection = postgresql+psycopg2://postgres@127.0.0.1:55432/cinder
[keystone_authtoken]
www_authenticate_uri = http://127.0.0.1:5000/v3
$(service_auth cinder)
token_cache_time = 5
service_token_roles = service
service_token_roles_required = true
[nova]
$(service_auth cinder)
region_name = RegionOne
interface = public
[oslo_concurrency]
lock_path = $D/cinder-state/lock
[fake]
# Cinder's own fake backend (shipped in python3-cinder): logs calls instead
# of touching storage; infinite capacity.
volume_driver = cinder.tests.fake_driver.FakeLoggingVolumeDriver
volume_backend_name = fake
C
# Cinder's API pipeline (the Keystone one of cinder-common's api-paste.ini;
# that package is not installed: its maintainer scripts configure a system
# service).
cat >"$D/cinder-api-paste.ini" <<'C'
[composite:osapi_volume]
use = call:cinder.api:root_app_factory
/: apiversions
/v3: openstack_volume_api_v3
[composite:openstack_volume_api_v3]
use = call:cinder.api.middleware.auth:pipeline_factory
keystone = request_id cors http_proxy_to_wsgi faultwrap sizelimit authtoken keystonecontext apiv3
[filter:http_proxy_to_wsgi]
paste.filter_factory = oslo_middleware.http_proxy_to_wsgi:HTTPProxyToWSGI.factory
[filter:cors]
paste.filter_factory = oslo_middleware.cors:filter_factory
oslo_config_project = cinder
[filter:faultwrap]
paste.filter_factory = cinder.api.middleware.fault:FaultWrapper.factory
[filter:sizelimit]
paste.filter_factory = oslo_middleware.sizelimit:RequestBodySizeLimiter.factory
[app:apiv3]
paste.app_factory = cinder.api.v3.router:APIRouter.factory
[pipeline:apiversions]
pipeline = request_id cors http_proxy_to_wsgi faultwrap osvolumeversionapp
[app:osvolumeversionapp]
paste.app_factory = cinder.api.versions:Versions.factory
[filter:keystonecontext]
paste.filter_factory = cinder.api.middleware.auth:CinderKeystoneContext.factory
[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
[filter:request_id]
paste.filter_factory = cinder.api.middleware.request_id:RequestId.factory
C
# Which query filters GET /volumes accepts (cinder-common's file).
cat >"$D/cinder-resource-filters.json" <<'C'
{"volume": ["name", "status", "metadata", "bootable", "migration_status", "availability_zone",
            "group_id", "size", "created_at", "updated_at", "consumes_quota"],
 "backup": ["name", "status", "volume_id"],
 "snapshot": ["name", "status", "volume_id", "metadata", "availability_zone", "consumes_quota"],
 "group": ["name"],
 "group_snapshot": ["name", "status", "group_id"],
 "attachment": ["volume_id", "status", "instance_id", "attach_status"],
 "message": ["resource_uuid", "resource_type", "event_id", "request_id", "message_level"],
 "pool": ["name", "volume_type"],
 "volume_type": ["is_public", "extra_specs"]}
C
cat >"$D/run-cinder.py" <<'C'
import sys
svc, conf = sys.argv[1], sys.argv[2:]
sys.argv = ["cinder-" + svc] + conf
sys.exit(__import__("cinder.cmd." + svc, fromlist=["main"]).main())
C
cat >"$D/run-neutron.py" <<'C'
import sys
sys.argv = ["neutron-server", "--config-file", sys.argv[1]]
from neutron.cmd.eventlet.server import main
main()
C
cat >"$D/run-nova-svc.py" <<'C'
import sys
svc, conf = sys.argv[1], sys.argv[2]
sys.argv = ["nova-" + svc, "--config-file", conf]
__import__("nova.cmd." + svc, fromlist=["main"]).main()
C

wal() { for f in "$@"; do sqlite3 "$f" 'PRAGMA journal_mode=WAL;' >/dev/null; done; }
bg() { local name=$1; shift; "$@" >"$D/log/$name.out" 2>&1 & echo $! >"$D/$name.pid"; }
wait_http() {
  for _ in $(seq 240); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done
  say "timeout waiting for $1"; return 1
}
fail() { say "$*; logs in $D/log; stopping what was started"; "$(dirname "$0")/openstack-down.sh" "$D" || true; exit 1; }
trap 'fail "failed at line $LINENO"' ERR

say "starting in $D (token lifetime ${lifetime} s)"
# RabbitMQ (rabbitmq-server switches to the rabbitmq user by itself)
chown -R rabbitmq:rabbitmq "$D/rabbit"
bg rabbit env RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 \
  RABBITMQ_MNESIA_BASE="$D/rabbit/mnesia" RABBITMQ_LOG_BASE="$D/rabbit/log" \
  RABBITMQ_FEATURE_FLAGS_FILE="$D/rabbit/ff/feature_flags" RABBITMQ_ENABLED_PLUGINS_FILE="$D/rabbit/enabled_plugins" \
  RABBITMQ_NODENAME=rabbit@localhost HOME="$D/rabbit" ERL_EPMD_ADDRESS=127.0.0.1 rabbitmq-server

# Keystone
K=(keystone-manage --config-file "$D/keystone.conf")
"${K[@]}" db_sync
"${K[@]}" fernet_setup --keystone-user root --keystone-group root
"${K[@]}" credential_setup --keystone-user root --keystone-group root
"${K[@]}" bootstrap --bootstrap-password admin-pw --bootstrap-admin-url http://127.0.0.1:5000/v3/ \
  --bootstrap-internal-url http://127.0.0.1:5000/v3/ --bootstrap-public-url http://127.0.0.1:5000/v3/ \
  --bootstrap-region-id RegionOne >"$D/log/keystone-bootstrap.out" 2>&1
wal "$D/keystone.db"
bg keystone env OS_KEYSTONE_CONFIG_FILES="$D/keystone.conf" keystone-wsgi-public --host 127.0.0.1 --port 5000
wait_http http://127.0.0.1:5000/v3

export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=admin OS_PASSWORD=admin-pw OS_PROJECT_NAME=admin \
  OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3
o() { openstack "$@" -f value -c id >/dev/null; }
# One CLI process per call is slow (about 1.5 s each): batch them in one
# interactive `openstack` session.
openstack >"$D/log/keystone-setup.out" 2>&1 <<CMDS
project create --domain default service
user create --domain default --password nova-pw nova
user create --domain default --password placement-pw placement
user create --domain default --password glance-pw glance
user create --domain default --password neutron-pw neutron
role add --project service --user nova admin
role add --project service --user placement admin
role add --project service --user glance admin
role add --project service --user neutron admin
user create --domain default --password cinder-pw cinder
role add --project service --user cinder admin
role create service
role add --project service --user nova service
role add --project service --user cinder service
service create --name placement placement
endpoint create --region RegionOne placement public http://127.0.0.1:8778
service create --name nova compute
endpoint create --region RegionOne compute public http://127.0.0.1:8774/v2.1
service create --name glance image
endpoint create --region RegionOne image public http://127.0.0.1:9292
service create --name neutron network
endpoint create --region RegionOne network public http://127.0.0.1:9696
project create --domain default demo
user create --domain default --password demo-pw demo
role add --project demo --user demo member
CMDS
openstack user show demo -f value -c id >/dev/null || fail "Keystone setup failed (see log/keystone-setup.out)"

# Placement, Glance
placement-manage --config-file "$D/placement.conf" db sync
wal "$D/placement.db"
bg placement env OS_PLACEMENT_CONFIG_DIR="$D" OS_PLACEMENT_CONFIG_FILES=placement.conf placement-api --host 127.0.0.1 --port 8778
glance-manage --config-file "$D/glance-api.conf" db_sync >"$D/log/glance-db.out" 2>&1
wal "$D/glance.db"
bg glance glance-api --config-file "$D/glance-api.conf"

# Neutron API on a private PostgreSQL cluster
chown postgres:postgres "$D/pg"
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/initdb -D $D/pg/data -A trust -U postgres" >"$D/log/pg-init.log"
su postgres -s /bin/sh -c "/usr/lib/postgresql/15/bin/pg_ctl -D $D/pg/data -o '-p 55432 -k $D/pg -c listen_addresses=127.0.0.1' -l $D/pg/pg.log start" >/dev/null
for _ in $(seq 100); do psql -h 127.0.0.1 -p 55432 -U postgres -c 'select 1' >/dev/null 2>&1 && break; sleep 0.2; done
for db in neutron nova_api nova nova_cell0; do
  psql -h 127.0.0.1 -p 55432 -U postgres -c "create database $db;" >/dev/null
done
neutron-db-manage --config-file "$D/neutron.conf" upgrade heads >"$D/log/neutron-db.log" 2>&1
bg neutron $PY "$D/run-neutron.py" "$D/neutron.conf"

# Cinder (optional): any failure here only disables it. Its services start
# now and are waited for at the end, while Nova comes up.
cinder_off() {
  cinder=0; cinder_why=$1
  for s in cinder-api cinder-scheduler cinder-volume; do
    [[ -f "$D/$s.pid" ]] || continue
    p=$(cat "$D/$s.pid"); rm -f "$D/$s.pid"
    for c in $(pgrep -P "$p" 2>/dev/null); do kill "$c" 2>/dev/null; done
    kill "$p" 2>/dev/null || true
  done
  openstack service delete cinderv3 >/dev/null 2>&1 || true
}
cinder_start() {
  psql -h 127.0.0.1 -p 55432 -U postgres -c "create database cinder;" >/dev/null || return 1
  $PY "$D/run-cinder.py" manage --config-file "$D/cinder.conf" db sync >"$D/log/cinder-db.log" 2>&1 || return 1
  bg cinder-api $PY "$D/run-cinder.py" api --config-file "$D/cinder.conf" --log-file "$D/log/cinder-api.log"
  bg cinder-scheduler $PY "$D/run-cinder.py" scheduler --config-file "$D/cinder.conf" --log-file "$D/log/cinder-scheduler.log"
  bg cinder-volume $PY "$D/run-cinder.py" volume --config-file "$D/cinder.conf" --log-file "$D/log/cinder-volume.log"
}
if [[ $cinder == 1 ]]; then
  trap - ERR
  cinder_start || cinder_off "database setup failed (see $D/log/cinder-db.log)"
  trap 'fail "failed at line $LINENO"' ERR
fi

# Nova
N=(nova-manage --config-file "$D/nova.conf")
"${N[@]}" api_db sync
"${N[@]}" cell_v2 map_cell0 --database_connection postgresql+psycopg2://postgres@127.0.0.1:55432/nova_cell0
"${N[@]}" cell_v2 create_cell --name cell1 >/dev/null
"${N[@]}" db sync
wait_http http://127.0.0.1:8778/
wait_http http://127.0.0.1:9292/
wait_http http://127.0.0.1:9696/
for s in conductor scheduler compute; do bg nova-$s $PY "$D/run-nova-svc.py" $s "$D/nova.conf"; done
bg nova-api nova-api-wsgi --host 127.0.0.1 --port 8774 -- --config-file "$D/nova.conf"
wait_http http://127.0.0.1:8774/
ok=""
for _ in $(seq 120); do
  "${N[@]}" cell_v2 discover_hosts >/dev/null 2>&1 || true
  if openstack hypervisor list -f value 2>/dev/null | grep -q fakehost; then ok=1; break; fi
  sleep 1
done
[[ -n "$ok" ]] || fail "nova-compute never registered its hypervisor"

head -c 1048576 /dev/urandom >"$D/fake.img"
openstack >"$D/log/nova-setup.out" 2>&1 <<CMDS
flavor create --vcpus 1 --ram 512 --disk 1 small
flavor create --vcpus 2 --ram 2048 --disk 10 medium
flavor create --vcpus 4 --ram 8192 --disk 20 large
image create --disk-format raw --container-format bare --public --file $D/fake.img cirros-fake
quota set --instances 100 --cores 400 --ram 819200 demo
CMDS
openstack image show cirros-fake -f value -c status | grep -q active || fail "image upload failed"

cinder_wait() {
  openstack >"$D/log/cinder-setup.out" 2>&1 <<CMDS
service create --name cinderv3 volumev3
endpoint create --region RegionOne volumev3 public http://127.0.0.1:8776/v3/%(project_id)s
CMDS
  openstack service show cinderv3 -f value -c id >/dev/null 2>&1 || { echo "catalog entry not created"; return 1; }
  local t
  for t in $(seq 120); do
    [[ -f "$D/cinder-api.pid" ]] && kill -0 "$(cat "$D/cinder-api.pid")" 2>/dev/null || { echo "cinder-api exited"; return 1; }
    [[ -f "$D/cinder-volume.pid" ]] && kill -0 "$(cat "$D/cinder-volume.pid")" 2>/dev/null || { echo "cinder-volume exited"; return 1; }
    # Both services report "up" once they have sent their first heartbeat.
    if [[ $(openstack volume service list -f value -c Binary -c State 2>/dev/null | grep -c ' up$') -ge 2 ]]; then
      return 0
    fi
    sleep 1
  done
  echo "cinder-scheduler/cinder-volume never reported up"; return 1
}
if [[ $cinder == 1 ]]; then
  trap - ERR
  why=$(cinder_wait) || cinder_off "${why:-did not come up} (logs: $D/log/cinder-*.log, cinder-*.out)"
  trap 'fail "failed at line $LINENO"' ERR
fi
if [[ $cinder == 1 ]]; then
  say "Cinder v3 up on 127.0.0.1:8776 (fake backend)"
elif [[ ${OPENSTACK_CINDER:-1} == 0 ]]; then
  say "Cinder skipped (OPENSTACK_CINDER=0)"
else
  say "WARNING: Cinder (volumes) is NOT available: $cinder_why; the rest of OpenStack is up"
fi

cat >"$D/env.sh" <<E
# The demo user of the test OpenStack in $D (source this file).
export OS_AUTH_URL=http://127.0.0.1:5000/v3 OS_USERNAME=demo OS_PASSWORD=demo-pw OS_PROJECT_NAME=demo
export OS_USER_DOMAIN_ID=default OS_PROJECT_DOMAIN_ID=default OS_IDENTITY_API_VERSION=3
export FOGBOW_OPENSTACK_DIR=$D
# 1 when Cinder v3 (catalog type volumev3) is up, else 0.
export FOGBOW_OPENSTACK_CINDER=$cinder
E
trap - ERR
say "ready after $(( $(date +%s) - started )) s; stop with: scripts/openstack-down.sh $D"
echo "$D"
