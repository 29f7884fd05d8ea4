"""The REST API under attack, over real sockets on loopback: each test
reproduces an attack that worked against the cpp-httplib server (whole
bodies read before authentication, chunked bodies without a limit, no
header deadline, one thread per client) and shows it fail while a
legitimate request is served meanwhile. Bounds in seconds are hang
detectors, not performance assertions."""

import http.client
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from fogbow_harness import fogbow, start_manager, wait_until
from tunnel_harness import free_port_range, start_tunnel, tunnel_section

TOKEN = "alice-secret"

CONFIG = """
[manager]
member_id = "hardening.test"
[manager.driver]
kind = "instant"
[http]
max_body_bytes = 65536
header_timeout_s = {header_timeout}
max_connections_per_address = {per_address}
{tls}
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""

ORDER = json.dumps({"kind": "compute", "vcpu": 1, "memory_mb": 512}).encode()


def config(header_timeout=10, per_address=256, tls=""):
    return CONFIG.format(header_timeout=header_timeout, per_address=per_address,
                         tls=tls)


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError(f"no VmRSS for {pid}")


def get_status(port, source="127.0.0.1", timeout=10):
    """GET /v1/status from `source`; returns the status code."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout,
                                      source_address=(source, 0))
    try:
        conn.request("GET", "/v1/status")
        res = conn.getresponse()
        res.read()
        return res.status
    finally:
        conn.close()


def served_within(port, seconds, source="127.0.0.1"):
    """A legitimate request: 200 within `seconds` (the hang detector)."""
    start = time.monotonic()
    status = get_status(port, source, timeout=seconds)
    return status == 200 and time.monotonic() - start < seconds


def read_answer(sock):
    """Everything until the peer closes or goes quiet; b"" on reset."""
    out = b""
    try:
        while True:
            data = sock.recv(65536)
            if not data:
                break
            out += data
            if b"\r\n\r\n" in out and out.rstrip().endswith(b"}"):
                break
    except (ConnectionResetError, socket.timeout, TimeoutError):
        pass
    return out


def chunked_post(port, headers, chunks, timeout=10, path="/v1/orders"):
    """Sends POST `path` with a chunked body made of `chunks` (an
    iterable of bytes) and returns (bytes of body sent, answer bytes). Stops
    sending as soon as the server stops reading (error or send timeout)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sent = 0
    try:
        head = f"POST {path} HTTP/1.1\r\nHost: x\r\n" \
               "Content-Type: application/json\r\n" \
               "Transfer-Encoding: chunked\r\n"
        for k, v in headers.items():
            head += f"{k}: {v}\r\n"
        sock.sendall((head + "\r\n").encode())
        try:
            for chunk in chunks:
                sock.sendall(b"%x\r\n" % len(chunk) + chunk + b"\r\n")
                sent += len(chunk)
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError, socket.timeout,
                TimeoutError):
            pass
        return sent, read_answer(sock)
    finally:
        sock.close()


class BodiesAreBoundedBeforeAndAfterAuthentication(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = start_manager(cls, config())

    def test_600_mb_chunked_post_without_token_is_refused_unread(self):
        before = rss_kib(self.m.process.pid)
        mib = b"x" * (1 << 20)
        result = {}
        attacker = threading.Thread(target=lambda: result.update(
            zip(("sent", "answer"),
                chunked_post(self.m.port, {}, (mib for _ in range(600))))))
        attacker.start()
        # A legitimate client is served while the attacker pushes.
        self.assertTrue(served_within(self.m.port, 10))
        attacker.join(120)
        self.assertFalse(attacker.is_alive(), "the attacker still sends")
        self.assertLess(result["sent"], 100 << 20,
                        "the server read the unauthenticated body")
        if result["answer"]:
            self.assertTrue(result["answer"].startswith(b"HTTP/1.1 401"),
                            result["answer"][:200])
        grown = rss_kib(self.m.process.pid) - before
        self.assertLess(grown, 100 * 1024, f"RSS grew by {grown} KiB")
        self.assertTrue(served_within(self.m.port, 10))

    def test_chunked_post_with_token_over_the_limit_is_413(self):
        body = b'{"kind":"compute","image":"' + b"x" * 200_000 + b'"}'
        chunks = [body[i:i + 10_000] for i in range(0, len(body), 10_000)]
        sent, answer = chunked_post(self.m.port, {"X-Auth-Token": TOKEN},
                                    chunks)
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:300])
        self.assertIn(b"payload_too_large", answer)
        # Within the limit, chunked works.
        sent, answer = chunked_post(self.m.port, {"X-Auth-Token": TOKEN},
                                    [ORDER[:10], ORDER[10:]])
        self.assertTrue(answer.startswith(b"HTTP/1.1 201"), answer[:300])

    def test_compressed_bodies_are_415(self):
        for encoding in ("gzip", "deflate", "br"):
            conn = http.client.HTTPConnection("127.0.0.1", self.m.port,
                                              timeout=10)
            try:
                conn.request("POST", "/v1/orders", body=b"\x1f\x8b" + b"\0" * 60,
                             headers={"X-Auth-Token": TOKEN,
                                      "Content-Type": "application/json",
                                      "Content-Encoding": encoding})
                res = conn.getresponse()
                body = json.loads(res.read())
            finally:
                conn.close()
            self.assertEqual(res.status, 415, encoding)
            self.assertEqual(body["error"]["code"], "unsupported_media_type")
        self.assertTrue(served_within(self.m.port, 10))


class SlowClients(unittest.TestCase):
    def test_slowloris_neither_delays_others_nor_stays(self):
        m = start_manager(self, config(header_timeout=4))
        slow = []
        for _ in range(16):
            s = socket.create_connection(("127.0.0.1", m.port), timeout=10)
            s.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n")
            slow.append(s)
        self.addCleanup(lambda: [s.close() for s in slow])
        cut = set()
        deadline = time.monotonic() + 12
        while time.monotonic() < deadline and len(cut) < len(slow):
            # One header line every 2 s from each, and meanwhile a
            # legitimate request that must not wait for them.
            for i, s in enumerate(slow):
                if i in cut:
                    continue
                try:
                    s.sendall(b"X-Slow: %d\r\n" % i)
                except OSError:
                    cut.add(i)
            self.assertTrue(served_within(m.port, 10))
            time.sleep(2)
        # The header deadline (4 s) closed every one of them.
        for i, s in enumerate(slow):
            if i in cut:
                continue
            s.settimeout(5)
            try:
                data = s.recv(4096)
                self.assertEqual(data, b"", f"slow client {i} got {data[:80]}")
            except ConnectionResetError:
                pass

    def test_connections_per_address_are_limited(self):
        m = start_manager(self, config(per_address=4))
        held = [socket.create_connection(("127.0.0.1", m.port), timeout=10)
                for _ in range(4)]
        self.addCleanup(lambda: [s.close() for s in held])
        # The fifth from 127.0.0.1 is closed without an answer ...
        extra = socket.create_connection(("127.0.0.1", m.port), timeout=10)
        try:
            extra.sendall(b"GET /v1/status HTTP/1.1\r\nHost: x\r\n\r\n")
        except OSError:
            pass
        self.assertEqual(read_answer(extra), b"")
        extra.close()
        # ... while another address is served.
        self.assertTrue(served_within(m.port, 10, source="127.0.0.2"))
        for s in held:
            s.close()

        def served_again():
            try:
                return get_status(m.port) == 200
            except OSError:  # the server has not seen the closes yet
                return False
        wait_until(served_again, timeout=10, message="127.0.0.1 served again")


class TunnelApi(unittest.TestCase):
    """The tunnel's HTTP API is served the same way."""

    def test_bodies_are_refused_before_authentication_and_bounded(self):
        low, high = free_port_range(4)
        t = start_tunnel(self, tunnel_section(low, high))
        port = int(t.url.rsplit(":", 1)[1])
        before = rss_kib(t.process.pid)
        mib = b"x" * (1 << 20)
        sent, answer = chunked_post(port, {}, (mib for _ in range(300)),
                                    path="/token/order-a")
        self.assertLess(sent, 100 << 20, "the server read the body")
        if answer:
            self.assertTrue(answer.startswith(b"HTTP/1.1 401"), answer[:200])
        self.assertLess(rss_kib(t.process.pid) - before, 100 * 1024)
        # The manager is served, and an instance's body is held to 64 KiB.
        t.register("order-a", "secret-of-order-a-0123")
        sent, answer = chunked_post(
            port, {"X-Auth-Token": "secret-of-order-a-0123"},
            [b"ssh-ed25519 " + b"A" * 10_000] * 10, path="/token/order-a/key")
        self.assertTrue(answer.startswith(b"HTTP/1.1 413"), answer[:200])


@unittest.skipUnless(shutil.which("openssl"), "needs openssl")
class Https(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="fogbow-tls-")
        cls.addClassCleanup(shutil.rmtree, cls.dir, True)
        cls.ca = cls.make_ca("ca")
        cls.other_ca = cls.make_ca("other")
        cert, key = cls.make_server_cert()
        tls = f'tls_cert = "{cert}"\ntls_key = "{key}"'
        cls.m = start_manager(cls, config(tls=tls))

    @classmethod
    def openssl(cls, *args):
        subprocess.run(["openssl", *args], cwd=cls.dir, check=True,
                       capture_output=True, timeout=60)

    @classmethod
    def make_ca(cls, name):
        cls.openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                    "2", "-subj", f"/CN=fogbow test {name} CA", "-keyout",
                    f"{name}.key", "-out", f"{name}.crt")
        return os.path.join(cls.dir, f"{name}.crt")

    @classmethod
    def make_server_cert(cls):
        with open(os.path.join(cls.dir, "san.ext"), "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        cls.openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj",
                    "/CN=127.0.0.1", "-keyout", "server.key", "-out",
                    "server.csr")
        cls.openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt",
                    "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
                    "-extfile", "san.ext", "-out", "server.crt")
        return (os.path.join(cls.dir, "server.crt"),
                os.path.join(cls.dir, "server.key"))

    def cli(self, *args, env=None):
        return fogbow("order", "list", "--url", self.m.url, "--token", TOKEN,
                      *args, env=env)

    def test_listens_with_https_only(self):
        self.assertTrue(self.m.url.startswith("https://"), self.m.url)
        conn = http.client.HTTPConnection("127.0.0.1", self.m.port, timeout=5)
        with self.assertRaises((OSError, http.client.HTTPException)):
            conn.request("GET", "/v1/status")
            conn.getresponse().read()
        conn.close()

    def test_cli_verifies_the_certificate_with_cacert(self):
        ok = self.cli("--cacert", self.ca)
        self.assertEqual(ok.returncode, 0, ok.stderr)
        ok = self.cli(env={"FOGBOW_CACERT": self.ca})
        self.assertEqual(ok.returncode, 0, ok.stderr)
        for args in ((), ("--cacert", self.other_ca)):
            bad = self.cli(*args)
            self.assertEqual(bad.returncode, 3, bad.stderr)
            self.assertIn("TLS", bad.stderr)
            self.assertIn("--cacert", bad.stderr)

    def test_tls_keys_go_together_and_must_be_readable(self):
        missing = os.path.join(self.dir, "missing.key")
        cert = os.path.join(self.dir, "server.crt")
        for tls, expected in ((f'tls_cert = "{cert}"', "go together"),
                              (f'tls_cert = "{cert}"\ntls_key = "{missing}"',
                               missing)):
            with self.assertRaises(RuntimeError) as caught:
                start_manager(self, config(tls=tls), timeout=20)
            self.assertIn(expected, str(caught.exception))


if __name__ == "__main__":
    unittest.main()
