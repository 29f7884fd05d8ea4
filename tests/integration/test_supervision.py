"""Supervision inside a running manager: its order scheduler or its cloud
driver is killed (FOGBOW_TEST_FAULTS=1: SIGUSR1 kills the scheduler,
SIGUSR2 the compute driver, see src/roles/test_faults.hpp) and the manager
serves again without a restart of the process: every accepted order is
still there and fulfilled by the same instance, new orders work, and no
instance is doubled. Past the restart budget the process exits with 1."""

import os
import signal
import threading
import unittest

from fogbow_harness import Manager, wait_until
from test_crash_restart import running_instances

CONFIG = """
[manager]
member_id = "supervision.test"
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
FAULTS = {"FOGBOW_TEST_FAULTS": "1"}


class Supervision(unittest.TestCase):
    def setUp(self):
        self.m = Manager(env=FAULTS)
        self.addCleanup(self.m.cleanup)
        self.m.start(CONFIG)

    def orders(self):
        status, res = self.m.request("GET", "/v1/orders", token=TOKEN)
        self.assertEqual(status, 200, res)
        return res["orders"]

    def create(self, count):
        status, res = self.m.request("POST", "/v1/orders",
                                     {"kind": "compute", "count": count},
                                     token=TOKEN)
        self.assertEqual(status, 201, res)
        return [o["id"] for o in res["orders"]]

    def wait_all_fulfilled(self):
        def fulfilled():
            try:
                orders = self.orders()
            except AssertionError:
                return None  # 503 while the scheduler restarts
            done = all(o["state"] == "fulfilled" for o in orders)
            return {o["id"]: o["instance_id"] for o in orders} if done else None
        return wait_until(fulfilled, timeout=60, message="every order fulfilled")

    def restarts(self, component):
        return self.m.log().count(f"manager: the {component} is running again")

    def kill_component(self, sig, component):
        before = self.restarts(component)
        os.kill(self.m.process.pid, sig)
        wait_until(lambda: self.restarts(component) > before, timeout=60,
                   message=f"the {component} restarted")

    def assert_one_instance_per_order(self, served):
        local_ids = [gid.split("@")[0] for gid in served.values()]
        self.assertEqual(len(local_ids), len(set(local_ids)))
        wait_until(lambda: running_instances(self.m.data_dir) == set(local_ids),
                   timeout=30, message="live instances == orders' instances")

    def post_until(self, stop, accepted, refused):
        while not stop.is_set():
            status, res = self.m.request("POST", "/v1/orders",
                                         {"kind": "compute", "count": 1},
                                         token=TOKEN, timeout=15)
            if status == 201:
                accepted.extend(o["id"] for o in res["orders"])
            else:
                refused.append((status, res))

    def test_a_killed_scheduler_is_rebuilt_from_the_store_under_load(self):
        self.create(3)
        before = self.wait_all_fulfilled()
        accepted, refused, stop = [], [], threading.Event()
        client = threading.Thread(target=self.post_until,
                                  args=(stop, accepted, refused))
        client.start()
        try:
            wait_until(lambda: len(accepted) >= 3, message="orders under load")
            self.kill_component(signal.SIGUSR1, "order scheduler")
            wait_until(lambda: len(accepted) >= 6, message="orders after restart")
        finally:
            stop.set()
            client.join()
        self.assertIsNone(self.m.process.poll(), "the manager exited")
        # While the scheduler was down, requests got a JSON error, not a hang.
        for status, res in refused:
            self.assertIn(status, (503, 504), res)
            self.assertIn(res["error"]["code"], ("unavailable", "timeout"))
        served = self.wait_all_fulfilled()
        self.assertTrue(set(accepted) <= set(served),
                        f"lost accepted orders: {set(accepted) - set(served)}")
        for order_id, instance_id in before.items():
            self.assertEqual(served[order_id], instance_id, "instance replaced")
        self.assert_one_instance_per_order(served)

    def test_a_killed_driver_is_rebuilt_with_the_scheduler(self):
        self.create(3)
        before = self.wait_all_fulfilled()
        scheduler_restarts = self.restarts("order scheduler")
        self.kill_component(signal.SIGUSR2, "cloud driver")
        wait_until(lambda: self.restarts("order scheduler") > scheduler_restarts,
                   message="the scheduler restarted after the driver")
        self.assertIsNone(self.m.process.poll(), "the manager exited")
        served = self.wait_all_fulfilled()
        self.assertEqual(served, before)
        new = self.create(2)
        served = self.wait_all_fulfilled()
        self.assertTrue(set(new) <= set(served))
        self.assertEqual(len(served), 5)
        self.assert_one_instance_per_order(served)

    def test_a_crash_loop_stops_the_process_with_exit_code_1(self):
        self.create(1)
        self.wait_all_fulfilled()
        for _ in range(5):  # the budget: 5 restarts a minute
            self.kill_component(signal.SIGUSR1, "order scheduler")
        os.kill(self.m.process.pid, signal.SIGUSR1)
        process = self.m.process
        self.assertEqual(process.wait(60), 1, self.m.log_tail())
        self.m.process = None
        self.assertIn("a crash loop", self.m.log())
        # The data survives for the next start: the order is still served.
        self.m.start(CONFIG, data_dir=self.m.data_dir)
        self.assertEqual(len(self.wait_all_fulfilled()), 1)


if __name__ == "__main__":
    unittest.main()
