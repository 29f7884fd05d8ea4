#!/usr/bin/env python3
"""GET /v1/orders of one user with many orders, paged and unpaged.

Starts `fogbow --role=all` with the `instant` driver (config/benchmark.toml)
and `[http] max_page_size` large enough for one page to hold every order,
creates --orders orders for one user, waits until all are fulfilled, then
measures over one keep-alive connection (median of --repeat runs):

  baseline   GET /v1/orders?limit=N, N = every order: the one body the API
             gave before it paged;
  first page GET /v1/orders (the default page, 1000 orders);
  walk       every page, following the `next` links, default page size;
  walk-100   the same with limit=100.

Prints time and bytes of each and their ratio to the baseline."""

import argparse
import http.client
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from fogbow_harness import Manager, wait_until  # noqa: E402

TOKEN = "alice-secret"


def config(orders):
    with open(os.path.join(HERE, "..", "config", "benchmark.toml")) as f:
        text = f.read()
    text = text.replace("[http]\n", f"[http]\nmax_page_size = {orders}\n", 1)
    # The harness waits for the "listening on" line, logged at info.
    return text.replace('level = "warn"', 'level = "info"')


class Client:
    def __init__(self, port):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path):
        self.conn.request("GET", path, headers={"X-Auth-Token": TOKEN})
        res = self.conn.getresponse()
        body = res.read()
        if res.status != 200:
            raise RuntimeError(f"GET {path}: {res.status} {body[:200]!r}")
        return body

    def post(self, path, doc):
        self.conn.request("POST", path, body=json.dumps(doc),
                          headers={"X-Auth-Token": TOKEN,
                                   "Content-Type": "application/json"})
        res = self.conn.getresponse()
        body = res.read()
        if res.status != 201:
            raise RuntimeError(f"POST {path}: {res.status} {body[:200]!r}")
        return json.loads(body)


def timed(fn, repeat):
    """(median seconds, result of the last run)."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def walk(client, path):
    """Every page from `path` on: (bytes, pages, orders)."""
    size = pages = orders = 0
    while path:
        body = client.get(path)
        doc = json.loads(body)
        size += len(body)
        pages += 1
        orders += len(doc["orders"])
        path = next((l["href"] for l in doc["links"] if l["rel"] == "next"),
                    None)
    return size, pages, orders


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    manager = Manager()
    try:
        manager.start(config(args.orders))
        client = Client(manager.port)
        for start in range(0, args.orders, 10000):
            count = min(10000, args.orders - start)
            client.post("/v1/orders", {"kind": "compute", "vcpu": 1,
                                       "memory_mb": 1, "count": count})

        def all_fulfilled():
            status = json.loads(client.get("/v1/status"))
            return status["orders_by_state"].get("fulfilled", 0) == args.orders

        wait_until(all_fulfilled, timeout=300, interval=0.5,
                   message="every order fulfilled")

        base_t, base = timed(
            lambda: client.get(f"/v1/orders?limit={args.orders}"), args.repeat)
        assert len(json.loads(base)["orders"]) == args.orders
        first_t, first = timed(lambda: client.get("/v1/orders"), args.repeat)
        walk_t, (walk_b, walk_p, walk_n) = timed(
            lambda: walk(client, "/v1/orders"), args.repeat)
        assert walk_n == args.orders, walk_n
        w100_t, (w100_b, w100_p, w100_n) = timed(
            lambda: walk(client, "/v1/orders?limit=100"), args.repeat)
        assert w100_n == args.orders, w100_n

        print(f"GET /v1/orders of a user with {args.orders} orders "
              f"(median of {args.repeat}):")
        print(f"{'':28}{'time':>10}{'bytes':>12}{'pages':>7}"
              f"{'time/base':>11}{'bytes/base':>12}")
        rows = [("baseline (one page, all)", base_t, len(base), 1),
                ("first page (default 1000)", first_t, len(first), 1),
                ("walk, default pages", walk_t, walk_b, walk_p),
                ("walk, limit=100", w100_t, w100_b, w100_p)]
        for name, t, size, pages in rows:
            print(f"{name:28}{t * 1000:>8.1f}ms{size:>12,}{pages:>7}"
                  f"{t / base_t:>11.3f}{size / len(base):>12.3f}")
    finally:
        manager.cleanup()


if __name__ == "__main__":
    main()
