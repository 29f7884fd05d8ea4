"""Black-box fuzzing over real sockets: thousands of mutated HTTP requests
(methods, targets, versions, headers, framing, bodies) on the REST port and
the tunnel's HTTP port of one `fogbow --role=all`, plus slow, half-closed and
abandoned connections. What must hold, whatever the HTTP server library:

* the process never dies and never prints a sanitizer report;
* no answer is a 5xx other than the documented 503 and 504 (and 501/505,
  the protocol's own answers to a method or an HTTP version nobody
  implements, only to such requests);
* on the REST port every error answer to a well-framed request for a path
  is the JSON error body of the README (`{"error": {"code", "message"}}`);
* a well-framed request always gets an answer;
* legitimate requests are served meanwhile and afterwards;
* the resident memory after the run is within a generous bound of the
  memory after a warm-up.

FOGBOW_SOCKET_FUZZ_REQUESTS (default 4000) and FOGBOW_SOCKET_FUZZ_SEED
change the run; the seed of a failure is in its message.
"""

import base64
import gzip
import zlib
import json
import os
import random
import re
import socket
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

from fogbow_harness import Manager, wait_for_log
from tunnel_harness import MANAGER_SECRET, STARTED, free_port_range, tunnel_section

TOKEN = "alice-secret"
METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
ODD_METHODS = ["TRACE", "CONNECT", "PRI", "get", "G\x00ET", "X" * 300, "", "PROPFIND", "BREW"]
VERSIONS = ["HTTP/1.1", "HTTP/1.0"]
ODD_VERSIONS = ["HTTP/2.0", "HTTP/0.9", "HTTP/1.2", "HTTP/11", "http/1.1", "", "HTTP/1.1 x"]
REST_PATHS = ["/v1/orders", "/v1/orders/{id}", "/v1/computes", "/v1/computes/{id}",
              "/v1/volumes", "/v1/volumes/{id}", "/v1/networks/{id}", "/v1/attachments",
              "/v1/members", "/v1/members/{id}/quota", "/v1/status", "/", "/v1/", "/v2/orders"]
TUNNEL_PATHS = ["/token/{id}", "/token/{id}/key", "/token/{id}/all", "/token/{id}/{port}",
                "/hostkey", "/informations", "/", "/token", "/token/", "/token/{id}/{id}/x"]
IDS = ["a", "o-1", "x" * 3000, "%00", "%2e%2e", "..", "%zz", "\u00e9", "1@site-a.localhost",
       "a%2Fb", "*", "-1", "99999999999999999999", "", "%", "a?b=c", "a#frag"]
PORTS = ["20001", "0", "-1", "65536", "1e3", "0x10", "", "20001 ", "+1"]
ORDER = {"kind": "compute", "count": 1, "vcpu": 1, "memory_mb": 512,
         "requirements": "Glue2RAM >= 256"}
# A well-framed request's error answers on the REST port, by the README.
JSON_ERROR = ("error", "code")


def mutate_bytes(rng, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        pos = rng.randrange(len(data) + 1)
        op = rng.randrange(3)
        if op == 0 and data:
            del data[min(pos, len(data) - 1)]
        elif op == 1:
            data[pos:pos] = bytes([rng.randrange(256)])
        else:
            data[pos:pos] = rng.choice([b'"', b"{", b"}", b"[", b"\\u", b"\x00", b"\xff",
                                        b"1e999", b"null", b"\r\n"])
    return bytes(data)


class Request:
    """One request as bytes, and what it may be answered with."""

    def __init__(self, raw, well_framed, odd_method=False, odd_version=False):
        self.raw = raw
        self.well_framed = well_framed  # must be answered, errors in JSON
        self.odd_method = odd_method
        self.odd_version = odd_version


def random_target(rng, paths):
    path = rng.choice(paths).replace("{id}", rng.choice(IDS), 1)
    path = path.replace("{id}", rng.choice(IDS)).replace("{port}", rng.choice(PORTS))
    if rng.random() < 0.2:
        path += rng.choice(["?", "?a=1&a=2", "?x=" + "%41" * 200, "#f", "/", "//", "/.."])
    if rng.random() < 0.1:
        path = rng.choice(["*", "http://127.0.0.1/v1/status", "v1/orders", "/" * 50,
                           "/v1/orders/" + "a/" * 400])
    return path


def random_headers(rng, tunnel):
    headers = []
    roll = rng.random()
    if roll < 0.5:
        headers.append(("X-Auth-Token", rng.choice([TOKEN, MANAGER_SECRET, "", "wrong",
                                                    "x" * 5000, "\u00e9"])))
    elif roll < 0.7:
        cred = rng.choice(["alice:" + TOKEN, "t:" + MANAGER_SECRET, ":", "nocolon", ""])
        raw = base64.b64encode(cred.encode()).decode()
        headers.append(("Authorization", rng.choice(["Basic " + raw, "Basic ===",
                                                     "Basic " + raw[:-1], "Bearer x",
                                                     "Basic"])))
    for _ in range(rng.randint(0, 3)):
        headers.append(rng.choice([
            ("Content-Type", rng.choice(["application/json", "text/plain",
                                         "multipart/form-data; boundary=x",
                                         "application/x-www-form-urlencoded", ""])),
            ("Accept", "*/*"), ("Connection", rng.choice(["close", "keep-alive", "upgrade"])),
            ("Expect", "100-continue"), ("Content-Encoding", rng.choice(["gzip", "br", "x"])),
            ("Accept-Encoding", "gzip, deflate"), ("Range", "bytes=0-1,5-"),
            ("X-" + "a" * rng.randint(1, 200), "v" * rng.randint(0, 2000)),
            ("Upgrade", "h2c"), ("Cookie", "a=b; " * 50),
        ]))
    return headers


def random_body(rng, tunnel):
    kind = rng.randrange(5)
    if kind == 0:
        return b""
    if kind == 1:
        body = {"secret": "s3cret-1234"} if tunnel else dict(ORDER)
        return mutate_bytes(rng, json.dumps(body).encode())
    if kind == 2:
        return bytes(rng.randrange(256) for _ in range(rng.randint(1, 400)))
    if kind == 3:
        return rng.choice([b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI x", b"{}", b"[]",
                           b"null", b"\"" + b"a" * 70000 + b"\"", b"[" * 5000])
    return json.dumps({"secret": "x"} if tunnel else ORDER).encode()


def frame(rng, method, target, version, headers, body):
    """The request's bytes; returns (raw, well_framed)."""
    well_framed = True
    lines = [f"{method} {target} {version}"]
    if version != "HTTP/1.0" or rng.random() < 0.5:
        lines.append("Host: 127.0.0.1")
    lines += [f"{k}: {v}" for k, v in headers]
    framing = rng.randrange(10)
    if body or method in ("POST", "PUT", "PATCH"):
        if framing < 6:
            lines.append(f"Content-Length: {len(body)}")
        elif framing < 8:  # chunked, valid or not
            lines.append("Transfer-Encoding: chunked")
            chunks = b""
            rest = body
            while rest:
                n = rng.randint(1, 64)
                piece, rest = rest[:n], rest[n:]
                chunks += b"%x\r\n" % len(piece) + piece + b"\r\n"
            chunks += rng.choice([b"0\r\n\r\n", b"0\r\nX-T: 1\r\n\r\n"])
            if rng.random() < 0.3:
                chunks = mutate_bytes(rng, chunks)
                well_framed = False
            body = chunks
        elif framing < 9:  # contradicting or odd lengths
            lines.append(rng.choice([f"Content-Length: {len(body)}\r\nContent-Length: 1",
                                     "Content-Length: -1", "Content-Length: 0x10",
                                     "Content-Length: 99999999999999999999999",
                                     f"Content-Length: {len(body)}\r\nTransfer-Encoding: chunked",
                                     "Content-Length: " + str(len(body)) + " ",
                                     "Transfer-Encoding: gzip, chunked"]))
            well_framed = False
        else:
            well_framed = False  # no length at all
    if rng.random() < 0.05:  # header syntax the RFC refuses
        lines.append(rng.choice(["NoColon", " folded: x", "Bad Name: x", ": empty",
                                 "X-Nul: a\x00b", "X-Long: " + "a" * 20000]))
        well_framed = False
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
    if rng.random() < 0.03:
        head = head.replace(b"\r\n", b"\n")  # bare LF line ends
        well_framed = False
    return head + body, well_framed


def random_request(rng, tunnel):
    odd_method = rng.random() < 0.05
    odd_version = rng.random() < 0.05
    method = rng.choice(ODD_METHODS if odd_method else METHODS)
    version = rng.choice(ODD_VERSIONS if odd_version else VERSIONS)
    target = random_target(rng, TUNNEL_PATHS if tunnel else REST_PATHS)
    headers = random_headers(rng, tunnel)
    body = random_body(rng, tunnel) if rng.random() < 0.7 or method == "POST" else b""
    raw, well_framed = frame(rng, method, target, version, headers, body)
    # Targets with bytes HTTP does not allow, odd methods or versions: any
    # 4xx, or a closed connection, is a fine answer.
    if odd_method or odd_version or re.search(r"[^\x21-\x7e]", target):
        well_framed = False
    if rng.random() < 0.02:
        raw = mutate_bytes(rng, raw)
        well_framed = False
    return Request(raw, well_framed, odd_method, odd_version)


def read_response(sock, timeout, head_only=False):
    """(status, headers dict, body) of the first response, or None when the
    peer closes or says nothing within `timeout` seconds."""
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})", lines[0])
        if not m:
            raise AssertionError(f"not an HTTP status line: {lines[0]!r}")
        status = int(m.group(1))
        headers = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        if status == 100:  # an interim answer to Expect: the real one follows
            return read_response_from(sock, body, timeout, head_only)
        if head_only:  # the answer to HEAD: its length is the GET's
            return status, headers, b""
        length = headers.get("content-length")
        if length is not None:
            while len(body) < int(length):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            body = body[:int(length)]  # what follows is the next response
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while not body.endswith(b"0\r\n\r\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                body += chunk
            body = dechunk(body)
        encoding = headers.get("content-encoding", "").lower()
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        return status, headers, body
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        return None


def read_response_from(sock, already, timeout, head_only):
    """read_response when `already` bytes of it were received."""
    class Prefixed:
        def __init__(self):
            self.pending = already

        def settimeout(self, t):
            sock.settimeout(t)

        def recv(self, n):
            if self.pending:
                out, self.pending = self.pending, b""
                return out
            return sock.recv(n)
    return read_response(Prefixed(), timeout, head_only)


def dechunk(body):
    out = b""
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        body = rest[size + 2:]
    return out


def send(port, raw, timeout):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        try:
            sock.sendall(raw)
        except OSError:
            pass  # refused mid-request (e.g. a 413 before the body): read it
        return read_response(sock, timeout, raw.startswith(b"HEAD "))


def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


class SocketFuzz(unittest.TestCase):
    def setUp(self):
        low, high = free_port_range(30)
        config = """
[manager]
member_id = "fuzz.test"
max_orders_per_request = 3
[manager.driver]
kind = "instant"
vcpu = 64
memory_mb = 65536
instances = 64
[http]
max_body_bytes = 65536
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
""" + tunnel_section(low, high)
        self.manager = Manager(roles="all")
        self.addCleanup(self.manager.cleanup)
        self.manager.start(config)
        started = wait_for_log(self.manager.process, self.manager.log, STARTED.search, 30)
        self.assertTrue(started, self.manager.log_tail())
        self.rest_port = self.manager.port
        self.tunnel_port = int(started.group(3))
        self.seed = int(os.environ.get("FOGBOW_SOCKET_FUZZ_SEED", "20261203"))
        self.count = int(os.environ.get("FOGBOW_SOCKET_FUZZ_REQUESTS", "4000"))

    def check(self, port, request, answer):
        """The rules of the module docstring for one request."""
        tunnel = port == self.tunnel_port
        where = f"seed {self.seed}, {'tunnel' if tunnel else 'REST'}: {request.raw[:300]!r}"
        if answer is None:
            self.assertFalse(request.well_framed, "no answer to a well-framed request: " + where)
            return None
        status, headers, body = answer
        allowed_5xx = {503, 504}
        if request.odd_method:
            allowed_5xx.add(501)
        if request.odd_version:
            allowed_5xx.add(505)
        self.assertTrue(status < 500 or status in allowed_5xx, f"{status} {body[:300]!r}; {where}")
        target = request.raw.split(b" ", 2)[1] if request.raw.count(b" ") >= 2 else b""
        if (not tunnel and request.well_framed and status >= 400 and body
                and not request.raw.startswith(b"HEAD")
                # "*" and absolute forms may be refused before routing
                and target.startswith(b"/")
                # cpp-httplib 0.11 cuts error bodies too by a Range header
                and b"\r\nRange:" not in request.raw):
            try:
                code = json.loads(body)[JSON_ERROR[0]][JSON_ERROR[1]]
            except (ValueError, KeyError, TypeError):
                code = None
            self.assertTrue(code, f"{status} without a JSON error: {body[:300]!r}; {where}")
        return status

    def legit(self):
        """A user's and the tunnel manager's requests are served."""
        ok = send(self.rest_port, b"GET /v1/orders HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
                  + TOKEN.encode() + b"\r\nConnection: close\r\n\r\n", 10)
        self.assertIsNotNone(ok, "REST API did not answer a legitimate request")
        self.assertEqual(ok[0], 200, ok)
        ok = send(self.tunnel_port, b"GET /hostkey HTTP/1.1\r\nHost: x\r\n"
                  b"Connection: close\r\n\r\n", 10)
        self.assertIsNotNone(ok, "tunnel API did not answer a legitimate request")
        self.assertEqual(ok[0], 200, ok)

    def fuzz(self, rng, count):
        statuses = {}
        requests = []
        for _ in range(count):
            port = self.tunnel_port if rng.random() < 0.4 else self.rest_port
            requests.append((port, random_request(rng, port == self.tunnel_port)))

        def one(item):
            port, request = item
            # A request the server may wait on (no length, bad chunks) is
            # answered at its deadline or never: do not wait long for it.
            return send(port, request.raw, 10 if request.well_framed else 1.5)

        with ThreadPoolExecutor(6) as pool:
            for (port, request), answer in zip(requests, pool.map(one, requests)):
                status = self.check(port, request, answer)
                statuses[status] = statuses.get(status, 0) + 1
        return statuses

    def abuse_connections(self, rng, stop):
        """Slow, half-closed and abandoned connections, until `stop` is set."""
        while not stop.is_set():
            port = rng.choice([self.rest_port, self.tunnel_port])
            raw = random_request(rng, port == self.tunnel_port).raw
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                continue
            with sock:
                kind = rng.randrange(4)
                try:
                    if kind == 0:  # slow: a few bytes at a time
                        for i in range(0, min(len(raw), 60), 6):
                            sock.sendall(raw[i:i + 6])
                            if stop.wait(0.1):
                                break
                    elif kind == 1:  # half-closed after part of the request
                        sock.sendall(raw[:rng.randrange(len(raw) + 1)])
                        sock.shutdown(socket.SHUT_WR)
                        read_response(sock, 1)
                    elif kind == 2:  # gone at once
                        pass
                    else:  # reset mid-request
                        sock.sendall(raw[:rng.randrange(len(raw) + 1)])
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                        b"\x01\x00\x00\x00\x00\x00\x00\x00")
                except OSError:
                    pass

    def test_mutated_requests_over_sockets(self):
        rng = random.Random(self.seed)
        self.legit()
        self.fuzz(rng, 300)  # warm-up: thread stacks, caches, SQLite pages
        rss_before = vm_rss_kib(self.manager.process.pid)
        stop = threading.Event()
        abusers = [threading.Thread(target=self.abuse_connections,
                                    args=(random.Random(self.seed + i), stop))
                   for i in range(4)]
        for t in abusers:
            t.start()
        try:
            statuses = self.fuzz(rng, self.count)
            self.legit()  # served while the abusers keep connections busy
        finally:
            stop.set()
            for t in abusers:
                t.join()
        time.sleep(0.5)
        self.legit()
        rss_after = vm_rss_kib(self.manager.process.pid)
        print(f"socket fuzz: {self.count} requests, statuses {sorted(statuses.items(), key=str)},"
              f" VmRSS {rss_before} -> {rss_after} KiB")
        self.assertIsNone(self.manager.process.poll(), self.manager.log_tail())
        # Generous: the attacks this guards against took hundreds of MiB.
        self.assertLess(rss_after, rss_before + 128 * 1024,
                        f"VmRSS grew from {rss_before} to {rss_after} KiB")
        self.assertGreater(sum(v for k, v in statuses.items() if k and k < 300), 50, statuses)
        self.assertEqual(self.manager.stop(), 0, self.manager.log_tail())


if __name__ == "__main__":
    unittest.main()
