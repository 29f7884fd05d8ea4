"""Several throw-away XMPP domains on one machine, joined by server-to-server
links (standard library + the `openssl` and `prosody` commands; recipe in
shared/reference/xmpp-s2s.md).

    xmpp = Domains(self, ["a.test", "b.test"])            # TLS, secure auth
    xmpp = Domains(self, ["a.test", "b.test"], untrusted=["c.test"])
    xmpp = Domains(self, ["a.test", "b.test"], secure=False)  # dialback only
    a = xmpp["a.test"]            # an xmpp_harness.Prosody: add_account, ...

Each domain is one Prosody with its own folder, on its own loopback address
(127.x.y.z picked at random): s2s always dials port 5269 of the peer, so
two servers can only share the machine on different addresses, and random
addresses keep parallel tests apart. Prosody resolves the domains through a
hosts file of the test's own (libunbound's `hoststxt`), so nothing outside
the test's folders changes.

With `secure` (the default), s2s is TLS with certificate authentication
(`s2s_secure_auth`), as deployed: the harness makes a throw-away CA with
`openssl`, one certificate per domain (SAN = the domain) signed by it, and
every server trusts that CA only. A domain listed in `untrusted` gets a
certificate from a second CA that nobody trusts: the others must refuse it.
"""

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile

from xmpp_harness import Prosody

S2S_PORT = 5269


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


class CA:
    """A throw-away certificate authority in `folder` (EC P-256, 2 days)."""

    def __init__(self, folder, name):
        self.folder = folder
        os.makedirs(folder, exist_ok=True)
        self.cert = os.path.join(folder, "ca.crt")
        self.key = os.path.join(folder, "ca.key")
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                 "-subj", f"/CN={name}", "-keyout", self.key,
                 "-out", self.cert, cwd=folder)

    def issue(self, domain, out_dir):
        """Writes out_dir/<domain>.crt and .key (SAN = domain; usable as
        server and as client, since the dialling server presents it too)."""
        key = os.path.join(out_dir, f"{domain}.key")
        csr = os.path.join(self.folder, f"{domain}.csr")
        ext = os.path.join(self.folder, f"{domain}.ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName=DNS:{domain}\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        _openssl("req", "-newkey", "ec", "-pkeyopt",
                 "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
                 f"/CN={domain}", "-keyout", key, "-out", csr, cwd=self.folder)
        _openssl("x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey",
                 self.key, "-CAcreateserial", "-days", "2", "-extfile", ext,
                 "-out", os.path.join(out_dir, f"{domain}.crt"),
                 cwd=self.folder)


def free_loopback_address():
    """A random 127.x.y.z on which nothing listens on the s2s port."""
    for _ in range(100):
        address = "127.%d.%d.%d" % (random.randint(64, 126),
                                    random.randint(0, 255),
                                    random.randint(1, 254))
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((address, S2S_PORT))
            except OSError:
                continue
        return address
    raise RuntimeError("no free loopback address")


def free_port(address):
    with socket.socket() as s:
        s.bind((address, 0))
        return s.getsockname()[1]


def s2s_config(hosts_file, ca_file, secure):
    """Prosody's global lines for s2s between the test's domains."""
    if not secure:
        return f"""
unbound = {{ hoststxt = "{hosts_file}" }}
s2s_require_encryption = false
s2s_secure_auth = false
"""
    return f"""
unbound = {{ hoststxt = "{hosts_file}" }}
s2s_require_encryption = true
s2s_secure_auth = true
ssl = {{ cafile = "{ca_file}" }}
"""


class Domains:
    """N Prosody domains joined by s2s, started at once and stopped (by
    PID) with their folders by the test's cleanup. domains[name] is the
    domain's xmpp_harness.Prosody (`.domain`, `.address`, `.c2s`)."""

    def __init__(self, test, names, untrusted=(), secure=True, start=True):
        """`test` (a TestCase, or its class) gets the cleanup; with None
        the caller calls cleanup()."""
        self.dir = tempfile.mkdtemp(prefix="fogbow-s2s-")
        if isinstance(test, type):
            test.addClassCleanup(self.cleanup)
        elif test is not None:
            test.addCleanup(self.cleanup)
        self.names = list(names) + list(untrusted)
        self.hosts_file = os.path.join(self.dir, "hosts")
        self.servers = {}
        addresses = {name: free_loopback_address() for name in self.names}
        with open(self.hosts_file, "w") as f:
            for name, address in addresses.items():
                f.write(f"{address} {name}\n")
        self.ca = CA(os.path.join(self.dir, "ca"), "fogbow test CA")
        self.rogue_ca = None
        if untrusted:
            self.rogue_ca = CA(os.path.join(self.dir, "rogue-ca"),
                               "fogbow untrusted CA")
        for name in self.names:
            address = addresses[name]
            server = Prosody(domain=name, address=address,
                             c2s=free_port(address),
                             s2s=s2s_config(self.hosts_file, self.ca.cert,
                                            secure),
                             modules=("tls",) if secure else ())
            if secure:
                issuer = self.rogue_ca if name in untrusted else self.ca
                issuer.issue(name, os.path.join(server.dir, "certs"))
            server._chown()
            self.servers[name] = server
        # Prosody runs as nobody: the hosts file and CA must be readable.
        os.chmod(self.dir, 0o755)
        for folder in (self.ca.folder,):
            os.chmod(folder, 0o755)
        os.chmod(self.ca.cert, 0o644)
        if start:
            for server in self.servers.values():
                server.start()

    def __getitem__(self, name):
        return self.servers[name]

    def __iter__(self):
        return iter(self.servers.values())

    def log(self, name):
        return self.servers[name].log()

    def cleanup(self):
        for server in self.servers.values():
            server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)


def main():
    """Runs the domains until SIGTERM/SIGINT, for scripts (the federation
    demo): writes `domain address c2s_port` lines to --ready once every
    server listens."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--account", action="append", default=[],
                        help="user@domain:password (repeatable)")
    parser.add_argument("--plain", action="store_true",
                        help="dialback only, no TLS (routing tests)")
    parser.add_argument("domains", nargs="+")
    args = parser.parse_args()

    def stop(*_):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    xmpp = None
    try:
        xmpp = Domains(None, args.domains, secure=not args.plain)
        for account in args.account:
            jid, password = account.split(":", 1)
            user, domain = jid.split("@", 1)
            xmpp[domain].add_account(user, password)
        with open(args.ready + ".tmp", "w") as f:
            for server in xmpp:
                f.write(f"{server.domain} {server.address} {server.c2s}\n")
        os.rename(args.ready + ".tmp", args.ready)
        while True:
            signal.pause()
    finally:
        if xmpp is not None:
            xmpp.cleanup()


if __name__ == "__main__":
    main()
