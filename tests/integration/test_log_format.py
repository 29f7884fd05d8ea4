"""`--log-format json` (and `[log] format = "json"`): every line a real
manager writes during a run (start, orders created, fulfilled and deleted,
refused requests, shutdown) parses as one JSON object with a time, a
level, a logger and a message."""

import json
import re
import unittest

from fogbow_harness import start_manager, wait_until

CONFIG = """
[manager]
member_id = "logs.test"
[manager.driver]
kind = "local"
sandbox = "none"
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
[log]
level = "debug"
"""

UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def records(text):
    """Every line of `text` parsed as JSON; fails on the first that is not
    one JSON object of exactly time, level, logger and message."""
    lines = text.splitlines()
    parsed = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except ValueError as e:
            raise AssertionError(f"line {number} is not JSON ({e}): {line!r}")
        if not isinstance(record, dict) or sorted(record) != [
                "level", "logger", "message", "time"]:
            raise AssertionError(f"line {number} has other fields: {line!r}")
        if not UTC.match(record["time"]):
            raise AssertionError(f"line {number} has a bad time: {line!r}")
        parsed.append(record)
    return parsed


class JsonLogs(unittest.TestCase):
    def run_orders(self, manager):
        body = {"kind": "compute", "user_data": 'echo "quoted" \\\\ x\n'}
        status, res = manager.request("POST", "/v1/orders", body,
                                      token="alice-secret")
        self.assertEqual(status, 201, res)
        order = res["orders"][0]["id"]
        wait_until(lambda: manager.request(
            "GET", f"/v1/orders/{order}", token="alice-secret")[1]["state"]
                   == "fulfilled", message="order fulfilled")
        # Refused requests log too: a wrong token, a malformed body.
        manager.request("GET", "/v1/orders", token="wrong\"token")
        manager.request("POST", "/v1/orders", {"kind": "nonsense"},
                        token="alice-secret")
        status, _ = manager.request("DELETE", f"/v1/orders/{order}",
                                    token="alice-secret")
        self.assertIn(status, (200, 204))

    def check_run(self, manager):
        self.run_orders(manager)
        self.assertEqual(manager.stop(), 0)
        parsed = records(manager.log())
        self.assertGreater(len(parsed), 3)
        messages = [r["message"] for r in parsed]
        self.assertTrue(any("listening on http://" in m for m in messages))
        self.assertEqual(messages[-1], "stopped")
        self.assertIn("fogbow", {r["logger"] for r in parsed})
        self.assertIn("debug", {r["level"] for r in parsed})

    def test_flag_gives_one_json_object_per_line(self):
        manager = start_manager(self, CONFIG, roles="manager",
                                extra_args=("--log-format", "json"))
        self.check_run(manager)

    def test_config_key_gives_one_json_object_per_line(self):
        manager = start_manager(self, CONFIG + 'format = "json"\n',
                                roles="manager")
        self.check_run(manager)

    def test_text_is_the_default(self):
        manager = start_manager(self, CONFIG, roles="manager")
        manager.stop()
        first = manager.log().splitlines()[0]
        self.assertRaises(ValueError, json.loads, first)


if __name__ == "__main__":
    unittest.main()
