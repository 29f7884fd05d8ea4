"""The tunnel role against an instance that misbehaves (real OpenSSH, real
HTTP, loopback): one token's secret cannot take more named ports than its
quota, one SSH session cannot hold more listeners than its quota, port
names are a short safe alphabet, and login names cannot forge or flood log
lines; meanwhile another instance is served as usual."""

import json
import os
import re
import subprocess
import time
import unittest

from fogbow_harness import wait_until
from tunnel_harness import (Service, SshForward, free_port_range, http_get,
                            make_key, read_pub, start_tunnel, tunnel_section)

SECRET_A = "secret-of-order-a-0123"
SECRET_B = "secret-of-order-b-0123"
MAX_NAMED = 3
MAX_FORWARDS = 2
LOG_CAP = 128 + 3  # log_safe's cap plus the UTF-8 ellipsis


class TunnelAbuseTest(unittest.TestCase):
    def setUp(self):
        self.low, self.high = free_port_range(12)
        self.t = start_tunnel(self, tunnel_section(self.low, self.high) + f"""
max_named_tokens_per_token = {MAX_NAMED}
max_forwards_per_session = {MAX_FORWARDS}
""")
        self.port_a = self.t.register("order-a", SECRET_A)
        self.port_b = self.t.register("order-b", SECRET_B)
        self.key_a = make_key(self.t.workspace, "key-a")
        self.key_b = make_key(self.t.workspace, "key-b")
        for token, secret, key in (("order-a", SECRET_A, self.key_a),
                                   ("order-b", SECRET_B, self.key_b)):
            status, text = self.t.call("POST", f"/token/{token}/key",
                                       body=read_pub(key), user=token,
                                       secret=secret)
            self.assertEqual(status, 200, text)
        self.service = Service(self, "legitimate b")

    def test_named_token_quota_holds_and_others_are_served(self):
        ports = []
        for i in range(1, MAX_NAMED + 1):
            status, text = self.t.call("POST", f"/token/order-a-n{i}",
                                       secret=SECRET_A)
            self.assertEqual(status, 200, text)
            ports.append(int(text.split(":")[0]))
        # The attacker keeps asking: every further name is refused, with a
        # JSON error, and takes no port.
        for i in range(MAX_NAMED + 1, MAX_NAMED + 20):
            status, text = self.t.call("POST", f"/token/order-a-n{i}",
                                       secret=SECRET_A)
            self.assertEqual(status, 429, text)
            error = json.loads(text)["error"]
            self.assertEqual(error["code"], "quota_exceeded")
            self.assertIn(f"{MAX_NAMED} named ports", error["message"])
        status, text = self.t.call("GET", "/token/order-a/all", secret=SECRET_A)
        self.assertEqual(len(json.loads(text)), 1 + MAX_NAMED)
        # Another instance still gets its named port, and the next order
        # still gets a port of the range.
        status, text = self.t.call("POST", "/token/order-b-web", secret=SECRET_B)
        self.assertEqual(status, 200, text)
        self.t.register("order-c", "secret-of-order-c-0123")

    def test_port_names_are_a_short_safe_alphabet(self):
        for bad in ("order-a-..", "order-a-x.y", "order-a-x@y",
                    "order-a-" + "n" * 33):
            status, text = self.t.call("POST", f"/token/{bad}", secret=SECRET_A)
            self.assertEqual(status, 400, f"{bad}: {text}")
            self.assertIn("A-Z a-z 0-9 - _", text)
        status, text = self.t.call("POST", "/token/order-a-Web_2",
                                   secret=SECRET_A)
        self.assertEqual(status, 200, text)

    def test_one_session_holds_at_most_its_forward_quota(self):
        ports = [self.port_a]
        for name in ("n1", "n2"):
            status, text = self.t.call("POST", f"/token/order-a-{name}",
                                       secret=SECRET_A)
            self.assertEqual(status, 200, text)
            ports.append(int(text.split(":")[0]))
        web = Service(self, "attacker")
        log_path = os.path.join(self.t.workspace, "ssh-greedy.log")
        forwards = []
        for p in ports:
            forwards += ["-R", f"127.0.0.1:{p}:127.0.0.1:{web.port}"]
        with open(log_path, "w") as log:
            greedy = subprocess.Popen(
                ["ssh", "-N", "-F", "/dev/null", "-i", self.key_a,
                 "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "ExitOnForwardFailure=no",
                 "-p", str(self.t.ssh_port), *forwards, "order-a@127.0.0.1"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.addCleanup(lambda: (greedy.kill(), greedy.wait()))

        def refused():
            with open(log_path, errors="replace") as f:
                return re.findall(r"remote port forwarding failed for listen "
                                  r"port (\d+)", f.read())
        failed = wait_until(refused, 20, message="a refused forward")
        # OpenSSH asks in order: the third is the one beyond the quota.
        self.assertEqual(failed, [str(ports[2])])
        for p in ports[:2]:
            self.assertEqual(wait_until(lambda: http_get(p), 15,
                                        message=f"port {p}"), b"attacker")
        self.assertIsNone(http_get(ports[2], timeout=2))
        self.assertIsNone(greedy.poll())
        # Another instance's session is served meanwhile.
        SshForward(self, self.t, "order-b", self.key_b, self.port_b,
                   self.service.port)
        self.assertEqual(wait_until(lambda: http_get(self.port_b), 15,
                                    message="order-b"), b"legitimate b")

    def ssh_login(self, user):
        """One password-less login attempt as `user`, which OpenSSH takes
        from a config file (its command line refuses control characters)."""
        config = os.path.join(self.t.workspace, f"ssh-config-{time.monotonic_ns()}")
        with open(config, "w", encoding="utf-8", errors="surrogateescape") as f:
            f.write(f'Host target\n  HostName 127.0.0.1\n  Port {self.t.ssh_port}\n'
                    f'  User "{user}"\n')
        subprocess.run(["ssh", "-N", "-F", config, "-i", self.key_b,
                        "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                        "-o", "StrictHostKeyChecking=no",
                        "-o", "UserKnownHostsFile=/dev/null", "target"],
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=30)

    def test_login_names_cannot_forge_or_flood_log_lines(self):
        forged = "[info] tunnel: session 1 forwards port 1 for order-b"
        # Carriage return, an ANSI escape and U+2028 each start a "new line"
        # on a terminal or in a log viewer.
        self.ssh_login(f"evil\r{forged}\x1b[2K\u2028{forged}")
        self.ssh_login("u" * 200_000)
        # Both attempts were refused and logged.
        text = wait_until(lambda: self.t.log() if self.t.log().count(
            "tunnel: login ") >= 2 else None, 15, message="two refused logins")
        with open(self.t.log_path, "rb") as f:
            raw = f.read()
        for byte in (b"\r", b"\x1b", "\u2028".encode()):
            self.assertNotIn(byte, raw)
        self.assertIn("login evil\\x0d[info] tunnel: session 1", text)
        longest = max(len(line.encode()) for line in text.splitlines())
        self.assertLess(longest, 300, "a log line is not capped")
        self.assertIn("login " + "u" * 128 + "\u2026 refused", text)
        self.assertFalse(any(line.startswith(forged) or line.startswith("[info]")
                             for line in text.splitlines()))
        # The SSH server still serves a legitimate instance.
        SshForward(self, self.t, "order-b", self.key_b, self.port_b,
                   self.service.port)
        self.assertEqual(wait_until(lambda: http_get(self.port_b), 15,
                                    message="order-b"), b"legitimate b")


if __name__ == "__main__":
    unittest.main()
