"""bench/openstack: 50 servers through fogbow vs. directly, on the test OpenStack.

Needs the OpenStack of scripts/openstack-up.sh and a built `fogbow`. In one
run, on a fresh project of its own (quota 120 instances):
  1. baseline, the user's alternative: one `openstack` CLI session (one
     process, one token) runs `server create` N times; measured until the
     last create returned and until all N servers are ACTIVE (admin lists
     the project's servers every 1 s, as often as the driver polls); then
     the servers are deleted and we wait until gone;
  2. fogbow: a manager with the openstack driver, one POST /v1/orders with
     count=N; measured until every order is `fulfilled` (the driver answers
     a create only once its server is ACTIVE), polling GET /v1/orders every
     0.25 s; Keystone token requests of the driver are counted by a proxy in
     front of Keystone (KeystoneCounter).
Prints both times, their ratio, and the token count.
Usage: openstack_bench.py FOGBOW_BINARY [N]
"""

import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
if len(sys.argv) > 1:
    os.environ["FOGBOW_BINARY"] = os.path.abspath(sys.argv[1])

from fogbow_harness import Cleanups, Manager, wait_until  # noqa: E402
from openstack_harness import (AUTH_URL, KeystoneCounter, openstack_config,  # noqa: E402
                               require_openstack)

N = int(sys.argv[2]) if len(sys.argv) > 2 else 50


def active_count(admin, tenant):
    return sum(s["status"] == "ACTIVE" for s in admin.servers(tenant))


def wait_all_gone(admin, tenant):
    for s in admin.servers(tenant):
        admin.call("DELETE", "compute", f"/servers/{s['id']}")
    wait_until(lambda: not admin.servers(tenant), timeout=300, interval=0.5,
               message="servers deleted")


def baseline(admin, tenant):
    env = dict(os.environ, OS_AUTH_URL=AUTH_URL, OS_USERNAME=tenant.username,
               OS_PASSWORD=tenant.password, OS_PROJECT_NAME=tenant.name,
               OS_USER_DOMAIN_ID="default", OS_PROJECT_DOMAIN_ID="default",
               OS_IDENTITY_API_VERSION="3", OS_COMPUTE_API_VERSION="2.47")
    commands = "".join(
        f"server create --image cirros-fake --flavor small --nic none "
        f"--property fogbow-bench=direct direct-{i} -f value -c id\n" for i in range(N))
    t0 = time.monotonic()
    res = subprocess.run(["openstack"], input=commands, capture_output=True,
                         text=True, env=env, timeout=1800)
    accepted = time.monotonic() - t0
    if res.returncode != 0:
        raise RuntimeError("openstack CLI failed: " + res.stderr[-2000:])
    wait_until(lambda: active_count(admin, tenant) >= N, timeout=900, interval=1.0,
               message=f"{N} servers ACTIVE (direct)")
    active = time.monotonic() - t0
    return accepted, active


def via_fogbow(admin, tenant, cleanups):
    counter = KeystoneCounter()
    cleanups.addCleanup(counter.close)
    manager = Manager(roles="manager")
    cleanups.addCleanup(manager.cleanup)
    manager.start(openstack_config(tenant, auth_url=counter.url,
                                   poll_interval_ms=1000, extra="workers = 4"))
    global manager_start_stamp
    import datetime
    manager_start_stamp = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M:%S.%f")
    t0 = time.monotonic()
    status, res = manager.request("POST", "/v1/orders",
                                  {"kind": "compute", "count": N}, token="alice-secret",
                                  timeout=60)
    assert status == 201, (status, res)
    posted = time.monotonic() - t0

    def all_fulfilled():
        status, body = manager.request("GET", "/v1/orders", token="alice-secret",
                                       timeout=60)
        orders = body["orders"] if isinstance(body, dict) else body
        return sum(o["state"] == "fulfilled" for o in orders) >= N

    wait_until(all_fulfilled, timeout=900, interval=0.25, message=f"{N} orders fulfilled")
    fulfilled = time.monotonic() - t0
    active = active_count(admin, tenant)
    tokens = counter.token_requests
    # When Nova had accepted the last create, from the driver's log lines.
    stamps = [line.split(" ")[0] for line in manager.log().splitlines()
              if "created (flavor" in line]
    manager.stop()
    last_create = None
    if stamps:
        import datetime
        parse = lambda t: datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%f")
        first_line = manager_start_stamp
        last_create = (parse(max(stamps)) - parse(first_line)).total_seconds()
    return posted, fulfilled, active, tokens, last_create


def main():
    try:
        admin = require_openstack()
    except unittest.SkipTest as e:
        print(f"bench/openstack: {e}")
        return 2
    cleanups = Cleanups()
    try:
        tenant = admin.make_tenant(cleanups, quota={"instances": N + 20,
                                                    "cores": 4 * N, "ram": 1024 * N})
        print(f"bench/openstack: {N} servers (flavor small, no network), project {tenant.name}")
        accepted, direct = baseline(admin, tenant)
        print(f"  direct, one `openstack` CLI session: {N} creates returned after "
              f"{accepted:.1f} s, all ACTIVE after {direct:.1f} s")
        wait_all_gone(admin, tenant)
        posted, fulfilled, active, tokens, last_create = via_fogbow(admin, tenant, cleanups)
        print(f"  fogbow (POST count={N}): 201 after {posted * 1000:.0f} ms, last create "
              f"accepted by Nova after {last_create:.1f} s, all fulfilled (server ACTIVE) "
              f"after {fulfilled:.1f} s; {active} servers ACTIVE")
        print(f"  ratio fogbow / direct (time to all ACTIVE): {fulfilled / direct:.2f}")
        print(f"  Keystone token requests by the fogbow driver: {tokens}")
    finally:
        cleanups.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
