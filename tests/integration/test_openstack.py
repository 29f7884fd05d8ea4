"""The `openstack` driver against a real OpenStack (tests tagged `openstack`).

Needs the OpenStack of scripts/openstack-up.sh; without one every test is
skipped with a message saying how to start it. Each test has a project and
user of its own (openstack_harness.Admin.make_tenant).
"""

import os
import shutil
import subprocess
import tempfile
import time
import unittest
import uuid

from openstack_harness import (AUTH_URL, CLOUD_TIMEOUT, TOKEN, FaultProxy, KeystoneCounter,
                               _call, manager_for, openstack_config, order_state,
                               require_openstack, user_data_of, wait_order, wait_until)

USER_DATA = "#!/bin/sh\necho 'hello from fogbow' > /tmp/fogbow-hello\n"


def post_orders(manager, count=1, **fields):
    body = {"kind": "compute", "count": count, **fields}
    status, res = manager.request("POST", "/v1/orders", body, token=TOKEN)
    assert status == 201, (status, res)
    return [o["id"] for o in res["orders"]]


class OpenStackDriverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = require_openstack()

    def test_order_to_active_server_and_back(self):
        tenant = self.admin.make_tenant(self)
        manager = manager_for(self, openstack_config(tenant))
        [order_id] = post_orders(manager, vcpu=2, memory_mb=1024,
                                 user_data=USER_DATA, type="one-time")
        order = wait_order(manager, order_id, "fulfilled")
        instance_id = order["instance_id"]
        server_id, member = instance_id.rsplit("@", 1)
        self.assertEqual(member, "site-os.localhost")

        # The real server: ACTIVE, named after the order, smallest flavor
        # with >= 2 vCPUs and >= 1024 MB (medium), our user data.
        server = self.admin.server(server_id)
        self.assertEqual(server["status"], "ACTIVE")
        self.assertEqual(server["name"], "fogbow-" + order_id)
        self.assertEqual(server["metadata"]["fogbow-order-id"], order_id)
        self.assertEqual(server["flavor"]["original_name"], "medium")
        self.assertEqual(user_data_of(server), USER_DATA)
        self.assertEqual(server["tenant_id"], tenant.project_id)

        # Fogbow's view: running, sized like the flavor; the test cloud boots
        # without a network, so there is no IP address yet.
        status, inst = manager.request("GET", f"/v1/computes/{instance_id}", token=TOKEN)
        self.assertEqual(status, 200, inst)
        self.assertEqual(inst["state"], "running")
        self.assertEqual(inst["vcpu"], 2)
        self.assertEqual(inst["memory_mb"], 2048)
        self.assertIsNone(inst["ip"])
        self.assertEqual(inst["flavor"], "medium")

        # Capacity is the project's quota and its use, from GET /limits.
        status, quota = manager.request("GET", "/v1/members/site-os.localhost/quota",
                                        token=TOKEN)
        self.assertEqual(status, 200, quota)
        self.assertEqual(quota["instances"]["total"], 10)  # the tenant's quota
        self.assertEqual(quota["instances"]["in_use"], 1)
        self.assertEqual(quota["vcpu"]["in_use"], 2)
        self.assertEqual(quota["vcpu"]["in_use_by_user"], 2)

        status, _ = manager.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        self.assertEqual(status, 200)
        wait_until(lambda: self.admin.server(server_id) is None, timeout=CLOUD_TIMEOUT,
                   message="server deleted in Nova")
        wait_until(lambda: manager.request("GET", f"/v1/orders/{order_id}",
                                           token=TOKEN)[0] == 404,
                   timeout=CLOUD_TIMEOUT, message="order gone")

    def test_server_deleted_behind_fogbows_back_is_replaced(self):
        tenant = self.admin.make_tenant(self)
        manager = manager_for(self, openstack_config(tenant))
        [order_id] = post_orders(manager, type="persistent")
        first = wait_order(manager, order_id, "fulfilled")["instance_id"]
        self.admin.call("DELETE", "compute", "/servers/" + first.split("@")[0])
        # The driver's poll notices the server is gone; a persistent order
        # gets a new server.
        wait_until(lambda: (lambda o: o and o["state"] == "fulfilled"
                            and o["instance_id"] != first)(order_state(manager, order_id)),
                   timeout=CLOUD_TIMEOUT, interval=0.3, message="replacement server")
        servers = self.admin.servers(tenant)
        self.assertEqual(len(servers), 1, [s["id"] for s in servers])

    def test_quota_exhaustion_keeps_order_open_until_quota_frees(self):
        tenant = self.admin.make_tenant(self, quota={"instances": 1, "cores": 40,
                                                     "ram": 81920})
        manager = manager_for(self, openstack_config(tenant))
        [first] = post_orders(manager)
        wait_order(manager, first, "fulfilled")
        [second, third] = post_orders(manager, count=2)

        def open_with_quota_error(order_id):
            o = order_state(manager, order_id)
            return o and o["state"] == "open" and "Quota exceeded" in (o["last_error"] or "")

        wait_until(lambda: open_with_quota_error(second) and open_with_quota_error(third),
                   timeout=CLOUD_TIMEOUT, message="orders open with the quota message")
        self.assertIn("Quota exceeded", manager.log())
        self.assertEqual(len(self.admin.servers(tenant)), 1)

        # The administrator raises the quota: the driver notices the room
        # (GET /limits while blocked) and one more order is served.
        self.admin.set_quota(tenant, instances=2)
        wait_until(lambda: sum(order_state(manager, o)["state"] == "fulfilled"
                               for o in (second, third)) == 1,
                   timeout=CLOUD_TIMEOUT, message="one waiting order served after the quota grew")
        waiting = [o for o in (second, third) if order_state(manager, o)["state"] != "fulfilled"]
        self.assertEqual(len(waiting), 1)

        # Deleting the first order frees its place for the last one.
        manager.request("DELETE", f"/v1/orders/{first}", token=TOKEN)
        wait_order(manager, waiting[0], "fulfilled", timeout=CLOUD_TIMEOUT)
        wait_until(lambda: len(self.admin.servers(tenant)) == 2, timeout=CLOUD_TIMEOUT,
                   message="two servers in the project")

    def test_wrong_password_is_a_clear_error_in_order_and_log(self):
        tenant = self.admin.make_tenant(self)
        manager = manager_for(self, openstack_config(tenant, password="not-the-password"))
        [order_id] = post_orders(manager)

        def refused():
            o = order_state(manager, order_id)
            return o if o and "Keystone refused the credentials" in (o["last_error"] or "") else None

        order = wait_until(refused, timeout=CLOUD_TIMEOUT, message="credential error in the order")
        self.assertEqual(order["state"], "open")
        self.assertIn(tenant.username, order["last_error"])
        self.assertIn("401", order["last_error"])
        self.assertIn("Keystone refused the credentials", manager.log())
        self.assertEqual(self.admin.servers(tenant), [])

    def test_token_is_reused_and_renewed_before_it_expires(self):
        tenant = self.admin.make_tenant(self)
        counter = KeystoneCounter()
        self.addCleanup(counter.close)
        manager = manager_for(self, openstack_config(tenant, auth_url=counter.url))
        ids = post_orders(manager, count=3)
        for order_id in ids:
            wait_order(manager, order_id, "fulfilled")
        # Listing at start, three creates, their polls: one token for all
        # (the test Keystone's tokens live 600 s, renewed 60 s before).
        self.assertEqual(counter.token_requests, 1)
        self.assertNotIn("renewing the token", manager.log())
        manager.stop()

        # Renewing 590 s before the end means a renewal about 12 s after
        # each token was issued (the driver caps the margin at 98 % of the
        # lifetime). Wait for it rather than for a time a loaded machine
        # may exceed.
        renewing = KeystoneCounter()
        self.addCleanup(renewing.close)
        started = time.monotonic()
        manager = manager_for(self, openstack_config(
            tenant, auth_url=renewing.url, extra="token_renew_before_s = 590"))
        wait_until(lambda: "renewing the token" in manager.log(), timeout=CLOUD_TIMEOUT,
                   message="the token renewed before it expires")
        [late] = post_orders(manager)
        wait_order(manager, late, "fulfilled")
        # One renewal per ~12 s of running, never one per call.
        renewals = renewing.token_requests - 1
        self.assertGreaterEqual(renewals, 1)
        self.assertLessEqual(renewals, int((time.monotonic() - started) / 10) + 1)
        self.assertNotIn("answered 401", manager.log())

    def test_revoked_token_is_renewed_once_after_a_401(self):
        tenant = self.admin.make_tenant(self)
        counter = KeystoneCounter()
        self.addCleanup(counter.close)
        manager = manager_for(self, openstack_config(tenant, auth_url=counter.url))
        [first] = post_orders(manager)
        wait_order(manager, first, "fulfilled")
        self.assertEqual(counter.token_requests, 1)
        # Keystone revokes a user's tokens when the password is set (here
        # to the same value); Nova notices once its token cache (5 s) let
        # the token go, and the driver's next call (its poll lists the
        # servers every 2 s) is answered 401. Wait for that, not for a time
        # that a loaded machine may exceed.
        self.admin.change_password(tenant, tenant.password)
        wait_until(lambda: "answered 401" in manager.log(), timeout=CLOUD_TIMEOUT,
                   message="Nova refused the revoked token")
        [second] = post_orders(manager)
        wait_order(manager, second, "fulfilled")
        self.assertIn("answered 401", manager.log())
        self.assertEqual(counter.token_requests, 2)

    def huge_flavor(self):
        """A flavor larger than the fake hypervisor (800 GB of RAM): Nova's
        scheduler finds no host and the server ends in ERROR. Removed at
        cleanup."""
        status, body = self.admin.call("POST", "compute", "/flavors", {"flavor": {
            "name": "fbt-huge-" + uuid.uuid4().hex[:6], "vcpus": 1,
            "ram": 900000, "disk": 1}})
        self.assertEqual(status, 200, body)
        flavor_id = body["flavor"]["id"]
        self.addCleanup(self.admin.call, "DELETE", "compute", f"/flavors/{flavor_id}")
        return flavor_id

    def test_no_valid_host_keeps_the_order_open(self):
        self.huge_flavor()
        tenant = self.admin.make_tenant(self, quota={"instances": 10, "cores": 40,
                                                     "ram": 2000000})
        manager = manager_for(self, openstack_config(tenant))
        [order_id] = post_orders(manager, memory_mb=900000)

        def no_host():
            o = order_state(manager, order_id)
            return o if o and "No valid host" in (o["last_error"] or "") else None

        order = wait_until(no_host, timeout=CLOUD_TIMEOUT, message="'No valid host' in the order")
        self.assertIn(order["state"], ("open", "spawning"))
        # The failed server is removed again, nothing is left behind.
        wait_until(lambda: not self.admin.servers(tenant), timeout=CLOUD_TIMEOUT,
                   message="failed server deleted")
        self.assertIn("No valid host", manager.log())
        # Retried with back-off (200 ms doubling to 2 s here), not in a loop.
        before = manager.log().count("created (flavor")
        time.sleep(4)
        self.assertLessEqual(manager.log().count("created (flavor") - before, 4)

    def test_failed_delete_is_retried_until_the_server_is_gone(self):
        # A server that went to ERROR is deleted by the driver; Nova answers
        # that DELETE with a 500 (as it does under load). The driver tries
        # again until the server is gone, so it does not hold the project's
        # only instance and later orders are served.
        self.huge_flavor()
        tenant = self.admin.make_tenant(self, quota={"instances": 1, "cores": 40,
                                                     "ram": 2000000})
        nova = FaultProxy(self.admin.endpoints["compute"])
        self.addCleanup(nova.close)
        nova.fail("DELETE", "/servers/", times=1)
        manager = manager_for(self, openstack_config(tenant, extra=(
            f'[manager.driver.openstack.endpoints]\ncompute = "{nova.url}"')))
        [doomed] = post_orders(manager, memory_mb=900000)
        wait_until(lambda: nova.failed, timeout=CLOUD_TIMEOUT,
                   message="a DELETE of a failed server answered 500")
        failed_server = nova.failed[0][1].rsplit("/", 1)[-1]
        wait_until(lambda: f"could not delete failed server {failed_server}" in manager.log(),
                   timeout=CLOUD_TIMEOUT, message="the failed delete in the log")
        wait_until(lambda: self.admin.server(failed_server) is None, timeout=CLOUD_TIMEOUT,
                   message="the failed server deleted after all")
        self.assertTrue(nova.requests("DELETE", "/servers/" + failed_server),
                        "the delete was tried again through the proxy")
        self.assertEqual(len(nova.failed), 1)

        manager.request("DELETE", f"/v1/orders/{doomed}", token=TOKEN)
        wait_until(lambda: order_state(manager, doomed) is None, timeout=CLOUD_TIMEOUT,
                   message="the doomed order gone")
        [later] = post_orders(manager)
        server_id = wait_order(manager, later, "fulfilled")["instance_id"].split("@")[0]
        wait_until(lambda: [s["id"] for s in self.admin.servers(tenant)] == [server_id],
                   timeout=CLOUD_TIMEOUT, message="only the later order's server is left")

    def test_per_member_mapper_uses_the_mapped_account(self):
        first = self.admin.make_tenant(self)
        second = self.admin.make_tenant(self)
        manager = manager_for(self, openstack_config(
            first, more_accounts=[("second", second)],
            mapper='plugin = "per-member"\nmembers = { "site-os.localhost" = "second" }'))
        [order_id] = post_orders(manager)
        server_id = wait_order(manager, order_id, "fulfilled")["instance_id"].split("@")[0]
        self.assertEqual([s["id"] for s in self.admin.servers(second)], [server_id])
        self.assertEqual(self.admin.servers(first), [])
        manager.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        wait_until(lambda: self.admin.server(server_id) is None, timeout=CLOUD_TIMEOUT,
                   message="server deleted")

    def test_restart_after_kill_adopts_servers_without_duplicates(self):
        tenant = self.admin.make_tenant(self)
        config = openstack_config(tenant)
        manager = manager_for(self, config)
        [order_id] = post_orders(manager, type="persistent")
        instance_id = wait_order(manager, order_id, "fulfilled")["instance_id"]
        # A server of this member whose order the manager never stored (as
        # if created just before a crash that lost nothing else): removed.
        status, body, _ = _call("POST", self.admin.endpoints["compute"] + "/servers", {"server": {
            "name": "fogbow-stray", "imageRef": self.admin_image(), "flavorRef":
            self.admin_flavor("small"), "networks": "none",
            "metadata": {"fogbow-order-id": "no-such-order",
                         "fogbow-member": "site-os.localhost"}}},
            {"X-Auth-Token": tenant.token(), "X-OpenStack-Nova-API-Version": "2.47"})
        self.assertEqual(status, 202, body)
        stray = body["server"]["id"]
        manager.kill9()
        manager.start(config, data_dir=manager.data_dir)
        order = wait_order(manager, order_id, "fulfilled")
        self.assertEqual(order["instance_id"], instance_id)
        wait_until(lambda: self.admin.server(stray) is None, timeout=CLOUD_TIMEOUT,
                   message="stray server removed")
        ids = [s["id"] for s in self.admin.servers(tenant)]
        self.assertEqual(ids, [instance_id.split("@")[0]])
        self.assertIn("left over by order no-such-order", manager.log())
    def test_configured_network_that_does_not_exist_is_a_clear_error(self):
        tenant = self.admin.make_tenant(self)
        missing = str(uuid.uuid4())
        manager = manager_for(self, openstack_config(
            tenant, extra=f'network_id = "{missing}"'))
        [order_id] = post_orders(manager)

        def refused():
            o = order_state(manager, order_id)
            return o if o and missing in (o["last_error"] or "") else None

        order = wait_until(refused, timeout=CLOUD_TIMEOUT, message="network error in the order")
        self.assertEqual(order["state"], "open")
        self.assertIn("create server failed (HTTP 400)", order["last_error"])
        self.assertEqual(self.admin.servers(tenant), [])
    def test_public_key_becomes_a_keypair_removed_with_the_server(self):
        tenant = self.admin.make_tenant(self)
        keydir = tempfile.mkdtemp(prefix="fogbow-key-")
        self.addCleanup(shutil.rmtree, keydir, True)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fogbow-test",
                        "-f", os.path.join(keydir, "k")], check=True)
        with open(os.path.join(keydir, "k.pub")) as f:
            public_key = f.read().strip()
        manager = manager_for(self, openstack_config(tenant))
        [order_id] = post_orders(manager, public_key=public_key)
        server_id = wait_order(manager, order_id, "fulfilled")["instance_id"].split("@")[0]
        name = "fogbow-" + order_id
        self.assertEqual(self.admin.server(server_id)["key_name"], name)
        status, body = self.admin.call(
            "GET", "compute", f"/os-keypairs/{name}?user_id={tenant.user_id}")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["keypair"]["public_key"].strip(), public_key)
        manager.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        wait_until(lambda: self.admin.server(server_id) is None, timeout=CLOUD_TIMEOUT,
                   message="server deleted")
        wait_until(lambda: self.admin.call(
            "GET", "compute", f"/os-keypairs/{name}?user_id={tenant.user_id}")[0] == 404,
            timeout=CLOUD_TIMEOUT, message="keypair deleted")

    def admin_image(self):
        status, body = self.admin.call("GET", "image", "/v2/images?name=cirros-fake")
        return body["images"][0]["id"]

    def admin_flavor(self, name):
        status, body = self.admin.call("GET", "compute", "/flavors")
        return [f["id"] for f in body["flavors"] if f["name"] == name][0]


class KeystoneIdentityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = require_openstack()

    def test_keystone_tokens_authenticate_users(self):
        tenant = self.admin.make_tenant(self)
        manager = manager_for(self, openstack_config(tenant, identity=f"""[identity]
plugin = "keystone-v3"
auth_url = "{AUTH_URL}"
cache_s = 30
"""))
        token = tenant.token()
        status, body = manager.request("GET", "/v1/orders", token=token)
        self.assertEqual(status, 200, body)
        status, body = manager.request("POST", "/v1/orders", {"kind": "compute"},
                                       token=token)
        self.assertEqual(status, 201, body)
        order = body["orders"][0]
        # The owner is the Keystone user id.
        self.assertEqual(order["user_id"], tenant.user_id)
        for bad in ("gAAAAA-not-a-token", "alice-secret", token[:-4] + "AAAA"):
            status, _ = manager.request("GET", "/v1/orders", token=bad)
            self.assertEqual(status, 401, bad)
        manager.request("DELETE", f"/v1/orders/{order['id']}", token=token)


if __name__ == "__main__":
    unittest.main()
