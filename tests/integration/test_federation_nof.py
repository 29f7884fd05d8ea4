"""The Network of Favors end to end, with real processes over a real Prosody:
three managers whose accounting runs every second.

(a) B has donated a lot to A (A's user ran a 32-vCPU instance on B), C
    nothing; A is full of served orders of B and C. A new order of B takes
    the place of C's newest instance (not B's, not C's older one), and a
    local order at A then takes the place of C's other one.
(b) With the `nof` member picker, A forwards to the member that owes it
    most (C, which A has served), not in turn.
(c) The accounting of every site survives kill -9: usage stays within one
    accounting period of the truth, counted neither twice nor with a gap.
"""

import datetime
import time
import unittest

from federation_harness import Federation, wait_until

FLAVORS = """
[[manager.driver.flavors]]
name = "small"
vcpu = 1
memory_mb = 512
disk_gb = 10

[[manager.driver.flavors]]
name = "huge"
vcpu = 32
memory_mb = 1024
disk_gb = 10
"""

PERIOD_S = 1
ACCOUNTING = f"""
[manager.accounting]
period_s = {PERIOD_S}
admins = ["alice"]
"""


def pinned(site, member, vcpu=1):
    """Posts one compute order at `site` that only `member` may serve."""
    [order] = site.post({
        "kind": "compute", "vcpu": vcpu,
        "requirements": f'Glue2CloudComputeManagerID == "{member.id}"'})
    return order["id"]


def others(site):
    """{member id: member} of GET /v1/members, without the site itself."""
    listing = site.call("GET", "/v1/members", expect=200)[1]["members"]
    return {m["id"]: m for m in listing if not m["self"]}


def usage(site, user="*", member=None):
    path = f"/v1/members/{member}/usage" if member else "/v1/usage"
    return site.call("GET", f"{path}?user={user}", expect=200)[1]


def epoch_ms(iso):
    when = datetime.datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ")
    return when.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000


class NetworkOfFavors(unittest.TestCase):
    def three_sites(self, a_instances, a_federation):
        """Sites A (`a_instances`, and `a_federation` as its
        [manager.federation] lines), B and C (10 instances each), with the
        small and huge flavors and accounting every PERIOD_S, once all see
        each other."""
        fed = Federation(self)
        extra = FLAVORS + ACCOUNTING
        a = fed.site("a", instances=a_instances, extra=extra,
                     federation=a_federation)
        b, c = (fed.site(name, instances=10, extra=extra)
                for name in ("b", "c"))
        fed.wait_all_see_each_other()
        return a, b, c

    def wait_closed_preempted(self, site, order_id, by):
        order = wait_until(
            lambda: (lambda o: o if o["state"] != "fulfilled" else None)(
                site.order(order_id)),
            timeout=60, interval=0.2,
            message=f"order {order_id} at {site.id} to lose its instance")
        self.assertEqual(order["state"], "closed", order)
        self.assertIn(f"preempted by {by.id}", order["last_error"] or "", order)

    def assert_fulfilled(self, site, *order_ids):
        for i in order_ids:
            self.assertEqual(site.order(i)["state"], "fulfilled",
                             f"{i} at {site.id}")

    def test_b_preempts_c_newest_and_a_local_order_preempts_c(self):
        a, b, c = self.three_sites(3, 'prioritization = "nof"\n')

        # B does A a big favour: A's user runs 32 vCPUs on B's cloud.
        favour = pinned(a, b, vcpu=32)
        a.wait_fulfilled([favour])
        # A fills up with served orders: C's, B's, then C's newest.
        c_old = pinned(c, a)
        c.wait_fulfilled([c_old])
        b_old = pinned(b, a)
        b.wait_fulfilled([b_old])
        c_new = pinned(c, a)
        c.wait_fulfilled([c_new])
        self.assertEqual(a.instances(), 3)

        # A's accounting shows who owes whom: A owes B (it consumed), and
        # C has only consumed from A.
        def b_ahead():
            m = others(a)
            return m[b.id]["debt"] > m[c.id]["debt"] + 1 and m
        members = wait_until(b_ahead, timeout=60, interval=0.5,
                             message="A's debt to B to pass its debt to C")
        self.assertGreater(members[b.id]["consumed_vcpu_minutes"], 1)
        self.assertGreater(members[c.id]["donated_vcpu_minutes"], 0)

        # A new order of B: A is full; C's newest instance makes room.
        b_new = pinned(b, a)
        b.wait_fulfilled([b_new])
        self.wait_closed_preempted(c, c_new, a)
        self.assert_fulfilled(c, c_old)
        self.assert_fulfilled(b, b_old, b_new)
        self.assertEqual(a.instances(), 3)

        # A local order comes before every served one: C's last goes.
        local = pinned(a, a)
        a.wait_fulfilled([local])
        self.wait_closed_preempted(c, c_old, a)
        self.assert_fulfilled(b, b_old, b_new)
        self.assertEqual(a.instances(), 3)

    def test_nof_picker_forwards_to_the_member_that_owes_most(self):
        a, b, c = self.three_sites(1, 'member_picker = "nof"\n')

        # A serves C a while: C owes A.
        favour = pinned(c, a, vcpu=32)
        c.wait_fulfilled([favour])
        wait_until(lambda: others(a)[c.id]["donated_vcpu_minutes"] > 1,
                   timeout=60, interval=0.5,
                   message="A's accounting to count what it gave C")
        c.call("DELETE", f"/v1/orders/{favour}", expect=200)
        wait_until(lambda: a.instances() == 0, timeout=30,
                   message="C's instance at A to go")
        [filler] = a.post({"kind": "compute"})
        a.wait_fulfilled([filler["id"]])

        # A is full: every order is forwarded, each to C (in turn would
        # alternate B and C).
        ids = [o["id"] for o in a.post({"kind": "compute", "count": 4})]
        done = a.wait_fulfilled(ids)
        providers = sorted(o["providing_member"] for o in done.values())
        self.assertEqual(providers, [c.id] * 4)
        self.assertEqual(b.instances(), 0)

    def test_accounting_survives_kill_9_of_every_site(self):
        fed = Federation(self)
        local_cloud = 'kind = "local"\ninstances = 1\nvcpu = 8\n'
        a, b, c = (fed.site(name, driver=local_cloud, extra=ACCOUNTING)
                   for name in ("a", "b", "c"))
        fed.wait_all_see_each_other()

        # A 2-vCPU instance of A's user on each site's cloud.
        [here] = a.post({"kind": "compute", "vcpu": 2})
        at = {a.id: here["id"], b.id: pinned(a, b, vcpu=2),
              c.id: pinned(a, c, vcpu=2)}
        done = a.wait_fulfilled(list(at.values()))
        for member, order_id in at.items():
            self.assertEqual(done[order_id]["providing_member"], member)
        time.sleep(3)

        # Every site crashes; while they are down the instances run on,
        # and that time counts.
        for site in (a, b, c):
            site.kill9()
        time.sleep(3)
        for site in (c, b, a):
            site.restart()
        fed.wait_all_see_each_other()
        started = {i: epoch_ms(a.order(i)["fulfilled_at"])
                   for i in at.values()}
        time.sleep(2)
        sent = time.time() * 1000
        for i in started:
            a.call("DELETE", f"/v1/orders/{i}", expect=200)
        answered = time.time() * 1000
        wait_until(lambda: all(s.instances() == 0 for s in (a, b, c)),
                   timeout=60, message="every instance to go")

        def expected(order_id, until):
            return 2 * (until - started[order_id]) / 60000
        slack = 2 * PERIOD_S / 60  # one period of a 2-vCPU instance

        def assert_near(value, order_id, what):
            low = expected(order_id, sent) - slack
            high = expected(order_id, answered) + slack
            self.assertTrue(low <= value <= high,
                            f"{what}: {value:.4f} vCPU·min, truth "
                            f"{expected(order_id, sent):.4f}..."
                            f"{expected(order_id, answered):.4f}")

        # A: its local instance and what it consumed from B and C; B and
        # C: what they donated to A. Read after the instances ended, so
        # nothing moves any more.
        at_a = usage(a)
        assert_near(at_a["local"]["vcpu_minutes"], at[a.id], "A local")
        consumed = {m["id"]: m["consumed"]["vcpu_minutes"]
                    for m in at_a["members"]}
        self.assertEqual(set(consumed), {b.id, c.id})
        for provider in (b, c):
            assert_near(consumed[provider.id], at[provider.id],
                        f"A consumed from {provider.id}")
            [with_a] = [m for m in usage(provider)["members"]
                        if m["id"] == a.id]
            assert_near(with_a["donated"]["vcpu_minutes"], at[provider.id],
                        f"{provider.id} donated to A")
        # The same, one member at a time, and alice's own view.
        only_b = usage(a, member=b.id)
        self.assertEqual([m["id"] for m in only_b["members"]], [b.id])
        mine = a.call("GET", "/v1/usage", expect=200)[1]
        self.assertEqual(mine["user"], "alice")
        self.assertEqual(mine["local"], at_a["local"])


if __name__ == "__main__":
    unittest.main()
