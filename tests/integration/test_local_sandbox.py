"""The local driver's sandbox, attacked from inside an instance (real
processes, bubblewrap): user data that tries to read the manager's
database and configuration, write outside its home, read another
instance's user data, kill the manager, fork-bomb and allocate more memory
than its flavor. Every attempt fails and its console.log says so; the
manager keeps serving, fulfils a new order, and the other instance is
untouched."""

import os
import uuid
import unittest

from fogbow_harness import Manager, wait_until

TOKEN = "alice-secret"

CONFIG = """
[manager]
member_id = "sandbox.test"
[manager.driver]
kind = "local"
vcpu = 8
memory_mb = 8192
instances = 8
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "alice-secret"
"""

VICTIM = """#!/bin/sh
echo "victim data" > mine.txt
echo victim-ready
"""

# Each attempt prints "<name>: denied" when it fails and "<name>: ALLOWED"
# when it succeeds; the tool's own error message goes to console.log too.
ATTACKER = """#!/bin/sh
id
attempt() {{
  name=$1; shift
  if "$@"; then echo "$name: ALLOWED"; else echo "$name: denied"; fi
}}
attempt read-db cat {db}
attempt read-db-relative cat ../../manager.db
attempt read-config cat {config}
attempt write-root touch {root_file}
attempt write-host-tmp touch {host_tmp_file}
attempt write-etc touch /etc/fogbow-sandbox-test
attempt read-other-user-data cat {victim_dir}/user-data
attempt write-other-home sh -c 'echo owned > {victim_dir}/mine.txt'
attempt kill-manager kill -9 {manager_pid}
attempt change-own-pid-file sh -c 'echo 1 > pid'
attempt remove-own-metadata rm -f instance.json
attempt allocate-beyond-flavor python3 -c 'bytearray(700 * 1024 * 1024)'
attempt fork-beyond-limit sh -c '
  i=0
  while [ $i -lt 300 ]; do sleep 600 & i=$((i + 1)); done'
echo attacks-done
bomb() {{ bomb | bomb & }}
bomb
"""


def console(data_dir, instance_id):
    path = os.path.join(data_dir, "instances", instance_id, "console.log")
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def read_pid(directory):
    with open(os.path.join(directory, "pid")) as f:
        return int(f.read())


def processes_of(uid):
    """Host pids of the processes running as `uid`."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/status") as f:
                uids = next(l for l in f if l.startswith("Uid:")).split()
        except (OSError, StopIteration):
            continue
        if int(uids[1]) == uid:
            pids.append(int(pid))
    return pids


@unittest.skipUnless(os.geteuid() == 0, "instances get uids of their own "
                     "only under a manager running as root")
class LocalSandbox(unittest.TestCase):
    def setUp(self):
        self.m = Manager()
        self.addCleanup(self.m.cleanup)
        self.m.start(CONFIG)
        self.instances = os.path.join(self.m.data_dir, "instances")

    def order(self, user_data):
        status, body = self.m.request("POST", "/v1/orders", {
            "kind": "compute", "vcpu": 1, "memory_mb": 512,
            "user_data": user_data}, token=TOKEN)
        self.assertEqual(status, 201, body)
        order_id = body["orders"][0]["id"]

        def fulfilled():
            _, o = self.m.request("GET", f"/v1/orders/{order_id}", token=TOKEN)
            return o if o["state"] == "fulfilled" else None
        return wait_until(fulfilled, 30, message="fulfilled")["instance_id"]

    def test_attacks_from_inside_an_instance_fail(self):
        victim = self.order(VICTIM).split("@")[0]
        victim_dir = os.path.join(self.instances, victim)
        wait_until(lambda: "victim-ready" in console(self.m.data_dir, victim),
                   30, message="the victim's boot")
        victim_pid = read_pid(victim_dir)

        tag = uuid.uuid4().hex[:12]
        root_file = f"/root/fogbow-sandbox-{tag}"
        host_tmp_file = f"/tmp/fogbow-sandbox-{tag}"
        self.addCleanup(lambda: [os.path.exists(p) and os.remove(p)
                                 for p in (root_file, host_tmp_file)])
        attacker = self.order(ATTACKER.format(
            db=os.path.join(self.m.data_dir, "manager.db"),
            config=os.path.join(self.m.workspace, "config.toml"),
            root_file=root_file, host_tmp_file=host_tmp_file,
            victim_dir=victim_dir,
            manager_pid=self.m.process.pid)).split("@")[0]
        attacker_dir = os.path.join(self.instances, attacker)
        log = wait_until(
            lambda: (lambda t: t if "attacks-done" in t else None)(
                console(self.m.data_dir, attacker)),
            60, message="the attacker's attempts")

        # An unprivileged uid of its own.
        uid = os.stat(attacker_dir).st_uid
        self.assertGreaterEqual(uid, 2_000_000_000, log)
        self.assertNotIn("uid=0(", log)
        self.assertIn(f"uid={uid}(instance)", log)
        self.assertNotEqual(uid, os.stat(victim_dir).st_uid)

        for name in ("read-db", "read-db-relative", "read-config",
                     "write-root", "write-etc", "read-other-user-data",
                     "write-other-home", "kill-manager",
                     "change-own-pid-file", "remove-own-metadata",
                     "allocate-beyond-flavor", "fork-beyond-limit"):
            self.assertIn(f"{name}: denied", log)
        # /tmp inside is the instance's own: the host's stays untouched.
        self.assertFalse(os.path.exists(root_file))
        self.assertFalse(os.path.exists(host_tmp_file))
        self.assertIn("MemoryError", log)
        self.assertNotIn("manager.db", os.listdir(attacker_dir))

        # The fork bomb runs into the process limit: the attacker's uid
        # never holds more processes than its flavor allows.
        self.assertLessEqual(len(processes_of(uid)), 128 + 2)

        # The manager keeps serving and fulfils a new order meanwhile.
        self.assertIsNone(self.m.process.poll())
        self.assertEqual(self.m.request("GET", "/v1/status")[0], 200)
        fresh = self.order("echo fresh-ready\n").split("@")[0]
        wait_until(lambda: "fresh-ready" in console(self.m.data_dir, fresh),
                   30, message="the new instance's boot")

        # The victim is untouched: running, its files as it left them.
        os.kill(victim_pid, 0)
        with open(os.path.join(victim_dir, "mine.txt")) as f:
            self.assertEqual(f.read(), "victim data\n")
        _, body = self.m.request("GET", "/v1/computes", token=TOKEN)
        states = {c["id"].split("@")[0]: c["state"] for c in body["computes"]}
        self.assertEqual(states.get(victim), "running", body)
        # The attacker's own metadata stayed the manager's.
        attacker_pid = read_pid(attacker_dir)
        self.assertEqual(os.readlink(f"/proc/{attacker_pid}/cwd"),
                         os.path.realpath(attacker_dir))
        self.assertTrue(os.path.exists(os.path.join(attacker_dir,
                                                    "instance.json")))

    def test_the_tunnel_tools_and_the_network_work_inside(self):
        instance = self.order("""#!/bin/sh
ssh-keygen -q -t ed25519 -N '' -f ./key && echo keygen-ok
curl --version >/dev/null && echo curl-ok
python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print("bind-ok")'
""").split("@")[0]
        log = wait_until(
            lambda: (lambda t: t if "exited" in t else None)(
                console(self.m.data_dir, instance)),
            30, message="the user data to finish")
        for word in ("keygen-ok", "curl-ok", "bind-ok"):
            self.assertIn(word, log)
        self.assertTrue(os.path.exists(os.path.join(self.instances, instance,
                                                    "key.pub")))


if __name__ == "__main__":
    unittest.main()
