"""The user's CLI (`fogbow <noun> <verb>`), run as a real process.

Three groups: against a real manager (`fogbow --role=all`), against a stub
HTTP server that records what the CLI sends and answers canned JSON, and
against nothing at all (connection refused, usage errors).
"""

import http.server
import json
import os
import tempfile
import threading
import unittest

from fogbow_harness import closed_port, fogbow, start_manager, wait_until

CONFIG = """\
[manager]
member_id = "site-a.test"
[manager.driver]
kind = "local"
vcpu = 8
memory_mb = 8192
instances = 4
[[manager.driver.flavors]]
name = "small"
vcpu = 1
memory_mb = 512
disk_gb = 10
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
name = "Alice"
token = "alice-secret"
[[identity.users]]
id = "bob"
name = "Bob"
token = "bob-secret"
[authorization]
plugin = "allow-all"
"""

ALICE = "alice-secret"
BOB = "bob-secret"
CONNECTION_REFUSED = ("connection refused. Is `fogbow --role=manager` running? "
                      "Set --url or FOGBOW_URL.")


def table_rows(text):
    """Rows of a human table (header dropped), split into cells."""
    return [line.split() for line in text.splitlines()[1:] if line.strip()]


class CliAgainstManager(unittest.TestCase):
    """Every command against a real manager with the local driver."""

    @classmethod
    def setUpClass(cls):
        cls.manager = start_manager(cls, CONFIG)

    def cli(self, *args, token=ALICE, expect=0):
        result = fogbow(*args, "--url", self.manager.url,
                        *(("--token", token) if token else ()))
        self.assertEqual(result.returncode, expect,
                         f"fogbow {' '.join(args)}\nstdout: {result.stdout}\n"
                         f"stderr: {result.stderr}\nserver log:\n"
                         + self.manager.log_tail())
        return result

    def cli_json(self, *args, token=ALICE):
        return json.loads(self.cli(*args, "--json", token=token).stdout)

    def wait_fulfilled(self, order_id):
        def fulfilled():
            order = self.cli_json("order", "show", order_id)
            self.assertNotIn(order["state"], ("failed", "closed", "deleted"),
                             f"order {order_id} will not be served: {order}")
            return order if order["state"] == "fulfilled" else None
        return wait_until(fulfilled, timeout=60, interval=0.2,
                          message=f"order {order_id} to be fulfilled")

    def delete_order_later(self, order_id):
        self.addCleanup(self.manager.request, "DELETE", f"/v1/orders/{order_id}",
                        token=ALICE)

    def test_order_lifecycle_from_create_to_delete(self):
        created = self.cli("order", "create", "--kind", "compute", "--vcpu", "1",
                           "--memory-mb", "512")
        header = created.stdout.splitlines()[0].split()
        self.assertEqual(header, ["ID", "STATE", "TYPE", "KIND", "INSTANCE",
                                  "CREATED"])
        rows = table_rows(created.stdout)
        self.assertEqual(len(rows), 1, created.stdout)
        order_id = rows[0][0]
        self.delete_order_later(order_id)
        self.assertEqual(rows[0][3], "compute")

        listed = self.cli("order", "list").stdout
        self.assertIn(order_id, [row[0] for row in table_rows(listed)])

        shown = self.cli("order", "show", order_id).stdout
        self.assertRegex(shown, rf"(?m)^id:\s+{order_id}$")
        self.assertRegex(shown, r"(?m)^kind:\s+compute$")

        order = self.wait_fulfilled(order_id)
        instance_id = order["instance_id"]
        self.assertTrue(instance_id.endswith("@site-a.test"), order)
        self.assertEqual(order["providing_member"], "site-a.test")

        computes = self.cli_json("compute", "list")["computes"]
        mine = [c for c in computes if c["id"] == instance_id]
        self.assertEqual(len(mine), 1, computes)
        self.assertEqual(mine[0]["order_id"], order_id)
        self.assertIsNotNone(mine[0]["ip"], mine[0])

        table = self.cli("compute", "list").stdout
        self.assertEqual(table.splitlines()[0].split(),
                         ["ID", "STATE", "VCPU", "MEMORY", "IP", "ORDER"])
        row = next(r for r in table_rows(table) if r[0] == instance_id)
        self.assertEqual(row[4], mine[0]["ip"])
        self.assertEqual(row[5], order_id)

        self.assertEqual(self.cli_json("compute", "show", instance_id)["id"],
                         instance_id)
        self.assertRegex(self.cli("compute", "show", instance_id).stdout,
                         rf"(?m)^order_id:\s+{order_id}$")

        deleted = self.cli_json("order", "delete", order_id)
        self.assertEqual(deleted["id"], order_id)
        wait_until(lambda: instance_id not in
                   [c["id"] for c in self.cli_json("compute", "list")["computes"]],
                   timeout=60, message=f"instance {instance_id} to go away")

    def test_create_batch_with_options_and_user_data(self):
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write("#!/bin/sh\necho hello\n")
        self.addCleanup(os.unlink, f.name)
        created = self.cli_json("order", "create", "--kind", "compute",
                                "--count", "2", "--type", "persistent",
                                "--vcpu", "1", "--memory-mb", "512",
                                "--user-data-file", f.name)["orders"]
        for order in created:
            self.delete_order_later(order["id"])
        self.assertEqual(len(created), 2)
        self.assertEqual(len({o["id"] for o in created}), 2)
        self.assertEqual(created[0]["batch_id"], created[1]["batch_id"])
        for order in created:
            self.assertEqual(order["type"], "persistent")
            self.assertEqual(order["kind"], "compute")
            self.assertEqual(order["vcpu"], 1)
            self.assertEqual(order["memory_mb"], 512)
        for order in created:
            self.cli("order", "delete", order["id"])

    def test_member_list_and_quota(self):
        members = self.cli_json("member", "list")["members"]
        me = [m for m in members if m["self"]]
        self.assertEqual([m["id"] for m in me], ["site-a.test"])
        self.assertIn("site-a.test", self.cli("member", "list").stdout)

        quota = self.cli_json("quota", "show")
        self.assertEqual(quota["member_id"], "site-a.test")
        self.assertEqual(quota["vcpu"]["total"], 8)
        self.assertEqual(quota["memory_mb"]["total"], 8192)
        self.assertEqual(quota["instances"]["total"], 4)
        self.assertEqual(self.cli_json("quota", "show", "--member",
                                       "site-a.test")["member_id"], "site-a.test")

        table = self.cli("quota", "show").stdout
        self.assertIn("RESOURCE", table)
        rows = {line.split()[0]: line.split()
                for line in table.splitlines() if line.strip()}
        self.assertEqual(rows["memory_mb"][1], "8192")
        self.assertEqual(rows["vcpu"][1], "8")

        # `member quota ID` reads the same endpoint as `quota show --member`.
        self.assertEqual(self.cli_json("member", "quota", "site-a.test"),
                         self.cli_json("quota", "show"))
        table = self.cli("member", "quota", "site-a.test").stdout
        self.assertEqual(table.splitlines()[0], "member: site-a.test")
        rows = {row[0]: row for row in table_rows(table)[1:]}
        self.assertEqual(rows["instances"][1], "4")
        result = self.cli("member", "quota", "nobody.test", expect=1)
        self.assertIn("error: not found", result.stderr)

    def test_users_see_only_their_own_orders(self):
        order = self.cli_json("order", "create", "--kind", "compute")["orders"][0]
        self.delete_order_later(order["id"])
        bobs = self.cli_json("order", "list", token=BOB)["orders"]
        self.assertNotIn(order["id"], [o["id"] for o in bobs])
        alices = self.cli_json("order", "list")["orders"]
        self.assertIn(order["id"], [o["id"] for o in alices])

    def test_wrong_or_missing_token_is_an_authentication_error(self):
        for token in ("not-a-token", None):
            result = self.cli("order", "list", token=token, expect=1)
            self.assertIn("error: authentication failed", result.stderr)
            self.assertIn("Check --token or FOGBOW_TOKEN", result.stderr)
            self.assertEqual(result.stdout, "")

    def test_token_and_url_from_the_environment(self):
        result = fogbow("member", "list", "--json",
                        env={"FOGBOW_URL": self.manager.url,
                             "FOGBOW_TOKEN": ALICE})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("members", json.loads(result.stdout))

    def test_unknown_ids_are_not_found(self):
        for args in (("order", "show", "no-such-order"),
                     ("order", "delete", "no-such-order"),
                     ("compute", "show", "no-such-vm@site-a.test")):
            result = self.cli(*args, expect=1)
            self.assertIn("error: not found", result.stderr, args)


class StubManager(http.server.ThreadingHTTPServer):
    """Answers canned (status, body) per (method, path), records requests."""

    def __init__(self):
        super().__init__(("127.0.0.1", 0), StubHandler)
        self.answers = {}
        self.requests = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class StubHandler(http.server.BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        self.server.requests.append({
            "method": self.command, "path": self.path,
            "token": self.headers.get("X-Auth-Token"),
            "content_type": self.headers.get("Content-Type"),
            "body": json.loads(body) if body else None})
        status, payload = self.server.answers.get(
            (self.command, self.path),
            (404, {"error": {"code": "not_found", "message": "no such path"}}))
        raw = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_DELETE = answer

    def log_message(self, *args):
        pass


ORDER = {"id": "o-1", "batch_id": "b-1", "state": "open", "type": "one-time",
         "kind": "compute", "instance_id": None, "requesting_member": "site-a.test",
         "providing_member": None, "created_at": 1764064800000,
         "updated_at": 1764064800000, "vcpu": 2, "memory_mb": 1024, "disk_gb": 0,
         "image": "", "requirements": "", "valid_from": None, "valid_until": None,
         "last_error": None, "fulfilled_at": 0}


class CliAgainstStub(unittest.TestCase):
    """What the CLI puts on the wire and how it shows the answers."""

    def setUp(self):
        self.stub = StubManager()
        thread = threading.Thread(target=self.stub.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(self.stub.server_close)
        self.addCleanup(self.stub.shutdown)

    def cli(self, *args):
        return fogbow(*args, "--url", self.stub.url, "--token", "t-1")

    def test_create_sends_kind_and_only_the_given_options(self):
        self.stub.answers[("POST", "/v1/orders")] = (201, {"orders": [ORDER]})
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("ssh-ed25519 AAAA me@host\n")
        self.addCleanup(os.unlink, f.name)
        result = self.cli("order", "create", "--kind", "compute", "--vcpu", "2",
                          "--requirements", "Glue2RAM >= 1024",
                          "--public-key-file", f.name,
                          "--valid-until", "2026-12-01T00:00:00Z")
        self.assertEqual(result.returncode, 0, result.stderr)
        [request] = self.stub.requests
        self.assertEqual(request["method"], "POST")
        self.assertEqual(request["path"], "/v1/orders")
        self.assertEqual(request["token"], "t-1")
        self.assertEqual(request["content_type"], "application/json")
        self.assertEqual(request["body"], {
            "kind": "compute", "vcpu": 2, "requirements": "Glue2RAM >= 1024",
            "public_key": "ssh-ed25519 AAAA me@host\n",
            "valid_until": "2026-12-01T00:00:00Z"})
        self.assertEqual(table_rows(result.stdout),
                         [["o-1", "open", "one-time", "compute", "-",
                           "2025-11-25T10:00:00.000Z"]])

    def test_json_prints_the_answer_as_is(self):
        answer = dict(ORDER, extra={"kept": True})
        self.stub.answers[("GET", "/v1/orders/o-1")] = (200, answer)
        result = self.cli("order", "show", "o-1", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout), answer)

    def test_list_follows_next_links_and_prints_every_item(self):
        second = dict(ORDER, id="o-2")
        self.stub.answers[("GET", "/v1/orders?limit=1")] = (200, {
            "orders": [ORDER], "links": [
                {"rel": "next", "href": "/v1/orders?limit=1&marker=o-1"}]})
        self.stub.answers[("GET", "/v1/orders?limit=1&marker=o-1")] = (
            200, {"orders": [second], "links": []})
        result = self.cli("order", "list", "--limit", "1", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(json.loads(result.stdout),
                         {"orders": [ORDER, second]})
        self.assertEqual([r["path"] for r in self.stub.requests],
                         ["/v1/orders?limit=1",
                          "/v1/orders?limit=1&marker=o-1"])

    def test_server_error_prints_message_code_and_status(self):
        self.stub.answers[("POST", "/v1/orders")] = (
            409, {"error": {"code": "quota_exceeded", "message": "no room left"}})
        result = self.cli("order", "create", "--kind", "volume", "--size-gb", "5")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(),
                         "error: no room left (quota_exceeded, HTTP 409)")
        self.assertEqual(self.stub.requests[0]["body"],
                         {"kind": "volume", "size_gb": 5})

    def test_ids_are_escaped_in_the_path(self):
        self.stub.answers[("GET", "/v1/orders/a%2Fb%20c")] = (200, ORDER)
        result = self.cli("order", "show", "a/b c")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(result.stdout, r"(?m)^instance_id:\s+-$")

    def test_compute_delete_accepts_no_content(self):
        self.stub.answers[("DELETE", "/v1/computes/vm-1@site-a.test")] = (204, None)
        result = self.cli("compute", "delete", "vm-1@site-a.test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("vm-1@site-a.test", result.stdout)

    def test_quota_defaults_to_the_member_marked_self(self):
        self.stub.answers[("GET", "/v1/members")] = (200, {"members": [
            {"id": "site-b.test", "alive": True, "last_seen": 0, "self": False},
            {"id": "site-a.test", "alive": True, "last_seen": 0, "self": True}]})
        usage = {"total": 4, "in_use": 1, "in_use_by_user": 1}
        self.stub.answers[("GET", "/v1/members/site-a.test/quota")] = (200, {
            "member_id": "site-a.test", "vcpu": usage, "memory_mb": usage,
            "instances": usage})
        result = self.cli("quota", "show")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([r["path"] for r in self.stub.requests],
                         ["/v1/members", "/v1/members/site-a.test/quota"])
        self.assertIn(["vcpu", "4", "1", "1"], table_rows(result.stdout))

    def test_member_quota_asks_for_the_named_member(self):
        usage = {"total": 10, "in_use": 3, "in_use_by_user": 2}
        self.stub.answers[("GET", "/v1/members/site-b@xmpp.test/quota")] = (
            200, {"member_id": "site-b@xmpp.test", "vcpu": usage,
                  "memory_mb": usage, "instances": usage})
        result = self.cli("member", "quota", "site-b@xmpp.test")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual([r["path"] for r in self.stub.requests],
                         ["/v1/members/site-b@xmpp.test/quota"])
        self.assertEqual(result.stdout.splitlines()[0],
                         "member: site-b@xmpp.test")
        self.assertIn(["instances", "10", "3", "2"], table_rows(result.stdout))
        # An unreachable member is the manager's error, shown as such.
        self.stub.answers[("GET", "/v1/members/site-c@xmpp.test/quota")] = (
            502, {"error": {"code": "member_unreachable",
                            "message": "site-c@xmpp.test did not answer"}})
        result = self.cli("member", "quota", "site-c@xmpp.test")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.strip(),
                         "error: site-c@xmpp.test did not answer "
                         "(member_unreachable, HTTP 502)")

    def test_member_list_shows_every_member(self):
        self.stub.answers[("GET", "/v1/members")] = (200, {"members": [
            {"id": "site-a@xmpp.test", "alive": True,
             "last_seen": "2026-11-25T10:00:00.000Z", "self": True},
            {"id": "site-b@xmpp.test", "alive": False, "last_seen": None,
             "self": False}]})
        result = self.cli("member", "list")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.splitlines()[0].split(),
                         ["ID", "ALIVE", "LAST-SEEN", "SELF"])
        self.assertEqual(table_rows(result.stdout), [
            ["site-a@xmpp.test", "yes", "2026-11-25T10:00:00.000Z", "yes"],
            ["site-b@xmpp.test", "no", "-", "no"]])


class CliWithoutManager(unittest.TestCase):
    """Errors the CLI reports before or instead of talking to a manager."""

    def test_connection_refused_exits_3_with_a_hint(self):
        url = f"http://127.0.0.1:{closed_port()}"
        for args in (("order", "list"), ("member", "list", "--json"),
                     ("quota", "show"), ("compute", "delete", "x")):
            result = fogbow(*args, "--url", url, "--token", ALICE)
            self.assertEqual(result.returncode, 3, args)
            self.assertEqual(result.stderr.strip(),
                             f"error: cannot connect to the manager at {url}: "
                             + CONNECTION_REFUSED)
            self.assertEqual(result.stdout, "")

    def test_url_comes_from_the_environment(self):
        url = f"http://127.0.0.1:{closed_port()}"
        result = fogbow("order", "list", env={"FOGBOW_URL": url})
        self.assertEqual(result.returncode, 3)
        self.assertIn(f"the manager at {url}:", result.stderr)

    def test_usage_errors_exit_2(self):
        url = f"http://127.0.0.1:{closed_port()}"
        for args in (("order",), ("order", "create"),
                     ("order", "create", "--kind", "router"),
                     ("order", "create", "--kind", "compute", "--count", "0"),
                     ("order", "create", "--kind", "compute",
                      "--valid-from", "tomorrow"),
                     ("order", "show"), ("order", "list", "--url", "ftp://x"),
                     ("member",), ("member", "quota")):
            result = fogbow(*args, "--url", url) if "--url" not in args \
                else fogbow(*args)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertNotEqual(result.stderr, "", args)

    def test_member_help_names_both_verbs(self):
        result = fogbow("member", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        for verb in ("list", "quota"):
            self.assertRegex(result.stdout, rf"(?m)^\s+{verb}\s+\S")
        result = fogbow("member", "quota", "--help")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("member-id", result.stdout)
        self.assertIn("asked through this manager", result.stdout)

    def test_unreadable_user_data_file_exits_2(self):
        missing = os.path.join(tempfile.gettempdir(), "fogbow-no-such-file")
        result = fogbow("order", "create", "--kind", "compute",
                        "--user-data-file", missing,
                        "--url", f"http://127.0.0.1:{closed_port()}")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"cannot read --user-data-file '{missing}'", result.stderr)


if __name__ == "__main__":
    unittest.main()
