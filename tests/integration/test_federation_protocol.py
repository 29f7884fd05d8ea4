"""The manager<->manager protocol on the wire, byte for byte: a raw XMPP
client plays a Java Fogbow manager (it heartbeats the rendezvous, so it is
a member) or a stranger (it does not). A stranger is refused with
not-authorized in every manager namespace; a member's malformed payloads
get bad-request, unknown namespaces an error, and none of them changes
anything; a member's well-formed Java `order` is served once however often
it is sent, is visible through getinstance, goes away on removeorder, and
is reclaimed when the requester answers the provider's instancebeingused
probe with "not used"."""

import socket
import time
import unittest
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

from federation_harness import Federation, alive_ids, holds_for, wait_until
from raw_xmpp import RawXmppClient

NS_BASE = "http://fogbowcloud.org/manager/"
MANAGER_NAMESPACES = ("order", "getinstance", "removeinstance", "removeorder",
                      "instancebeingused", "getremoteuserquota", "storagelink",
                      "removestoragelink")
NS_IAMALIVE = "http://fogbowcloud.org/rendezvous/iamalive"
NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas"
NS_CLIENT = "jabber:client"


def q(ns, tag):
    return "{%s}%s" % (ns, tag)


def error_condition(iq):
    """(error type, condition) of an error IQ, or None for a result."""
    error = iq.find(q(NS_CLIENT, "error"))
    if error is None:
        return None
    for child in error:
        if child.tag.startswith("{%s}" % NS_STANZAS) \
                and not child.tag.endswith("}text"):
            return error.get("type"), child.tag.split("}")[1]
    return error.get("type"), None


def java_order(order_id, kind="compute", order_type="one-time"):
    """The payload a Java manager forwards (reference §4: categories,
    attributes, the order id, the federation token)."""
    attrs = {
        "org.fogbowcloud.order.resource-kind": kind,
        "org.fogbowcloud.order.type": order_type,
        "org.fogbowcloud.order.instance-count": "1",
        "org.fogbowcloud.order.requirements":
            "Glue2vCPU >= 1 && Glue2RAM >= 512",
    }
    attributes = "".join(f'<attribute var="{k}"><value>{escape(v)}</value>'
                         '</attribute>' for k, v in attrs.items())
    return (f'<query xmlns="{NS_BASE}order">'
            '<category><class>kind</class><term>order</term>'
            '<scheme>http://schemas.fogbowcloud.org/request#</scheme></category>'
            f'{attributes}<order><id>{order_id}</id></order>'
            '<token><accessId>java-access-id</accessId><user><id>java-user</id>'
            '<name>Java User</name></user></token></query>')


class JavaManager(RawXmppClient):
    """A raw client that can keep itself alive at the rendezvous and keeps
    the stanzas it did not wait for (the provider's probes) in `inbox`."""

    def __init__(self, prosody, user, rendezvous_jid):
        prosody.add_account(user, "pw")
        # The federation's common resource: providers address a member as
        # <member id>/<their own resource> (docs/protocol.md).
        super().__init__(prosody.c2s, user, "pw", resource="fogbow")
        self.rendezvous_jid = rendezvous_jid
        self.inbox = []
        self.seq = 0
        self.last_beat = 0.0

    def iq(self, raw, iq_id):
        self.send(raw)
        while True:
            element = self.next_element()
            if element.tag == q(NS_CLIENT, "iq") and element.get("id") == iq_id:
                return element
            self.inbox.append(element)

    def beat(self):
        """One iamalive to the rendezvous (at most once a second)."""
        if time.monotonic() - self.last_beat < 1.0:
            return
        self.last_beat = time.monotonic()
        self.seq += 1
        reply = self.iq(f'<iq type="get" id="beat{self.seq}" to="'
                        f'{self.rendezvous_jid}"><query xmlns="{NS_IAMALIVE}"/>'
                        f'</iq>', f"beat{self.seq}")
        assert reply.get("type") == "result", ET.tostring(reply)

    def ask(self, to, payload, iq_type="get"):
        """Sends one IQ with `payload` (raw XML) and returns the reply;
        heartbeats first, so that the member never expires mid-test."""
        self.beat()
        self.seq += 1
        iq_id = f"q{self.seq}"
        return self.iq(f'<iq type="{iq_type}" id="{iq_id}" to="{to}">{payload}'
                       f'</iq>', iq_id)

    def wait_request(self, namespace, timeout):
        """The next IQ request in `namespace` sent to us, heartbeating
        while waiting."""
        deadline = time.monotonic() + timeout
        self.sock.settimeout(0.5)
        try:
            while time.monotonic() < deadline:
                for element in self.inbox:
                    if element.find(q(namespace, "query")) is not None:
                        self.inbox.remove(element)
                        return element
                self.beat()
                try:
                    self.inbox.append(self.next_element())
                except socket.timeout:
                    pass
        finally:
            self.sock.settimeout(10)
        raise AssertionError(f"no {namespace} request within {timeout} s")


class FederationProtocol(unittest.TestCase):
    def setUp(self):
        self.fed = Federation(self)
        self.a = self.fed.site("a", instances=5)
        self.to = self.a.full_jid

    def stranger(self):
        client = JavaManager(self.fed.prosody, "stranger", self.fed.rdv.jid)
        self.addCleanup(client.close)
        return client

    def java_member(self):
        client = JavaManager(self.fed.prosody, "javamgr", self.fed.rdv.jid)
        self.addCleanup(client.close)

        def listed():
            client.beat()
            return "javamgr@localhost" in alive_ids(self.a)
        wait_until(listed, timeout=30, interval=0.2,
                   message="A to list the Java manager as a member")
        return client

    def test_a_stranger_is_refused_in_every_manager_namespace(self):
        client = self.stranger()
        payloads = {
            "order": java_order("stranger-order-1"),
            "getinstance": f'<query xmlns="{NS_BASE}getinstance"><instance>'
                           '<id>x</id></instance></query>',
            "removeinstance": f'<query xmlns="{NS_BASE}removeinstance">'
                              '<instance><id>x</id></instance></query>',
            "removeorder": f'<query xmlns="{NS_BASE}removeorder"><order><id>'
                           'stranger-order-1</id></order></query>',
            "instancebeingused": f'<query xmlns="{NS_BASE}instancebeingused">'
                                 '<order><id>o</id></order></query>',
            "getremoteuserquota": f'<query xmlns="{NS_BASE}getremoteuserquota">'
                                  '<token><accessId>t</accessId></token></query>',
            "storagelink": f'<query xmlns="{NS_BASE}storagelink"><storageLink>'
                           '<target>v</target><source>c</source><deviceId>'
                           '/dev/vdb</deviceId></storageLink></query>',
            "removestoragelink": f'<query xmlns="{NS_BASE}removestoragelink">'
                                 '<storageLink><id>l</id><target>v</target>'
                                 '<source>c</source></storageLink></query>',
        }
        self.assertEqual(set(payloads), set(MANAGER_NAMESPACES))
        for ns, payload in payloads.items():
            iq_type = "get" if ns in ("getinstance", "instancebeingused",
                                      "getremoteuserquota") else "set"
            reply = client.ask(self.to, payload, iq_type)
            self.assertEqual(reply.get("type"), "error", ns)
            self.assertEqual(error_condition(reply), ("auth", "not-authorized"),
                             ns)
        self.assertEqual(self.a.instances(), 0)

    def test_a_members_malformed_payloads_get_bad_request(self):
        client = self.java_member()
        malformed = {
            "order without an order id":
                ("set", java_order("x").replace("<order><id>x</id></order>", "")),
            "order with an empty order id":
                ("set", java_order("")),
            "order of an unknown resource kind":
                ("set", java_order("kind-1", kind="router")),
            "order of an unknown type":
                ("set", java_order("type-1", order_type="forever")),
            "getinstance without an instance":
                ("get", f'<query xmlns="{NS_BASE}getinstance"/>'),
            "removeinstance with an empty id":
                ("set", f'<query xmlns="{NS_BASE}removeinstance"><instance>'
                        '<id></id></instance></query>'),
            "removeorder without an order":
                ("set", f'<query xmlns="{NS_BASE}removeorder"/>'),
            "instancebeingused without an order or instance":
                ("get", f'<query xmlns="{NS_BASE}instancebeingused"/>'),
            "storagelink without source and target":
                ("set", f'<query xmlns="{NS_BASE}storagelink"><storageLink/>'
                        '</query>'),
            "removestoragelink without an id":
                ("set", f'<query xmlns="{NS_BASE}removestoragelink">'
                        '<storageLink/></query>'),
            "hostile nesting":
                ("set", f'<query xmlns="{NS_BASE}order">' + "<a>" * 60
                        + "</a>" * 60 + "</query>"),
        }
        for what, (iq_type, payload) in malformed.items():
            reply = client.ask(self.to, payload, iq_type)
            self.assertEqual(reply.get("type"), "error", what)
            self.assertEqual(error_condition(reply), ("modify", "bad-request"),
                             what)
        for what, ns in (("an unknown manager namespace", NS_BASE + "nope"),
                         ("a foreign namespace", "urn:example:not-fogbow")):
            reply = client.ask(self.to, f'<query xmlns="{ns}"/>')
            self.assertEqual(reply.get("type"), "error", what)
            self.assertIn(error_condition(reply)[1],
                          ("feature-not-implemented", "service-unavailable"),
                          what)
        # Nothing was created, and A still serves its own users.
        self.assertEqual(self.a.instances(), 0)
        [order] = self.a.post({"kind": "compute"})
        self.a.wait_fulfilled([order["id"]], timeout=30)
        self.assertEqual(self.a.instances(), 1)

    def test_a_java_order_is_served_once_and_removed_on_request(self):
        client = self.java_member()
        ns = NS_BASE + "order"
        first = client.ask(self.to, java_order("java-order-1"), "set")
        self.assertEqual(first.get("type"), "result", ET.tostring(first))
        instance = first.find(f"{q(ns, 'query')}/{q(ns, 'instance')}/"
                              f"{q(ns, 'id')}")
        self.assertIsNotNone(instance, ET.tostring(first))
        self.assertTrue(instance.text)
        # A retransmission (the requester timed out) gets the same instance.
        again = client.ask(self.to, java_order("java-order-1"), "set")
        self.assertEqual(again.get("type"), "result", ET.tostring(again))
        self.assertEqual(again.find(f"{q(ns, 'query')}/{q(ns, 'instance')}/"
                                    f"{q(ns, 'id')}").text, instance.text)
        self.assertEqual(self.a.instances(), 1)

        # getinstance tells its state (reference §4 shape).
        gi = NS_BASE + "getinstance"
        reply = client.ask(self.to, f'<query xmlns="{gi}"><instance><id>'
                                    f'{instance.text}</id></instance></query>')
        self.assertEqual(reply.get("type"), "result", ET.tostring(reply))
        state = reply.find(f"{q(gi, 'query')}/{q(gi, 'instance')}/"
                           f"{q(gi, 'state')}")
        self.assertIsNotNone(state, ET.tostring(reply))
        self.assertIn(state.text, ("PENDING", "RUNNING"))
        reply = client.ask(self.to, f'<query xmlns="{gi}"><instance><id>'
                                    'no-such-instance</id></instance></query>')
        self.assertEqual(error_condition(reply), ("cancel", "item-not-found"))

        # removeorder: the instance goes away at A.
        reply = client.ask(self.to, f'<query xmlns="{NS_BASE}removeorder">'
                                    '<order><id>java-order-1</id></order>'
                                    '<token><accessId>java-access-id</accessId>'
                                    '</token></query>', "set")
        self.assertEqual(reply.get("type"), "result", ET.tostring(reply))
        wait_until(lambda: self.a.instances() == 0, timeout=30,
                   message="the served instance to be removed")
        self.assertTrue(holds_for(lambda: self.a.instances() == 0, 2))

    def test_the_provider_reclaims_an_instance_the_requester_no_longer_has(self):
        client = self.java_member()
        reply = client.ask(self.to, java_order("java-order-2"), "set")
        self.assertEqual(reply.get("type"), "result", ET.tostring(reply))
        self.assertEqual(self.a.instances(), 1)
        ns = NS_BASE + "instancebeingused"
        probe = client.wait_request(ns, timeout=30)
        self.assertEqual(probe.get("type"), "get")
        order_id = probe.find(f"{q(ns, 'query')}/{q(ns, 'order')}/{q(ns, 'id')}")
        self.assertEqual(order_id.text, "java-order-2", ET.tostring(probe))
        client.send(f'<iq type="error" id="{probe.get("id")}" '
                    f'to="{probe.get("from")}"><error type="cancel">'
                    f'<item-not-found xmlns="{NS_STANZAS}"/></error></iq>')
        wait_until(lambda: self.a.instances() == 0, timeout=30,
                   message="A to reclaim the instance its requester disowned")


if __name__ == "__main__":
    unittest.main()
