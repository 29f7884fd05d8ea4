"""docs/openapi.yaml against a real `fogbow --role=all`: the document the
manager serves is the YAML; every documented path and method is routed and
every other method of those paths gets 405 with the documented methods in
`Allow`; paths the document does not have get 404; real answers (success
and errors 400/401/403/404/405/411/413/415) validate against the schemas
the document gives for their path, method and status.

Needs python3-jsonschema and python3-yaml (scripts/install-deps.sh)."""

import http.client
import json
import os
import re
import unittest

import jsonschema
import yaml

from fogbow_harness import start_manager, wait_until

ROOT = os.environ.get("FOGBOW_SOURCE_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..")
DOCUMENT = os.path.join(ROOT, "docs", "openapi.yaml")

CONFIG = """
[manager]
member_id = "site-a.test"
[manager.driver]
kind = "instant"
vcpu = 64
memory_mb = 65536
instances = 100
[manager.accounting]
period_s = 1
[http]
max_body_bytes = 1024
max_page_size = 50
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
[[identity.users]]
id = "carol"
token = "carol-secret"
[authorization]
plugin = "user-whitelist"
users = ["alice"]
"""

ALICE = "alice-secret"
CAROL = "carol-secret"  # authenticated, but not allowed anything
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def load_document():
    with open(DOCUMENT, encoding="utf-8") as f:
        return yaml.safe_load(f)


class Api:
    """Raw requests: (status, headers, body: parsed JSON, text when not
    JSON (/metrics), or None)."""

    def __init__(self, port):
        self.port = port

    def call(self, method, path, body=None, token=ALICE, headers=None,
             raw_body=None, no_length=False):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            hdrs = dict(headers or {})
            data = raw_body
            if body is not None:
                data = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            if token is not None:
                hdrs["X-Auth-Token"] = token
            if no_length:  # http.client adds Content-Length: 0 otherwise
                conn.putrequest(method, path)
                for name, value in hdrs.items():
                    conn.putheader(name, value)
                conn.endheaders()
            else:
                conn.request(method, path, body=data, headers=hdrs)
            res = conn.getresponse()
            text = res.read()
            json_body = (res.getheader("Content-Type") or "").startswith(
                "application/json")
            parsed = (json.loads(text) if json_body else text.decode()) \
                if text else None
            return res.status, dict(res.getheaders()), parsed
        finally:
            conn.close()


class OpenApiTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.doc = load_document()
        cls.manager = start_manager(cls, CONFIG)
        cls.api = Api(cls.manager.port)

    # -- the document ---------------------------------------------------

    def schema_for(self, template, method, status):
        """The schema of the answer documented for this path, method and
        status (the `default` one for errors not listed); None when the
        documented answer has no body."""
        op = self.doc["paths"][template][method.lower()]
        responses = op["responses"]
        key = str(status)
        if key not in responses:
            self.assertGreaterEqual(
                status, 400, f"{method} {template}: {status} not documented")
            key = "default"
        response = responses[key]
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[1]
            response = self.doc["components"]["responses"][name]
        content = response.get("content")
        return content["application/json"]["schema"] if content else None

    def validate(self, schema, value, what):
        root = dict(schema, components=self.doc["components"])
        try:
            jsonschema.Draft202012Validator(root).validate(value)
        except jsonschema.ValidationError as e:
            self.fail(f"{what}: {e.message} at {list(e.absolute_path)}\n"
                      f"{json.dumps(value)[:2000]}")

    def check(self, template, method, path=None, expect=None, **kwargs):
        """Sends the request and validates its answer against the document;
        returns (status, headers, body)."""
        status, headers, body = self.api.call(method, path or template,
                                              **kwargs)
        if expect is not None:
            self.assertEqual(status, expect, f"{method} {path}: {body}")
        schema = self.schema_for(template, method, status)
        what = f"{method} {path or template} -> {status}"
        if schema is None:
            self.assertIsNone(body, what)
        else:
            self.assertEqual(headers.get("Content-Type"), "application/json",
                             what)
            self.validate(schema, body, what)
        return status, headers, body

    def error_schema(self):
        return {"$ref": "#/components/schemas/Error"}

    def test_the_served_document_is_the_yaml(self):
        status, headers, body = self.api.call("GET", "/v1/openapi.json",
                                              token=None)
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("Content-Type"), "application/json")
        self.assertEqual(body, self.doc)
        self.assertTrue(self.doc["openapi"].startswith("3.1"))
        for name, schema in self.doc["components"]["schemas"].items():
            with self.subTest(schema=name):
                jsonschema.Draft202012Validator.check_schema(schema)

    # -- routes, both ways ---------------------------------------------

    def documented(self):
        """(template, path with ids, methods) of every documented path."""
        out = []
        for template, item in self.doc["paths"].items():
            methods = {m.upper() for m in item if m.upper() in METHODS}
            path = re.sub(r"\{[^}]+\}", "x", template)
            out.append((template, path, methods))
        return out

    def test_every_documented_operation_is_routed(self):
        for template, path, methods in self.documented():
            for method in methods:
                with self.subTest(method=method, path=path):
                    body = {} if method == "POST" else None
                    status, _, answer = self.api.call(method, path, body=body)
                    self.assertNotEqual(status, 405, answer)
                    # The router's own 404 says no such resource; a
                    # handler's names what it did not find (order x).
                    if status == 404:
                        self.assertNotEqual(answer["error"]["message"],
                                            "no such resource")

    def test_other_methods_of_documented_paths_get_405(self):
        for template, path, methods in self.documented():
            for method in set(METHODS) - methods:
                with self.subTest(method=method, path=path):
                    status, headers, answer = self.api.call(method, path)
                    self.assertEqual(status, 405, answer)
                    allowed = {m.strip() for m in headers["Allow"].split(",")}
                    self.assertEqual(allowed, methods)
                    self.validate(self.error_schema(), answer, "405")
                    self.assertEqual(answer["error"]["code"],
                                     "method_not_allowed")

    def test_paths_the_document_lacks_get_404(self):
        templates = [re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+",
                                             re.escape(t)) + "$")
                     for t in self.doc["paths"]]
        candidates = set()
        # Under /v1/ only: other paths (the dashboard's files at /) are
        # not the API's.
        for _, path, _ in self.documented():
            candidates |= {path + "/x", path + "/x/y", path.rsplit("/", 1)[0],
                           path + ".json"}
        candidates |= {"/v1", "/v1/", "/v1/instances", "/v1/quota",
                       "/v1/token", "/v1/openapi.yaml", "/v1/members/x/y",
                       "/v1/orders/", "/v1//orders", "/v1/computes/x/y"}
        undocumented = {p for p in candidates if p.startswith("/v1")
                        and not any(t.match(p) for t in templates)}
        self.assertGreater(len(undocumented), 40)
        for path in sorted(undocumented):
            with self.subTest(path=path):
                status, _, answer = self.api.call("GET", path)
                self.assertEqual(status, 404, answer)
                self.validate(self.error_schema(), answer, f"GET {path}")
                self.assertEqual(answer["error"]["message"],
                                 "no such resource")

    # -- real answers against the schemas ------------------------------

    def test_answers_of_a_session_validate(self):
        self.check("/v1/status", "GET", token=None, expect=200)
        _, _, created = self.check(
            "/v1/orders", "POST", expect=201,
            body={"kind": "compute", "vcpu": 1, "memory_mb": 256})
        compute_order = created["orders"][0]["id"]
        _, _, vol = self.check("/v1/orders", "POST", expect=201,
                               body={"kind": "volume", "size_gb": 2})
        self.check("/v1/orders", "POST", expect=201,
                   body={"kind": "network", "network_cidr": "10.9.0.0/24"})
        volume_order = vol["orders"][0]["id"]

        def fulfilled(order_id):
            _, _, o = self.api.call("GET", f"/v1/orders/{order_id}")
            return o["state"] == "fulfilled"

        wait_until(lambda: fulfilled(compute_order) and fulfilled(volume_order),
                   timeout=20, message="orders fulfilled")
        _, _, att = self.check(
            "/v1/orders", "POST", expect=201,
            body={"kind": "attachment", "compute": compute_order,
                  "volume": volume_order, "device": "/dev/vdb"})
        wait_until(lambda: fulfilled(att["orders"][0]["id"]), timeout=20,
                   message="attachment fulfilled")

        _, _, orders = self.check("/v1/orders", "GET", expect=200)
        self.assertEqual(len(orders["orders"]), 4)
        self.check("/v1/orders/{id}", "GET", f"/v1/orders/{compute_order}",
                   expect=200)
        for collection in ("computes", "volumes", "networks", "attachments"):
            _, _, page = self.check(f"/v1/{collection}", "GET", expect=200)
            self.assertEqual(len(page[collection]), 1, collection)
            one = page[collection][0]["id"]
            self.check(f"/v1/{collection}/{{id}}", "GET",
                       f"/v1/{collection}/{one}", expect=200)
        _, _, members = self.check("/v1/members", "GET", expect=200)
        self.assertEqual(members["members"][0]["id"], "site-a.test")
        self.check("/v1/members/{id}/quota", "GET",
                   "/v1/members/site-a.test/quota", expect=200)
        wait_until(lambda: self.api.call("GET", "/v1/usage")[2]["records"],
                   timeout=20, message="usage recorded")
        self.check("/v1/usage", "GET", expect=200)
        self.check("/v1/members/{id}/usage", "GET",
                   "/v1/members/site-a.test/usage", expect=200)

        _, _, attachments = self.api.call("GET", "/v1/attachments")
        attachment = attachments["attachments"][0]["id"]
        self.check("/v1/attachments/{id}", "DELETE",
                   f"/v1/attachments/{attachment}", expect=204)
        self.check("/v1/orders/{id}", "DELETE",
                   f"/v1/orders/{volume_order}", expect=200)

    def test_error_answers_validate(self):
        # 400: a bad body, a bad limit, an unknown marker
        self.check("/v1/orders", "POST", expect=400, body={"kind": "disk"})
        self.check("/v1/orders", "GET", "/v1/orders?limit=0", expect=400)
        self.check("/v1/orders", "GET", "/v1/orders?limit=51", expect=400)
        self.check("/v1/computes", "GET", "/v1/computes?marker=nope",
                   expect=400)
        self.check("/v1/members", "GET", "/v1/members?marker=nope",
                   expect=400)
        self.check("/v1/usage", "GET", "/v1/usage?user=", expect=400)
        # 401: no token, a wrong one
        self.check("/v1/orders", "GET", token=None, expect=401)
        self.check("/v1/members", "GET", token="wrong", expect=401)
        # 403: not on the whitelist; someone else's usage
        self.check("/v1/orders", "GET", token=CAROL, expect=403)
        self.check("/v1/usage", "GET", "/v1/usage?user=carol", expect=403)
        # 404
        self.check("/v1/orders/{id}", "GET", "/v1/orders/nope", expect=404)
        self.check("/v1/volumes/{id}", "DELETE", "/v1/volumes/nope@x",
                   expect=404)
        # 411, 413, 415
        self.check("/v1/orders", "POST", expect=411, no_length=True)
        self.check("/v1/orders", "POST", expect=413,
                   raw_body=b"{" + b" " * 2048 + b"}",
                   headers={"Content-Type": "application/json"})
        self.check("/v1/orders", "POST", expect=415, raw_body=b"kind=compute",
                   headers={"Content-Type": "text/plain"})
        self.check("/v1/tokens", "POST", token=None, expect=501,
                   body={"user": "alice", "password": "x"})


if __name__ == "__main__":
    unittest.main()
