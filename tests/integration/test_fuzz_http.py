"""A few thousand random and mutated request bodies against a real manager:
every answer is a JSON 2xx/4xx (never a 5xx or a dropped connection), the
server stays up, and exactly the orders it acknowledged are stored."""

import http.client
import json
import random
import unittest

from fogbow_harness import start_manager

CONFIG = """
[manager]
member_id = "fuzz.test"
max_orders_per_request = 3
[manager.driver]
kind = "instant"
vcpu = 4
memory_mb = 4096
instances = 4
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""

VALID = {
    "kind": "compute", "count": 1, "type": "persistent", "vcpu": 1, "memory_mb": 512,
    "disk_gb": 1, "image": "debian-12", "requirements": "Glue2RAM >= 256 && Glue2vCPU <= 4",
    "public_key": "ssh-ed25519 AAAA test", "user_data": "echo hi\n",
    "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z",
}
ODD_VALUES = [None, True, False, 0, -1, 2**31, 2**63, -2**63, 1e308, 1.5, "", "x" * 5000,
              [], {}, [1, "a"], {"a": {"b": None}}, "\u0000", "\ud7ff\u00e9", "1", "one-time",
              "compute", "volume", "Glue2RAM >=", "2026-13-45T99:99:99Z"]


def mutate(rng, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        pos = rng.randrange(len(data) + 1)
        if op == 0 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 1:
            data.insert(pos, rng.randrange(256))
        elif op == 2 and data:
            data[min(pos, len(data) - 1)] = rng.choice(b'{}[]",:\\0123456789aez \x00\xff')
        else:
            data[pos:pos] = rng.choice([b'"', b"{", b"]", b"null", b"-", b"1e999", b"\\u"])
    return bytes(data)


def random_body(rng) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:   # a valid body with fields dropped, added or retyped
        body = dict(VALID)
        for key in rng.sample(sorted(body), rng.randint(0, 4)):
            if rng.random() < 0.5:
                del body[key]
            else:
                body[key] = rng.choice(ODD_VALUES)
        if rng.random() < 0.2:
            body[rng.choice(["size_gb", "network_cidr", "extra", "Kind", "count "])] = 1
        return json.dumps(body).encode()
    if kind == 1:   # byte-level mutations of a valid body
        return mutate(rng, json.dumps(VALID).encode())
    if kind == 2:   # random bytes
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300)))
    return json.dumps(rng.choice(ODD_VALUES)).encode()


class Fuzz(unittest.TestCase):
    def test_random_bodies_never_break_the_server(self):
        m = start_manager(self, CONFIG)
        rng = random.Random(20261125)
        conn = http.client.HTTPConnection("127.0.0.1", m.port, timeout=10)
        created, statuses = set(), {}
        for i in range(3000):
            body = random_body(rng)
            conn.request("POST", "/v1/orders", body=body,
                         headers={"X-Auth-Token": "alice-secret",
                                  "Content-Type": "application/json"})
            res = conn.getresponse()
            text = res.read()
            statuses[res.status] = statuses.get(res.status, 0) + 1
            self.assertLess(res.status, 500, (i, body[:200], text[:300]))
            answer = json.loads(text)
            if res.status == 201:
                created.update(o["id"] for o in answer["orders"])
            else:
                self.assertIn(res.status, (400, 413, 415), (body[:200], text[:300]))
                self.assertTrue(answer["error"]["message"])
        conn.close()
        self.assertGreater(statuses.get(400, 0), 1000, statuses)
        self.assertGreater(statuses.get(201, 0), 10, statuses)
        status, listed = m.request("GET", "/v1/orders", token="alice-secret")
        self.assertEqual(status, 200)
        self.assertEqual({o["id"] for o in listed["orders"]}, created)
        self.assertEqual(m.request("GET", "/v1/status")[0], 200)


if __name__ == "__main__":
    unittest.main()
