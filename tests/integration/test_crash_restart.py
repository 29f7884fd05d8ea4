"""kill -9 of a manager while orders are being created and served, then a
restart on the same data directory: every accepted order is still there,
and every order has exactly one running instance (none duplicated, none
leaked)."""

import os
import threading
import time
import unittest

from fogbow_harness import Manager, wait_until

CONFIG = """
[manager]
member_id = "crash.test"
max_orders_per_request = 10
[manager.driver]
kind = "local"
vcpu = 100000
memory_mb = 100000000
instances = 100000
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""
TOKEN = "alice-secret"


def running_instances(data_dir):
    """Instance directories whose root process is alive and is theirs."""
    root = os.path.join(data_dir, "instances")
    alive = set()
    for name in os.listdir(root) if os.path.isdir(root) else []:
        pid_file = os.path.join(root, name, "pid")
        try:
            with open(pid_file) as f:
                pid = int(f.read().strip())
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except (OSError, ValueError):
            continue
        if os.path.realpath(cwd) == os.path.realpath(os.path.join(root, name)):
            alive.add(name)
    return alive


class CrashRestart(unittest.TestCase):
    def setUp(self):
        self.m = Manager()
        self.addCleanup(self.m.cleanup)
        self.m.start(CONFIG)

    def post_until(self, stop, accepted, errors):
        while not stop.is_set():
            try:
                status, res = self.m.request(
                    "POST", "/v1/orders",
                    {"kind": "compute", "count": 2, "user_data": "echo up\n"},
                    token=TOKEN, timeout=5)
            except Exception:  # the crash cuts requests off mid-way
                return
            if status == 201:
                accepted.extend(o["id"] for o in res["orders"])
            else:
                errors.append((status, res))

    def test_kill_9_mid_load_loses_nothing_and_duplicates_nothing(self):
        accepted, errors, stop = [], [], threading.Event()
        clients = [threading.Thread(target=self.post_until, args=(stop, accepted, errors))
                   for _ in range(3)]
        for c in clients:
            c.start()
        wait_until(lambda: len(accepted) >= 60, message="60 accepted orders")
        self.m.kill9()
        stop.set()
        for c in clients:
            c.join()
        self.assertEqual(errors, [])
        # A few more instances may come up from creates in flight; the
        # manager is down, so nothing else changes the cloud now.
        time.sleep(0.5)

        self.m.start(CONFIG, data_dir=self.m.data_dir)
        status, listed = self.m.request("GET", "/v1/orders", token=TOKEN)
        self.assertEqual(status, 200)
        stored = {o["id"] for o in listed["orders"]}
        self.assertTrue(set(accepted) <= stored,
                        f"lost {len(set(accepted) - stored)} accepted orders")

        def all_fulfilled():
            orders = self.m.request("GET", "/v1/orders", token=TOKEN)[1]["orders"]
            return all(o["state"] == "fulfilled" for o in orders) and orders
        try:
            orders = wait_until(all_fulfilled, timeout=60, message="every order fulfilled")
        except AssertionError:
            orders = self.m.request("GET", "/v1/orders", token=TOKEN)[1]["orders"]
            stuck = [o for o in orders if o["state"] != "fulfilled"]
            self.fail(f"{len(stuck)} orders not fulfilled, e.g. {stuck[:3]}\n"
                      + self.m.log_tail(60))

        instance_ids = [o["instance_id"].split("@")[0] for o in orders]
        self.assertEqual(len(instance_ids), len(set(instance_ids)), "two orders share an instance")
        # Exactly one live instance per order: the leftovers of orders that
        # were never acknowledged are removed, none is created twice.
        wait_until(lambda: running_instances(self.m.data_dir) == set(instance_ids),
                   timeout=30, message="live instances == orders' instances")
        computes = self.m.request("GET", "/v1/computes", token=TOKEN)[1]["computes"]
        self.assertEqual(len(computes), len(orders))

    def test_restart_adopts_running_instances(self):
        status, res = self.m.request("POST", "/v1/orders", {"kind": "compute", "count": 3},
                                     token=TOKEN)
        self.assertEqual(status, 201)
        ids = [o["id"] for o in res["orders"]]

        def served():
            orders = [self.m.request("GET", f"/v1/orders/{i}", token=TOKEN)[1] for i in ids]
            return all(o["state"] == "fulfilled" for o in orders) and orders
        before = {o["id"]: o["instance_id"] for o in wait_until(served)}
        live_before = running_instances(self.m.data_dir)
        self.assertEqual(len(live_before), 3)

        self.m.kill9()
        self.m.start(CONFIG, data_dir=self.m.data_dir)
        after = {o["id"]: o["instance_id"] for o in wait_until(served)}
        self.assertEqual(after, before)
        self.assertEqual(running_instances(self.m.data_dir), live_before)


if __name__ == "__main__":
    unittest.main()
