"""A throw-away XMPP server per test, Prosody or ejabberd, and fogbow
processes federated through it (standard library only; Prosody's recipe
in stack-notes §4, ejabberd's in ejabberd_harness.py).

    prosody = start_xmpp_server(self)              # stopped by addCleanup
    prosody.add_account("rdv", "secret")           # instant, no prosodyctl
    rdv = start_rendezvous(self, prosody, "rdv")
    m1 = start_federated_manager(self, prosody, "m1", rdv.jid)

Prosody runs on free loopback ports with a temporary config and data dir,
as `nobody` when the tests run as root, and is stopped by PID. Accounts are
written straight into its data dir (internal_plain storage), which Prosody
reads at login, so thousands of accounts cost nothing.

Which server: the test case's `xmpp_server` attribute ("prosody" or
"ejabberd"; test classes set it to run on ejabberd), else the environment
variable FOGBOW_XMPP_SERVER, else Prosody. Both classes are
xmpp_server_base.XmppServer (domain, address, c2s, add_account, start,
stop, log, cleanup).
"""

import os
import re
import shutil
import subprocess

from ejabberd_harness import Ejabberd
from fogbow_harness import Manager, wait_for_log
from xmpp_server_base import DOMAIN, XmppServer


def _encode(part):
    """Prosody's datamanager file-name encoding (every non-alphanumeric)."""
    return "".join(c if c.isalnum() else "%%%02x" % ord(c) for c in part)


class Prosody(XmppServer):
    """One Prosody serving one domain (`localhost` by default) on one
    loopback address. `s2s` is None (no server-to-server), or the global
    config lines that enable and secure it (see s2s_harness.py), which then
    listens on port 5269 of `address`. `modules` are enabled besides the
    usual ones (e.g. "tls")."""

    NAME = "prosody"
    LOG_FILE = "prosody.log"

    def __init__(self, domain=DOMAIN, address="127.0.0.1", s2s=None,
                 c2s=None, modules=()):
        super().__init__(domain, address, c2s)
        self.s2s = 5269 if s2s is not None else None
        self._runas = []
        if os.geteuid() == 0:
            self._runas = ["setpriv", "--reuid=nobody", "--regid=nogroup",
                           "--clear-groups"]
        os.makedirs(os.path.join(self.dir, "data"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "certs"), exist_ok=True)
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        extra = list(modules) + (["dialback"] if s2s is not None else [])
        extra_modules = "".join(f'; "{m}"' for m in extra)
        with open(self.config, "w") as f:
            f.write(f"""
pidfile = "{self.dir}/prosody.pid"
data_path = "{self.dir}/data"
certificates = "{self.dir}/certs"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{self.dir}/prosody.log" }} }}
interfaces = {{ "{address}" }}
c2s_ports = {{ {self.c2s} }}
c2s_direct_tls_ports = {{ }}
s2s_ports = {{ {self.s2s or ""} }}
s2s_direct_tls_ports = {{ }}
http_ports = {{ }}
https_ports = {{ }}
component_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix"{extra_modules} }}
modules_disabled = {{ {'"s2s"; ' if s2s is None else ""}"offline"; "c2s_limits" }}
authentication = "internal_plain"
storage = "internal"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
limits = {{ c2s = {{ rate = "100mb/s"; burst = "10s" }} }}
{s2s or ""}
VirtualHost "{domain}"
""")
        self._chown()

    def _chown(self, *paths):
        """Gives `paths` (default: the whole dir) to Prosody's user."""
        if not self._runas:
            return
        if not paths:
            subprocess.run(["chown", "-R", "nobody:nogroup", self.dir], check=True)
        for path in paths:
            shutil.chown(path, "nobody", "nogroup")

    def _store_password(self, user, password):
        host = os.path.join(self.dir, "data", _encode(self.domain))
        accounts = os.path.join(host, "accounts")
        os.makedirs(accounts, exist_ok=True)
        path = os.path.join(accounts, _encode(user) + ".dat")
        with open(path, "w") as f:
            f.write('return {\n\t["password"] = "%s";\n};\n' % password)
        # Only what this call created: a whole-tree chown per account made
        # bench/membership's 10,000 accounts quadratic.
        self._chown(host, accounts, path)

    def _command(self):
        return [*self._runas, "prosody", "-F", "--config", self.config]


SERVERS = {"prosody": Prosody, "ejabberd": Ejabberd}


def xmpp_server_kind(test=None):
    """"prosody" or "ejabberd" for `test` (a test case or its class)."""
    kind = getattr(test, "xmpp_server", None) or os.environ.get(
        "FOGBOW_XMPP_SERVER", "prosody")
    if kind not in SERVERS:
        raise ValueError(f"unknown XMPP server {kind!r}: prosody or ejabberd")
    return kind


def new_xmpp_server(kind=None, **options):
    """A server of `kind` (default: FOGBOW_XMPP_SERVER, else Prosody), not
    started yet."""
    return SERVERS[kind or xmpp_server_kind()](**options)


def start_xmpp_server(test):
    """The test's server (see xmpp_server_kind), started, and stopped by
    the test's (or the class's) cleanup."""
    server = new_xmpp_server(xmpp_server_kind(test))
    if isinstance(test, type):
        test.addClassCleanup(server.cleanup)
    else:
        test.addCleanup(server.cleanup)
    return server.start()


# The tests were written for Prosody; they run on whichever server the test
# case selects.
start_prosody = start_xmpp_server


def xmpp_section(prosody, request_timeout_ms=3000):
    """The [xmpp] section of a fogbow process using `prosody`."""
    return f"""
[xmpp]
host = "{prosody.address}"
port = {prosody.c2s}
tls = "disabled"
request_timeout_ms = {request_timeout_ms}
reconnect_max_ms = 1000
"""


def rendezvous_config(prosody, user, extra=""):
    return xmpp_section(prosody) + f"""
[rendezvous]
jid = "{user}@{prosody.domain}/fogbow"
password = "pw-{user}"
{extra}
"""


def manager_config(prosody, user, rendezvous_jid, extra=""):
    return xmpp_section(prosody) + f"""
[manager.driver]
kind = "instant"

[manager.federation]
jid = "{user}@{prosody.domain}/fogbow"
password = "pw-{user}"
rendezvous = "{rendezvous_jid}"
{extra}

[identity]
[[identity.users]]
id = "alice"
token = "alice-secret"
"""


SERVING = re.compile(r"rendezvous (\S+) serving")


class Rendezvous(Manager):
    """A `fogbow --role=rendezvous` process (no HTTP server)."""

    def __init__(self):
        super().__init__(roles="rendezvous")
        self.jid = None

    def start(self, config_text, data_dir=None, extra_args=(), timeout=30.0):
        if self.process is not None:
            raise RuntimeError("already running")
        self._spawn(config_text, data_dir, extra_args)

        def connected(log):
            match = SERVING.search(log)
            return match if match and ": connected to" in log else None

        try:
            match = wait_for_log(self.process, self.log, connected, timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError("rendezvous did not connect:\n"
                               + self.log_tail()) from None
        if not match:
            code = self.process.returncode
            self.process = None
            raise RuntimeError(f"fogbow exited with {code}:\n" + self.log_tail())
        self.jid = match.group(1)
        return self


def start_rendezvous(test, prosody, user, extra=""):
    prosody.add_account(user, f"pw-{user}")
    rdv = Rendezvous()
    test.addCleanup(rdv.cleanup)
    return rdv.start(rendezvous_config(prosody, user, extra))


def start_federated_manager(test, prosody, user, rendezvous_jid, extra="",
                            roles="manager"):
    prosody.add_account(user, f"pw-{user}")
    manager = Manager(roles=roles)
    test.addCleanup(manager.cleanup)
    manager.jid = f"{user}@{prosody.domain}"
    return manager.start(manager_config(prosody, user, rendezvous_jid, extra))


def members(manager):
    """{id: member JSON} from GET /v1/members."""
    status, body = manager.request("GET", "/v1/members", token="alice-secret")
    if status != 200:
        raise AssertionError(f"GET /v1/members: {status} {body}")
    return {m["id"]: m for m in body["members"]}


def alive_ids(manager):
    return {i for i, m in members(manager).items() if m["alive"]}
