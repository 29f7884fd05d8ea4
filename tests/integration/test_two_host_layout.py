"""The two-host layout of one organisation (docs/deployment.md) on one
machine: the DMZ side (Prosody and the tunnel) listens on 127.0.0.2 only,
the internal side (the manager's REST API; the rendezvous) on 127.0.0.1
only. The manager and the rendezvous reach the DMZ over XMPP and the
tunnel's HTTP API; an instance of the manager's local driver runs a real
OpenSSH server, its agent keeps `ssh -R` open to the DMZ tunnel, and the
test logs in to it over SSH at its public address on 127.0.0.2."""

import os
import socket
import subprocess
import shutil
import tempfile
import unittest

from fogbow_harness import Manager, closed_port, wait_until
from tunnel_harness import (MANAGER_SECRET, free_port_range, make_key,
                            read_pub, start_tunnel, tunnel_section)
from xmpp_harness import Prosody, alive_ids, start_rendezvous, xmpp_section

DMZ = "127.0.0.2"
INTERNAL = "127.0.0.1"

# The instance: an unprivileged sshd on its private port (the one the
# tunnel publishes as "ssh"), accepting the test's key.
USER_DATA = """#!/bin/sh
echo "instance behind the DMZ tunnel" > marker.txt
mkdir -p .ssh-server
ssh-keygen -q -t ed25519 -N '' -f .ssh-server/host_key
cat > .ssh-server/authorized_keys <<'KEY'
{pub}
KEY
/usr/sbin/sshd -D -e -p {svc} -o ListenAddress=127.0.0.1 \\
  -h "$PWD/.ssh-server/host_key" -o PidFile=none -o UsePAM=no \\
  -o StrictModes=no -o "AuthorizedKeysFile $PWD/.ssh-server/authorized_keys" \\
  > sshd.log 2>&1 &
"""


def listening(address, port):
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


def dmz_tunnel_section(low, high):
    return tunnel_section(low, high).replace(f'"{INTERNAL}"', f'"{DMZ}"')


class TwoHostLayout(unittest.TestCase):
    def setUp(self):
        if not listening_possible(DMZ):
            self.skipTest(f"cannot bind {DMZ} here")
        self.keys = tempfile.mkdtemp(prefix="fogbow-two-host-")
        self.addCleanup(shutil.rmtree, self.keys, True)

    def start_dmz(self, low, high):
        prosody = Prosody(address=DMZ)
        self.addCleanup(prosody.cleanup)
        prosody.start()
        tunnel = start_tunnel(self, dmz_tunnel_section(low, high))
        self.assertTrue(tunnel.url.startswith(f"http://{DMZ}:"), tunnel.url)
        return prosody, tunnel

    def start_internal(self, prosody, tunnel, svc):
        rendezvous = start_rendezvous(self, prosody, "rendezvous")
        prosody.add_account("site", "pw-site")
        manager = Manager(roles="manager")
        self.addCleanup(manager.cleanup)
        manager.jid = f"site@{prosody.domain}"
        manager.start(xmpp_section(prosody) + f"""
[manager.driver]
kind = "local"

[manager.federation]
jid = "{manager.jid}/fogbow"
password = "pw-site"
rendezvous = "{rendezvous.jid}"

[manager.tunnel]
url = "{tunnel.url}"
secret = "{MANAGER_SECRET}"
ssh_host = "{DMZ}"
public_host = "{DMZ}"
local_port = {svc}

[http]
bind = "{INTERNAL}"

[identity]
[[identity.users]]
id = "alice"
token = "alice-secret"
""")
        return rendezvous, manager

    def test_instance_reached_by_ssh_through_the_dmz_tunnel(self):
        low, high = free_port_range(4)
        svc = closed_port()
        prosody, tunnel = self.start_dmz(low, high)
        rendezvous, manager = self.start_internal(prosody, tunnel, svc)
        api_port = int(tunnel.url.rsplit(":", 1)[1])

        # Each side listens on its own address only.
        self.assertTrue(listening(DMZ, prosody.c2s))
        self.assertFalse(listening(INTERNAL, prosody.c2s))
        self.assertTrue(listening(DMZ, api_port))
        self.assertFalse(listening(INTERNAL, api_port))
        self.assertTrue(listening(DMZ, tunnel.ssh_port))
        self.assertFalse(listening(INTERNAL, tunnel.ssh_port))
        self.assertTrue(manager.url.startswith(f"http://{INTERNAL}:"))
        self.assertFalse(listening(DMZ, manager.port))
        # The manager joined the federation through the DMZ's XMPP server.
        wait_until(lambda: manager.jid in alive_ids(manager), timeout=30,
                   message="the manager alive in the rendezvous")

        key = make_key(self.keys, "user_key")
        body = {"kind": "compute",
                "user_data": USER_DATA.format(pub=read_pub(key).strip(),
                                              svc=svc)}
        status, res = manager.request("POST", "/v1/orders", body,
                                      token="alice-secret")
        self.assertEqual(status, 201, res)
        order = res["orders"][0]["id"]

        def compute():
            status, o = manager.request("GET", f"/v1/orders/{order}",
                                        token="alice-secret")
            if o.get("state") != "fulfilled":
                return None
            status, c = manager.request(
                "GET", f"/v1/computes/{o['instance_id']}",
                token="alice-secret")
            return c if c.get("ssh_public_address") else None
        c = wait_until(compute, timeout=90,
                       message="the instance's ssh_public_address")
        host, port = c["ssh_public_address"].rsplit(":", 1)
        self.assertEqual(host, DMZ)
        self.assertTrue(low <= int(port) <= high, c)

        def login():
            result = subprocess.run(
                ["ssh", "-i", key, "-p", port, "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null",
                 "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR",
                 f"instance@{DMZ}", "cat marker.txt"],
                capture_output=True, text=True, timeout=30)
            return result.stdout if result.returncode == 0 else None
        self.assertEqual(wait_until(login, timeout=60, interval=1,
                                    message="an SSH login through the tunnel"),
                         "instance behind the DMZ tunnel\n")

        status, _ = manager.request("DELETE", f"/v1/orders/{order}",
                                    token="alice-secret")
        self.assertEqual(status, 200)


def listening_possible(address):
    try:
        with socket.socket() as s:
            s.bind((address, 0))
        return True
    except OSError:
        return False


if __name__ == "__main__":
    unittest.main()
