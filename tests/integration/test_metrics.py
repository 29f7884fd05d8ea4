"""GET /metrics on every role, scraped over real HTTP like Prometheus does,
parsed with the Prometheus project's own Python parser: the manager's REST
port (orders by kind and state, placement latency, SQLite commits, HTTP
answers), the tunnel's API port (sessions, public ports, forwarded bytes,
through a real `ssh -R`), and a rendezvous' metrics-only port ([metrics]
port) beside a federated manager (heartbeats, whoisalive pages, members,
XMPP connection and IQ round trips, over a real Prosody). Each check is on
how a series moved when work was done, not on its presence alone."""

import json
import os
import re
import socket
import unittest
import urllib.error
import urllib.request

from federation_harness import RENDEZVOUS_EXTRA, Federation, instant_driver
from fogbow_harness import reach_debian_package, start_manager, wait_until
from tunnel_harness import (MANAGER_SECRET, Service, SshForward,
                            free_port_range, http_get, make_key, read_pub,
                            start_tunnel, tunnel_section)

reach_debian_package("prometheus_client")
from prometheus_client.parser import \
    text_string_to_metric_families  # noqa: E402 (python3-prometheus-client)

TOKEN = "alice-secret"
SOURCE_DIR = os.environ.get(
    "FOGBOW_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def scrape(base_url):
    """{(name, ((label, value), ...)): value} of one scrape of base_url."""
    with urllib.request.urlopen(base_url + "/metrics", timeout=10) as res:
        if res.headers["Content-Type"] != CONTENT_TYPE:
            raise AssertionError(res.headers["Content-Type"])
        text = res.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def status_of(url, method="GET"):
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as res:
            return res.status
    except urllib.error.HTTPError as e:
        return e.code


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manager_config(metrics="enabled = true"):
    return f"""
[manager]
member_id = "metrics.test"
[manager.driver]
{instant_driver(10)}
[identity]
[[identity.users]]
id = "alice"
token = "{TOKEN}"
[metrics]
{metrics}
"""


class ManagerMetrics(unittest.TestCase):
    def test_orders_placement_commits_and_answers_move(self):
        m = start_manager(self, manager_config(), roles="manager")
        before = scrape(m.url)
        self.assertEqual(
            value(before, "fogbow_orders", kind="compute", state="fulfilled"),
            0)
        status, body = m.request("POST", "/v1/orders", token=TOKEN, body={
            "kind": "compute", "count": 3, "vcpu": 1, "memory_mb": 64})
        self.assertEqual(status, 201, body)
        ids = [o["id"] for o in body["orders"]]
        wait_until(lambda: all(
            m.request("GET", f"/v1/orders/{i}", token=TOKEN)[1]["state"]
            == "fulfilled" for i in ids), 20, message="orders fulfilled")
        after = scrape(m.url)
        self.assertEqual(
            value(after, "fogbow_orders", kind="compute", state="fulfilled"), 3)
        self.assertEqual(
            value(after, "fogbow_orders", kind="volume", state="open"), 0)
        self.assertEqual(value(after, "fogbow_instances"), 3)
        placed = ("fogbow_placement_seconds_count", {"place": "local"})
        self.assertEqual(value(after, placed[0], **placed[1])
                         - value(before, placed[0], **placed[1]), 3)
        self.assertEqual(value(after, "fogbow_placement_seconds_count",
                               place="remote"), 0)
        commits = ("fogbow_store_commit_seconds_count", {"store": "orders"})
        self.assertGreater(value(after, commits[0], **commits[1]),
                           value(before, commits[0], **commits[1]))
        self.assertEqual(value(after, "fogbow_http_responses_total",
                               server="rest", code="201"), 1)
        # The first scrape's own 200 was counted once it was sent.
        self.assertGreaterEqual(value(after, "fogbow_http_responses_total",
                                      server="rest", code="200"), 1)
        # Open to a scraper without a token; GET and HEAD only.
        self.assertEqual(status_of(m.url + "/metrics", "HEAD"), 200)
        self.assertEqual(status_of(m.url + "/metrics", "DELETE"), 405)

    def test_disabled_metrics_are_not_served(self):
        m = start_manager(self, manager_config("enabled = false"),
                          roles="manager")
        self.assertEqual(status_of(m.url + "/metrics"), 404)
        self.assertEqual(status_of(m.url + "/v1/status"), 200)


class TunnelMetrics(unittest.TestCase):
    def test_sessions_ports_and_bytes_move(self):
        low, high = free_port_range(4)
        t = start_tunnel(self, tunnel_section(low, high))
        before = scrape(t.url)
        self.assertEqual(value(before, "fogbow_tunnel_ports", use="size"), 4)
        self.assertEqual(value(before, "fogbow_tunnel_ports", use="in_use"), 0)
        self.assertEqual(value(before, "fogbow_tunnel_sessions"), 0)
        secret = "secret-of-order-m-0123"
        port = t.register("order-m", secret)
        key = make_key(t.workspace, "key-m")
        status, text = t.call("POST", "/token/order-m/key", body=read_pub(key),
                              user="order-m", secret=secret)
        self.assertEqual(status, 200, text)
        reply = "x" * 10000
        service = Service(self, reply)
        forward = SshForward(self, t, "order-m", key, port, service.port)
        body = wait_until(lambda: http_get(port), 15, message="tunnel up")
        self.assertEqual(body, reply.encode())
        during = scrape(t.url)
        self.assertEqual(value(during, "fogbow_tunnel_ports", use="in_use"), 1)
        self.assertEqual(value(during, "fogbow_tunnel_sessions"), 1)
        # The visitor's request went to the instance, the page came back.
        self.assertGreater(value(during, "fogbow_tunnel_forwarded_bytes_total",
                                 direction="to_instance"), 30)
        self.assertGreaterEqual(
            value(during, "fogbow_tunnel_forwarded_bytes_total",
                  direction="from_instance"), len(reply))
        forward.stop()
        wait_until(lambda: value(scrape(t.url), "fogbow_tunnel_sessions") == 0,
                   15, message="the session counted out")
        status, text = t.call("DELETE", "/token/order-m",
                              secret=MANAGER_SECRET)
        self.assertEqual(status, 200, text)
        self.assertEqual(
            value(scrape(t.url), "fogbow_tunnel_ports", use="in_use"), 0)


class RendezvousMetrics(unittest.TestCase):
    def test_heartbeats_pages_members_and_xmpp_move(self):
        port = free_port()
        fed = Federation(self, rendezvous_extra=RENDEZVOUS_EXTRA
                         + f"\n[metrics]\nport = {port}\n")
        rdv_url = f"http://127.0.0.1:{port}"
        self.assertEqual(value(scrape(rdv_url), "fogbow_rendezvous_members"),
                         0)
        a = fed.site("a")
        first = wait_until(
            lambda: (s := scrape(rdv_url))
            and value(s, "fogbow_rendezvous_members") == 1 and s,
            15, message="a's heartbeat counted")
        self.assertGreaterEqual(
            value(first, "fogbow_rendezvous_heartbeats_total"), 1)
        # Heartbeats keep coming (period 1 s); pages are pulled.
        wait_until(lambda: value(scrape(rdv_url),
                                 "fogbow_rendezvous_heartbeats_total")
                   >= value(first, "fogbow_rendezvous_heartbeats_total") + 2,
                   15, message="more heartbeats")
        self.assertGreaterEqual(
            value(scrape(rdv_url), "fogbow_rendezvous_whoisalive_total"), 1)
        rdv = scrape(rdv_url)
        self.assertEqual(value(rdv, "fogbow_xmpp_connected",
                               account="rdv@localhost"), 1)
        # The metrics-only port serves nothing else.
        self.assertEqual(status_of(rdv_url + "/v1/status"), 404)
        # The manager: connected, round trips of its heartbeats timed.
        site = scrape(a.url)
        self.assertEqual(value(site, "fogbow_xmpp_connected",
                               account=a.id), 1)
        self.assertGreaterEqual(value(site, "fogbow_members_alive"), 1)
        heartbeats = [v for (name, labels), v in site.items()
                      if name == "fogbow_xmpp_iq_round_trip_seconds_count"
                      and ("namespace", "http://fogbowcloud.org/rendezvous/"
                           "iamalive") in labels]
        self.assertEqual(len(heartbeats), 1, sorted(site))
        self.assertGreaterEqual(heartbeats[0], 1)


class MetricsDocumentation(unittest.TestCase):
    """docs/metrics.md lists exactly the families src/metrics/ registers,
    and the Grafana dashboard queries only documented ones."""

    def read(self, *path):
        with open(os.path.join(SOURCE_DIR, *path)) as f:
            return f.read()

    def test_documented_families_are_the_registered_ones(self):
        registered = set(re.findall(r'\.Name\("(fogbow_[a-z_]+)"\)',
                                    self.read("src", "metrics", "metrics.cpp")))
        self.assertGreater(len(registered), 10)
        documented = set(re.findall(r"^\| `(fogbow_[a-z_]+)` \|",
                                    self.read("docs", "metrics.md"), re.M))
        self.assertEqual(documented, registered)

    def test_grafana_queries_documented_families(self):
        documented = set(re.findall(r"^\| `(fogbow_[a-z_]+)` \|",
                                    self.read("docs", "metrics.md"), re.M))
        dashboard = json.loads(self.read("docs", "grafana", "fogbow.json"))
        used = set()
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                for name in re.findall(r"fogbow_[a-z_]+", target["expr"]):
                    used.add(re.sub(r"_(bucket|count|sum)$", "", name))
        self.assertGreater(len(used), 10)
        self.assertLessEqual(used, documented)


if __name__ == "__main__":
    unittest.main()
