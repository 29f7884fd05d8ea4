"""Order placement across a federation, with real processes over a real
Prosody: a rendezvous and three managers (A, B, C) whose `instant` clouds
hold a few instances each. Orders posted at A fill A first, then go to B and
C; a pinned order goes to its member; a member whose validator refuses A is
skipped; a provider slower than the forward timeout leaves no instance
behind; and every instance is counted on the site that runs it, so that a
duplicate anywhere shows up as a count that does not match the orders."""

import json
import unittest

from fogbow_harness import fogbow
from federation_harness import (TOKEN, Federation, count_by_provider,
                                delayed_provider_env, holds_for, member_of,
                                wait_until)


class FederationPlacement(unittest.TestCase):
    def assert_counts(self, fed, expected, message):
        """Waits until each site runs exactly `expected[site id]`
        instances, then checks that no late instance appears."""
        try:
            wait_until(lambda: fed.instance_counts() == expected, timeout=60,
                       interval=0.25, message=message)
        except AssertionError as e:
            raise AssertionError(f"{e}: {fed.instance_counts()} instead of "
                                 f"{expected}") from None
        self.assertTrue(holds_for(lambda: fed.instance_counts() == expected, 3),
                        f"{message}: became {fed.instance_counts()}")

    def test_thirty_orders_fill_a_then_b_and_c_exactly_once(self):
        fed = Federation(self)
        a, b, c = (fed.site(name, instances=10) for name in ("a", "b", "c"))
        fed.wait_all_see_each_other()

        ids = [o["id"] for o in a.post({"kind": "compute", "count": 30})]
        done = a.wait_fulfilled(ids, timeout=120)
        self.assertEqual(count_by_provider(done), {a.id: 10, b.id: 10, c.id: 10})
        instance_ids = [o["instance_id"] for o in done.values()]
        self.assertEqual(len(set(instance_ids)), 30, instance_ids)
        for o in done.values():
            self.assertEqual(member_of(o["instance_id"]), o["providing_member"],
                             o)
            self.assertEqual(o["requesting_member"], a.id, o)
        self.assert_counts(fed, {a.id: 10, b.id: 10, c.id: 10},
                           "one instance per order, on the site that serves it")

        # A lists its remote instances beside its own, by their global ids.
        computes = a.computes()
        self.assertEqual(set(computes), set(instance_ids))
        by_instance = {o["instance_id"]: o for o in done.values()}
        remote = [i for i in instance_ids if member_of(i) != a.id]
        self.assertEqual(len(remote), 20)
        for instance_id in remote[:4]:
            status, compute = a.call("GET", f"/v1/computes/{instance_id}",
                                     expect=200)
            self.assertEqual(compute["id"], instance_id)
            self.assertEqual(compute["order_id"], by_instance[instance_id]["id"])
            self.assertEqual(compute["state"], "running", compute)

        # B's quota, asked at A, comes from B (getremoteuserquota).
        status, quota = a.call("GET", f"/v1/members/{b.id}/quota", expect=200)
        self.assertEqual(quota["member_id"], b.id)
        self.assertEqual(quota["instances"]["total"], 10)
        self.assertEqual(quota["instances"]["in_use"], 10)
        cli = fogbow("member", "quota", b.id, "--json", "--url", a.url,
                     "--token", TOKEN)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual(json.loads(cli.stdout)["instances"]["total"], 10)
        cli = fogbow("member", "list", "--url", a.url, "--token", TOKEN)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        for site in (a, b, c):
            self.assertIn(site.id, cli.stdout)

        # A 31st order finds no room anywhere: it waits, never overfills.
        [extra] = a.post({"kind": "compute"})
        self.assertTrue(holds_for(
            lambda: a.order(extra["id"])["state"] in ("open", "pending"), 3),
            a.order(extra["id"]))
        self.assertEqual(fed.instance_counts(), {a.id: 10, b.id: 10, c.id: 10})

        # Deleting an order served by C removes its instance at C; the
        # freed room is found by the waiting order, which C then serves.
        on_c = next(o for o in done.values() if o["providing_member"] == c.id)
        a.call("DELETE", f"/v1/orders/{on_c['id']}", expect=200)
        served = a.wait_fulfilled([extra["id"]], timeout=90)[extra["id"]]
        self.assertEqual(served["providing_member"], c.id, served)
        self.assertNotEqual(served["instance_id"], on_c["instance_id"])
        self.assert_counts(fed, {a.id: 10, b.id: 10, c.id: 10},
                           "C's freed room reused by the waiting order")
        self.assertNotIn(on_c["instance_id"], a.computes())

        # DELETE /v1/computes/{id}@{member} removes the instance at B.
        on_b = next(o for o in done.values() if o["providing_member"] == b.id)
        status, _ = a.call("DELETE", f"/v1/computes/{on_b['instance_id']}")
        self.assertIn(status, (200, 204))
        self.assert_counts(fed, {a.id: 10, b.id: 9, c.id: 10},
                           "the remote compute deleted at its provider")
        wait_until(lambda: a.call("GET", f"/v1/computes/{on_b['instance_id']}")
                   [0] == 404, timeout=30, message="the deleted compute to go")

    def test_pinned_orders_go_to_their_member(self):
        fed = Federation(self)
        a, b, c = (fed.site(name, instances=10) for name in ("a", "b", "c"))
        fed.wait_all_see_each_other()

        def pinned(member, count=1):
            return [o["id"] for o in a.post({
                "kind": "compute", "count": count,
                "requirements": f'Glue2CloudComputeManagerID == "{member}"'})]

        # A has room for all of them: only the pin sends them away.
        to_c, to_a, to_b = pinned(c.id, 3), pinned(a.id, 2), pinned(b.id)
        to_nobody = pinned("nobody@localhost")
        done = a.wait_fulfilled(to_c + to_a + to_b, timeout=90)
        for ids, site in ((to_c, c), (to_a, a), (to_b, b)):
            for i in ids:
                self.assertEqual(done[i]["providing_member"], site.id, done[i])
                self.assertEqual(member_of(done[i]["instance_id"]), site.id)
        self.assert_counts(fed, {a.id: 2, b.id: 1, c.id: 3},
                           "pinned orders on their members only")
        # Pinned to a member that does not exist: waits, served nowhere.
        self.assertIn(a.order(to_nobody[0])["state"], ("open", "pending"))
        self.assertEqual(fed.instance_counts(), {a.id: 2, b.id: 1, c.id: 3})

    def test_member_whose_validator_refuses_a_is_skipped(self):
        fed = Federation(self)
        a = fed.site("a", instances=0)
        # B donates only to C; C donates to anyone.
        b = fed.site("b", instances=10, federation="""
member_validator = "whitelist"
donate_to = ["c@localhost"]
receive_from = ["a@localhost", "c@localhost"]
""")
        c = fed.site("c", instances=10)
        fed.wait_all_see_each_other()

        ids = [o["id"] for o in a.post({"kind": "compute", "count": 6})]
        done = a.wait_fulfilled(ids, timeout=90)
        self.assertEqual(count_by_provider(done), {c.id: 6})
        self.assert_counts(fed, {a.id: 0, b.id: 0, c.id: 6},
                           "nothing created at B for A")
        # A pin to B cannot be served: B refuses A, so the order waits.
        [pinned] = a.post({"kind": "compute", "requirements":
                           'Glue2CloudComputeManagerID == "b@localhost"'})
        self.assertTrue(holds_for(
            lambda: a.order(pinned["id"])["state"] in ("open", "pending"), 3))
        self.assertEqual(fed.instance_counts(), {a.id: 0, b.id: 0, c.id: 6})

    def test_fixed_capacity_controllers_cap_what_b_and_c_donate(self):
        fed = Federation(self)
        a = fed.site("a", instances=0)
        # B: a cap of its own for A; C: the cap for every unlisted member.
        b = fed.site("b", instances=10, federation="""
capacity_controller = "fixed"
max_donated = 0
donated_caps = { "a@localhost" = 2 }
""")
        c = fed.site("c", instances=10, federation="""
capacity_controller = "fixed"
max_donated = 3
""")
        fed.wait_all_see_each_other()
        ids = [o["id"] for o in a.post({"kind": "compute", "count": 8})]
        done = a.wait_orders(
            ids, lambda o: o["state"] in ("open", "pending", "fulfilled"), 30,
            "the orders to be accepted")
        wait_until(lambda: count_by_provider(
            {i: o for i, o in a.orders().items()
             if i in done and o["state"] == "fulfilled"}) == {b.id: 2, c.id: 3},
                   timeout=90, interval=0.25,
                   message="B and C to serve up to their caps")
        self.assert_counts(fed, {a.id: 0, b.id: 2, c.id: 3},
                           "B and C donating no more than their caps")
        waiting = [o for i, o in a.orders().items() if i in done
                   and o["state"] != "fulfilled"]
        self.assertEqual(len(waiting), 3, waiting)
        for o in waiting:
            self.assertIn(o["state"], ("open", "pending"), o)

    def test_provider_slower_than_the_timeout_leaves_no_instance(self):
        fed = Federation(self)
        a = fed.site("a", instances=0, federation="forward_timeout_s = 2")
        # B answers `order` IQs 6 s late: every offer to B times out at A.
        b = fed.site("b", instances=10, env=delayed_provider_env(6000))
        c = fed.site("c", instances=10)
        fed.wait_all_see_each_other()

        ids = [o["id"] for o in a.post({"kind": "compute", "count": 6})]
        done = a.wait_fulfilled(ids, timeout=120)
        self.assertEqual(count_by_provider(done), {c.id: 6})
        # Whatever B created after A moved on is removed (removeorder), and
        # nothing reappears once B's late answers have all gone out.
        expected = {a.id: 0, b.id: 0, c.id: 6}
        wait_until(lambda: fed.instance_counts() == expected, timeout=60,
                   interval=0.25, message="B's late instances to be removed")
        self.assertTrue(holds_for(lambda: fed.instance_counts() == expected,
                                  8), fed.instance_counts())
        self.assertEqual({o["instance_id"] for o in a.orders().values()},
                         {o["instance_id"] for o in done.values()})


if __name__ == "__main__":
    unittest.main()
