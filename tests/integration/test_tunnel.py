"""The tunnel role with real OpenSSH clients: per-token credentials, the
allocated port only, takeover on reconnect, named extra ports, HTTP API
authentication, persistence across restarts, idle expiry."""

import concurrent.futures
import hashlib
import json
import os
import signal
import socket
import subprocess
import threading
import time
import unittest

from fogbow_harness import wait_until
from tunnel_harness import (MANAGER_SECRET, Service, SshForward, Tunnel,
                            free_port_range, http_get, make_key, read_pub,
                            start_tunnel, tunnel_section)

SECRET_A = "secret-of-order-a-0123"
SECRET_B = "secret-of-order-b-0123"


class TunnelTest(unittest.TestCase):
    def setUp(self):
        self.low, self.high = free_port_range(8)
        self.t = start_tunnel(self, tunnel_section(self.low, self.high))
        self.port_a = self.t.register("order-a", SECRET_A)
        self.port_b = self.t.register("order-b", SECRET_B)
        self.key_a = make_key(self.t.workspace, "key-a")
        self.key_b = make_key(self.t.workspace, "key-b")
        for token, secret, key in (("order-a", SECRET_A, self.key_a),
                                   ("order-b", SECRET_B, self.key_b)):
            status, text = self.t.call("POST", f"/token/{token}/key",
                                       body=read_pub(key),
                                       user=token, secret=secret)
            self.assertEqual(status, 200, text)
        self.service = Service(self, "hello from a")

    def forward(self, login="order-a", key=None, port=None, local=None):
        return SshForward(self, self.t, login, key or self.key_a,
                          port or self.port_a, local or self.service.port)

    def test_lowest_free_ports_and_java_answers(self):
        self.assertEqual(self.port_a, self.low)
        self.assertEqual(self.port_b, self.low + 1)
        # Idempotent: the same token gets the same "port:sshPort" again.
        status, text = self.t.call("POST", "/token/order-a",
                                   secret=MANAGER_SECRET)
        self.assertEqual((status, text), (200, f"{self.low}:{self.t.ssh_port}"))
        status, text = self.t.call("GET", "/token/order-a", secret=SECRET_A)
        self.assertEqual((status, text), (200, str(self.low)))
        status, text = self.t.call("GET", "/token/nothing", secret=MANAGER_SECRET)
        self.assertEqual((status, text), (404, "404 Port Not Found"))

    def test_forward_relays_the_service(self):
        c = self.forward()
        body = wait_until(lambda: http_get(self.port_a), 15, message="tunnel")
        self.assertEqual(body, b"hello from a")
        # Many visitors at once, each gets the answer.
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            bodies = list(pool.map(lambda _: http_get(self.port_a), range(64)))
        self.assertEqual(bodies, [b"hello from a"] * 64)
        self.assertIsNone(c.process.poll())

    def test_bulk_data_both_ways_arrives_intact(self):
        # An echo service: everything sent through the tunnel comes back.
        lsock = socket.socket()
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(8)
        self.addCleanup(lsock.close)

        def serve(conn):
            with conn:
                while True:
                    data = conn.recv(1 << 16)
                    if not data:
                        break
                    conn.sendall(data)

        def echo():
            while True:
                try:
                    conn, _ = lsock.accept()
                except OSError:
                    return
                threading.Thread(target=serve, args=(conn,), daemon=True).start()
        threading.Thread(target=echo, daemon=True).start()
        self.forward(local=lsock.getsockname()[1])

        def up():
            try:
                with socket.create_connection(("127.0.0.1", self.port_a), timeout=2) as c:
                    c.sendall(b"ping")
                    return c.recv(4) == b"ping"
            except OSError:
                return False
        wait_until(up, 15, message="the echo tunnel")
        payload = os.urandom(1 << 20) * 24  # 24 MiB, more than every window
        received = hashlib.sha256()
        count = 0
        with socket.create_connection(("127.0.0.1", self.port_a), timeout=30) as c:
            def send():
                c.sendall(payload)
                c.shutdown(socket.SHUT_WR)
            sender = threading.Thread(target=send)
            sender.start()
            # A slow reader at first: every buffer on the way fills up,
            # and the tunnel must hold the rest back through the SSH window.
            time.sleep(1.5)
            while True:
                chunk = c.recv(1 << 16)
                if not chunk:
                    break
                received.update(chunk)
                count += len(chunk)
            sender.join()
        self.assertEqual(count, len(payload))
        self.assertEqual(received.hexdigest(), hashlib.sha256(payload).hexdigest())

    def test_a_stuck_client_does_not_block_the_others(self):
        a = self.forward()
        b_service = Service(self, "hello from b")
        SshForward(self, self.t, "order-b", self.key_b, self.port_b,
                   b_service.port)
        wait_until(lambda: http_get(self.port_a), 15, message="tunnel a")
        wait_until(lambda: http_get(self.port_b), 15, message="tunnel b")
        # A's client stops answering (as a frozen VM would) while visitors
        # keep pushing data into its tunnel.
        os.kill(a.process.pid, signal.SIGSTOP)
        self.addCleanup(lambda: a.process.poll() is None
                        and os.kill(a.process.pid, signal.SIGCONT))
        stuck = []
        for _ in range(4):
            c = socket.create_connection(("127.0.0.1", self.port_a), timeout=5)
            c.setblocking(False)
            try:
                while True:
                    c.send(b"x" * 65536)
            except BlockingIOError:
                pass
            stuck.append(c)
        self.addCleanup(lambda: [c.close() for c in stuck])
        for _ in range(20):
            self.assertEqual(http_get(self.port_b, timeout=3), b"hello from b")
        os.kill(a.process.pid, signal.SIGCONT)

    def test_http_api_needs_the_right_credential(self):
        self.assertEqual(self.t.call("POST", "/token/x")[0], 401)
        self.assertEqual(self.t.call("GET", "/token/order-a")[0], 401)
        # An instance may not touch another family's tokens.
        self.assertEqual(self.t.call("GET", "/token/order-a",
                                     secret=SECRET_B)[0], 403)
        self.assertEqual(self.t.call("POST", "/token/order-a-http",
                                     secret=SECRET_B)[0], 403)
        self.assertEqual(self.t.call("DELETE", f"/token/order-a/{self.port_a}",
                                     secret=SECRET_B)[0], 403)
        # ... nor create base tokens or list everything.
        self.assertEqual(self.t.call("POST", "/token/fresh", secret=SECRET_A)[0], 403)
        self.assertEqual(self.t.call("GET", "/informations", secret=SECRET_A)[0], 403)
        # A secret cannot be set by an instance, a key must be a key.
        status, _ = self.t.call("POST", "/token/order-a/key", body="not a key",
                                secret=SECRET_A)
        self.assertEqual(status, 400)
        status, text = self.t.call("GET", "/informations", secret=MANAGER_SECRET)
        self.assertEqual(status, 200)
        self.assertEqual(sorted(x["token"] for x in json.loads(text)),
                         ["order-a", "order-b"])

    def test_other_credentials_and_ports_are_refused(self):
        # B's key does not log in as A, and A's key not as B.
        wrong = SshForward(self, self.t, "order-a", self.key_b, self.port_a,
                           self.service.port)
        self.assertNotEqual(wrong.process.wait(15), 0)
        self.assertIn("Permission denied", wrong.output())
        # A may not forward B's port, nor a port nobody owns.
        for port in (self.port_b, self.high):
            c = self.forward(port=port)
            self.assertNotEqual(c.process.wait(15), 0)
            self.assertIn("remote port forwarding failed", c.output())
        self.assertIsNone(http_get(self.port_b, timeout=2))
        # Password login with the secret works; a wrong one does not.
        ok = subprocess.run(
            ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes",
             "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
             "-o", "PubkeyAuthentication=no", "-p", str(self.t.ssh_port),
             "order-a@127.0.0.1", "true"],
            capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        self.assertNotEqual(ok.returncode, 0)  # BatchMode: no password prompt

    def test_shell_exec_and_local_forwards_are_refused(self):
        r = subprocess.run(
            ["ssh", "-F", "/dev/null", "-i", self.key_a, "-o", "IdentitiesOnly=yes",
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-p", str(self.t.ssh_port),
             "order-a@127.0.0.1", "echo", "pwned"],
            capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
        self.assertNotIn("pwned", r.stdout)
        self.assertIn("open failed", r.stderr)
        local = Service(self, "private")
        lport = free_port_range(1)[0]
        c = SshForward(self, self.t, "order-a", self.key_a, self.port_a,
                       self.service.port, extra=("-L", f"{lport}:127.0.0.1:{local.port}"))
        wait_until(lambda: http_get(self.port_a), 15, message="tunnel up")
        self.assertIsNone(http_get(lport, timeout=3))
        self.assertIn("prohibited", c.output())

    def test_reconnect_takes_over_the_port_at_once(self):
        old = self.forward()
        wait_until(lambda: http_get(self.port_a), 15, message="first session")
        other = Service(self, "second client")
        new = self.forward(local=other.port)
        wait_until(lambda: http_get(self.port_a) == b"second client", 10,
                   message="the new session to serve the port")
        # The old session was closed by the server.
        old.process.wait(10)
        self.assertIsNone(new.process.poll())

    def test_named_extra_ports(self):
        status, text = self.t.call("POST", "/token/order-a-http", secret=SECRET_A)
        self.assertEqual(status, 200, text)
        http_port = int(text.split(":")[0])
        self.assertEqual(http_port, self.low + 2)
        status, text = self.t.call("GET", "/token/order-a/all", secret=SECRET_A)
        self.assertEqual(json.loads(text), {"ssh": self.port_a, "http": http_port})
        web = Service(self, "extra port")
        # The family's key may forward the named port, logged in as either name.
        SshForward(self, self.t, "order-a-http", self.key_a, http_port, web.port)
        self.assertEqual(wait_until(lambda: http_get(http_port), 15,
                                    message="named port"), b"extra port")
        # Deleting the base token releases the whole family.
        status, _ = self.t.call("DELETE", f"/token/order-a/{self.port_b}",
                                secret=SECRET_A)
        self.assertEqual(status, 405)
        status, _ = self.t.call("DELETE", f"/token/order-a/{self.port_a}",
                                secret=SECRET_A)
        self.assertEqual(status, 200)
        wait_until(lambda: http_get(http_port, timeout=1) is None, 10,
                   message="the named port to close")
        self.assertEqual(self.t.call("GET", "/token/order-a-http",
                                     secret=MANAGER_SECRET)[0], 404)

    def test_host_key_is_the_one_ssh_sees(self):
        status, b64 = self.t.call("GET", "/hostkey")
        self.assertEqual(status, 200)
        scan = subprocess.run(["ssh-keyscan", "-t", "ed25519", "-p",
                               str(self.t.ssh_port), "127.0.0.1"],
                              capture_output=True, text=True, timeout=20)
        self.assertIn(b64, scan.stdout)

    def test_restart_keeps_ports_and_keys(self):
        self.forward()
        wait_until(lambda: http_get(self.port_a), 15, message="tunnel")
        self.t.stop()
        self.t.start(tunnel_section(self.low, self.high))
        self.assertEqual(self.t.call("GET", "/token/order-a", secret=SECRET_A),
                         (200, str(self.port_a)))
        self.assertEqual(self.t.register("order-c", "secret-of-order-c-0123"),
                         self.low + 2)
        self.forward()
        self.assertEqual(wait_until(lambda: http_get(self.port_a), 15,
                                    message="tunnel after restart"),
                         b"hello from a")


class PortTheftTest(unittest.TestCase):
    def test_a_deleted_port_is_never_kept_by_a_session(self):
        # An instance asks for a named port and deletes its token at the
        # same moment: whatever the order, once the allocator says the port
        # is free, nobody may listen on it any more.
        low, high = free_port_range(4)
        t = start_tunnel(self, tunnel_section(low, high))
        t.register("thief", SECRET_A)
        key = make_key(t.workspace, "k")
        t.call("POST", "/token/thief/key", body=read_pub(key), secret=SECRET_A)
        svc = Service(self, "thief")
        for attempt in range(20):
            status, text = t.call("POST", "/token/thief-x", secret=SECRET_A)
            self.assertEqual(status, 200, text)
            port = int(text.split(":")[0])
            ssh = subprocess.Popen(
                ["ssh", "-v", "-N", "-F", "/dev/null", "-i", key,
                 "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                 "-o", "StrictHostKeyChecking=no",
                 "-o", "UserKnownHostsFile=/dev/null",
                 "-p", str(t.ssh_port),
                 "-R", f"127.0.0.1:{port}:127.0.0.1:{svc.port}",
                 "thief-x@127.0.0.1"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE, text=True)
            self.addCleanup(lambda p=ssh: p.poll() is None and p.kill())
            # The client has just sent its tcpip-forward request: delete.
            for line in ssh.stderr:
                if "Remote connections from" in line:
                    break
            status, _ = t.call("DELETE", f"/token/thief-x/{port}",
                               secret=SECRET_A)
            self.assertEqual(status, 200)
            self.assertEqual(t.call("GET", "/token/thief-x",
                                    secret=MANAGER_SECRET)[0], 404)
            wait_until(lambda: not port_listens(port), 10,
                       message=f"port {port} to close (attempt {attempt})")
            ssh.kill()
            ssh.wait()
            ssh.stderr.close()


def port_listens(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return True
    except OSError:
        return False


class IdleExpiryTest(unittest.TestCase):
    def test_idle_families_expire_connected_ones_stay(self):
        low, high = free_port_range(4)
        t = start_tunnel(self, tunnel_section(low, high, idle_s=2))
        pa = t.register("busy", SECRET_A)
        t.register("idle", SECRET_B)
        key = make_key(t.workspace, "k")
        t.call("POST", "/token/busy/key", body=read_pub(key),
               secret=SECRET_A)
        svc = Service(self, "busy")
        SshForward(self, t, "busy", key, pa, svc.port)
        wait_until(lambda: http_get(pa), 15, message="tunnel")
        wait_until(lambda: t.call("GET", "/token/idle",
                                  secret=MANAGER_SECRET)[0] == 404,
                   20, message="the idle token to expire")
        self.assertEqual(t.call("GET", "/token/busy", secret=MANAGER_SECRET),
                         (200, str(pa)))
        self.assertEqual(http_get(pa), b"busy")


class TimeoutTest(unittest.TestCase):
    def test_silent_and_useless_clients_are_dropped(self):
        low, high = free_port_range(2)
        t = start_tunnel(self, tunnel_section(low, high).replace(
            "login_timeout_s = 10", "login_timeout_s = 2"))
        t.register("t", SECRET_A)
        key = make_key(t.workspace, "k")
        t.call("POST", "/token/t/key", body=read_pub(key), secret=SECRET_A)
        # A TCP client that never speaks SSH is disconnected.
        with socket.create_connection(("127.0.0.1", t.ssh_port), timeout=15) as c:
            banner = c.recv(256)
            self.assertTrue(banner.startswith(b"SSH-2.0-"))
            start = time.monotonic()
            while c.recv(256):
                pass
            self.assertLess(time.monotonic() - start, 15)
        # A logged-in client that forwards nothing is disconnected too.
        idle = subprocess.Popen(
            ["ssh", "-N", "-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes",
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-p", str(t.ssh_port),
             "t@127.0.0.1"], stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: idle.poll() is None and idle.kill())
        idle.wait(15)


if __name__ == "__main__":
    unittest.main()
