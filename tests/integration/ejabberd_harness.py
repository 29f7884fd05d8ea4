"""A throw-away ejabberd (Debian 12's 23.01), an
xmpp_server_base.XmppServer like xmpp_harness.Prosody, so that the federation tests and bench/membership
run on either server (standard library only).

    server = Ejabberd()              # own temp dir, config, Mnesia spool
    server.add_account("rdv", "pw")  # a file; instant, works while running
    server.start()                   # foreground VM, stopped by PID

The Erlang VM runs in the foreground, started with `erl` directly (not
`ejabberdctl`, which wants the `ejabberd` system user, /etc and a named
node): with no node name the VM starts no Erlang distribution, so no epmd
is started and no cookie is written; nothing outlives the process.
Accounts are checked by ejabberd_extauth.py (ejabberd's `extauth`), which
reads one password file per account, so thousands of accounts cost
nothing. That offers SASL PLAIN only, which the tests' plain-text streams
use anyway. Shapers and stanza limits are lifted like in Prosody's test
config, so the rendezvous is not throttled.
"""

import glob
import os
import shutil
import sys
import unittest

from ejabberd_extauth import encode
from xmpp_server_base import DOMAIN, XmppServer

HERE = os.path.dirname(os.path.abspath(__file__))


def erlang_libs():
    """The directory holding Debian's ejabberd-<version> application (it
    lives outside Erlang's own lib dir, under the multiarch lib path), or
    None when ejabberd is not installed."""
    found = sorted(glob.glob("/usr/lib/*/ejabberd-[0-9]*/ebin/ejabberd.app"))
    if not found or shutil.which("erl") is None:
        return None
    return os.path.dirname(os.path.dirname(os.path.dirname(found[-1])))


class Ejabberd(XmppServer):
    """One ejabberd serving one domain (`localhost` by default) on one
    loopback address; c2s only (no s2s, no HTTP, no TLS)."""

    NAME = "ejabberd"
    LOG_FILE = "ejabberd.log"
    START_TIMEOUT_S = 60  # the Erlang VM and Mnesia
    STOP_TIMEOUT_S = 20  # the VM's clean shutdown

    def __init__(self, domain=DOMAIN, address="127.0.0.1", c2s=None):
        self.libs = erlang_libs()
        if self.libs is None:
            raise unittest.SkipTest("ejabberd tests skipped: ejabberd is not "
                                    "installed (scripts/install-deps.sh)")
        super().__init__(domain, address, c2s)
        self.accounts = os.path.join(self.dir, "accounts")
        os.makedirs(self.accounts)
        os.makedirs(os.path.join(self.dir, "spool"))
        self.config = os.path.join(self.dir, "ejabberd.yml")
        with open(self.config, "w") as f:
            f.write(self._config_text())

    def _config_text(self):
        extauth = f"{sys.executable} {HERE}/ejabberd_extauth.py {self.accounts}"
        # max_fsm_queue: a session whose queue exceeds it is closed; the
        # rendezvous' one session receives every member's heartbeats.
        return f"""
hosts: ["{self.domain}"]
loglevel: info
log_rotate_count: 0
listen:
  - port: {self.c2s}
    ip: "{self.address}"
    module: ejabberd_c2s
    starttls: false
    starttls_required: false
    max_stanza_size: 10485760
    shaper: none
    access: c2s
    backlog: 1024
max_fsm_queue: 1000000
auth_method: external
extauth_program: "{extauth}"
extauth_pool_size: 4
auth_use_cache: false
acl:
  local:
    user_regexp: ""
access_rules:
  c2s:
    allow: all
shaper_rules:
  max_user_sessions: 10
  c2s_shaper: none
  s2s_shaper: none
modules:
  mod_disco: {{}}
  mod_ping: {{}}
  mod_roster: {{}}
"""

    def _store_password(self, user, password):
        with open(os.path.join(self.accounts, encode(user)), "w",
                  encoding="utf-8") as f:
            f.write(password)

    def _env(self):
        return dict(os.environ,
                    EJABBERD_CONFIG_PATH=self.config,
                    EJABBERD_LOG_PATH=os.path.join(self.dir, "ejabberd.log"),
                    ERL_LIBS=self.libs,
                    ERL_CRASH_DUMP_BYTES="0",
                    HOME=self.dir)

    def _cwd(self):
        return self.dir

    def _command(self):
        # `erl` execs the VM (beam.smp) under the same PID: stopping that
        # PID stops ejabberd (SIGTERM is a clean shutdown), whose extauth
        # children then read EOF and exit.
        # +sbwt none: idle schedulers sleep instead of spinning, which on a
        # shared 2-core machine would take CPU from the processes under test.
        return ["erl", "-noinput", "-noshell", "+P", "1000000", "+sbwt",
                "none", "+sbwtdcpu", "none", "+sbwtdio", "none",
                "-mnesia", "dir", f'"{self.dir}/spool"', "-s", "ejabberd"]
