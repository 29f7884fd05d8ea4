"""Paged lists of a real `fogbow --role=all` (instant driver): limit,
marker, filters and next links over HTTP, and `fogbow order list` /
`compute list` / `member list` following every page."""

import json
import os
import unittest
import urllib.parse

from fogbow_harness import fogbow, start_manager, wait_until

CONFIG = """
[manager]
member_id = "site-a.test"
[manager.driver]
kind = "instant"
vcpu = 64
memory_mb = 65536
instances = 100
[http]
max_page_size = 20
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
[[identity.users]]
id = "bob"
token = "bob-secret"
"""

ALICE = "alice-secret"
BOB = "bob-secret"


class PagingTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.manager = start_manager(cls, CONFIG)
        status, created = cls.manager.request(
            "POST", "/v1/orders", {"kind": "compute", "vcpu": 1,
                                   "memory_mb": 64, "count": 7}, ALICE)
        assert status == 201, created
        status, _ = cls.manager.request(
            "POST", "/v1/orders", {"kind": "volume", "size_gb": 1, "count": 2},
            ALICE)
        assert status == 201
        cls.manager.request("POST", "/v1/orders",
                            {"kind": "compute", "vcpu": 1, "memory_mb": 64},
                            BOB)

        def all_fulfilled():
            _, page = cls.manager.request("GET", "/v1/orders", token=ALICE)
            return all(o["state"] == "fulfilled" for o in page["orders"])

        wait_until(all_fulfilled, timeout=20, message="orders fulfilled")

    def get(self, path, token=ALICE):
        return self.manager.request("GET", path, token=token)

    def walk(self, path, key):
        """(items, pages) following next links from `path`."""
        items, pages = [], 0
        while path:
            status, page = self.get(path)
            self.assertEqual(status, 200, page)
            items += page[key]
            pages += 1
            self.assertLessEqual(pages, 20, "endless pages")
            nexts = [l["href"] for l in page["links"] if l["rel"] == "next"]
            path = nexts[0] if nexts else None
        return items, pages

    def test_walking_pages_gives_the_whole_list_once_in_order(self):
        _, everything = self.get("/v1/orders?limit=20")
        self.assertEqual(everything["links"], [])
        all_ids = [o["id"] for o in everything["orders"]]
        self.assertEqual(len(all_ids), 9)
        keys = [(o["created_at"], o["id"]) for o in everything["orders"]]
        self.assertEqual(keys, sorted(keys))
        items, pages = self.walk("/v1/orders?limit=4", "orders")
        self.assertEqual([o["id"] for o in items], all_ids)
        self.assertEqual(pages, 3)

    def test_the_next_link_names_limit_marker_and_filters(self):
        status, page = self.get("/v1/orders?limit=2&kind=compute&state=fulfilled")
        self.assertEqual(status, 200)
        self.assertEqual(len(page["orders"]), 2)
        [link] = page["links"]
        self.assertEqual(link["rel"], "next")
        url = urllib.parse.urlsplit(link["href"])
        self.assertEqual(url.path, "/v1/orders")
        query = urllib.parse.parse_qs(url.query)
        self.assertEqual(query, {"limit": ["2"],
                                 "marker": [page["orders"][1]["id"]],
                                 "kind": ["compute"],
                                 "state": ["fulfilled"]})
        items, _ = self.walk(link["href"], "orders")
        self.assertEqual(len(items), 5)
        self.assertTrue(all(o["kind"] == "compute" for o in items))

    def test_filters(self):
        _, volumes = self.get("/v1/orders?kind=volume")
        self.assertEqual(len(volumes["orders"]), 2)
        _, open_ = self.get("/v1/orders?state=open")
        self.assertEqual(open_["orders"], [])
        _, ready = self.get("/v1/volumes?state=ready")
        self.assertEqual(len(ready["volumes"]), 2)
        _, failed = self.get("/v1/computes?state=failed")
        self.assertEqual(failed["computes"], [])

    def test_instances_page_with_their_ids_as_marker(self):
        items, pages = self.walk("/v1/computes?limit=3", "computes")
        self.assertEqual(len(items), 7)
        self.assertEqual(pages, 3)
        self.assertEqual(len({x["id"] for x in items}), 7)

    def test_members_page(self):
        items, pages = self.walk("/v1/members?limit=1", "members")
        self.assertEqual([m["id"] for m in items], ["site-a.test"])
        self.assertEqual(pages, 1)

    def test_default_page_is_the_configured_maximum(self):
        status, page = self.get("/v1/orders")
        self.assertEqual(status, 200)
        self.assertEqual(len(page["orders"]), 9)
        self.assertEqual(page["links"], [])

    def test_bad_limits_and_markers_are_refused(self):
        for query in ("limit=0", "limit=-1", "limit=21", "limit=x",
                      "limit=", "marker=", "marker=no-such-order",
                      "state=running", "kind=disk"):
            with self.subTest(query=query):
                status, body = self.get("/v1/orders?" + query)
                self.assertEqual(status, 400, body)
                self.assertEqual(body["error"]["code"], "invalid_argument")
        # Another user's order is no marker of yours.
        _, bobs = self.get("/v1/orders", token=BOB)
        status, _ = self.get("/v1/orders?marker=" + bobs["orders"][0]["id"])
        self.assertEqual(status, 400)
        for path in ("/v1/computes?marker=nope", "/v1/volumes?limit=100",
                     "/v1/computes?state=open", "/v1/members?marker=nope"):
            with self.subTest(path=path):
                self.assertEqual(self.get(path)[0], 400)

    def cli(self, *args):
        env = {"FOGBOW_URL": self.manager.url, "FOGBOW_TOKEN": ALICE}
        return fogbow(*args, env={**os.environ, **env})

    def test_cli_lists_follow_every_page(self):
        done = self.cli("order", "list", "--limit", "2", "--json")
        self.assertEqual(done.returncode, 0, done.stderr)
        listed = json.loads(done.stdout)["orders"]
        _, everything = self.get("/v1/orders")
        self.assertEqual([o["id"] for o in listed],
                         [o["id"] for o in everything["orders"]])
        done = self.cli("compute", "list", "--limit", "3")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout.count("@site-a.test"), 7, done.stdout)
        done = self.cli("volume", "list", "--limit", "1", "--json")
        self.assertEqual(len(json.loads(done.stdout)["volumes"]), 2)
        done = self.cli("member", "list", "--limit", "1")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("site-a.test", done.stdout)
        done = self.cli("order", "list", "--limit", "0")
        self.assertEqual(done.returncode, 2, done.stderr)


if __name__ == "__main__":
    unittest.main()
