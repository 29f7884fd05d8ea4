"""No token, secret or password reaches a log: a full run (`--role=all`
at debug level, local driver, tunnel with real OpenSSH agents, orders of
two users, one of them configured by token_sha256, wrong credentials
tried on both APIs) leaves no known secret in any log file it wrote: the
process's output, every instance's console.log and its tunnel agent's
logs."""

import base64
import hashlib
import os
import re
import urllib.error
import urllib.request
import unittest

from fogbow_harness import Manager, closed_port, wait_until
from tunnel_harness import free_port_range, http_get, tunnel_section

ALICE = "alice-token-S3CRET-4f1c9e"
BOB = "bob-token-S3CRET-77ad02"
WRONG = "wrong-token-S3CRET-0b3d"
TUNNEL_SECRET = "tunnel-manager-S3CRET-5e8a41"

USER_DATA = """#!/bin/sh
echo "served" > index.txt
python3 -m http.server {svc} --bind 127.0.0.1 >/dev/null 2>&1 &
"""


def config(low, high, api_port, svc_port):
    tunnel = tunnel_section(low, high).replace(
        "http_port = 0", f"http_port = {api_port}")
    tunnel = re.sub(r'manager_secret = "[^"]*"',
                    f'manager_secret = "{TUNNEL_SECRET}"', tunnel)
    return f"""
[manager]
member_id = "secrets.test"
[manager.driver]
kind = "local"
[manager.tunnel]
url = "http://127.0.0.1:{api_port}"
secret = "{TUNNEL_SECRET}"
ssh_host = "127.0.0.1"
public_host = "127.0.0.1"
local_port = {svc_port}
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "{ALICE}"
[[identity.users]]
id = "bob"
token_sha256 = "{hashlib.sha256(BOB.encode()).hexdigest()}"
""" + tunnel


def tunnel_call(api_port, method, path, secret=None, basic=None):
    req = urllib.request.Request(f"http://127.0.0.1:{api_port}{path}",
                                 method=method)
    if secret:
        req.add_header("X-Auth-Token", secret)
    if basic:
        raw = base64.b64encode(":".join(basic).encode()).decode()
        req.add_header("Authorization", "Basic " + raw)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def log_files(root):
    """Every log the run wrote under `root`."""
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(".log"):
                yield os.path.join(directory, name)


class SecretsStayOutOfLogs(unittest.TestCase):
    def test_a_full_run_logs_no_secret(self):
        low, high = free_port_range(8)
        api_port, svc = closed_port(), closed_port()
        m = Manager()
        self.addCleanup(m.cleanup)
        m.start(config(low, high, api_port, svc),
                extra_args=("--log-level", "debug"))
        orders = []
        for token in (ALICE, ALICE, BOB):
            status, body = m.request("POST", "/v1/orders", {
                "kind": "compute", "type": "one-time",
                "user_data": USER_DATA.format(svc=svc)}, token=token)
            self.assertEqual(status, 201, body)
            orders.append((token, body["orders"][0]["id"]))
        # Wrong credentials on both APIs.
        self.assertEqual(m.request("GET", "/v1/orders", token=WRONG)[0], 401)
        self.assertEqual(tunnel_call(api_port, "GET", "/informations",
                                     secret=WRONG), 403)
        self.assertEqual(tunnel_call(api_port, "GET", "/informations",
                                     secret=TUNNEL_SECRET), 200)

        def fulfilled(token, order_id):
            o = m.request("GET", f"/v1/orders/{order_id}", token=token)[1]
            return o if o["state"] == "fulfilled" else None
        first = wait_until(lambda: fulfilled(*orders[0]), 30, message="order")
        for token, order_id in orders[1:]:
            wait_until(lambda: fulfilled(token, order_id), 30, message="order")
        # The first instance's agent logged in with its secret: its port
        # serves.
        status, c = m.request("GET", f"/v1/computes/{first['instance_id']}",
                              token=ALICE)
        port = int(c["ssh_public_address"].split(":")[1])
        self.assertEqual(wait_until(lambda: http_get(port, "/index.txt"), 30,
                                    message="the tunnel"), b"served\n")
        # Each instance's tunnel secret, from the user data the manager
        # wrote, and one wrong secret on the tunnel API.
        secrets = {ALICE, BOB, WRONG, TUNNEL_SECRET}
        instances = os.path.join(m.data_dir, "instances")
        for name in os.listdir(instances):
            with open(os.path.join(instances, name, "user-data")) as f:
                secrets |= set(re.findall(r"FOGBOW_TUNNEL_SECRET='([^']+)'",
                                          f.read()))
        self.assertEqual(len(secrets), 4 + len(orders))
        order_id = orders[0][1]
        self.assertEqual(tunnel_call(api_port, "GET", f"/token/{order_id}",
                                     basic=(order_id, WRONG + "-tunnel")), 403)
        secrets.add(WRONG + "-tunnel")
        status, _ = m.request("DELETE", f"/v1/orders/{orders[2][1]}", token=BOB)
        self.assertEqual(status, 200)
        m.stop()

        files = list(log_files(m.workspace))
        names = {os.path.basename(f) for f in files}
        self.assertIn("server-1.log", names)
        self.assertIn("console.log", names)
        self.assertIn("agent.log", names)
        for path in files:
            with open(path, "rb") as f:
                text = f.read()
            for secret in secrets:
                self.assertNotIn(secret.encode(), text,
                                 f"{secret} appears in {path}")
        # The run did log: requests, logins, ports.
        self.assertIn("gets port", m.log())


if __name__ == "__main__":
    unittest.main()
