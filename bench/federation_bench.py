#!/usr/bin/env python3
"""bench/federation: orders forwarded over XMPP vs. placed locally, against
Prosody's own IQ round trip, all measured in one run (see bench/README.md).

Starts a throw-away Prosody, a rendezvous and two managers, A and B, with
the `instant` driver (instances are created in memory, so cloud time is
zero and only the order path and the federation protocol are measured). A
has no room (`instances = 0`): every order posted at A is forwarded to B.
B has room for everything.

  1. baseline: Prosody's IQ round trip, XMPP ping (XEP-0199) to the
     server: latency of one ping at a time (p50/p99), and the rate with 64
     connections × 16 pings in flight;
  2. local placement, orders posted at B: POST -> fulfilled latency, one
     order at a time (the client polls GET /v1/orders/{id}); then N orders
     (batches of 100, back to back) timed until the last is fulfilled
     (orders/s), with each order's created_at -> fulfilled_at (server
     clock) p50/p99;
  3. remote placement, the same at A: every order crosses A -> Prosody ->
     B -> Prosody -> A.

Prints the figures and the ratios the issue asks about: remote p50 against
3 × ping RTT + local p50, and forwarded orders/s against 1,000/s.

Then the same across two XMPP domains, as deployed (`--domains 2`; both
runs by default): A logs in to a.test, B to b.test, the two Prosodys are
joined by s2s over TLS with certificate authentication (the tests'
s2s_harness), and each domain runs a rendezvous pulling the other. Every
forwarded order crosses A -> a.test -> b.test -> B and back. The baseline
is then Prosody's own s2s round trip: an XMPP ping from a client of a.test
to the server b.test, one at a time (p50/p99).

Usage: federation_bench.py FOGBOW_BINARY [--orders 1000] [--sequential 200]
                           [--domains 1|2|both]
"""

import argparse
import asyncio
import datetime
import http.client
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
sys.path.insert(0, HERE)
if len(sys.argv) > 1:
    os.environ["FOGBOW_BINARY"] = os.path.abspath(sys.argv[1])

from fogbow_harness import Cleanups  # noqa: E402
from federation_harness import TOKEN, Federation  # noqa: E402
from membership_bench import Conn, pct, pipelined_rate  # noqa: E402
from raw_xmpp import RawXmppClient  # noqa: E402
from s2s_harness import Domains  # noqa: E402
from xmpp_harness import DOMAIN  # noqa: E402

BATCH = 100
MANAGER = f"max_orders_per_request = {BATCH}\nmax_in_flight = 256\n"
# Info logging, as bench/orders runs: the harness reads "listening on".
HTTP = "[http]\nthreads = 16\n"


class Rest:
    """A keep-alive HTTP connection to one manager."""

    def __init__(self, site):
        self.port = site.port
        self.connect()

    def connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=30)
        self.conn.connect()
        self.conn.sock.setsockopt(6, 1, 1)  # TCP_NODELAY: no Nagle stalls

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body)
        headers = {"X-Auth-Token": TOKEN, "Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError,
                http.client.RemoteDisconnected):
            # The server closes idle keep-alive connections (5 s).
            self.connect()
            self.conn.request(method, path, body=data, headers=headers)
            res = self.conn.getresponse()
        raw = res.read()
        if res.status >= 300:
            raise RuntimeError(f"{method} {path}: {res.status} {raw[:300]!r}")
        return json.loads(raw) if raw else None


def parse_time(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def sequential_latency(rest, samples):
    """POST -> fulfilled, one order at a time, seconds per order."""
    latencies = []
    for _ in range(samples):
        t0 = time.perf_counter()
        [order] = rest.call("POST", "/v1/orders", {"kind": "compute"})["orders"]
        path = f"/v1/orders/{order['id']}"
        while order["state"] != "fulfilled":
            if order["state"] in ("failed", "closed", "deleted"):
                raise RuntimeError(f"order ended {order}")
            order = rest.call("GET", path)
        latencies.append(time.perf_counter() - t0)
    return latencies


def batch_run(rest, count, timeout=600):
    """`count` orders in batches of BATCH, posted back to back; returns
    (orders/s until the last is fulfilled, server-side latencies)."""
    before = fulfilled_count(rest)
    t0 = time.perf_counter()
    ids = []
    for start in range(0, count, BATCH):
        body = {"kind": "compute", "count": min(BATCH, count - start)}
        ids += [o["id"] for o in rest.call("POST", "/v1/orders", body)["orders"]]
    deadline = time.monotonic() + timeout
    while fulfilled_count(rest) - before < count:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {fulfilled_count(rest) - before} of "
                               f"{count} orders fulfilled after {timeout} s")
        time.sleep(0.005)
    elapsed = time.perf_counter() - t0
    wanted = set(ids)
    latencies = []
    for o in rest.call("GET", "/v1/orders")["orders"]:
        if o["id"] in wanted:
            latencies.append((parse_time(o["fulfilled_at"])
                              - parse_time(o["created_at"])).total_seconds())
    return count / elapsed, latencies


def fulfilled_count(rest):
    return rest.call("GET", "/v1/status")["orders_by_state"].get("fulfilled", 0)


async def ping_baseline(prosody, seconds=5, samples=2000):
    """(p50, p99 of one ping at a time, pipelined pings/s)."""
    for i in range(64):
        prosody.add_account(f"ping{i}", "pw")
    conns = await asyncio.gather(*(Conn.open(prosody.c2s, f"ping{i}", "pw")
                                   for i in range(64)))
    one = conns[0]
    latencies = []
    for n in range(samples):
        t0 = time.perf_counter()
        one.send(f"<iq type='get' id='s{n}' to='{DOMAIN}'>"
                 f"<ping xmlns='urn:xmpp:ping'/></iq>")
        await one.next_iq()
        latencies.append(time.perf_counter() - t0)
    rate = await pipelined_rate(
        conns, lambda n: f"<iq type='get' id='p{n}' to='{DOMAIN}'>"
                         f"<ping xmlns='urn:xmpp:ping'/></iq>", seconds)
    for c in conns:
        c.writer.close()
    return pct(latencies, 50), pct(latencies, 99), rate


def s2s_ping(prosody, target, samples=2000):
    """(p50, p99) of one XMPP ping at a time from a client of `prosody`'s
    domain to the server `target`: a round trip through both servers and
    the s2s links between them."""
    prosody.add_account("ping", "pw")
    client = RawXmppClient(prosody.c2s, "ping", "pw", domain=prosody.domain,
                           host=prosody.address, resource="bench")
    # The first ping opens the s2s links (TLS, certificate checks).
    ping = "<iq type='get' id='{0}' to='{1}'><ping xmlns='urn:xmpp:ping'/></iq>"
    client.iq(ping.format("warm", target), "warm")
    latencies = []
    for n in range(samples):
        t0 = time.perf_counter()
        reply = client.iq(ping.format(f"s{n}", target), f"s{n}")
        latencies.append(time.perf_counter() - t0)
        if reply.get("type") != "result":
            raise RuntimeError(f"s2s ping to {target} failed")
    client.close()
    return pct(latencies, 50), pct(latencies, 99)


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def start_sites(cleanups, domains):
    """(fed, a, b, baseline p50, baseline p99, description)."""
    # The configuration's default refresh and probe periods, not the
    # tests' short ones: each refresh of 1,000 remote instances and each
    # probe round is traffic of its own through Prosody.
    periods = {"monitor_interval_ms": 5000, "probe_interval_s": 30}
    common = {"manager": MANAGER, "extra": HTTP, **periods}
    if domains == 1:
        fed = Federation(cleanups)
        a = fed.site("a", instances=0, **common)
        b = fed.site("b", instances=100_000, **common)
        fed.wait_all_see_each_other()
        p50, p99, rate = asyncio.run(ping_baseline(fed.prosody))
        print(f"Prosody ping (baseline): one at a time p50 {ms(p50)} "
              f"p99 {ms(p99)}; {rate:,.0f} pings/s "
              f"(64 connections x 16 in flight)", flush=True)
        return fed, a, b, p50, p99
    xmpp = Domains(cleanups, ["a.test", "b.test"])
    fed = Federation(cleanups, xmpp=xmpp)
    a = fed.site("a", instances=0, domain="a.test", **common)
    b = fed.site("b", instances=100_000, domain="b.test", **common)
    fed.wait_all_see_each_other(timeout=60)
    p50, p99 = s2s_ping(xmpp["a.test"], "b.test")
    print(f"Prosody s2s ping a.test client -> server b.test (baseline): "
          f"one at a time p50 {ms(p50)} p99 {ms(p99)}", flush=True)
    return fed, a, b, p50, p99


def run(args, domains):
    """One setup (1: one Prosody; 2: a.test and b.test joined by s2s)."""
    cleanups = Cleanups()
    try:
        print(f"--- {'one XMPP server' if domains == 1 else 'two XMPP domains, s2s over TLS'}",
              flush=True)
        fed, a, b, ping_p50, _ = start_sites(cleanups, domains)
        rest_a, rest_b = Rest(a), Rest(b)
        figures = {}
        for name, rest in (("local (orders at B)", rest_b),
                           ("remote (orders at A, served by B)", rest_a)):
            rest.call("POST", "/v1/orders", {"kind": "compute"})  # warm-up
            seq = sequential_latency(rest, args.sequential)
            rate, lat = batch_run(rest, args.orders)
            figures[name] = (pct(seq, 50), pct(seq, 99), rate, pct(lat, 50),
                             pct(lat, 99))
            print(f"{name}: one at a time p50 {ms(pct(seq, 50))} p99 "
                  f"{ms(pct(seq, 99))}; {args.orders} orders: "
                  f"{rate:,.0f} orders/s, created->fulfilled p50 "
                  f"{ms(pct(lat, 50))} p99 {ms(pct(lat, 99))}", flush=True)
        local, remote = figures.values()
        bound = 3 * ping_p50 + local[0]
        print(f"ratio remote p50 / (3 x ping p50 + local p50) = "
              f"{ms(remote[0])} / {ms(bound)} = {remote[0] / bound:.2f} "
              f"(aim <= 1)")
        print(f"ratio forwarded orders/s / 1,000 = {remote[2] / 1000:.2f} "
              f"(aim >= 1); forwarded / local orders/s = "
              f"{remote[2] / local[2]:.2f}")
        print(f"B runs {b.instances():,} instances, A {a.instances():,}",
              flush=True)
    finally:
        cleanups.run()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--sequential", type=int, default=200)
    ap.add_argument("--domains", choices=("1", "2", "both"), default="both",
                    help="one Prosody, two domains joined by s2s, or both "
                         "runs one after the other (default)")
    args = ap.parse_args()
    for domains in ((1, 2) if args.domains == "both" else
                    (int(args.domains),)):
        run(args, domains)


if __name__ == "__main__":
    main()
