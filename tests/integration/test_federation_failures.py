"""Failures in a federation of real processes: a provider killed with
orders pending and fulfilled on it, a requester killed with -9 and
restarted, the XMPP server restarted mid-run. Orders are posted at A, whose
cloud has no room, so every one of them is served by B or C; providers
answer `order` IQs a little late (test hook) so that orders are caught
pending. After each failure every order ends fulfilled and each site runs
exactly the instances of the orders it serves: no duplicate anywhere."""

import signal
import unittest

from federation_harness import (Federation, count_by_provider,
                                delayed_provider_env, holds_for, member_of,
                                wait_until)


def ids_of(orders):
    return [o["id"] for o in orders]


class FederationFailures(unittest.TestCase):
    def assert_counts_match_orders(self, fed, requester, ids):
        """Every site runs exactly as many instances as `requester`'s
        fulfilled orders it provides, and keeps doing so."""
        done = requester.wait_fulfilled(ids, timeout=60)
        instance_ids = [o["instance_id"] for o in done.values()]
        self.assertEqual(len(set(instance_ids)), len(ids), instance_ids)
        expected = {s.id: 0 for s in fed.sites}
        expected.update(count_by_provider(done))
        try:
            wait_until(lambda: fed.instance_counts() == expected, timeout=60,
                       interval=0.25, message="instance counts to match")
        except AssertionError as e:
            raise AssertionError(f"{e}: sites run {fed.instance_counts()}, "
                                 f"orders say {expected}") from None
        self.assertTrue(holds_for(lambda: fed.instance_counts() == expected, 4),
                        f"{fed.instance_counts()} != {expected}")
        return done

    def wait_some_pending(self, site, ids, provider=None):
        """Ids of orders in `ids` now pending (at `provider` if given)."""
        def pending():
            return [i for i, o in site.orders().items() if i in ids
                    and o["state"] == "pending"
                    and (provider is None or o["providing_member"] == provider.id)]
        return wait_until(pending, timeout=30, interval=0.05,
                          message="an order to be pending")

    def test_killed_provider_pending_orders_move_and_persistent_are_replaced(self):
        fed = Federation(self)
        a = fed.site("a", instances=0)
        b = fed.site("b", instances=40)
        c = fed.site("c", instances=40, env=delayed_provider_env(4000))
        fed.wait_all_see_each_other()

        persistent = ids_of(a.post({"kind": "compute", "type": "persistent",
                                    "count": 4}))
        one_time = ids_of(a.post({"kind": "compute", "count": 4}))
        before = a.wait_fulfilled(persistent + one_time, timeout=90)
        on_c = {i for i, o in before.items() if o["providing_member"] == c.id}
        self.assertTrue(on_c & set(persistent) and on_c & set(one_time),
                        f"round robin put nothing of a kind on C: "
                        f"{count_by_provider(before)}")

        # New orders; C is killed while one of them waits for its answer.
        later = ids_of(a.post({"kind": "compute", "count": 4}))
        caught = self.wait_some_pending(a, later, provider=c)
        c.kill9()
        fed.wait_gone(c, [a, b])

        # Its pending orders are served by B.
        moved = a.wait_orders(later, lambda o: o["state"] == "fulfilled"
                              and o["providing_member"] == b.id, 90,
                              "C's pending orders to be served by B")
        for i in caught:
            self.assertEqual(member_of(moved[i]["instance_id"]), b.id)
        # Its persistent orders are placed again, on B.
        replaced = [i for i in persistent if i in on_c]
        now = a.wait_orders(replaced, lambda o: o["state"] == "fulfilled"
                            and o["providing_member"] == b.id, 90,
                            "C's persistent orders to be re-placed on B")
        for i in replaced:
            self.assertNotEqual(now[i]["instance_id"], before[i]["instance_id"])
        # Its one-time orders keep their instance, whose state is unknown.
        for i in set(one_time) & on_c:
            instance_id = before[i]["instance_id"]
            wait_until(lambda: a.call("GET", f"/v1/computes/{instance_id}",
                                      expect=200)[1]["state"] == "unknown",
                       timeout=30, message=f"{instance_id} to be unknown")
            self.assertEqual(a.order(i)["instance_id"], instance_id)

        # B runs exactly the orders it provides.
        on_b = {i for i, o in a.orders().items()
                if o["state"] == "fulfilled" and o["providing_member"] == b.id}
        wait_until(lambda: b.instances() == len(on_b), timeout=60,
                   message=f"B to run {len(on_b)} instances")
        self.assertTrue(holds_for(lambda: b.instances() == len(on_b), 3))

        # C comes back: what it still held for A is reclaimed (A says it
        # no longer uses it), and nothing moves back from B.
        c.restart()
        fed.wait_all_see_each_other()
        wait_until(lambda: c.instances() == 0, timeout=60,
                   message="C's stale instances to be reclaimed")
        self.assertTrue(holds_for(lambda: c.instances() == 0
                                  and b.instances() == len(on_b), 4),
                        fed.instance_counts())
        for i in replaced + later:
            self.assertEqual(a.order(i)["providing_member"], b.id)

    def test_requester_killed_and_restarted_duplicates_nothing(self):
        fed = Federation(self)
        a = fed.site("a", instances=0)
        b = fed.site("b", instances=30, env=delayed_provider_env(2000))
        c = fed.site("c", instances=30, env=delayed_provider_env(2000))
        fed.wait_all_see_each_other()

        first = ids_of(a.post({"kind": "compute", "type": "persistent",
                               "count": 5}))
        first += ids_of(a.post({"kind": "compute", "count": 5}))
        a.wait_fulfilled(first, timeout=90)
        second = ids_of(a.post({"kind": "compute", "type": "persistent",
                                "count": 5}))
        second += ids_of(a.post({"kind": "compute", "count": 5}))
        self.wait_some_pending(a, second)
        self.assertEqual(a.kill9(), -signal.SIGKILL)
        a.restart()

        done = self.assert_counts_match_orders(fed, a, first + second)
        self.assertEqual(len(done), 20)
        self.assertEqual(a.instances(), 0)

    def test_prosody_restart_mid_run_every_order_ends_fulfilled(self):
        fed = Federation(self)
        a = fed.site("a", instances=0)
        b = fed.site("b", instances=30, env=delayed_provider_env(1500))
        c = fed.site("c", instances=30, env=delayed_provider_env(1500))
        fed.wait_all_see_each_other()

        first = ids_of(a.post({"kind": "compute", "count": 10}))
        a.wait_fulfilled(first, timeout=90)
        second = ids_of(a.post({"kind": "compute", "type": "persistent",
                                "count": 10}))
        self.wait_some_pending(a, second)
        fed.prosody.stop(signal.SIGKILL)
        fed.prosody.start()

        fed.wait_all_see_each_other(timeout=60)
        a.wait_fulfilled(first + second, timeout=180)
        # Forwarding works for orders posted after the restart too.
        third = ids_of(a.post({"kind": "compute", "count": 4}))
        done = self.assert_counts_match_orders(fed, a, first + second + third)
        self.assertEqual(len(done), 24)


if __name__ == "__main__":
    unittest.main()
