#!/usr/bin/env python3
"""Membership benchmark: N simulated members heartbeating against one
rendezvous through a real XMPP server, Prosody and then ejabberd (see
bench/README.md, "bench/membership").

Every simulated member is a real XMPP account with its own c2s connection
sending the Java manager's exact heartbeat stanza every period (default
3 s, random phase), so nothing needs an equivalence argument. The members
are bench/xmpp_members.cpp (epoll; cheap, so that the load generator does
not take the CPU of what it measures), or with --members python the
asyncio simulator below. One observer
pulls the complete whoisalive listing (all pages of 100) and
times every page; 4 observers each pull one complete listing per period,
as managers do. N grows in steps; a step passes when, over a window
longer than the expiry timeout, every complete listing held all N members,
the rendezvous expired nobody, and the page p99 stayed under 1 s.

Baseline, same run: the server's own IQ round-trip rate (XMPP ping to the
server, 64 connections × 16 in flight), and the same pipelined load as
iamalive to the rendezvous, so their ratio is the rendezvous' cost over the
messaging layer.

Each server gets a fresh run (its own rendezvous and accounts); a summary
at the end gives, per server, the largest N that passed and its page p99.

Usage: membership_bench.py FOGBOW_BINARY [--steps 1000,2500,5000,10000]
       [--window 12] [--period 3000] [--servers prosody,ejabberd]
       [--members cpp|python]
"""

import argparse
import asyncio
import base64
import multiprocessing
import os
import random
import re
import resource
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MEMBERS = None  # build/bench/xmpp_members, set in main()
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
from xmpp_harness import DOMAIN, new_xmpp_server  # noqa: E402

NS_IAMALIVE = "http://fogbowcloud.org/rendezvous/iamalive"
NS_WHOISALIVE = "http://fogbowcloud.org/rendezvous/whoisalive"
STREAM = ("<?xml version='1.0'?><stream:stream to='%s' version='1.0' "
          "xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>"
          % DOMAIN)
IQ_END = re.compile(rb"</iq>|<iq[^>]*/>")


class Conn:
    """One logged-in c2s connection with a tiny stanza reader."""

    def __init__(self, reader, writer, jid):
        self.reader, self.writer, self.jid = reader, writer, jid
        self.buf = b""

    @classmethod
    async def open(cls, port, user, password):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        c = cls(reader, writer, None)
        c.send(STREAM)
        await c.until(b"</stream:features>")
        token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        c.send(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' "
               f"mechanism='PLAIN'>{token}</auth>")
        got = await c.until(b"<success", b"<failure")
        if b"<failure" in got:
            raise RuntimeError(f"login of {user} failed")
        c.buf = b""
        c.send(STREAM)
        await c.until(b"</stream:features>")
        c.send("<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:"
               "xmpp-bind'><resource>bench</resource></bind></iq>")
        await c.until(b"</iq>")
        c.buf = b""
        c.jid = f"{user}@{DOMAIN}/bench"
        return c

    def send(self, text):
        self.writer.write(text.encode())

    async def until(self, *markers):
        while not any(m in self.buf for m in markers):
            data = await self.reader.read(65536)
            if not data:
                raise RuntimeError("connection closed")
            self.buf += data
        return self.buf

    async def next_iq(self):
        """Bytes of the next complete IQ (replies only; nothing else is sent
        to these accounts)."""
        while True:
            m = IQ_END.search(self.buf)
            if m:
                out, self.buf = self.buf[:m.end()], self.buf[m.end():]
                return out
            data = await self.reader.read(65536)
            if not data:
                raise RuntimeError("connection closed")
            self.buf += data


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p / 100))]


async def pipelined_rate(conns, make_stanza, seconds, window=16):
    """IQ round trips per second with `window` in flight per connection."""
    done = 0
    stop = time.monotonic() + seconds

    async def run(c):
        nonlocal done
        n = 0
        for _ in range(window):
            c.send(make_stanza(n)); n += 1
        while time.monotonic() < stop:
            await c.next_iq()
            done += 1
            c.send(make_stanza(n)); n += 1
        for _ in range(window):
            await c.next_iq()
    start = time.monotonic()
    await asyncio.gather(*(run(c) for c in conns))
    return done / (time.monotonic() - start)


async def _worker_main(port, rdv, users, period_ms, beats, errors, stop, ready):
    conns = []
    for start in range(0, len(users), 100):
        conns += await asyncio.gather(*(Conn.open(port, u, "pw")
                                        for u in users[start:start + 100]))
    ready.put(len(conns))
    local = {"beats": 0, "errors": 0}

    async def beat(c):
        period = period_ms / 1000
        await asyncio.sleep(random.random() * period)
        n = 0
        while not stop.is_set():
            t = time.monotonic()
            c.send(f'<iq type="get" id="h{n}" to="{rdv}"><query '
                   f'xmlns="{NS_IAMALIVE}"/></iq>')
            n += 1
            reply = await c.next_iq()
            local["beats"] += 1
            if b"type='error'" in reply or b'type="error"' in reply:
                local["errors"] += 1
            await asyncio.sleep(max(0.0, period - (time.monotonic() - t)))

    async def report():
        while not stop.is_set():
            await asyncio.sleep(0.5)
            with beats.get_lock():
                beats.value += local["beats"]
            with errors.get_lock():
                errors.value += local["errors"]
            local["beats"] = local["errors"] = 0

    await asyncio.gather(report(), *(beat(c) for c in conns))


def member_worker(*args):
    """A process of its own: simulated members must not share an event loop
    (or a GIL) with the observers that time the rendezvous."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(_worker_main(*args))


class Bench:
    NAMES = {"prosody": "Prosody", "ejabberd": "ejabberd"}

    def __init__(self, args, kind):
        self.args = args
        self.name = self.NAMES[kind]
        self.server = new_xmpp_server(kind)
        self.best = None
        self.started = 0
        self.workers = []
        self.beats = multiprocessing.Value("q", 0)
        self.errs = multiprocessing.Value("q", 0)
        self.stop_event = multiprocessing.Event()
        self.ready = multiprocessing.Queue()
        self.cpp_totals = []  # (beats, errors) per C++ simulator
        self.followers = []
        self.rtt_max = 0  # slowest heartbeat round trip (C++ members), ms

    async def listing(self, obs, rdv, latencies, deadline):
        """One complete whoisalive listing; returns the member count, or
        None when it could not finish before `deadline`."""
        after, total, n = None, 0, 0
        while True:
            if time.monotonic() > deadline:
                return None
            rsm = f"<after>{after}</after>" if after else ""
            t = time.monotonic()
            obs.send(f'<iq type="get" id="w{n}" to="{rdv}"><query xmlns="'
                     f'{NS_WHOISALIVE}"><set><max>100</max>{rsm}</set>'
                     f'</query></iq>')
            n += 1
            reply = (await obs.next_iq()).decode()
            latencies.append(time.monotonic() - t)
            ids = re.findall(r"<item id=['\"]([^'\"]+)['\"]", reply)
            total += len(ids)
            if not ids:
                return total
            after = ids[-1]

    async def main(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        steps = [int(x) for x in self.args.steps.split(",")]
        for i in range(max(steps)):
            self.server.add_account(f"m{i}", "pw")
        self.server.add_account("rdv", "pw")
        for i in range(self.args.observers):
            self.server.add_account(f"obs{i}", "pw")
        for i in range(64):
            self.server.add_account(f"p{i}", "pw")
        self.server.start()
        rdv_proc = await self.start_rendezvous()
        rdv = f"rdv@{DOMAIN}/fogbow"
        try:
            await self.run_steps(steps, rdv, rdv_proc)
        finally:
            await self.stop_members()
            rdv_proc.terminate()
            await rdv_proc.wait()
            self.server.cleanup()

    async def start_rendezvous(self):
        cfg = os.path.join(self.server.dir, "rdv.toml")
        self.rdv_log = os.path.join(self.server.dir, "rdv.log")
        with open(cfg, "w") as f:
            f.write(f"""[xmpp]
host = "127.0.0.1"
port = {self.server.c2s}
tls = "disabled"
[rendezvous]
jid = "rdv@{DOMAIN}/fogbow"
password = "pw"
period_ms = {self.args.period}
""")
        log = open(self.rdv_log, "w")
        proc = await asyncio.create_subprocess_exec(
            self.args.binary, "--role=rendezvous", "--config", cfg,
            stdout=log, stderr=log, stdin=asyncio.subprocess.DEVNULL)
        for _ in range(200):
            if ": connected to" in open(self.rdv_log).read():
                return proc
            await asyncio.sleep(0.05)
        raise RuntimeError("rendezvous did not connect:\n" + open(self.rdv_log).read())

    async def start_python_members(self, port, rdv, users):
        workers = self.args.workers
        for w in range(workers):
            proc = multiprocessing.Process(
                target=member_worker,
                args=(port, rdv, users[w::workers], self.args.period,
                      self.beats, self.errs, self.stop_event, self.ready),
                daemon=True)
            proc.start()
            self.workers.append(proc)
        for _ in range(workers):
            await asyncio.get_running_loop().run_in_executor(None, self.ready.get)

    async def start_cpp_members(self, port, rdv, first, last):
        """One bench/xmpp_members process for this step's new members; it
        reports its running totals on stdout."""
        proc = await asyncio.create_subprocess_exec(
            MEMBERS, str(port), DOMAIN, rdv, "m", str(first), str(last), "pw",
            str(self.args.period), stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self.workers.append(proc)
        line = await proc.stdout.readline()
        if not line.startswith(b"ready"):
            raise RuntimeError("member simulator failed to log in")
        slot = len(self.cpp_totals)
        self.cpp_totals.append((0, 0))

        async def follow():
            while line := await proc.stdout.readline():
                f = line.split()
                beats, errs = int(f[1]), int(f[3])
                old_beats, old_errs = self.cpp_totals[slot]
                self.cpp_totals[slot] = (beats, errs)
                with self.beats.get_lock():
                    self.beats.value += beats - old_beats
                with self.errs.get_lock():
                    self.errs.value += errs - old_errs
                self.rtt_max = max(self.rtt_max, int(f[5]))
        self.followers.append(asyncio.create_task(follow()))

    async def stop_members(self):
        self.stop_event.set()
        for proc in self.workers:
            if isinstance(proc, multiprocessing.Process):
                proc.join(5)
                if proc.is_alive():
                    proc.kill()
            else:
                proc.stdin.close()
                try:
                    await asyncio.wait_for(proc.wait(), 5)
                except asyncio.TimeoutError:
                    proc.kill()
                    await proc.wait()
        for task in self.followers:
            task.cancel()

    async def run_steps(self, steps, rdv, rdv_proc):
        port = self.server.c2s
        # Baseline: the server's own IQ round trips (ping to the server), then
        # the same load as iamalive to the rendezvous.
        probes = await asyncio.gather(*(Conn.open(port, f"p{i}", "pw")
                                        for i in range(64)))
        ping = await pipelined_rate(
            probes, lambda n: f"<iq type='get' id='p{n}' to='{DOMAIN}'>"
                              f"<ping xmlns='urn:xmpp:ping'/></iq>", 5)
        alive = await pipelined_rate(
            probes, lambda n: f'<iq type="get" id="a{n}" to="{rdv}"><query '
                              f'xmlns="{NS_IAMALIVE}"/></iq>', 5)
        for c in probes:
            c.writer.close()
        print(f"baseline: {self.name} ping round trips {ping:,.0f}/s; iamalive "
              f"to the rendezvous {alive:,.0f}/s (ratio {alive / ping:.2f})",
              flush=True)
        await asyncio.sleep(self.args.period * 3 / 1000 + 1)  # probes expire
        observers = await asyncio.gather(*(Conn.open(port, f"obs{i}", "pw")
                                           for i in range(self.args.observers)))
        best = None
        for n in steps:
            t0 = time.monotonic()
            users = [f"m{i}" for i in range(self.started, n)]
            if self.args.members == "cpp":
                await self.start_cpp_members(port, rdv, self.started, n)
            else:
                await self.start_python_members(port, rdv, users)
            self.started = n
            login_s = time.monotonic() - t0
            await asyncio.sleep(self.args.period / 1000 * 1.5)  # all beat once
            expired_before = open(self.rdv_log).read().count("expired")
            latencies, counts = [], []
            cpu0, server0 = cpu_seconds(rdv_proc.pid), cpu_seconds(self.server.process.pid)
            # The load generators' own share: when they are starved (a
            # loaded machine), the step measures the machine, not the server.
            sims0 = sum(cpu_seconds(p.pid) for p in self.workers)
            own0 = time.process_time()
            hb0, w0 = self.beats.value, time.monotonic()
            self.rtt_max = 0

            async def observe(o):
                # Like a manager: one complete listing per period.
                period = self.args.period / 1000
                await asyncio.sleep(random.random() * period)
                while time.monotonic() - w0 < self.args.window:
                    t = time.monotonic()
                    counts.append(await self.listing(
                        o, rdv, latencies, w0 + 2 * self.args.window))
                    await asyncio.sleep(max(0.0, period - (time.monotonic() - t)))
            await asyncio.gather(*(observe(o) for o in observers))
            wall = time.monotonic() - w0
            rdv_cpu = (cpu_seconds(rdv_proc.pid) - cpu0) / wall * 100
            server_cpu = (cpu_seconds(self.server.process.pid) - server0) / wall * 100
            sims_cpu = (sum(cpu_seconds(p.pid) for p in self.workers) - sims0) / wall * 100
            own_cpu = (time.process_time() - own0) / wall * 100
            load = os.getloadavg()[0]
            expired = open(self.rdv_log).read().count("expired") - expired_before
            p99 = pct(latencies, 99)
            unfinished = counts.count(None)
            counts = [c for c in counts if c is not None]
            full = len(counts)
            counts = counts or [0]
            ok = (min(counts) == n and expired == 0 and p99 < 1.0
                  and not unfinished)
            rate = (self.beats.value - hb0) / wall
            rtt = (f" slowest heartbeat reply {self.rtt_max} ms;"
                   if self.args.members == "cpp" else "")
            print(f"N={n:>6}: logins {login_s:5.1f} s; heartbeats "
                  f"{rate:7,.0f}/s (errors {self.errs.value}); "
                  f"{full} full listings ({unfinished} unfinished), members listed min {min(counts)} "
                  f"max {max(counts)}; expiry events {expired}; whoisalive page "
                  f"p50 {pct(latencies, 50) * 1000:.1f} ms p99 {p99 * 1000:.1f} ms; "
                  f"CPU rendezvous {rdv_cpu:.0f}% {self.name} {server_cpu:.0f}% "
                  f"member simulators {sims_cpu:.0f}% ({sims_cpu / max(rate, 1) * 1000:.1f}% "
                  f"per 1,000 heartbeats/s) observers {own_cpu:.0f}% of "
                  f"one core;{rtt} load average {load:.1f} -> {'PASS' if ok else 'FAIL'}",
                  flush=True)
            if not ok:
                break
            # CPU per 1,000 heartbeats/s: what N members cost on a quiet
            # machine, by proportion (N / period heartbeats per second).
            per_k = [x / max(rate, 1) * 1000 for x in (rdv_cpu, server_cpu, sims_cpu)]
            best = (n, rdv_cpu, server_cpu, p99, per_k)
        self.best = best
        if best:
            print(f"largest N with no live member expired and page p99 < 1 s: "
                  f"{best[0]} (rendezvous CPU {best[1]:.0f}%, {self.name} "
                  f"{best[2]:.0f}% of one core)")
        else:
            print("no step passed")


def main():
    # SIGTERM (e.g. from `timeout`) cleans up like Ctrl-C: workers, the
    # rendezvous and the XMPP server are stopped by the finally block.
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--steps", default="1000,2500,5000,6000,7500,10000")
    ap.add_argument("--window", type=float, default=12.0,
                    help="seconds measured per step (> expiry timeout 9 s)")
    ap.add_argument("--period", type=int, default=3000)
    ap.add_argument("--members", choices=("cpp", "python"), default="cpp",
                    help="member simulator: bench/xmpp_members.cpp (epoll, "
                         "one process per step) or the asyncio one")
    ap.add_argument("--workers", type=int, default=2,
                    help="processes per step of the Python member simulator")
    ap.add_argument("--observers", type=int, default=4,
                    help="manager-like pollers: one full listing per period")
    ap.add_argument("--servers", default="prosody,ejabberd",
                    help="XMPP servers to run on, one after the other")
    args = ap.parse_args()
    global MEMBERS
    MEMBERS = os.path.join(os.path.dirname(os.path.abspath(args.binary)),
                           "bench", "xmpp_members")
    results = []
    for kind in args.servers.split(","):
        print(f"== {Bench.NAMES[kind]} ==", flush=True)
        bench = Bench(args, kind)
        asyncio.run(bench.main())
        results.append((bench.name, bench.best))
    print("summary (largest N with no member falsely expired, its "
          "whoisalive page p99):")
    for name, best in results:
        if best:
            rdv, server, sims = best[4]
            print(f"  {name:9}: N = {best[0]:,}, page p99 {best[3] * 1000:.1f} ms, "
                  f"CPU rendezvous {best[1]:.0f}% {name} {best[2]:.0f}%; per 1,000 "
                  f"heartbeats/s: rendezvous {rdv:.0f}% {name} {server:.0f}% "
                  f"member simulators {sims:.0f}% of one core")
        else:
            print(f"  {name:9}: no step passed")


if __name__ == "__main__":
    main()
