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

Usage: federation_bench.py FOGBOW_BINARY [--orders 1000] [--sequential 200]
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


def ms(seconds):
    return f"{seconds * 1000:.2f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--orders", type=int, default=1000)
    ap.add_argument("--sequential", type=int, default=200)
    args = ap.parse_args()

    cleanups = Cleanups()
    try:
        fed = Federation(cleanups)
        # The configuration's default refresh and probe periods, not the
        # tests' short ones: each refresh of 1,000 remote instances and
        # each probe round is traffic of its own through Prosody.
        periods = {"monitor_interval_ms": 5000, "probe_interval_s": 30}
        a = fed.site("a", instances=0, manager=MANAGER, extra=HTTP, **periods)
        b = fed.site("b", instances=100_000, manager=MANAGER, extra=HTTP,
                     **periods)
        fed.wait_all_see_each_other()
        ping_p50, ping_p99, ping_rate = asyncio.run(ping_baseline(fed.prosody))
        print(f"Prosody ping (baseline): one at a time p50 {ms(ping_p50)} "
              f"p99 {ms(ping_p99)}; {ping_rate:,.0f} pings/s "
              f"(64 connections x 16 in flight)", flush=True)
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
        print(f"B runs {b.instances():,} instances, A {a.instances():,}")
    finally:
        cleanups.run()


if __name__ == "__main__":
    main()
