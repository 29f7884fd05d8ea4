"""Federation across XMPP domains, as deployed: every organisation runs its
own Prosody, the servers are joined by server-to-server links over TLS with
certificate authentication (s2s_secure_auth, a throw-away CA), and every
domain runs a rendezvous that pulls the others as neighbours. Orders are
posted at a manager of a.test whose cloud has no room, so each one is
forwarded over s2s to the manager of b.test."""

import signal
import unittest

from federation_harness import (Federation, count_by_provider,
                                delayed_provider_env, holds_for, members,
                                wait_until)
from s2s_harness import Domains

UNTRUSTED = "because its certificate is not trusted"


def ids_of(orders):
    return [o["id"] for o in orders]


class FederationAcrossDomains(unittest.TestCase):
    def two_domains(self, provider_env=None):
        xmpp = Domains(self, ["a.test", "b.test"])
        fed = Federation(self, xmpp=xmpp)
        a = fed.site("a", instances=0, domain="a.test")
        b = fed.site("b", instances=30, domain="b.test", env=provider_env)
        fed.wait_all_see_each_other(timeout=60)
        return xmpp, fed, a, b

    def assert_b_runs_exactly(self, a, b, ids):
        """Every order in `ids` fulfilled at B, each instance once, and B
        runs exactly that many instances (no duplicate appears later)."""
        done = a.wait_fulfilled(ids, timeout=120)
        self.assertEqual(count_by_provider(done), {b.id: len(ids)})
        instances = [o["instance_id"] for o in done.values()]
        self.assertEqual(len(set(instances)), len(ids), instances)
        wait_until(lambda: b.instances() == len(ids), timeout=60,
                   message=f"B to run {len(ids)} instances")
        self.assertTrue(holds_for(lambda: b.instances() == len(ids), 4),
                        f"B runs {b.instances()}, orders say {len(ids)}")
        return done

    def test_neighbours_list_both_domains_and_orders_cross_and_delete(self):
        _, fed, a, b = self.two_domains()
        # Each manager asks only its own domain's rendezvous; the other
        # domain's member is there through neighbour sync over s2s.
        for site in (a, b):
            self.assertEqual({a.id, b.id} - set(members(site)), set())
        self.assertEqual((a.id, b.id), ("a@a.test", "b@b.test"))

        ids = ids_of(a.post({"kind": "compute", "count": 4}))
        done = self.assert_b_runs_exactly(a, b, ids)
        for order in done.values():
            self.assertTrue(order["instance_id"].endswith("@b@b.test"), order)

        # Remote delete: the instance goes at B, and from A's listing.
        gone = done[ids[0]]
        a.call("DELETE", f"/v1/orders/{ids[0]}", expect=200)
        wait_until(lambda: b.instances() == 3, timeout=30,
                   message="the deleted order's instance to go at B")
        wait_until(lambda: gone["instance_id"] not in a.computes(),
                   timeout=30, message="the deleted compute to leave A")
        self.assertTrue(holds_for(lambda: b.instances() == 3, 3))

    def test_requester_killed_and_restarted_duplicates_nothing(self):
        _, _, a, b = self.two_domains(delayed_provider_env(2000))
        first = ids_of(a.post({"kind": "compute", "count": 4}))
        a.wait_fulfilled(first, timeout=90)
        second = ids_of(a.post({"kind": "compute", "type": "persistent",
                                "count": 4}))
        wait_until(lambda: any(a.order(i)["state"] == "pending"
                               for i in second),
                   timeout=30, interval=0.05, message="an order pending")
        self.assertEqual(a.kill9(), -signal.SIGKILL)
        a.restart()
        self.assert_b_runs_exactly(a, b, first + second)
        self.assertEqual(a.instances(), 0)

    def test_provider_domain_server_restarted_mid_run(self):
        xmpp, fed, a, b = self.two_domains(delayed_provider_env(1500))
        first = ids_of(a.post({"kind": "compute", "count": 4}))
        a.wait_fulfilled(first, timeout=90)
        second = ids_of(a.post({"kind": "compute", "type": "persistent",
                                "count": 6}))
        wait_until(lambda: any(a.order(i)["state"] == "pending"
                               for i in second),
                   timeout=30, interval=0.05, message="an order pending")
        # b.test's server dies with A's orders in flight; the s2s link and
        # B's own sessions go with it.
        xmpp["b.test"].stop(signal.SIGKILL)
        xmpp["b.test"].start()
        fed.wait_all_see_each_other(timeout=90)
        third = ids_of(a.post({"kind": "compute", "count": 2}))
        self.assert_b_runs_exactly(a, b, first + second + third)


class UntrustedDomain(unittest.TestCase):
    def test_domain_with_untrusted_certificate_cannot_federate(self):
        # b.test's certificate comes from the CA every server trusts;
        # c.test's from another CA. Both managers join a.test's rendezvous.
        xmpp = Domains(self, ["a.test", "b.test"], untrusted=["c.test"])
        fed = Federation(self, xmpp=xmpp, rendezvous_domains=["a.test"])
        a = fed.site("a", instances=0, domain="a.test")
        b = fed.site("b", instances=10, domain="b.test")
        c = fed.site("c", instances=10, domain="c.test")
        # The trusted domain federates: the same setup, the same CA files.
        fed.wait_all_see_each_other([a, b], timeout=60)
        wait_until(lambda: UNTRUSTED in xmpp.log("a.test"), timeout=30,
                   message="a.test to refuse c.test's certificate")
        self.assertIn("c.test", next(line for line in
                                     xmpp.log("a.test").splitlines()
                                     if UNTRUSTED in line))
        # c's heartbeats never reach the rendezvous: nobody lists it.
        self.assertTrue(holds_for(lambda: c.id not in members(a)
                                  and c.id not in members(b), 8),
                        members(a))
        # A's orders are all served by B, none by C.
        ids = ids_of(a.post({"kind": "compute", "count": 4}))
        done = a.wait_fulfilled(ids, timeout=90)
        self.assertEqual(count_by_provider(done), {b.id: 4})
        self.assertEqual(c.instances(), 0)


if __name__ == "__main__":
    unittest.main()
