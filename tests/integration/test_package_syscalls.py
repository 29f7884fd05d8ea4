"""The hardening of the packaged systemd units fits what each role does:
each role runs (as an unprivileged user, as under its unit, with the
unit's Environment=) under strace while it does real work, and every
system call it and its children make is one its unit's SystemCallFilter=
allows; a unit with MemoryDenyWriteExecute=yes must see no mapping both
writable and executable. systemd cannot run here, so this is how the test
learns that a unit would not kill its role with SIGSYS or EPERM.

  manager:    an order on the local driver (bubblewrap sandbox), deleted
  tunnel:     a token, its SSH key and an `ssh -R` session
  rendezvous: logged in to a throw-away Prosody"""

import os
import re
import shutil
import signal
import subprocess
import tempfile
import unittest
from unittest import mock

from fogbow_harness import Manager, binary, wait_until
from tunnel_harness import (Service, SshForward, Tunnel, free_port_range,
                            http_get, make_key, read_pub, tunnel_section)
from xmpp_harness import Rendezvous, rendezvous_config, start_prosody

SOURCE = os.environ.get("FOGBOW_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = os.path.join(SOURCE, "packaging", "systemd")
SYSCALL = re.compile(r"^\d+ +([a-z_0-9]+)\(", re.M)
WRITE_EXEC = re.compile(r"^\d+ +(mmap|mprotect|pkey_mprotect)\(.*"
                        r"PROT_WRITE\|PROT_EXEC.*$", re.M)
NOBODY = 65534


def unit_settings(name):
    """{key: [values]} of a unit file's [Service] section."""
    settings = {}
    with open(os.path.join(UNITS, name)) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                key, value = line.split("=", 1)
                settings.setdefault(key, []).append(value)
    return settings


_groups = {}


def expand(name):
    """The system calls a filter entry stands for (groups expanded)."""
    if not name.startswith("@"):
        return {name}
    if name not in _groups:
        out = subprocess.run(["systemd-analyze", "syscall-filter", name],
                             capture_output=True, text=True, check=True).stdout
        calls = set()
        for line in out.splitlines()[1:]:
            entry = line.strip()
            if entry and not entry.startswith("#"):
                calls |= expand(entry)
        _groups[name] = calls
    return _groups[name]


def allowed_calls(settings):
    """The allow list SystemCallFilter= lines make: allow lines add, lines
    starting with ~ remove."""
    allowed, denied = set(), set()
    for value in settings.get("SystemCallFilter", []):
        target = denied if value.startswith("~") else allowed
        for entry in value.lstrip("~").split():
            target |= expand(entry)
    return allowed - denied


class RolesFitTheirUnits(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("strace", "systemd-analyze"):
            if not shutil.which(tool):
                raise unittest.SkipTest(f"{tool} is not installed "
                                        "(scripts/install-deps.sh)")
        probe = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null",
                                "true"], capture_output=True, text=True)
        if probe.returncode != 0:
            raise unittest.SkipTest("strace cannot trace here: "
                                    + probe.stderr.strip())

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fogbow-syscalls-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir, NOBODY, NOBODY)  # the traces
        self.addCleanup(shutil.rmtree, self.dir, True)

    def traced(self, role):
        """Makes FOGBOW_BINARY a wrapper running the role under strace, as
        nobody when this test is root, with its unit's Environment=;
        returns the unit's settings and the trace's path."""
        settings = unit_settings(f"fogbow-{role}.service")
        trace = os.path.join(self.dir, f"{role}.trace")
        drop = []
        if os.geteuid() == 0:
            drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}",
                    "--clear-groups", "--inh-caps=-all"]
        wrapper = os.path.join(self.dir, f"fogbow-{role}")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nexec " + " ".join(
                drop + ["env", *settings.get("Environment", []), "strace",
                        "-f", "-qq", "-o", trace, binary(), '"$@"']) + "\n")
        os.chmod(wrapper, 0o755)
        patch = mock.patch.dict(os.environ, {"FOGBOW_BINARY": wrapper})
        patch.start()
        self.addCleanup(patch.stop)
        return settings, trace

    def writable_dir(self, name):
        path = os.path.join(self.dir, name)
        os.makedirs(path)
        if os.geteuid() == 0:
            os.chown(path, NOBODY, NOBODY)
        return path

    def open_to_nobody(self, process):
        """The harness's workspace (config file, cwd) readable by nobody."""
        os.chmod(process.workspace, 0o755)

    def stop(self, role_process):
        """SIGTERM to the role itself (strace would not pass it on); strace
        then exits with the role's exit status, which is returned."""
        pid = role_process.process.pid
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            [child] = f.read().split()
        os.kill(int(child), signal.SIGTERM)
        role_process.process.wait(30)
        return role_process.stop()

    def check_trace(self, role, settings, trace):
        with open(trace, errors="replace") as f:
            text = f.read()
        used = set(SYSCALL.findall(text))
        self.assertGreater(len(used), 20, "the trace is too short")
        outside = sorted(used - allowed_calls(settings))
        self.assertEqual(outside, [], f"{role}: system calls its unit's "
                         "SystemCallFilter= refuses")
        if settings.get("MemoryDenyWriteExecute") == ["yes"]:
            self.assertEqual(WRITE_EXEC.findall(text), [],
                             f"{role}: writable and executable memory")

    def test_manager(self):
        settings, trace = self.traced("manager")
        manager = Manager(roles="manager")
        self.addCleanup(manager.cleanup)
        self.open_to_nobody(manager)
        manager.start("""
[manager]
member_id = "syscalls.test"
[manager.driver]
kind = "local"
[identity]
[[identity.users]]
id = "alice"
token = "alice-secret"
""", data_dir=self.writable_dir("manager"))
        status, res = manager.request(
            "POST", "/v1/orders",
            {"kind": "compute", "user_data": "echo booted > booted\n"},
            token="alice-secret")
        self.assertEqual(status, 201, res)
        order = res["orders"][0]["id"]
        wait_until(lambda: manager.request(
            "GET", f"/v1/orders/{order}", token="alice-secret")[1]["state"]
                   == "fulfilled", message="the order fulfilled")
        self.assertEqual(manager.request("DELETE", f"/v1/orders/{order}",
                                         token="alice-secret")[0], 200)
        self.assertEqual(self.stop(manager), 0, manager.log_tail())
        with open(trace, errors="replace") as f:
            # The instance's sandbox as under the unit (an unprivileged
            # manager): bwrap in a user namespace of its own.
            self.assertIn('"--unshare-user"', f.read())
        self.check_trace("manager", settings, trace)

    def test_tunnel(self):
        settings, trace = self.traced("tunnel")
        low, high = free_port_range(2)
        tunnel = Tunnel()
        self.addCleanup(tunnel.cleanup)
        self.open_to_nobody(tunnel)
        os.makedirs(tunnel.data_dir)
        if os.geteuid() == 0:
            os.chown(tunnel.data_dir, NOBODY, NOBODY)
        tunnel.start(tunnel_section(low, high))
        port = tunnel.register("order-a", "secret-of-order-a-0123")
        key = make_key(self.dir, "key-a")
        status, text = tunnel.call("POST", "/token/order-a/key",
                                   body=read_pub(key), user="order-a",
                                   secret="secret-of-order-a-0123")
        self.assertEqual(status, 200, text)
        service = Service(self, "through the tunnel")
        forward = SshForward(self, tunnel, "order-a", key, port, service.port)
        self.assertEqual(wait_until(lambda: http_get(port), timeout=30,
                                    message="the forwarded port"),
                         b"through the tunnel")
        forward.stop()
        self.assertEqual(self.stop(tunnel), 0, tunnel.log())
        self.check_trace("tunnel", settings, trace)

    def test_rendezvous(self):
        settings, trace = self.traced("rendezvous")
        prosody = start_prosody(self)
        prosody.add_account("rendezvous", "pw-rendezvous")
        rendezvous = Rendezvous()
        self.addCleanup(rendezvous.cleanup)
        self.open_to_nobody(rendezvous)
        rendezvous.start(rendezvous_config(prosody, "rendezvous"),
                         data_dir=self.writable_dir("rendezvous"))
        self.assertEqual(self.stop(rendezvous), 0, rendezvous.log_tail())
        self.check_trace("rendezvous", settings, trace)


if __name__ == "__main__":
    unittest.main()
