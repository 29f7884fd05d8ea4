"""Helpers for tunnel tests: a `fogbow --role=tunnel` process, HTTP calls to
its API, OpenSSH clients doing `ssh -N -R`, a tiny HTTP service (standard
library only; real OpenSSH, real sockets, real SQLite).

    tunnel = start_tunnel(self)                 # stopped by addCleanup
    port = tunnel.register("order-1", "secret-of-order-1!")
    key = make_key(tunnel.workspace, "k")
    tunnel.call("POST", "/token/order-1/key", body=open(key + ".pub").read(),
                user="order-1", secret="secret-of-order-1!")
    client = SshForward(self, tunnel, "order-1", key, port, local_port)
"""

import base64
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from fogbow_harness import (kill_processes_under, spawn_fogbow, wait_for_log,
                            wait_until)

MANAGER_SECRET = "tunnel-manager-secret-for-tests"
STARTED = re.compile(r"tunnel: SSH on [^:]+:(\d+), HTTP API on (http://[^\s]+:(\d+))")


def ephemeral_low():
    """Start of the kernel's ephemeral port range: ports below it are never
    taken by outgoing connections, so a range picked there stays free."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_range(count):
    """`count` consecutive loopback ports that are free right now."""
    for _ in range(200):
        low = random.randint(10000, ephemeral_low() - count - 1)
        socks = []
        try:
            for p in range(low, low + count):
                s = socket.socket()
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("127.0.0.1", p))
            return low, low + count - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port range")


def tunnel_section(low, high, idle_s=86400):
    return f"""
[tunnel]
ssh_bind = "127.0.0.1"
ssh_port = 0
public_bind = "127.0.0.1"
port_low = {low}
port_high = {high}
http_bind = "127.0.0.1"
http_port = 0
manager_secret = "{MANAGER_SECRET}"
idle_token_timeout_s = {idle_s}
client_timeout_s = 30
login_timeout_s = 10
"""


def published_through_tunnel(low, high, api_port, svc_port):
    """A manager's [manager.tunnel], publishing its instances' `svc_port`
    through the tunnel role of the same process, and that [tunnel] section
    with its API on `api_port` and public ports `low`..`high`."""
    return f"""
[manager.tunnel]
url = "http://127.0.0.1:{api_port}"
secret = "{MANAGER_SECRET}"
ssh_host = "127.0.0.1"
public_host = "127.0.0.1"
local_port = {svc_port}
""" + tunnel_section(low, high).replace("http_port = 0",
                                        f"http_port = {api_port}")


def make_key(directory, name):
    """An ed25519 key pair; returns the private key's path."""
    path = os.path.join(directory, name)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", path],
                   check=True)
    return path


def read_pub(key):
    """The public key line of the pair at `key`."""
    with open(key + ".pub") as f:
        return f.read()


class Tunnel:
    """One `fogbow --role=tunnel` process (its data dir survives restarts)."""

    def __init__(self, roles="tunnel"):
        self.roles = roles
        self.workspace = tempfile.mkdtemp(prefix="fogbow-tunnel-")
        self.data_dir = os.path.join(self.workspace, "data")
        self.process = None
        self.log_path = None
        self.starts = 0

    def start(self, config_text, timeout=30, open_files=None):
        self.starts += 1
        self.log_path = os.path.join(self.workspace, f"tunnel-{self.starts}.log")
        self.process = spawn_fogbow(self.workspace, self.roles, config_text,
                                    self.data_dir, self.log_path,
                                    ("--http-port", "0"),
                                    open_files=open_files)
        try:
            m = wait_for_log(self.process, self.log, STARTED.search, timeout)
        except TimeoutError:
            raise RuntimeError("tunnel did not start:\n" + self.log()) from None
        if not m:
            raise RuntimeError("tunnel exited:\n" + self.log())
        self.ssh_port = int(m.group(1))
        self.url = m.group(2)
        return self

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.process is None:
            return None
        p, self.process = self.process, None
        p.send_signal(signal.SIGTERM)
        try:
            return p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            return p.wait()

    def cleanup(self):
        self.stop()
        kill_processes_under(self.workspace)
        shutil.rmtree(self.workspace, ignore_errors=True)

    def call(self, method, path, body=None, user=None, secret=None,
             content_type=None, timeout=10):
        """One HTTP call to the tunnel API; returns (status, text)."""
        data = None if body is None else body.encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if secret is not None:
            if user is None:
                req.add_header("X-Auth-Token", secret)
            else:
                raw = base64.b64encode(f"{user}:{secret}".encode()).decode()
                req.add_header("Authorization", "Basic " + raw)
        if content_type:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                return res.status, res.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def register(self, token, secret):
        """As the manager: creates the token with its secret; its port."""
        status, text = self.call("POST", f"/token/{token}",
                                 body='{"secret": "%s"}' % secret,
                                 secret=MANAGER_SECRET,
                                 content_type="application/json")
        if status != 200:
            raise AssertionError(f"register {token}: {status} {text}")
        return int(text.split(":")[0])


def start_tunnel(test, config_text, roles="tunnel", open_files=None):
    t = Tunnel(roles)
    test.addCleanup(t.cleanup)
    return t.start(config_text, open_files=open_files)


class SshForward:
    """`ssh -N -R 127.0.0.1:PORT:127.0.0.1:LOCAL TOKEN@tunnel` (real OpenSSH)."""

    def __init__(self, test, tunnel, login, key, port, local_port,
                 extra=(), wait=True):
        self.log_path = os.path.join(tunnel.workspace,
                                     f"ssh-{login}-{port}-{time.monotonic_ns()}.log")
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            ["ssh", "-N", "-F", "/dev/null", "-i", key, "-o", "IdentitiesOnly=yes",
             "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
             "-o", "UserKnownHostsFile=/dev/null", "-o", "ExitOnForwardFailure=yes",
             "-o", "ServerAliveInterval=5", "-p", str(tunnel.ssh_port),
             "-R", f"127.0.0.1:{port}:127.0.0.1:{local_port}", *extra,
             f"{login}@127.0.0.1"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        test.addCleanup(self.stop)

    def output(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def stop(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()


def http_get(port, path="/", timeout=5):
    """GET through a port; the body (bytes), or None when it fails."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                    timeout=timeout) as res:
            return res.read()
    except Exception:
        return None


class Service:
    """A tiny HTTP service on a free loopback port answering `text`."""

    def __init__(self, test, text):
        body = text.encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        test.addCleanup(self.close)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
