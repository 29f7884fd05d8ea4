"""End to end, all in one process (`--role=all`, local driver, real
OpenSSH): an instance's user data starts HTTP services on private ports; the
manager's tunnel agent (injected into the user data) publishes them through
the tunnel; GET /v1/computes/{id} reports the addresses; a killed ssh client
comes back on the same port within 10 s; other credentials and other ports
are refused; a restart keeps the ports; deleting the order releases them."""

import os
import signal
import subprocess
import time
import unittest

from fogbow_harness import Manager, closed_port, wait_until
from tunnel_harness import (MANAGER_SECRET, SshForward, free_port_range,
                            http_get, published_through_tunnel,
                            start_tunnel, tunnel_section)

TOKEN = "alice-secret"


def config(low, high, api_port, svc_port):
    return f"""
[manager]
member_id = "tunnel.test"
[manager.driver]
kind = "local"
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "{TOKEN}"
""" + published_through_tunnel(low, high, api_port, svc_port)


USER_DATA = """#!/bin/sh
echo "hello through the tunnel" > hello.txt
echo "extra port" > extra.txt
python3 -m http.server {svc} --bind 127.0.0.1 >/dev/null 2>&1 &
python3 -m http.server {web} --bind 127.0.0.1 >/dev/null 2>&1 &
"$HOME/.fogbow-tunnel/connect" web {web} >> "$HOME/.fogbow-tunnel/web.log" 2>&1 &
"""


def ssh_clients_under(directory):
    """PIDs of `ssh` processes started from inside `directory`."""
    root = os.path.realpath(directory) + os.sep
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            exe = os.path.basename(os.readlink(f"/proc/{pid}/exe"))
            cwd = os.readlink(f"/proc/{pid}/cwd") + os.sep
        except OSError:
            continue
        if exe == "ssh" and cwd.startswith(root):
            pids.append(int(pid))
    return pids


class TunnelEndToEnd(unittest.TestCase):
    def call_tunnel(self, m, method, path):
        import urllib.request, urllib.error
        req = urllib.request.Request(f"http://127.0.0.1:{self.api_port}{path}",
                                     method=method)
        req.add_header("X-Auth-Token", MANAGER_SECRET)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def compute(self, m, instance_id):
        status, body = m.request("GET", f"/v1/computes/{instance_id}", token=TOKEN)
        self.assertEqual(status, 200, body)
        return body

    def test_instance_is_reachable_through_the_tunnel(self):
        low, high = free_port_range(6)
        self.api_port = closed_port()
        svc, web = closed_port(), closed_port()
        cfg = config(low, high, self.api_port, svc)
        m = Manager()
        self.addCleanup(m.cleanup)
        m.start(cfg)
        status, body = m.request("POST", "/v1/orders", {
            "kind": "compute", "type": "one-time",
            "user_data": USER_DATA.format(svc=svc, web=web)}, token=TOKEN)
        self.assertEqual(status, 201, body)
        order_id = body["orders"][0]["id"]

        def fulfilled():
            s, o = m.request("GET", f"/v1/orders/{order_id}", token=TOKEN)
            return o if o["state"] == "fulfilled" else None
        instance_id = wait_until(fulfilled, 30, message="fulfilled")["instance_id"]
        c = self.compute(m, instance_id)
        self.assertEqual(c["ssh_public_address"], f"127.0.0.1:{low}")
        port = int(c["ssh_public_address"].split(":")[1])
        self.assertEqual(wait_until(lambda: http_get(port, "/hello.txt"), 30,
                                    message="the instance through the tunnel"),
                         b"hello through the tunnel\n")
        # The named extra port the user data asked for.
        extra = wait_until(lambda: self.compute(m, instance_id)["extra_ports"]
                           .get("web"), 30, message="extra port")
        eport = int(extra.split(":")[1])
        self.assertEqual(wait_until(lambda: http_get(eport, "/extra.txt"), 30,
                                    message="extra port answers"),
                         b"extra port\n")

        # Kill the instance's ssh clients: the agent reconnects and the
        # same public port answers again within 10 s.
        instances_dir = os.path.join(m.data_dir, "instances")
        pids = ssh_clients_under(instances_dir)
        self.assertTrue(pids)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        wait_until(lambda: http_get(port, "/hello.txt", timeout=1) is None, 5,
                   interval=0.05, message="the tunnel to drop")
        start = time.monotonic()
        wait_until(lambda: http_get(port, "/hello.txt", timeout=1), 10,
                   interval=0.1, message="the agent to reconnect")
        self.assertLess(time.monotonic() - start, 10)

        # The instance's key logs in as nobody else, and forwards nothing
        # but its own ports.
        key = os.path.join(instances_dir, os.listdir(instances_dir)[0],
                           ".fogbow-tunnel", "key")
        self.assertTrue(os.path.exists(key))
        tunnel = type("T", (), {})()
        tunnel.workspace, tunnel.ssh_port = m.workspace, self.ssh_port(m)
        status, _ = self.call_tunnel(m, "POST", "/token/intruder-target")
        self.assertEqual(status, 200)
        other = SshForward(self, tunnel, "intruder-target", key, low + 5, svc)
        self.assertNotEqual(other.process.wait(15), 0)
        self.assertIn("Permission denied", other.output())
        stray = SshForward(self, tunnel, order_id, key, high, svc)
        self.assertNotEqual(stray.process.wait(15), 0)
        self.assertIn("remote port forwarding failed", stray.output())

        # Restart everything: the ports stay, the agent comes back.
        m.stop()
        m.start(cfg)
        self.assertEqual(self.compute(m, instance_id)["ssh_public_address"],
                         f"127.0.0.1:{low}")
        self.assertEqual(wait_until(lambda: http_get(port, "/hello.txt"), 30,
                                    message="the tunnel after a restart"),
                         b"hello through the tunnel\n")
        self.assertEqual(self.compute(m, instance_id)["extra_ports"]["web"],
                         extra)

        # Deleting the order removes the instance and releases its ports.
        status, _ = m.request("DELETE", f"/v1/orders/{order_id}", token=TOKEN)
        self.assertEqual(status, 200)
        wait_until(lambda: self.call_tunnel(m, "GET", f"/token/{order_id}")[0]
                   == 404, 30, message="the token to be released")
        wait_until(lambda: http_get(port, "/hello.txt", timeout=1) is None, 10,
                   message="the port to close")

    def ssh_port(self, m):
        import re
        return int(re.findall(r"tunnel: SSH on [^:]+:(\d+)", m.log())[-1])


class SeparateTunnel(unittest.TestCase):
    """The DMZ layout: a tunnel process and a manager process."""

    def test_manager_uses_a_remote_tunnel_and_survives_its_absence(self):
        low, high = free_port_range(4)
        tunnel = start_tunnel(self, tunnel_section(low, high))
        svc = closed_port()
        manager_cfg = config(low, high, 1, svc)
        manager_cfg = manager_cfg[:manager_cfg.index("[tunnel]")].replace(
            "http://127.0.0.1:1", tunnel.url)
        m = Manager(roles="manager")
        self.addCleanup(m.cleanup)
        m.start(manager_cfg)
        status, body = m.request("POST", "/v1/orders", {
            "kind": "compute",
            "user_data": f"python3 -m http.server {svc} --bind 127.0.0.1\n"},
            token=TOKEN)
        self.assertEqual(status, 201, body)
        order_id = body["orders"][0]["id"]

        def order():
            return m.request("GET", f"/v1/orders/{order_id}", token=TOKEN)[1]
        instance_id = wait_until(lambda: order()["instance_id"], 30,
                                 message="an instance")
        status, c = m.request("GET", f"/v1/computes/{instance_id}", token=TOKEN)
        self.assertEqual(c["ssh_public_address"], f"127.0.0.1:{low}")
        wait_until(lambda: http_get(low), 30, message="the tunnel")
        status, listing = m.request("GET", "/v1/computes", token=TOKEN)
        self.assertEqual(listing["computes"][0]["ssh_public_address"],
                         f"127.0.0.1:{low}")
        # Without the tunnel the instance is still shown, without address,
        # and a new compute order waits (retried) instead of failing.
        tunnel.stop()
        status, c = m.request("GET", f"/v1/computes/{instance_id}", token=TOKEN)
        self.assertEqual(status, 200)
        self.assertIsNone(c["ssh_public_address"])
        status, body = m.request("POST", "/v1/orders", {"kind": "compute"},
                                 token=TOKEN)
        second = body["orders"][0]["id"]
        o = wait_until(lambda: (lambda x: x if "tunnel" in (x["last_error"] or "")
                                else None)(
            m.request("GET", f"/v1/orders/{second}", token=TOKEN)[1]),
            30, message="the order to wait for the tunnel")
        self.assertEqual(o["state"], "open")
        # The tunnel comes back on the same address: the order is served.
        tunnel.start(tunnel_section(low, high).replace(
            "http_port = 0", f"http_port = {tunnel.url.rsplit(':', 1)[1]}"))
        wait_until(lambda: m.request("GET", f"/v1/orders/{second}",
                                     token=TOKEN)[1]["state"] == "fulfilled",
                   90, message="the order once the tunnel is back")


if __name__ == "__main__":
    unittest.main()
