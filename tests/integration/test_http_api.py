"""The REST API of a real `fogbow --role=all` process over a real socket:
orders through their life cycle on the local driver, isolation between
users, quotas, and refusal of bad input with nothing stored."""

import http.client
import json
import os
import unittest

from fogbow_harness import start_manager, wait_until

CONFIG = """
[manager]
member_id = "site-a.test"
max_orders_per_request = 5
retry_initial_ms = 100
retry_max_ms = 400
[manager.driver]
kind = "local"
vcpu = 4
memory_mb = 4096
instances = 2
[[manager.driver.flavors]]
name = "small"
vcpu = 1
memory_mb = 512
disk_gb = 10
[[manager.driver.flavors]]
name = "large"
vcpu = 2
memory_mb = 2048
disk_gb = 20
[manager.accounting]
period_s = 1
admins = ["bob"]
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
[[identity.users]]
id = "bob"
token = "bob-secret"
"""

ALICE = "alice-secret"
BOB = "bob-secret"


def raw(manager, method, path, body=b"", headers=None):
    """A request with an arbitrary body; returns (status, text)."""
    conn = http.client.HTTPConnection("127.0.0.1", manager.port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        res = conn.getresponse()
        return res.status, res.read().decode(errors="replace")
    finally:
        conn.close()


class OrdersOnTheLocalDriver(unittest.TestCase):
    def setUp(self):
        self.m = start_manager(self, CONFIG)

    def order(self, token=ALICE, **fields):
        body = {"kind": "compute", **fields}
        status, res = self.m.request("POST", "/v1/orders", body, token=token)
        self.assertEqual(status, 201, res)
        return res["orders"]

    def state_of(self, order_id, token=ALICE):
        status, res = self.m.request("GET", f"/v1/orders/{order_id}", token=token)
        self.assertEqual(status, 200, res)
        return res

    def wait_state(self, order_id, state, token=ALICE):
        return wait_until(lambda: (o := self.state_of(order_id, token))["state"] == state and o,
                          message=f"order {order_id} {state}")

    def test_order_is_fulfilled_runs_its_user_data_and_is_deleted(self):
        # The sandbox lets user data write only in its home, the instance
        # directory: the marker is written there.
        [o] = self.order(user_data="echo booted > booted\n", memory_mb=600)
        for field in ("id", "state", "type", "kind", "instance_id", "requesting_member",
                      "providing_member", "created_at"):
            self.assertIn(field, o)
        self.assertEqual(o["requesting_member"], "site-a.test")
        done = self.wait_state(o["id"], "fulfilled")
        self.assertTrue(done["instance_id"].endswith("@site-a.test"))
        self.assertEqual(done["providing_member"], "site-a.test")
        marker = os.path.join(self.m.data_dir, "instances",
                              done["instance_id"].split("@")[0], "booted")
        wait_until(lambda: os.path.exists(marker), message="user data ran")

        status, computes = self.m.request("GET", "/v1/computes", token=ALICE)
        self.assertEqual(status, 200)
        [c] = computes["computes"]
        self.assertEqual(c["id"], done["instance_id"])
        self.assertEqual(c["order_id"], o["id"])
        self.assertEqual(c["vcpu"], 2)        # 600 MB needs the large flavor
        self.assertEqual(c["memory_mb"], 2048)
        self.assertEqual(c["ip"], "127.0.0.1")
        self.assertEqual(self.m.request("GET", f"/v1/computes/{c['id']}", token=ALICE)[0], 200)

        status, deleted = self.m.request("DELETE", f"/v1/orders/{o['id']}", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual(deleted["state"], "deleted")
        wait_until(lambda: self.m.request("GET", f"/v1/orders/{o['id']}", token=ALICE)[0] == 404,
                   message="order gone")
        self.assertEqual(self.m.request("GET", "/v1/computes", token=ALICE)[1]["computes"], [])

    def test_capacity_is_enforced_and_freed(self):
        orders = self.order(count=3)
        self.assertEqual(len({o["batch_id"] for o in orders}), 1)
        wait_until(lambda: sorted(self.state_of(o["id"])["state"] for o in orders)
                   == ["fulfilled", "fulfilled", "open"], message="two of three served")
        waiting = next(o for o in orders if self.state_of(o["id"])["state"] == "open")
        self.assertIn("instance limit", self.state_of(waiting["id"])["last_error"])
        status, quota = self.m.request("GET", "/v1/members/site-a.test/quota", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual(quota["instances"], {"total": 2, "in_use": 2, "in_use_by_user": 2})
        self.assertEqual(quota["vcpu"]["total"], 4)
        status, bob_quota = self.m.request("GET", "/v1/members/site-a.test/quota", token=BOB)
        self.assertEqual(bob_quota["instances"]["in_use_by_user"], 0)

        served = next(o for o in orders if o["id"] != waiting["id"])
        instance_id = self.state_of(served["id"])["instance_id"]
        status, _ = self.m.request("DELETE", f"/v1/computes/{instance_id}", token=ALICE)
        self.assertEqual(status, 204)
        self.wait_state(waiting["id"], "fulfilled")
        self.assertEqual(self.state_of(served["id"])["state"], "closed")

    def test_persistent_order_replaces_a_killed_instance(self):
        [o] = self.order(type="persistent")
        first = self.wait_state(o["id"], "fulfilled")["instance_id"]
        local_id = first.split("@")[0]
        pid_file = os.path.join(self.m.data_dir, "instances", local_id, "pid")
        def read_pid():
            if os.path.exists(pid_file):
                with open(pid_file) as f:
                    return f.read().strip()
        pid = int(wait_until(read_pid, message="pid file"))
        os.kill(pid, 9)
        replaced = wait_until(lambda: (x := self.state_of(o["id"]))["state"] == "fulfilled"
                              and x["instance_id"] != first and x, message="replacement")
        self.assertTrue(replaced["instance_id"].endswith("@site-a.test"))

    def test_users_only_see_their_own_things(self):
        [o] = self.order()
        done = self.wait_state(o["id"], "fulfilled")
        for method, path in (("GET", f"/v1/orders/{o['id']}"),
                             ("DELETE", f"/v1/orders/{o['id']}"),
                             ("GET", f"/v1/computes/{done['instance_id']}"),
                             ("DELETE", f"/v1/computes/{done['instance_id']}")):
            status, res = self.m.request(method, path, token=BOB)
            self.assertEqual(status, 404, (method, path, res))
        self.assertEqual(self.m.request("GET", "/v1/orders", token=BOB)[1]["orders"], [])
        self.assertEqual(self.state_of(o["id"])["state"], "fulfilled")

    def usage(self, path="/v1/usage", token=ALICE, expect=200):
        status, res = self.m.request("GET", path, token=token)
        self.assertEqual(status, expect, res)
        return res

    def test_usage_is_per_user_and_admins_see_everyone(self):
        [o] = self.order(vcpu=2)
        self.wait_state(o["id"], "fulfilled")
        mine = wait_until(
            lambda: (u := self.usage())["local"]["vcpu_minutes"] > 0 and u,
            message="alice's instance to be counted")
        self.assertEqual(mine["user"], "alice")
        self.assertEqual(mine["member_id"], "site-a.test")
        self.assertEqual(mine["members"], [])
        self.assertEqual({(r["user"], r["providing_member"])
                          for r in mine["records"]},
                         {("alice", "site-a.test")})
        # Alice is no admin: her own usage only.
        for who in ("bob", "*"):
            self.usage(f"/v1/usage?user={who}", expect=403)
        self.usage("/v1/usage?user=", expect=400)
        # Bob is: his own (none), alice's, everyone's.
        bobs = self.usage(token=BOB)
        self.assertEqual((bobs["user"], bobs["records"]), ("bob", []))
        self.assertEqual(bobs["local"]["vcpu_minutes"], 0)
        alices = self.usage("/v1/usage?user=alice", token=BOB)
        self.assertGreater(alices["local"]["vcpu_minutes"], 0)
        everyone = self.usage("/v1/usage?user=%2A", token=BOB)
        self.assertIsNone(everyone["user"])
        self.assertEqual([r["user"] for r in everyone["records"]], ["alice"])
        # With one member: this one (local use) or another (none yet).
        here = self.usage("/v1/members/site-a.test/usage")
        self.assertGreater(here["local"]["vcpu_minutes"], 0)
        there = self.usage("/v1/members/site-b.test/usage")
        self.assertEqual([m["id"] for m in there["members"]], ["site-b.test"])
        self.assertEqual(there["records"], [])
        self.assertEqual(there["local"]["vcpu_minutes"], 0)
        self.usage(token=None, expect=401)
        status, _ = self.m.request("POST", "/v1/usage", {}, token=ALICE)
        self.assertEqual(status, 405)

    def test_authentication(self):
        for token in (None, "", "alice-secreT", "alice-secret-", "bob"):
            status, res = self.m.request("GET", "/v1/orders", token=token)
            self.assertEqual(status, 401, token)
            self.assertIn("error", res)
        status, res = self.m.request("GET", "/v1/status")
        self.assertEqual(status, 200)
        self.assertEqual(res["member_id"], "site-a.test")
        status, members = self.m.request("GET", "/v1/members", token=ALICE)
        self.assertEqual(status, 200)
        self.assertEqual([x["id"] for x in members["members"]], ["site-a.test"])

    def test_volume_orders_are_stored_and_wait_for_a_driver(self):
        [o] = self.order(kind="volume", size_gb=5)
        self.assertEqual(self.state_of(o["id"])["kind"], "volume")
        status, res = self.m.request("GET", "/v1/volumes", token=ALICE)
        self.assertEqual((status, res), (200, {"volumes": [], "links": []}))


class BadInputChangesNothing(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = start_manager(cls, CONFIG)

    def count_orders(self):
        return len(self.m.request("GET", "/v1/orders", token=ALICE)[1]["orders"])

    def post(self, body, headers=None):
        h = {"X-Auth-Token": ALICE, "Content-Type": "application/json", **(headers or {})}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return raw(self.m, "POST", "/v1/orders", data, h)

    def assert_refused(self, body, status, mentions, headers=None):
        before = self.count_orders()
        got, text = self.post(body, headers)
        self.assertEqual(got, status, text)
        err = json.loads(text)["error"]
        self.assertTrue(err["code"])
        self.assertIn(mentions, err["message"], text)
        self.assertEqual(self.count_orders(), before)

    def test_malformed_and_invalid_bodies(self):
        self.assert_refused(b"{not json", 400, "JSON")
        self.assert_refused(b"[1,2]", 400, "object")
        self.assert_refused({"count": 1}, 400, "kind")
        self.assert_refused({"kind": "database"}, 400, "kind")
        self.assert_refused({"kind": "compute", "flavour": "x"}, 400, "flavour")
        self.assert_refused({"kind": "compute", "count": 0}, 400, "count")
        self.assert_refused({"kind": "compute", "count": -3}, 400, "count")
        self.assert_refused({"kind": "compute", "count": 6}, 400, "count")
        self.assert_refused({"kind": "compute", "count": "2"}, 400, "count")
        self.assert_refused({"kind": "compute", "vcpu": 1.5}, 400, "vcpu")
        self.assert_refused({"kind": "compute", "vcpu": 10**30}, 400, "vcpu")
        self.assert_refused({"kind": "compute", "type": "forever"}, 400, "type")
        self.assert_refused({"kind": "compute", "requirements": "Glue2RAM >= "}, 400,
                            "requirements")
        self.assert_refused({"kind": "compute", "requirements": "Glue2Foo == 1"}, 400,
                            "Glue2Foo")
        self.assert_refused({"kind": "compute", "valid_from": "2026-01-01"}, 400, "valid_from")
        self.assert_refused({"kind": "volume"}, 400, "size_gb")

    def test_huge_body_is_refused(self):
        before = self.count_orders()
        status, text = self.post({"kind": "compute", "image": "x" * (2 << 20)})
        self.assertEqual(status, 413, text[:200])
        self.assertEqual(self.count_orders(), before)

    def test_unknown_paths_and_methods(self):
        status, text = raw(self.m, "GET", "/v1/nothing", headers={"X-Auth-Token": ALICE})
        self.assertEqual(status, 404)
        self.assertIn("error", json.loads(text))
        status, text = raw(self.m, "PUT", "/v1/orders", headers={"X-Auth-Token": ALICE})
        self.assertIn(status, (404, 405))
        self.assertIn("error", json.loads(text))


if __name__ == "__main__":
    unittest.main()
