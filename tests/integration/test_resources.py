"""Volume, network and attachment orders through the real REST API.

The manager runs the `instant` driver, which serves every kind in memory,
so these tests exercise the scheduler, the router, the store and HTTP
without a cloud (tests against a real OpenStack are in
test_openstack_resources.py). A manager with the `local` driver shows what
a site without a volume or network driver answers.
"""

import unittest

import json

from fogbow_harness import fogbow, start_manager, wait_until

INSTANT = """
[manager]
member_id = "site-a"
[manager.driver]
kind = "instant"
vcpu = 4
memory_mb = 4096
instances = 4
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
[[identity.users]]
id = "bob"
token = "bob-secret"
"""

LOCAL = """
[manager]
member_id = "site-l"
[manager.driver]
kind = "local"
vcpu = 2
memory_mb = 2048
instances = 2
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""

ALICE = "alice-secret"


class ResourceOrders(unittest.TestCase):
    def setUp(self):
        self.m = start_manager(self, INSTANT)

    def post(self, body, token=ALICE, expect=201):
        status, res = self.m.request("POST", "/v1/orders", body, token=token)
        self.assertEqual(status, expect, res)
        return res["orders"][0] if status == 201 else res

    def order(self, order_id, token=ALICE):
        status, res = self.m.request("GET", f"/v1/orders/{order_id}", token=token)
        self.assertEqual(status, 200, res)
        return res

    def fulfilled(self, order_id):
        return wait_until(lambda: (lambda o: o if o["state"] == "fulfilled" else None)(
            self.order(order_id)), timeout=10, message=f"order {order_id} fulfilled")

    def test_volume_network_and_attachment_lifecycle(self):
        vm = self.post({"kind": "compute", "vcpu": 1, "memory_mb": 512})
        vol = self.post({"kind": "volume", "size_gb": 3})
        net = self.post({"kind": "network", "network_cidr": "10.30.0.0/24",
                         "network_gateway": "10.30.0.1", "network_allocation": "static"})
        vm_id = self.fulfilled(vm["id"])["instance_id"]
        vol_id = self.fulfilled(vol["id"])["instance_id"]
        net_id = self.fulfilled(net["id"])["instance_id"]
        self.assertTrue(vol_id.endswith("@site-a"))

        status, res = self.m.request("GET", "/v1/volumes", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual([(v["id"], v["state"], v["size_gb"], v["attached_to"])
                          for v in res["volumes"]], [(vol_id, "ready", 3, None)])
        status, res = self.m.request("GET", f"/v1/networks/{net_id}", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual((res["network_cidr"], res["network_gateway"]),
                         ("10.30.0.0/24", "10.30.0.1"))
        status, res = self.m.request("GET", "/v1/computes", token=ALICE)
        self.assertEqual([c["id"] for c in res["computes"]], [vm_id])

        # By order id for the compute, by instance id for the volume.
        att = self.post({"kind": "attachment", "compute": vm["id"], "volume": vol_id,
                         "device": "/dev/vdc"})
        att_id = self.fulfilled(att["id"])["instance_id"]
        status, res = self.m.request("GET", f"/v1/attachments/{att_id}", token=ALICE)
        self.assertEqual(status, 200, res)
        self.assertEqual((res["compute"], res["volume"], res["device"], res["state"]),
                         (vm_id, vol_id, "/dev/vdc", "ready"))
        status, res = self.m.request("GET", f"/v1/volumes/{vol_id}", token=ALICE)
        self.assertEqual(res["attached_to"], vm_id)

        # In use: neither the volume nor the compute goes before the attachment.
        for target in (vol["id"], vm["id"]):
            status, res = self.m.request("DELETE", f"/v1/orders/{target}", token=ALICE)
            self.assertEqual(status, 409, res)
            self.assertIn(att["id"], res["error"]["message"])
        status, res = self.m.request("DELETE", f"/v1/volumes/{vol_id}", token=ALICE)
        self.assertEqual(status, 409, res)
        self.assertEqual(self.order(vol["id"])["state"], "fulfilled")

        status, _ = self.m.request("DELETE", f"/v1/orders/{att['id']}", token=ALICE)
        self.assertEqual(status, 200)
        wait_until(lambda: self.m.request("GET", f"/v1/orders/{att['id']}",
                                          token=ALICE)[0] == 404,
                   timeout=10, message="attachment order forgotten")
        status, res = self.m.request("GET", f"/v1/volumes/{vol_id}", token=ALICE)
        self.assertIsNone(res["attached_to"])
        status, _ = self.m.request("DELETE", f"/v1/orders/{vol['id']}", token=ALICE)
        self.assertEqual(status, 200)
        wait_until(lambda: self.m.request("GET", "/v1/volumes", token=ALICE)[1]["volumes"] == [],
                   timeout=10, message="volume removed")

    def test_attachment_waits_for_its_volume(self):
        vm = self.post({"kind": "compute"})
        # Starts in an hour: the volume order stays open until then.
        vol = self.post({"kind": "volume", "size_gb": 1,
                         "valid_from": "2099-01-01T00:00:00Z"})
        att = self.post({"kind": "attachment", "compute": vm["id"], "volume": vol["id"]})
        o = wait_until(lambda: (lambda o: o if o["last_error"] else None)(self.order(att["id"])),
                       timeout=10, message="attachment says why it waits")
        self.assertEqual(o["state"], "open")
        self.assertEqual(o["last_error"], f"waiting for the volume {vol['id']} to be ready")

    def test_bad_attachments_change_nothing(self):
        vol = self.post({"kind": "volume", "size_gb": 1})
        bobs_vm = self.post({"kind": "compute"}, token="bob-secret")
        for body, needle in [
            ({"kind": "attachment", "compute": bobs_vm["id"], "volume": vol["id"]}, "no live compute"),
            ({"kind": "attachment", "compute": vol["id"], "volume": vol["id"]}, "no live compute"),
            ({"kind": "attachment", "compute": "x", "volume": vol["id"], "count": 2}, "count"),
            ({"kind": "attachment", "compute": "x", "volume": vol["id"], "device": "sdb"}, "device"),
            ({"kind": "attachment", "compute": "x"}, "'volume' is required"),
            ({"kind": "attachment", "compute": "x", "volume": "y", "size_gb": 1}, "does not apply"),
        ]:
            res = self.post(body, expect=400)
            self.assertIn(needle, res["error"]["message"], body)
        status, res = self.m.request("GET", "/v1/orders", token=ALICE)
        self.assertEqual([o["kind"] for o in res["orders"]], ["volume"])


    def cli(self, *args):
        result = fogbow(*args, "--url", self.m.url, "--token", ALICE)
        self.assertEqual(result.returncode, 0, result.stderr)
        return result.stdout

    def test_cli_creates_lists_and_deletes_each_kind(self):
        vm = json.loads(self.cli("order", "create", "--kind", "compute", "--json"))
        vol = json.loads(self.cli("order", "create", "--kind", "volume", "--size-gb", "2",
                                  "--json"))
        vm_id = self.fulfilled(vm["orders"][0]["id"])["instance_id"]
        vol_id = self.fulfilled(vol["orders"][0]["id"])["instance_id"]
        att = json.loads(self.cli("order", "create", "--kind", "attachment", "--compute", vm_id,
                                  "--volume", vol_id, "--device", "/dev/vdd", "--json"))
        att_id = self.fulfilled(att["orders"][0]["id"])["instance_id"]
        rows = [line.split() for line in self.cli("volume", "list").splitlines()[1:]]
        self.assertEqual(rows, [[vol_id, "ready", "2", vm_id, vol["orders"][0]["id"]]])
        rows = [line.split() for line in self.cli("attachment", "list").splitlines()[1:]]
        self.assertEqual(rows, [[att_id, "ready", vm_id, vol_id, "/dev/vdd",
                                 att["orders"][0]["id"]]])
        self.assertIn("size_gb:", self.cli("volume", "show", vol_id))
        result = fogbow("volume", "delete", vol_id, "--url", self.m.url, "--token", ALICE)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("delete it first", result.stderr)
        self.assertIn(f"deleted attachment {att_id}", self.cli("attachment", "delete", att_id))
        self.assertIn(f"deleted volume {vol_id}", self.cli("volume", "delete", vol_id))
        self.assertEqual(self.cli("network", "list").splitlines()[1:], [])


class WithoutVolumeDriver(unittest.TestCase):
    def test_volume_order_stays_open_with_the_reason(self):
        m = start_manager(self, LOCAL)
        status, res = m.request("POST", "/v1/orders", {"kind": "volume", "size_gb": 1},
                                token=ALICE)
        self.assertEqual(status, 201, res)
        order_id = res["orders"][0]["id"]
        o = wait_until(lambda: (lambda o: o if o["last_error"] else None)(
            m.request("GET", f"/v1/orders/{order_id}", token=ALICE)[1]),
            timeout=10, message="reason")
        self.assertEqual(o["state"], "open")
        self.assertIn("does not serve volume orders", o["last_error"])
        status, res = m.request("GET", "/v1/volumes", token=ALICE)
        self.assertEqual((status, res), (200, {"volumes": [], "links": []}))


if __name__ == "__main__":
    unittest.main()
