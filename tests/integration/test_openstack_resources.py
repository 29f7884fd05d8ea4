"""Volume, attachment and network orders against a real OpenStack (label
`openstack`): the `fogbow` binary, its REST API, and the Cinder v3 / Nova /
Neutron of scripts/openstack-up.sh.

Without that OpenStack every test is skipped with a message saying how to
start it; volume and attachment tests are also skipped when the script
reports Cinder missing (FOGBOW_OPENSTACK_CINDER=0). Each test has a project
and user of its own (openstack_harness.Admin.make_tenant); cleanup removes
its servers, volumes and networks before the project.
"""

import os
import time
import unittest

from openstack_harness import (CLOUD_TIMEOUT, TOKEN, KeystoneCounter, _call, manager_for,
                               openstack_config, order_state, require_openstack,
                               wait_order, wait_until)

MEMBER = "site-os.localhost"
CINDER_SKIP = ("volume tests skipped: the test OpenStack runs without Cinder "
               "(FOGBOW_OPENSTACK_CINDER=0; see docs/openstack-volumes.md)")

def post_order(manager, **fields):
    status, res = manager.request("POST", "/v1/orders", fields, token=TOKEN)
    assert status == 201, (status, res)
    [order] = res["orders"]
    return order["id"]


def local_id(global_id):
    local, member = global_id.rsplit("@", 1)
    assert member == MEMBER, global_id
    return local


class TenantClouds:
    """The tenant's own view of Cinder and Neutron (its token, its project)."""

    def __init__(self, admin, tenant):
        self.admin = admin
        self.tenant = tenant
        self.volume_url = f"http://127.0.0.1:8776/v3/{tenant.project_id}"
        if "volumev3" in admin.endpoints:
            base = admin.endpoints["volumev3"].rsplit("/", 1)[0]
            self.volume_url = f"{base}/{tenant.project_id}"
        self.network_url = admin.endpoints.get("network", "http://127.0.0.1:9696") + "/v2.0"
        self.compute_url = admin.endpoints["compute"]
        self._token = None
        self._token_at = 0

    def token(self):
        if not self._token or time.monotonic() - self._token_at > 30:
            self._token = self.tenant.token()
            self._token_at = time.monotonic()
        return self._token

    def call(self, method, url, body=None):
        status, data, _ = _call(method, url, body, {"X-Auth-Token": self.token()})
        return status, data

    def volume(self, volume_id):
        status, data = self.call("GET", f"{self.volume_url}/volumes/{volume_id}")
        if status == 404:
            return None
        assert status == 200, (status, data)
        return data["volume"]

    def volumes(self):
        status, data = self.call("GET", f"{self.volume_url}/volumes/detail")
        assert status == 200, (status, data)
        return data["volumes"]

    def networks(self):
        status, data = self.call("GET", f"{self.network_url}/networks")
        assert status == 200, (status, data)
        return [n for n in data["networks"] if n.get("project_id") == self.tenant.project_id]

    def network(self, network_id):
        status, data = self.call("GET", f"{self.network_url}/networks/{network_id}")
        if status == 404:
            return None
        assert status == 200, (status, data)
        return data["network"]

    def subnets(self, network_id):
        status, data = self.call("GET", f"{self.network_url}/subnets?network_id={network_id}")
        assert status == 200, (status, data)
        return data["subnets"]

    def set_volume_quota(self, **quota):
        """As the administrator: the project's Cinder quota."""
        admin_url = self.admin.endpoints["volumev3"]
        status, data, _ = _call("PUT", f"{admin_url}/os-quota-sets/{self.tenant.project_id}",
                                {"quota_set": quota}, {"X-Auth-Token": self.admin.token()})
        assert status == 200, (status, data)

    def set_network_quota(self, **quota):
        """As the administrator: the project's Neutron quota."""
        status, data = self.admin.call("PUT", "network",
                                       f"/v2.0/quotas/{self.tenant.project_id}",
                                       {"quota": quota})
        assert status == 200, (status, data)

    def cleanup(self):
        """Servers, then volumes (once detached) and networks of the tenant."""
        for s in self.admin.servers(self.tenant):
            self.admin.call("DELETE", "compute", f"/servers/{s['id']}")
        deadline = time.monotonic() + 60
        while "volumev3" in self.admin.endpoints and time.monotonic() < deadline:
            try:
                vols = self.volumes()
            except Exception:  # noqa: BLE001 - cleanup is best effort
                break
            if not vols:
                break
            for v in vols:
                if v["status"] in ("available", "error"):
                    self.call("DELETE", f"{self.volume_url}/volumes/{v['id']}")
            time.sleep(0.5)
        try:
            for n in self.networks():
                self.call("DELETE", f"{self.network_url}/networks/{n['id']}")
        except Exception:  # noqa: BLE001 - cleanup is best effort
            pass


class OpenStackResourcesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.admin = require_openstack()
        cls.cinder = (os.environ.get("FOGBOW_OPENSTACK_CINDER", "1") != "0"
                      and "volumev3" in cls.admin.endpoints)

    def need_cinder(self):
        if not self.cinder:
            print(CINDER_SKIP, flush=True)
            self.skipTest(CINDER_SKIP)

    def tenant(self, **kwargs):
        tenant = self.admin.make_tenant(self, **kwargs)
        clouds = TenantClouds(self.admin, tenant)
        self.addCleanup(clouds.cleanup)  # runs before the tenant is removed
        return tenant, clouds

    def test_volume_order_to_cinder_volume_and_back(self):
        self.need_cinder()
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        started = time.monotonic()
        order_id = post_order(manager, kind="volume", size_gb=1)
        order = wait_order(manager, order_id, "fulfilled")
        print(f"volume order POST → fulfilled: {time.monotonic() - started:.2f} s", flush=True)
        volume_id = local_id(order["instance_id"])

        volume = clouds.volume(volume_id)
        self.assertEqual(volume["status"], "available")
        self.assertEqual(volume["size"], 1)
        self.assertEqual(volume["name"], "fogbow-" + order_id)
        self.assertEqual(volume["metadata"]["fogbow-order-id"], order_id)
        self.assertEqual(volume["metadata"]["fogbow-member"], MEMBER)

        status, body = manager.request("GET", "/v1/volumes", token=TOKEN)
        self.assertEqual(status, 200, body)
        [v] = [v for v in body["volumes"] if v["order_id"] == order_id]
        self.assertEqual(v["id"], order["instance_id"])
        self.assertEqual(v["state"], "ready")
        self.assertEqual(v["size_gb"], 1)
        self.assertIsNone(v["attached_to"])

        status, body = manager.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        self.assertIn(status, (200, 202, 204), body)
        wait_until(lambda: clouds.volume(volume_id) is None, timeout=CLOUD_TIMEOUT,
                   message="Cinder volume deleted")
        self.assertEqual([v["id"] for v in clouds.volumes()], [])

    def test_attachment_of_a_running_server_and_a_volume(self):
        self.need_cinder()
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        compute_id = post_order(manager, kind="compute", vcpu=1, memory_mb=512)
        volume_order = post_order(manager, kind="volume", size_gb=1)
        compute = wait_order(manager, compute_id, "fulfilled")
        volume = wait_order(manager, volume_order, "fulfilled")
        server_id = local_id(compute["instance_id"])
        volume_id = local_id(volume["instance_id"])

        started = time.monotonic()
        attach_id = post_order(manager, kind="attachment", compute=compute_id,
                               volume=volume["instance_id"], device="/dev/vdb")
        attachment = wait_order(manager, attach_id, "fulfilled")
        print(f"attachment order POST → fulfilled: {time.monotonic() - started:.2f} s",
              flush=True)
        self.assertEqual(local_id(attachment["instance_id"]), f"{server_id}:{volume_id}")
        cv = clouds.volume(volume_id)
        self.assertEqual(cv["status"], "in-use")
        self.assertEqual([a["server_id"] for a in cv["attachments"]], [server_id])
        self.assertEqual(cv["metadata"]["fogbow-attachment-order"], attach_id)

        status, body = manager.request("GET", "/v1/attachments", token=TOKEN)
        self.assertEqual(status, 200, body)
        [a] = [a for a in body["attachments"] if a["order_id"] == attach_id]
        self.assertEqual(a["state"], "ready")
        self.assertEqual(a["compute"], compute["instance_id"])
        self.assertEqual(a["volume"], volume["instance_id"])
        self.assertTrue(a["device"], a)
        status, body = manager.request("GET", "/v1/volumes", token=TOKEN)
        [v] = [v for v in body["volumes"] if v["order_id"] == volume_order]
        wait_until(lambda: [v for v in manager.request("GET", "/v1/volumes", token=TOKEN)[1]
                            ["volumes"] if v["order_id"] == volume_order
                            and v["attached_to"] == compute["instance_id"]],
                   timeout=CLOUD_TIMEOUT, message="volume shows the server it is attached to")

        # An order a live attachment refers to cannot go.
        status, body = manager.request("DELETE", f"/v1/orders/{volume_order}", token=TOKEN)
        self.assertEqual(status, 409, body)
        self.assertEqual(clouds.volume(volume_id)["status"], "in-use")

        started = time.monotonic()
        status, body = manager.request("DELETE", f"/v1/orders/{attach_id}", token=TOKEN)
        self.assertIn(status, (200, 202, 204), body)
        wait_until(lambda: (lambda v: v if v["status"] == "available" and not v["attachments"]
                            else None)(clouds.volume(volume_id)),
                   timeout=CLOUD_TIMEOUT, message="volume detached (available)")
        print(f"attachment order DELETE → volume available: "
              f"{time.monotonic() - started:.2f} s", flush=True)
        wait_until(lambda: "fogbow-attachment-order" not in clouds.volume(volume_id)["metadata"],
                   timeout=CLOUD_TIMEOUT, message="attachment mark removed from the volume")
        wait_until(lambda: order_state(manager, attach_id) is None
                   or order_state(manager, attach_id)["state"] in ("deleted", "closed"),
                   timeout=CLOUD_TIMEOUT, message="attachment order gone")

        # Now the volume order can go, and its volume with it.
        def deleted_volume_order():
            status, body = manager.request("DELETE", f"/v1/orders/{volume_order}",
                                           token=TOKEN)
            return status in (200, 202, 204, 404)

        wait_until(deleted_volume_order, timeout=CLOUD_TIMEOUT, message="volume order deleted")
        wait_until(lambda: clouds.volume(volume_id) is None, timeout=CLOUD_TIMEOUT,
                   message="volume deleted in Cinder")

    def test_server_deleted_in_openstack_ends_its_attachment(self):
        self.need_cinder()
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        compute_id = post_order(manager, kind="compute")
        volume_order = post_order(manager, kind="volume", size_gb=1)
        compute = wait_order(manager, compute_id, "fulfilled")
        volume = wait_order(manager, volume_order, "fulfilled")
        attach_id = post_order(manager, kind="attachment", compute=compute_id,
                               volume=volume_order)
        attachment = wait_order(manager, attach_id, "fulfilled")
        volume_id = local_id(volume["instance_id"])

        # Behind Fogbow's back: Nova deletes the server and detaches.
        self.admin.call("DELETE", "compute", f"/servers/{local_id(compute['instance_id'])}")
        wait_until(lambda: (lambda v: v if v["status"] == "available" else None)(
            clouds.volume(volume_id)), timeout=CLOUD_TIMEOUT, message="Nova detached the volume")

        def attachment_ended():
            o = order_state(manager, attach_id)
            if o is None or o["state"] != "fulfilled":
                return o or True
            status, body = manager.request("GET", "/v1/attachments", token=TOKEN)
            return [a for a in body["attachments"] if a["id"] == attachment["instance_id"]
                    and a["state"] == "lost"] or None

        wait_until(attachment_ended, timeout=CLOUD_TIMEOUT, message="attachment reported lost")
        # The volume itself is untouched and still its order's.
        self.assertEqual(order_state(manager, volume_order)["state"], "fulfilled")
        self.assertEqual(clouds.volume(volume_id)["metadata"]["fogbow-order-id"],
                         volume_order)

    def test_network_order_to_neutron_network_and_subnet(self):
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        started = time.monotonic()
        order_id = post_order(manager, kind="network", network_cidr="10.20.0.0/24",
                              network_gateway="10.20.0.1", network_allocation="dynamic")
        order = wait_order(manager, order_id, "fulfilled")
        print(f"network order POST → fulfilled: {time.monotonic() - started:.2f} s",
              flush=True)
        network_id = local_id(order["instance_id"])
        net = clouds.network(network_id)
        self.assertEqual(net["name"], "fogbow-" + order_id)
        self.assertEqual(net["description"], "fogbow-member=" + MEMBER)
        self.assertEqual(net["status"], "ACTIVE")
        [subnet] = clouds.subnets(network_id)
        self.assertEqual(subnet["cidr"], "10.20.0.0/24")
        self.assertEqual(subnet["gateway_ip"], "10.20.0.1")
        self.assertTrue(subnet["enable_dhcp"])
        self.assertEqual(subnet["ip_version"], 4)

        status, body = manager.request("GET", "/v1/networks", token=TOKEN)
        self.assertEqual(status, 200, body)
        [n] = [n for n in body["networks"] if n["order_id"] == order_id]
        self.assertEqual(n["id"], order["instance_id"])
        self.assertEqual(n["state"], "ready")
        self.assertEqual(n["network_cidr"], "10.20.0.0/24")
        self.assertEqual(n["network_gateway"], "10.20.0.1")

        # A static network without gateway: no DHCP, Neutron picks the gateway.
        static_id = post_order(manager, kind="network", network_cidr="10.30.0.0/24",
                               network_allocation="static")
        static = wait_order(manager, static_id, "fulfilled")
        [s2] = clouds.subnets(local_id(static["instance_id"]))
        self.assertFalse(s2["enable_dhcp"])
        self.assertEqual(s2["cidr"], "10.30.0.0/24")

        status, body = manager.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        self.assertIn(status, (200, 202, 204), body)
        wait_until(lambda: clouds.network(network_id) is None, timeout=CLOUD_TIMEOUT,
                   message="Neutron network deleted")
        self.assertIsNotNone(clouds.network(local_id(static["instance_id"])))

    def test_subnet_neutron_refuses_is_a_clear_error_and_leaves_nothing(self):
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        # Valid for Fogbow's REST API, refused by Neutron (DHCP on multicast).
        order_id = post_order(manager, kind="network", network_cidr="224.0.0.0/24",
                              network_allocation="dynamic")

        def refused():
            o = order_state(manager, order_id)
            return o if o and o["last_error"] else None

        o = wait_until(refused, timeout=CLOUD_TIMEOUT, message="subnet error in the order")
        self.assertEqual(o["state"], "open")
        self.assertIn("create subnet 224.0.0.0/24 failed (HTTP 400)", o["last_error"])
        self.assertIn("Multicast", o["last_error"])
        # The network made before the subnet was refused is removed again.
        wait_until(lambda: clouds.networks() == [], timeout=CLOUD_TIMEOUT,
                   message="half-made network removed")

    def test_volume_quota_exhausted_keeps_order_open_until_raised(self):
        self.need_cinder()
        tenant, clouds = self.tenant()
        clouds.set_volume_quota(volumes=1)
        manager = manager_for(self, openstack_config(tenant))
        first = post_order(manager, kind="volume", size_gb=1)
        wait_order(manager, first, "fulfilled")
        second = post_order(manager, kind="volume", size_gb=1)

        def open_with_quota_error():
            o = order_state(manager, second)
            return o if o and o["state"] == "open" and "VolumeLimitExceeded" in (
                o["last_error"] or "") else None

        wait_until(open_with_quota_error, timeout=CLOUD_TIMEOUT, message="order open with quota error")
        time.sleep(2)
        # Retried on the back-off timer (briefly `spawning`), never served.
        self.assertIn(order_state(manager, second)["state"], ("open", "spawning"))
        self.assertEqual(len(clouds.volumes()), 1)

        clouds.set_volume_quota(volumes=2)
        wait_order(manager, second, "fulfilled", timeout=CLOUD_TIMEOUT)
        self.assertEqual(len(clouds.volumes()), 2)

    def test_network_quota_exhausted_keeps_order_open_until_raised(self):
        tenant, clouds = self.tenant()
        clouds.set_network_quota(network=1)
        manager = manager_for(self, openstack_config(tenant))
        first = post_order(manager, kind="network", network_cidr="10.90.0.0/24",
                           network_allocation="dynamic")
        wait_order(manager, first, "fulfilled")
        second = post_order(manager, kind="network", network_cidr="10.91.0.0/24",
                            network_allocation="dynamic")

        def open_with_quota_error():
            o = order_state(manager, second)
            return o if o and o["state"] == "open" and "Quota exceeded" in (
                o["last_error"] or "") else None

        wait_until(open_with_quota_error, timeout=CLOUD_TIMEOUT, message="order open with quota error")
        time.sleep(2)
        # Retried on the back-off timer (briefly `spawning`), never served.
        self.assertIn(order_state(manager, second)["state"], ("open", "spawning"))
        self.assertEqual(len(clouds.networks()), 1)

        clouds.set_network_quota(network=2)
        wait_order(manager, second, "fulfilled", timeout=CLOUD_TIMEOUT)
        self.assertEqual(len(clouds.networks()), 2)

    def test_restart_after_kill_adopts_volumes_networks_and_attachments(self):
        self.need_cinder()
        tenant, clouds = self.tenant()
        config = openstack_config(tenant)
        manager = manager_for(self, config)
        compute_id = post_order(manager, kind="compute", type="persistent")
        volume_ids = [post_order(manager, kind="volume", size_gb=1) for _ in range(2)]
        network_id = post_order(manager, kind="network", network_cidr="10.50.0.0/24",
                                network_allocation="dynamic")
        compute = wait_order(manager, compute_id, "fulfilled")
        volumes = [wait_order(manager, v, "fulfilled") for v in volume_ids]
        network = wait_order(manager, network_id, "fulfilled")
        attach_id = post_order(manager, kind="attachment", compute=compute_id,
                               volume=volume_ids[0])
        attachment = wait_order(manager, attach_id, "fulfilled")

        manager.kill9()
        manager.start(config, data_dir=manager.data_dir)
        for o in [compute, network, attachment] + volumes:
            again = wait_order(manager, o["id"], "fulfilled")
            self.assertEqual(again["instance_id"], o["instance_id"])
        time.sleep(3)  # a few polls: nothing is replaced or duplicated
        for o in [compute, network, attachment] + volumes:
            self.assertEqual(order_state(manager, o["id"])["instance_id"], o["instance_id"])
        names = sorted(v["name"] for v in clouds.volumes())
        self.assertEqual(names, sorted("fogbow-" + v for v in volume_ids))
        self.assertEqual([n["name"] for n in clouds.networks()], ["fogbow-" + network_id])
        cv = clouds.volume(local_id(volumes[0]["instance_id"]))
        self.assertEqual(cv["status"], "in-use")
        self.assertEqual([a["server_id"] for a in cv["attachments"]],
                         [local_id(compute["instance_id"])])
        status, body = manager.request("GET", "/v1/attachments", token=TOKEN)
        self.assertEqual([a["id"] for a in body["attachments"] if a["order_id"] == attach_id],
                         [attachment["instance_id"]])

    def test_one_token_serves_compute_volume_and_network_drivers(self):
        tenant, clouds = self.tenant()
        counter = KeystoneCounter()
        self.addCleanup(counter.close)
        manager = manager_for(self, openstack_config(tenant, auth_url=counter.url))
        ids = [post_order(manager, kind="compute"),
               post_order(manager, kind="network", network_cidr="10.80.0.0/24",
                          network_allocation="dynamic")]
        if self.cinder:
            ids.append(post_order(manager, kind="volume", size_gb=1))
        for order_id in ids:
            wait_order(manager, order_id, "fulfilled")
        time.sleep(1.5)  # a few polls of every driver
        # Start-up listing of three drivers, creates and polls: one token.
        self.assertEqual(counter.token_requests, 1)

    def test_without_cinder_volume_orders_say_so_and_the_rest_works(self):
        if self.cinder:
            self.skipTest("this OpenStack has Cinder (start it with OPENSTACK_CINDER=0 "
                          "to run this test)")
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant))
        volume_order = post_order(manager, kind="volume", size_gb=1)
        compute_id = post_order(manager, kind="compute")

        def refused():
            o = order_state(manager, volume_order)
            return o if o and "no volumev3 endpoint" in (o["last_error"] or "") else None

        o = wait_until(refused, timeout=CLOUD_TIMEOUT, message="volume order refused")
        self.assertEqual(o["state"], "open")
        self.assertIn("this OpenStack has no volumev3 endpoint", o["last_error"])
        wait_order(manager, compute_id, "fulfilled")
        status, body = manager.request("GET", "/v1/volumes", token=TOKEN)
        self.assertEqual(status, 200, body)

    def test_switched_off_volumes_are_refused_with_a_message(self):
        tenant, clouds = self.tenant()
        manager = manager_for(self, openstack_config(tenant, extra="volumes = false"))
        order_id = post_order(manager, kind="volume", size_gb=1)

        def refused():
            o = order_state(manager, order_id)
            return o if o and "switched off" in (o["last_error"] or "") else None

        o = wait_until(refused, timeout=CLOUD_TIMEOUT, message="volume order refused")
        self.assertEqual(o["state"], "open")
        if self.cinder:
            self.assertEqual(clouds.volumes(), [])


if __name__ == "__main__":
    unittest.main()
