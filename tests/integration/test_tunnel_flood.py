"""The tunnel role under a flood of SSH connections that never log in
(real OpenSSH clients, loopback, the tunnel under a 256 open-file limit):
the connections still logging in are capped globally and per source
address and closed at the login deadline, the process does not spin, an
existing tunnel keeps serving its visitors, and a legitimate `ssh -R`
logs in and forwards meanwhile."""

import os
import re
import resource
import select
import socket
import time
import unittest

from fogbow_harness import wait_until
from tunnel_harness import (Service, SshForward, free_port_range, http_get,
                            make_key, read_pub, start_tunnel, tunnel_section)

OPEN_FILES = 256
GRACE_S = 3
PER_ADDRESS = 8
# fit_to_open_files: a quarter of what is left after 64 reserved.
GLOBAL = (OPEN_FILES - 64) // 4
SECRET_A = "secret-of-order-a-0123"
SECRET_B = "secret-of-order-b-0123"
LIMITS = re.compile(r"tunnel: (\d+) open files; at most (\d+) connections "
                    r"logging in \((\d+) per address")


def raise_own_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def cpu_seconds(pid):
    """utime + stime of `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


class Idle:
    """Sockets to the SSH port that never send a byte."""

    def __init__(self, test, port):
        self.port = port
        self.sockets = []
        test.addCleanup(self.close)

    def open(self, count, source):
        for _ in range(count):
            s = socket.socket()
            s.bind((source, 0))
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", self.port))
            except BlockingIOError:
                pass
            self.sockets.append(s)

    def read_all(self, timeout):
        """Reads what each socket received until the server closed it or
        `timeout` passed; returns [(bytes, closed)] in opening order."""
        got = {s.fileno(): b"" for s in self.sockets}
        poller = select.poll()  # no FD_SETSIZE limit, unlike select()
        for s in self.sockets:
            poller.register(s, select.POLLIN)
        by_fd = {s.fileno(): s for s in self.sockets}
        open_ = set(by_fd)
        deadline = time.monotonic() + timeout
        while open_ and time.monotonic() < deadline:
            for fd, _ in poller.poll(200):
                try:
                    data = by_fd[fd].recv(4096)
                except BlockingIOError:
                    continue
                except ConnectionResetError:
                    data = b""
                if data:
                    got[fd] += data
                else:
                    open_.discard(fd)
                    poller.unregister(fd)
        return [(got[s.fileno()], s.fileno() not in open_)
                for s in self.sockets]

    def close(self):
        for s in self.sockets:
            s.close()
        self.sockets = []


class TunnelFloodTest(unittest.TestCase):
    def setUp(self):
        raise_own_open_files()
        self.low, self.high = free_port_range(8)
        self.t = start_tunnel(
            self,
            tunnel_section(self.low, self.high).replace(
                "login_timeout_s = 10", f"login_timeout_s = {GRACE_S}")
            + f"max_unauthenticated_per_address = {PER_ADDRESS}\n",
            open_files=OPEN_FILES)
        self.pid = self.t.process.pid
        m = LIMITS.search(self.t.log())
        self.assertIsNotNone(m, self.t.log())
        self.assertEqual(int(m.group(1)), OPEN_FILES)
        self.assertEqual(int(m.group(2)), GLOBAL)
        self.assertEqual(int(m.group(3)), PER_ADDRESS)
        # An instance whose tunnel is up before the flood.
        self.port_a = self.login("order-a", SECRET_A, "service a")
        self.service_b = Service(self, "service b")

    def login(self, token, secret, text=None):
        """Registers `token`, gives it a key; with `text`, connects its
        tunnel to a service answering `text` and waits until it serves."""
        port = self.t.register(token, secret)
        key = make_key(self.t.workspace, f"key-{token}")
        status, body = self.t.call("POST", f"/token/{token}/key",
                                   body=read_pub(key), user=token,
                                   secret=secret)
        self.assertEqual(status, 200, body)
        self.keys = getattr(self, "keys", {})
        self.keys[token] = key
        if text is not None:
            service = Service(self, text)
            SshForward(self, self.t, token, key, port, service.port)
            self.assertTrue(wait_until(
                lambda: http_get(port) == text.encode(), 20))
        return port

    def assert_not_spinning(self, seconds=3):
        before = cpu_seconds(self.pid)
        time.sleep(seconds)
        used = cpu_seconds(self.pid) - before
        # A busy loop takes a whole core; serving this test takes little.
        self.assertLess(used / seconds, 0.5, f"{used:.2f} s CPU in {seconds} s")

    def test_flood_from_many_addresses(self):
        baseline = open_fds(self.pid)
        flood = Idle(self, self.t.ssh_port)
        # 600 sockets from 75 addresses, 8 each: more than the process has
        # descriptors, many times the cap.
        for i in range(75):
            flood.open(PER_ADDRESS, f"127.0.1.{i + 1}")
        # The existing tunnel serves its visitors meanwhile.
        for _ in range(5):
            self.assertEqual(http_get(self.port_a), b"service a")
        # A legitimate client logs in and forwards meanwhile.
        port_b = self.login("order-b", SECRET_B)
        SshForward(self, self.t, "order-b", self.keys["order-b"], port_b,
                   self.service_b.port)
        self.assertTrue(wait_until(
            lambda: http_get(port_b) == b"service b", 20), self.t.log())
        self.assert_not_spinning()
        # The process never held more than its caps: descriptors to spare.
        self.assertLess(open_fds(self.pid), OPEN_FILES - 32)
        # Every flood socket is closed by the server: refused, pushed out
        # or past the login deadline.
        results = flood.read_all(GRACE_S + 15)
        self.assertTrue(all(closed for _, closed in results),
                        f"{sum(not c for _, c in results)} still open")
        flood.close()
        self.assertTrue(wait_until(
            lambda: open_fds(self.pid) <= baseline + 16, 10))
        self.assertEqual(http_get(self.port_a), b"service a")
        self.assertEqual(http_get(port_b), b"service b")

    def test_one_address_gets_its_share_and_no_more(self):
        flood = Idle(self, self.t.ssh_port)
        flood.open(50, "127.0.2.1")
        # Admitted connections get the server's banner; the others are
        # closed before a byte is sent. Then the admitted ones are closed
        # at the login deadline.
        results = flood.read_all(GRACE_S + 15)
        greeted = [data for data, _ in results if data.startswith(b"SSH-2.0-")]
        self.assertEqual(len(greeted), PER_ADDRESS)
        self.assertTrue(all(closed for _, closed in results))
        # Meanwhile nothing else was refused: another address logs in.
        port_b = self.login("order-b", SECRET_B)
        SshForward(self, self.t, "order-b", self.keys["order-b"], port_b,
                   self.service_b.port)
        self.assertTrue(wait_until(
            lambda: http_get(port_b) == b"service b", 20), self.t.log())
        self.assertEqual(http_get(self.port_a), b"service a")

    def test_idle_connections_are_closed_at_the_login_deadline(self):
        flood = Idle(self, self.t.ssh_port)
        flood.open(4, "127.0.3.1")
        results = flood.read_all(GRACE_S + 15)
        for data, closed in results:
            self.assertTrue(data.startswith(b"SSH-2.0-"), data)
            self.assertTrue(closed)
        # Several rounds of that leave nothing behind.
        self.assertTrue(wait_until(
            lambda: open_fds(self.pid) < 64, 10))


if __name__ == "__main__":
    unittest.main()
