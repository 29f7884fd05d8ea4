"""Federation membership over a real Prosody: rendezvous + managers
discovering each other, paging, expiry, whitelist, neighbour sync, Prosody
restart, the Java manager's exact stanzas, and --role=all."""

import datetime
import os
import signal
import time
import unittest
import xml.etree.ElementTree as ET

from fogbow_harness import Manager, start_manager, wait_until
from raw_xmpp import RawXmppClient
from xmpp_harness import (DOMAIN, Rendezvous, alive_ids, manager_config,
                          members, rendezvous_config, start_federated_manager,
                          start_prosody, start_rendezvous, xmpp_section)

NS_IAMALIVE = "http://fogbowcloud.org/rendezvous/iamalive"
NS_WHOISALIVE = "http://fogbowcloud.org/rendezvous/whoisalive"
NS_SYNC = "http://fogbowcloud.org/rendezvous/synch/whoisalive"
NS_RSM = "http://jabber.org/protocol/rsm"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"


def q(ns, tag):
    return "{%s}%s" % (ns, tag)


def error_condition(iq):
    error = iq.find("{jabber:client}error")
    if error is None:
        return None
    for child in error:
        if child.tag.startswith("{%s}" % NS_STANZAS) and not child.tag.endswith("}text"):
            return error.get("type"), child.tag.split("}")[1]
    return error.get("type"), None


class FederationTest(unittest.TestCase):
    def test_three_managers_discover_each_other_page_by_page_and_expire(self):
        prosody = start_prosody(self)
        # page_max = 2 < 3 members: every listing takes two pages.
        rdv = start_rendezvous(self, prosody, "rdv", "page_max = 2")
        managers = [start_federated_manager(self, prosody, f"m{i}", rdv.jid)
                    for i in (1, 2, 3)]
        everyone = {m.jid for m in managers}
        wait_until(lambda: all(alive_ids(m) == everyone for m in managers),
                   timeout=30, message="every manager to list all three")
        for m in managers:
            listed = members(m)
            self.assertTrue(listed[m.jid]["self"])
            self.assertEqual(sum(x["self"] for x in listed.values()), 1)
            self.assertIsNotNone(listed[m.jid]["last_seen"])

        # m3 stops; m1 and m2 keep heartbeating and must never lose each
        # other while m3 disappears from both lists.
        managers[2].stop()
        started = time.monotonic()
        while True:
            lists = [set(members(m)) for m in managers[:2]]
            for listed in lists:
                self.assertLessEqual({"m1@localhost", "m2@localhost"}, listed)
            if all("m3@localhost" not in listed for listed in lists):
                break
            self.assertLess(time.monotonic() - started, 60,
                            "m3 was never dropped")
            time.sleep(0.2)
        print(f"\nfailure detection: m3 gone from both lists after "
              f"{time.monotonic() - started:.1f} s (default: period 3 s x 3 "
              f"lost + one poll)")

    def test_whitelist_refuses_with_not_authorized_and_fails_closed(self):
        prosody = start_prosody(self)
        workspace = prosody.dir
        whitelist = os.path.join(workspace, "whitelist.txt")
        with open(whitelist, "w") as f:
            f.write("# members admitted\nm1@localhost\n\n  javaok@localhost  \n")
        rdv = start_rendezvous(
            self, prosody, "rdv",
            f'whitelist = "file"\nwhitelist_file = "{whitelist}"')
        m1 = start_federated_manager(self, prosody, "m1", rdv.jid)
        m2 = start_federated_manager(self, prosody, "m2", rdv.jid)
        wait_until(lambda: "refused this member" in m2.log(), timeout=30,
                   message="m2 to learn it was refused")
        wait_until(lambda: "joined the federation" in m1.log(), timeout=30,
                   message="m1 to join")
        self.assertEqual(set(members(m1)), {"m1@localhost"})
        self.assertIn("refused heartbeat from m2@localhost", rdv.log())

        # The refusal is an IQ error, not a silent success.
        prosody.add_account("javano", "pw")
        client = RawXmppClient(prosody.c2s, "javano", "pw")
        self.addCleanup(client.close)
        reply = client.iq(f'<iq type="get" id="w1" to="{rdv.jid}"><query '
                          f'xmlns="{NS_IAMALIVE}"/></iq>', "w1")
        self.assertEqual(reply.get("type"), "error")
        self.assertEqual(error_condition(reply), ("auth", "not-authorized"))

        # Fail closed: no whitelist file, no rendezvous.
        broken = Rendezvous()
        self.addCleanup(broken.cleanup)
        prosody.add_account("rdv2", "pw-rdv2")
        with self.assertRaises(RuntimeError) as ctx:
            broken.start(rendezvous_config(
                prosody, "rdv2",
                f'whitelist = "file"\nwhitelist_file = "{workspace}/missing"'))
        self.assertIn("cannot read the rendezvous whitelist", str(ctx.exception))
        self.assertIn("exited with 1", str(ctx.exception))

    def test_rendezvous_sync_pulls_all_pages_transitively(self):
        prosody = start_prosody(self)
        jid = lambda user: f"{user}@{DOMAIN}/fogbow"
        small = "sync_page_max = 1\nsync_interval_ms = 500\n"
        rdv_c = start_rendezvous(self, prosody, "rdvc", small)
        rdv_b = start_rendezvous(self, prosody, "rdvb",
                                 small + f'neighbors = ["{jid("rdvc")}"]')
        rdv_a = start_rendezvous(self, prosody, "rdva",
                                 small + f'neighbors = ["{jid("rdvb")}"]')
        m1 = start_federated_manager(self, prosody, "m1", rdv_c.jid)
        m2 = start_federated_manager(self, prosody, "m2", rdv_c.jid)
        m3 = start_federated_manager(self, prosody, "m3", rdv_b.jid)
        m4 = start_federated_manager(self, prosody, "m4", rdv_a.jid)
        # A pulls from B which pulls from C: m4 sees everyone (3 pages of 1
        # from C relayed through B), m3 sees C's and its own, m1 only C's.
        wait_until(lambda: alive_ids(m4) == {"m1@localhost", "m2@localhost",
                                             "m3@localhost", "m4@localhost"},
                   timeout=40, message="m4 to see every member through A<-B<-C")
        wait_until(lambda: alive_ids(m3) == {"m1@localhost", "m2@localhost",
                                             "m3@localhost"},
                   timeout=30, message="m3 to see C's members through B")
        # m1 refreshes on its own period, so it may not have seen m2 yet;
        # C pulls from nobody, so m3 and m4 must never appear there.
        wait_until(lambda: set(members(m1)) == {"m1@localhost", "m2@localhost"},
                   timeout=30, message="m1 to see exactly C's members")
        # A relayed member expires everywhere once it stops.
        m2.stop()
        wait_until(lambda: "m2@localhost" not in members(m4)
                   and "m2@localhost" not in members(m1),
                   timeout=40, message="m2 to expire on A as well as on C")

    def test_prosody_restart_every_role_reconnects(self):
        prosody = start_prosody(self)
        rdv = start_rendezvous(self, prosody, "rdv")
        m1 = start_federated_manager(self, prosody, "m1", rdv.jid)
        m2 = start_federated_manager(self, prosody, "m2", rdv.jid)
        both = {"m1@localhost", "m2@localhost"}
        wait_until(lambda: alive_ids(m1) == both and alive_ids(m2) == both,
                   timeout=30, message="discovery")
        prosody.stop(signal.SIGKILL)
        # The last known list is kept while the server is away.
        time.sleep(1)
        self.assertEqual(set(members(m1)), both)
        prosody.start()
        for process in (rdv, m1, m2):
            wait_until(lambda: "reconnected to" in process.log(), timeout=30,
                       message="reconnection")
        # Both are confirmed by listings made after the restart.
        restarted = datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        wait_until(lambda: all(x["alive"] and x["last_seen"] > restarted
                               for m in (m1, m2) for x in members(m).values()),
                   timeout=30, message="membership to recover")
        # A member that joins after the restart is found too.
        m3 = start_federated_manager(self, prosody, "m3", rdv.jid)
        wait_until(lambda: "m3@localhost" in alive_ids(m1), timeout=30,
                   message="m3 to be discovered after the restart")
        # The warning was logged once per outage, not every period.
        self.assertLessEqual(m1.log().count("to the rendezvous"), 2)

    def test_exact_java_manager_stanzas(self):
        prosody = start_prosody(self)
        rdv = start_rendezvous(self, prosody, "rdv")
        prosody.add_account("javamgr", "pw")
        client = RawXmppClient(prosody.c2s, "javamgr", "pw")
        self.addCleanup(client.close)
        self.assertEqual(client.jid, "javamgr@localhost/java")

        # iamalive: the Java manager sends an empty query.
        reply = client.iq(f'<iq type="get" id="alive1" to="{rdv.jid}">'
                          f'<query xmlns="{NS_IAMALIVE}"/></iq>', "alive1")
        self.assertEqual(reply.get("type"), "result")
        self.assertEqual(reply.get("from"), rdv.jid)
        self.assertEqual(reply.get("to"), client.jid)
        query, = list(reply)
        self.assertEqual(query.tag, q(NS_IAMALIVE, "query"))
        period, = list(query)
        self.assertEqual(period.tag, q(NS_IAMALIVE, "iamalive-period"))
        self.assertEqual(period.text, "3000")

        # whoisalive: <set> inherits the query's namespace, <max>100</max>.
        reply = client.iq(f'<iq type="get" id="who1" to="{rdv.jid}"><query '
                          f'xmlns="{NS_WHOISALIVE}"><set><max>100</max></set>'
                          f'</query></iq>', "who1")
        self.assertEqual(reply.get("type"), "result")
        query, = list(reply)
        self.assertEqual(query.tag, q(NS_WHOISALIVE, "query"))
        items = [c for c in query if c.tag == q(NS_WHOISALIVE, "item")]
        self.assertEqual([i.get("id") for i in items], ["javamgr@localhost"])
        rsm = query.find(q(NS_RSM, "set"))
        self.assertEqual([(c.tag, c.text) for c in rsm],
                         [(q(NS_RSM, "first"), "javamgr@localhost"),
                          (q(NS_RSM, "last"), "javamgr@localhost"),
                          (q(NS_RSM, "count"), "1")])

        # The Java rendezvous' own sync request: a bare query.
        reply = client.iq(f'<iq type="get" id="sync1" to="{rdv.jid}">'
                          f'<query xmlns="{NS_SYNC}"/></iq>', "sync1")
        self.assertEqual(reply.get("type"), "result")
        manager = reply.find(f"{q(NS_SYNC, 'query')}/{q(NS_SYNC, 'managers')}/"
                             f"{q(NS_SYNC, 'manager')}")
        self.assertEqual(manager.get("id"), "javamgr@localhost")
        status = manager.find(q(NS_SYNC, "status"))
        self.assertEqual(status.find(q(NS_SYNC, "timeout")).text, "9000")
        self.assertLess(int(status.find(q(NS_SYNC, "quiet-for")).text), 60000)

        # Errors: unknown `after`, bad <max>, hostile nesting, unknown ns.
        reply = client.iq(f'<iq type="get" id="e1" to="{rdv.jid}"><query '
                          f'xmlns="{NS_WHOISALIVE}"><set><max>10</max><after>'
                          f'nobody@localhost</after></set></query></iq>', "e1")
        self.assertEqual(error_condition(reply), ("cancel", "item-not-found"))
        reply = client.iq(f'<iq type="get" id="e2" to="{rdv.jid}"><query '
                          f'xmlns="{NS_WHOISALIVE}"><set><max>ten</max></set>'
                          f'</query></iq>', "e2")
        self.assertEqual(error_condition(reply), ("modify", "bad-request"))
        deep = "<a>" * 60 + "</a>" * 60
        reply = client.iq(f'<iq type="get" id="e3" to="{rdv.jid}"><query '
                          f'xmlns="{NS_IAMALIVE}">{deep}</query></iq>', "e3")
        self.assertEqual(error_condition(reply), ("modify", "bad-request"))
        many = "<item id='x'/>" * 10000
        reply = client.iq(f'<iq type="get" id="e4" to="{rdv.jid}"><query '
                          f'xmlns="{NS_WHOISALIVE}"><set><max>99999999999'
                          f'</max></set>{many}</query></iq>', "e4")
        self.assertEqual(reply.get("type"), "result")  # extra items ignored
        reply = client.iq(f'<iq type="get" id="e5" to="{rdv.jid}"><query '
                          f'xmlns="http://fogbowcloud.org/rendezvous/nope"/>'
                          f'</iq>', "e5")
        self.assertEqual(reply.get("type"), "error")
        # Still serving.
        reply = client.iq(f'<iq type="get" id="alive2" to="{rdv.jid}">'
                          f'<query xmlns="{NS_IAMALIVE}"/></iq>', "alive2")
        self.assertEqual(reply.get("type"), "result")

    def test_role_all_runs_manager_and_rendezvous_in_one_process(self):
        prosody = start_prosody(self)
        for user in ("site", "rdv"):
            prosody.add_account(user, f"pw-{user}")
        config = manager_config(prosody, "site", f"rdv@{DOMAIN}/fogbow") + f"""
[rendezvous]
jid = "rdv@{DOMAIN}/fogbow"
password = "pw-rdv"
"""
        process = start_manager(self, config, roles="all")
        wait_until(lambda: alive_ids(process) == {"site@localhost"},
                   timeout=30, message="the manager to find itself through "
                                       "its own rendezvous")
        self.assertIn("--role=all runs: manager, rendezvous", process.log())
        status, body = process.request("GET", "/v1/status")
        self.assertEqual(status, 200)
        self.assertEqual(process.stop(), 0)
        self.assertIn("stopped", process.log())

    def test_role_all_without_xmpp_runs_the_manager_standalone(self):
        with open(os.path.join(os.environ["FOGBOW_SOURCE_DIR"], "config",
                               "all-in-one.toml")) as f:
            config = f.read()
        process = start_manager(self, config, roles="all")
        self.assertEqual(set(members(process)), {"site-a.localhost"})
        self.assertIn("runs standalone", process.log())
        self.assertEqual(process.stop(), 0)


if __name__ == "__main__":
    unittest.main()
