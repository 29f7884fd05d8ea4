"""The federation over ejabberd instead of Prosody: the same test cases,
run on a throw-away ejabberd (ejabberd_harness.py). Not every case is
repeated: the subset proves the XMPP bridge (connect, IQ round trips,
errors), the rendezvous (iamalive, paged whoisalive, expiry, whitelist,
server restart), the Java manager's exact stanzas and manager<->manager
orders; what the other cases test does not depend on the server.

Every test class of the other files runs on ejabberd as well with
FOGBOW_XMPP_SERVER=ejabberd (except the s2s ones, Prosody only)."""

import unittest

import test_federation
import test_federation_orders
import test_federation_protocol


class MembershipOnEjabberd(test_federation.FederationTest):
    xmpp_server = "ejabberd"


class ProtocolOnEjabberd(test_federation_protocol.FederationProtocol):
    xmpp_server = "ejabberd"


class PlacementOnEjabberd(test_federation_orders.FederationPlacement):
    xmpp_server = "ejabberd"


SUBSET = {
    MembershipOnEjabberd: (
        "test_three_managers_discover_each_other_page_by_page_and_expire",
        "test_whitelist_refuses_with_not_authorized_and_fails_closed",
        "test_prosody_restart_every_role_reconnects",
        "test_exact_java_manager_stanzas",
    ),
    ProtocolOnEjabberd: (
        "test_a_stranger_is_refused_in_every_manager_namespace",
        "test_a_java_order_is_served_once_and_removed_on_request",
    ),
    PlacementOnEjabberd: (
        "test_thirty_orders_fill_a_then_b_and_c_exactly_once",
    ),
}


def load_tests(loader, tests, pattern):
    """Only the subset above (unittest's load_tests protocol; the classes
    inherit every case of their base)."""
    del loader, tests, pattern
    suite = unittest.TestSuite()
    for case, names in SUBSET.items():
        for name in names:
            suite.addTest(case(name))
    return suite


if __name__ == "__main__":
    unittest.main()
