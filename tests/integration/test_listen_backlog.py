"""The listen backlog of the REST API and of the tunnel's HTTP API is
[http] listen_backlog (default 1024), as the kernel reports it: `ss -ltn`
shows a listening socket's backlog in its Send-Q column. cpp-httplib 0.11
listens with a fixed backlog of 5, which makes a burst of clients wait for
SYN retries."""

import os
import shutil
import subprocess
import tempfile
import unittest

from fogbow_harness import fogbow, start_manager
from tunnel_harness import free_port_range, start_tunnel, tunnel_section

MANAGER = """
[manager]
member_id = "backlog.test"
[manager.driver]
kind = "instant"
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""


def somaxconn():
    with open("/proc/sys/net/core/somaxconn") as f:
        return int(f.read())


def listen_backlog(port):
    """The backlog of the TCP socket listening on loopback `port`."""
    out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True,
                         check=True).stdout
    for line in out.splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[3] == f"127.0.0.1:{port}":
            return int(fields[2])
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}:\n{out}")


@unittest.skipUnless(shutil.which("ss"), "needs ss (iproute2)")
class ListenBacklog(unittest.TestCase):
    def test_rest_api_uses_the_configured_backlog(self):
        m = start_manager(self, MANAGER + "[http]\nlisten_backlog = 777\n",
                          roles="manager")
        self.assertEqual(listen_backlog(m.port), min(777, somaxconn()))

    def test_rest_api_default_backlog_is_1024(self):
        m = start_manager(self, MANAGER, roles="manager")
        self.assertEqual(listen_backlog(m.port), min(1024, somaxconn()))

    def test_tunnel_api_uses_the_configured_backlog(self):
        low, high = free_port_range(2)
        tunnel = start_tunnel(
            self, tunnel_section(low, high) + "[http]\nlisten_backlog = 333\n")
        port = int(tunnel.url.rsplit(":", 1)[1])
        self.assertEqual(listen_backlog(port), min(333, somaxconn()))

    def test_out_of_range_backlog_is_refused(self):
        for bad in (0, 65536):
            with self.subTest(bad=bad):
                path = self.write_config(
                    MANAGER + f"[http]\nlisten_backlog = {bad}\n")
                done = fogbow("config", "check", path)
                self.assertNotEqual(done.returncode, 0)
                self.assertIn("listen_backlog", done.stdout + done.stderr)

    def write_config(self, text):
        fd, path = tempfile.mkstemp(suffix=".toml")
        self.addCleanup(os.remove, path)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        return path


if __name__ == "__main__":
    unittest.main()
