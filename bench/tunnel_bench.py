#!/usr/bin/env python3
"""Tunnel benchmark, everything measured in one run on this machine:

  1. iperf3 throughput: direct TCP on loopback (the limit), OpenSSH sshd with
     `ssh -R` (the baseline a user would otherwise pick), and our tunnel with
     the same OpenSSH client and cipher; both directions for aes128-gcm, the
     upload direction for chacha20-poly1305 (OpenSSH's default).
  2. Connections per second for short HTTP requests (a C++ backend and load
     generator, bench/tunnel_conns.cpp): direct, OpenSSH, ours.
  3. Memory per idle tunnel session (PSS from /proc/*/smaps_rollup):
     OpenSSH sshd (its per-session processes) vs ours (the fogbow process).

Usage: tunnel_bench.py BUILD_DIR [seconds-per-run] [idle-sessions]
"""

import getpass
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

BUILD = sys.argv[1]
SECS = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
IDLE = int(sys.argv[3]) if len(sys.argv) > 3 else 50
FOGBOW = os.path.join(BUILD, "fogbow")
CONNS = os.path.join(BUILD, "bench", "tunnel_conns")
SECRET = "bench-manager-secret-0123456789"
WORK = tempfile.mkdtemp(prefix="fogbow-tunnel-bench-")
PROCS = []

# The port helpers the tunnel tests use (tests/integration/tunnel_harness.py).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from fogbow_harness import closed_port as free_port  # noqa: E402
from tunnel_harness import free_port_range  # noqa: E402


def start(cmd, log=None):
    out = open(os.path.join(WORK, log), "w") if log else subprocess.DEVNULL
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                         stderr=subprocess.STDOUT, start_new_session=True)
    PROCS.append(p)
    return p


def stop(p):
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()


def accepts(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def wait_for(pred, what, timeout=20):
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.05)


def iperf(port, reverse=False):
    time.sleep(0.5)  # the iperf3 server needs a moment between tests
    cmd = ["iperf3", "-c", "127.0.0.1", "-p", str(port), "-t", str(SECS), "-J"]
    if reverse:
        cmd.append("-R")
    for attempt in range(4):
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=SECS + 30)
        data = json.loads(r.stdout)
        if "error" not in data:
            return data["end"]["sum_received"]["bits_per_second"] / 1e9
        # The server may still be closing the previous test.
        time.sleep(2)
    raise RuntimeError("iperf3: " + data["error"])


def load(port):
    r = subprocess.run([CONNS, "load", str(port), str(SECS), "16"],
                       capture_output=True, text=True, timeout=SECS + 60)
    rate, errors = r.stdout.split()
    return float(rate), int(errors)


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    children = {}
    for p in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{p}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(p))
        except (OSError, ValueError, IndexError):
            pass
    out, todo = [], [pid]
    while todo:
        x = todo.pop()
        out.append(x)
        todo.extend(children.get(x, []))
    return out


def main():
    key = os.path.join(WORK, "client_key")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key],
                   check=True)
    pub = open(key + ".pub").read().strip()

    def forward(ssh_port, login, pub_port, local_port, cipher, wait=True):
        p = start(["ssh", "-N", "-F", "/dev/null", "-i", key,
                   "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                   "-o", "StrictHostKeyChecking=no",
                   "-o", "UserKnownHostsFile=/dev/null",
                   "-o", "ExitOnForwardFailure=yes", "-c", cipher,
                   "-p", str(ssh_port),
                   "-R", f"127.0.0.1:{pub_port}:127.0.0.1:{local_port}",
                   f"{login}@127.0.0.1"])
        if wait:
            wait_for(lambda: accepts(pub_port), f"forward of {pub_port}")
        return p

    # iperf3 server and HTTP backend.
    iperf_port = free_port()
    start(["iperf3", "-s", "-p", str(iperf_port)])
    backend = free_port()
    start([CONNS, "serve", str(backend), "8"])
    wait_for(lambda: accepts(iperf_port) and accepts(backend), "servers")

    # OpenSSH sshd, unprivileged setup as in stack-notes §6.2.
    sd = os.path.join(WORK, "sshd")
    os.makedirs(sd)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    os.path.join(sd, "host_key")], check=True)
    with open(os.path.join(sd, "authorized_keys"), "w") as f:
        f.write(pub + "\n")
    sshd_port = free_port()
    with open(os.path.join(sd, "sshd_config"), "w") as f:
        f.write(f"""Port {sshd_port}
ListenAddress 127.0.0.1
HostKey {sd}/host_key
PidFile {sd}/sshd.pid
AuthorizedKeysFile {sd}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
AllowTcpForwarding remote
GatewayPorts no
PermitTTY no
X11Forwarding no
AllowAgentForwarding no
ForceCommand /bin/false
ClientAliveInterval 15
MaxStartups 1000:30:2000
LogLevel ERROR
""")
    if os.getuid() == 0:
        os.makedirs("/run/sshd", exist_ok=True)
    sshd = start(["/usr/sbin/sshd", "-D", "-e", "-f",
                  os.path.join(sd, "sshd_config")], log="sshd.log")
    wait_for(lambda: accepts(sshd_port), "sshd")
    user = getpass.getuser()

    # Our tunnel.
    low = free_port_range(IDLE + 2)[0]
    with open(os.path.join(WORK, "tunnel.toml"), "w") as f:
        f.write(f"""[tunnel]
ssh_bind = "127.0.0.1"
ssh_port = 0
public_bind = "127.0.0.1"
port_low = {low}
port_high = {low + IDLE + 1}
http_bind = "127.0.0.1"
http_port = 0
manager_secret = "{SECRET}"
[log]
level = "warn"
""")
    tun = start([FOGBOW, "--role=tunnel", "--config",
                 os.path.join(WORK, "tunnel.toml"), "--data-dir",
                 os.path.join(WORK, "data"), "--log-level", "info"],
                log="tunnel.log")
    pat = re.compile(r"tunnel: SSH on [^:]+:(\d+), HTTP API on (\S+)")
    wait_for(lambda: pat.search(open(os.path.join(WORK, "tunnel.log")).read()),
             "tunnel")
    m = pat.search(open(os.path.join(WORK, "tunnel.log")).read())
    tun_ssh, api = int(m.group(1)), m.group(2).rstrip(",")

    def api_post(path, body, secret, ctype):
        req = urllib.request.Request(api + path, data=body.encode(),
                                     method="POST")
        req.add_header("X-Auth-Token", secret)
        req.add_header("Content-Type", ctype)
        with urllib.request.urlopen(req, timeout=10) as r:
            return int(r.read().decode().split(":")[0])

    ports = []
    for i in range(IDLE + 1):
        s = f"bench-secret-{i:04d}-0123456789"
        ports.append(api_post(f"/token/bench-{i}",
                              json.dumps({"secret": s}), SECRET,
                              "application/json"))
        api_post(f"/token/bench-{i}/key", pub, s, "text/plain")

    results = {}
    print(f"tunnel benchmark: {SECS:g} s per iperf3 run, {IDLE} idle sessions")
    print(f"{'measurement':46} {'direct':>9} {'OpenSSH':>9} {'ours':>9}"
          f" {'ours/OpenSSH':>13} {'ours/direct':>12}")

    def row(name, direct, os_, ours, unit, fmt="{:.2f}"):
        rd = f"{ours / direct:.2f}" if direct else "-"
        print(f"{name + ' (' + unit + ')':46} "
              f"{fmt.format(direct) if direct else '-':>9} "
              f"{fmt.format(os_):>9} {fmt.format(ours):>9} "
              f"{ours / os_:>13.2f} {rd:>12}")
        results[name] = (direct, os_, ours)

    for cipher, directions in (("aes128-gcm@openssh.com", (False, True)),
                               ("chacha20-poly1305@openssh.com", (False,))):
        for reverse in directions:
            direct = iperf(iperf_port, reverse)
            op = free_port()
            f = forward(sshd_port, user, op, iperf_port, cipher)
            theirs = iperf(op, reverse)
            stop(f)
            f = forward(tun_ssh, "bench-0", ports[0], iperf_port, cipher)
            ours = iperf(ports[0], reverse)
            stop(f)
            name = (f"iperf3 {cipher.split('@')[0]} "
                    f"{'download (-R)' if reverse else 'upload'}")
            row(name, direct, theirs, ours, "Gbit/s")

    cipher = "aes128-gcm@openssh.com"
    direct, derr = load(backend)
    op = free_port()
    f = forward(sshd_port, user, op, backend, cipher)
    theirs, terr = load(op)
    stop(f)
    f = forward(tun_ssh, "bench-0", ports[0], backend, cipher)
    ours, oerr = load(ports[0])
    stop(f)
    row("short HTTP requests, 16 clients", direct, theirs, ours, "conn/s",
        "{:.0f}")
    if derr or terr or oerr:
        print(f"  failed requests: direct {derr}, OpenSSH {terr}, ours {oerr}")

    # Memory per idle session.
    def settle():
        time.sleep(1.5)

    before_ours = pss_kb(tun.pid)
    clients = [forward(tun_ssh, f"bench-{i}", ports[i], backend, cipher,
                       wait=False) for i in range(1, IDLE + 1)]
    wait_for(lambda: all(accepts(ports[i]) for i in range(1, IDLE + 1)),
             "our idle sessions", 60)
    settle()
    after_ours = pss_kb(tun.pid)
    for c in clients:
        stop(c)
    before_os = sum(pss_kb(p) for p in descendants(sshd.pid))
    oports = [free_port() for _ in range(IDLE)]
    clients = [forward(sshd_port, user, p, backend, cipher, wait=False)
               for p in oports]
    wait_for(lambda: all(accepts(p) for p in oports), "OpenSSH idle sessions",
             60)
    settle()
    after_os = sum(pss_kb(p) for p in descendants(sshd.pid))
    for c in clients:
        stop(c)
    per_os = (after_os - before_os) / IDLE
    per_ours = (after_ours - before_ours) / IDLE
    print(f"{'memory per idle session (KiB PSS)':46} {'-':>9} {per_os:>9.0f}"
          f" {per_ours:>9.0f} {per_ours / per_os:>13.2f} {'-':>12}")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in reversed(PROCS):
            try:
                stop(p)
            except Exception:
                pass
        shutil.rmtree(WORK, ignore_errors=True)
