"""The `ldap` identity plugin against a real directory: a throw-away
`slapd` (own config and database in a temporary directory, loopback port,
stopped by PID; the system's slapd service is neither needed nor touched)
with users added by `ldapadd`, and a real `fogbow --role=manager` that
logs them in with POST /v1/tokens. Right passwords give tokens that work;
wrong passwords, unknown users, empty passwords (an anonymous bind to the
directory) and injection attempts give 401; guessing is throttled (429);
a directory that is down gives 503 and no crash; users see only their own
orders; no password or token reaches the manager's log.

LdapTlsTest does the same over ldaps:// and StartTLS with a throw-away CA:
trusted with ldap_ca_file, refused (503) without.

Skipped, saying so, only when slapd or ldapadd (or, for TLS, openssl) is
not installed (scripts/install-deps.sh installs them)."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

from fogbow_harness import Manager, binary, closed_port, wait_until

SLAPD = shutil.which("slapd") or (
    "/usr/sbin/slapd" if os.path.exists("/usr/sbin/slapd") else None)
LDAPADD = shutil.which("ldapadd")
MODULE_DIR = "/usr/lib/ldap"
SCHEMA_DIR = "/etc/ldap/schema"

SUFFIX = "dc=example,dc=org"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PW = "admin-S3CRET-91ac"
ALICE_PW = "alice-pw-S3CRET-3d5f"
BOB_PW = "bob-pw-S3CRET-c0de"
CAROL_PW = "carol-pw-S3CRET-77e1"
WRONG_PW = "wrong-pw-S3CRET-0b3d"

SLAPD_CONF = """
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
pidfile {dir}/slapd.pid
# Like directories that take a DN without a password as an anonymous bind
# (RFC 4513 5.1.2, "unauthenticated"): the manager must refuse empty
# passwords itself.
allow bind_anon_dn
database mdb
suffix "{suffix}"
rootdn "{admin}"
rootpw {admin_pw}
directory {dir}/db
maxsize 10485760
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
"""

ENTRIES = """dn: {suffix}
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,{suffix}
objectClass: organizationalUnit
ou: people

dn: uid=alice,ou=people,{suffix}
objectClass: inetOrgPerson
uid: alice
cn: Alice Liddell
sn: Liddell
userPassword: {alice}

dn: uid=bob,ou=people,{suffix}
objectClass: inetOrgPerson
uid: bob
cn: Bob
sn: Bob
userPassword: {bob}

dn: uid=carol,ou=people,{suffix}
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Carol
userPassword: {carol}

dn: uid=nopw,ou=people,{suffix}
objectClass: inetOrgPerson
uid: nopw
cn: No Password
sn: Nopw
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_ca_and_server_cert(directory):
    """A throw-away CA and a certificate it signed for 127.0.0.1."""
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True,
                       capture_output=True, timeout=60)
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-subj", "/CN=fogbow test CA", "-keyout", "ca.key",
            "-out", "ca.pem")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write("subjectAltName = IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "ext.cnf", "-out", "server.pem")
    return os.path.join(directory, "ca.pem")


class Slapd:
    """One slapd on a loopback port, with its config and data in `dir`;
    with `tls`, also ldaps:// on a second port and StartTLS, with a
    certificate of a throw-away CA (`self.ca_file`)."""

    def __init__(self, tls=False):
        self.dir = tempfile.mkdtemp(prefix="fogbow-slapd-")
        os.makedirs(os.path.join(self.dir, "db"))
        self.conf = os.path.join(self.dir, "slapd.conf")
        conf = SLAPD_CONF.format(schema=SCHEMA_DIR, modules=MODULE_DIR,
                                 dir=self.dir, suffix=SUFFIX, admin=ADMIN_DN,
                                 admin_pw=ADMIN_PW)
        self.ca_file = None
        if tls:
            self.ca_file = make_ca_and_server_cert(self.dir)
            conf = (f"TLSCACertificateFile {self.ca_file}\n"
                    f"TLSCertificateFile {self.dir}/server.pem\n"
                    f"TLSCertificateKeyFile {self.dir}/server.key\n") + conf
        with open(self.conf, "w") as f:
            f.write(conf)
        self.port = None
        self.tls_port = free_port() if tls else None
        self.pid = None

    @property
    def url(self):
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self):
        return f"ldaps://127.0.0.1:{self.tls_port}"

    def start(self):
        """Starts slapd; again on the same port after stop()."""
        self.port = self.port or free_port()
        # -d 0: stays in the foreground, so its PID is the Popen's.
        urls = self.url + "/"
        if self.tls_port:
            urls += " " + self.ldaps_url + "/"
        with open(os.path.join(self.dir, "slapd.log"), "a") as log:
            self.process = subprocess.Popen(
                [SLAPD, "-f", self.conf, "-h", urls, "-d", "0"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=log)
        self.pid = self.process.pid
        wait_until(self._answers, timeout=20, message="slapd to answer")

    def _answers(self):
        if self.process.poll() is not None:
            with open(os.path.join(self.dir, "slapd.log")) as f:
                raise AssertionError("slapd exited:\n" + f.read()[-2000:])
        try:
            with socket.create_connection(("127.0.0.1", self.port), 0.5):
                return True
        except OSError:
            return False

    def add(self, ldif):
        subprocess.run([LDAPADD, "-x", "-H", self.url, "-D", ADMIN_DN,
                        "-w", ADMIN_PW], input=ldif, text=True, check=True,
                       capture_output=True, timeout=30)

    def stop(self):
        if self.pid is None:
            return
        os.kill(self.pid, signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(self.pid, signal.SIGKILL)
            self.process.wait()
        self.pid = None

    def cleanup(self):
        try:
            self.stop()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def manager_config(ldap_url, extra=""):
    return f"""
[manager]
member_id = "ldap.test"
[manager.driver]
kind = "instant"
[identity]
plugin = "ldap"
ldap_url = "{ldap_url}"
timeout_ms = 3000
max_failures = 3
max_failures_per_address = 1000
lockout_s = 60
{extra}
[log]
level = "debug"
"""


BIND_DN = 'ldap_bind_dn = "uid={user},ou=people,' + SUFFIX + '"'
SEARCH = ('ldap_search_base = "ou=people,' + SUFFIX + '"\n'
          'ldap_search_filter = "(&(objectClass=inetOrgPerson)(uid={user}))"\n'
          f'ldap_service_dn = "{ADMIN_DN}"\n'
          f'ldap_service_password = "{ADMIN_PW}"')

ORDER = {"kind": "volume", "size_gb": 1}
INJECTIONS = ["*", ")(uid=*", "*)(|(uid=*", "alice)(uid=*", "alice,ou=people",
              "uid=alice,ou=people," + SUFFIX, "alice\\", "al*", "alice\n",
              "alice\0"]
# Names the directory itself takes for alice's (its matching ignores case
# and surrounding spaces): with her password they are alice, the owner of
# alice's orders, not somebody new.
ALICE_TOO = ["ALICE", " alice", "alice "]


@unittest.skipUnless(SLAPD and LDAPADD and os.path.isdir(MODULE_DIR),
                     "LDAP tests skipped: slapd and ldap-utils are not "
                     "installed (scripts/install-deps.sh installs them)")
class LdapIdentityTest(unittest.TestCase):
    def setUp(self):
        self.slapd = Slapd()
        self.addCleanup(self.slapd.cleanup)
        self.slapd.start()
        self.slapd.add(ENTRIES.format(suffix=SUFFIX, alice=ALICE_PW,
                                      bob=BOB_PW, carol=CAROL_PW))
        self.tokens = []

    def start_manager(self, mode):
        m = Manager(roles="manager")
        self.addCleanup(m.cleanup)
        self.addCleanup(self.check_log_has_no_secrets, m)
        return m.start(manager_config(self.slapd.url, mode))

    def login(self, m, user, password):
        status, body = m.request("POST", "/v1/tokens",
                                 {"user": user, "password": password})
        if status == 201:
            self.tokens.append(body["token"])
        return status, body

    def check_log_has_no_secrets(self, m):
        log = m.log()
        for secret in [ADMIN_PW, ALICE_PW, BOB_PW, CAROL_PW, WRONG_PW,
                       *self.tokens]:
            self.assertNotIn(secret, log, "a secret is in the manager's log")

    def check_logins(self, m):
        status, alice = self.login(m, "alice", ALICE_PW)
        self.assertEqual(status, 201, alice)
        self.assertEqual(alice["user"], {"id": "alice",
                                          "name": "Alice Liddell"})
        self.assertTrue(alice["token"].startswith("fbt_"))
        self.assertIn("expires_at", alice)
        status, bob = self.login(m, "bob", BOB_PW)
        self.assertEqual(status, 201, bob)

        # Orders work with the token, and each user sees only their own.
        status, created = m.request("POST", "/v1/orders", ORDER,
                                    token=alice["token"])
        self.assertEqual(status, 201, created)
        alice_order = created["orders"][0]["id"]
        status, listed = m.request("GET", "/v1/orders", token=bob["token"])
        self.assertEqual((status, listed["orders"]), (200, []))
        status, _ = m.request("GET", f"/v1/orders/{alice_order}",
                              token=bob["token"])
        self.assertEqual(status, 404)
        status, listed = m.request("GET", "/v1/orders", token=alice["token"])
        self.assertEqual([o["id"] for o in listed["orders"]], [alice_order])

        # The password is no token, nor is anything else.
        for token in [ALICE_PW, "alice", alice["token"] + "x", ""]:
            status, _ = m.request("GET", "/v1/orders", token=token)
            self.assertEqual(status, 401, token)

        for name in ALICE_TOO:
            status, body = self.login(m, name, ALICE_PW)
            self.assertEqual((status, body["user"]["id"]), (201, "alice"))
            status, listed = m.request("GET", "/v1/orders",
                                       token=body["token"])
            self.assertEqual([o["id"] for o in listed["orders"]],
                             [alice_order])

    def check_refusals(self, m):
        cases = [("alice", WRONG_PW), ("mallory", WRONG_PW),
                 ("alice", ""), ("nopw", ""), ("nopw", WRONG_PW),
                 ("", ALICE_PW)]
        cases += [(name, ALICE_PW) for name in INJECTIONS]
        cases += [(name, "") for name in ["*", ")(uid=*"]]
        for user, password in cases:
            with self.subTest(user=user, password=password):
                status, body = self.login(m, user, password)
                self.assertEqual(status, 401, body)
                self.assertEqual(body["error"]["code"], "unauthorized")

    def test_bind_dn_template(self):
        m = self.start_manager(BIND_DN)
        self.check_logins(m)
        self.check_refusals(m)

    def test_search_then_bind(self):
        m = self.start_manager(SEARCH)
        self.check_logins(m)
        self.check_refusals(m)

    def test_cli_login(self):
        m = self.start_manager(BIND_DN)
        env = {k: v for k, v in os.environ.items()
               if k not in ("FOGBOW_URL", "FOGBOW_TOKEN")}

        def cli(*args, stdin=""):
            return subprocess.run([binary(), *args, "--url", m.url],
                                  input=stdin, capture_output=True,
                                  text=True, env=env, timeout=60)

        r = cli("login", "--user", "alice", stdin=ALICE_PW + "\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        token = r.stdout.strip()
        self.tokens.append(token)
        self.assertTrue(token.startswith("fbt_"), r.stdout)
        r = cli("order", "list", "--token", token)
        self.assertEqual(r.returncode, 0, r.stderr)
        r = cli("login", "--user", "alice", stdin=WRONG_PW + "\n")
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stdout, "")
        self.assertIn("wrong user name or password", r.stderr)

    def test_bad_requests(self):
        m = self.start_manager(BIND_DN)
        for body in [{"user": "alice"}, {"password": ALICE_PW},
                     {"user": "alice", "password": 1},
                     {"user": "alice", "password": ALICE_PW, "x": 1}]:
            status, reply = m.request("POST", "/v1/tokens", body)
            self.assertEqual(status, 400, reply)
            self.assertNotIn(ALICE_PW, str(reply))

    def test_guessing_is_throttled(self):
        m = self.start_manager(BIND_DN)
        for _ in range(3):
            self.assertEqual(self.login(m, "carol", WRONG_PW)[0], 401)
        # From now on carol's logins are refused without asking the
        # directory, even with the right password.
        status, body = self.login(m, "carol", CAROL_PW)
        self.assertEqual(status, 429, body)
        self.assertEqual(body["error"]["code"], "too_many_requests")
        status, body = self.login(m, "Carol", WRONG_PW)
        self.assertEqual(status, 429, body)
        # Others are not locked out.
        self.assertEqual(self.login(m, "bob", BOB_PW)[0], 201)

    def test_directory_down(self):
        m = self.start_manager(BIND_DN)
        status, alice = self.login(m, "alice", ALICE_PW)
        self.assertEqual(status, 201)
        self.slapd.stop()
        status, body = self.login(m, "bob", BOB_PW)
        self.assertEqual(status, 503, body)
        self.assertEqual(body["error"]["code"], "unavailable")
        # Issued tokens are checked by the manager alone: they still work.
        status, _ = m.request("GET", "/v1/orders", token=alice["token"])
        self.assertEqual(status, 200)
        self.assertIsNone(m.process.poll(), "the manager died")
        # Not a refusal: a directory outage must not lock anybody out.
        self.slapd.start()
        self.assertEqual(self.login(m, "bob", BOB_PW)[0], 201)

    def test_nothing_listening(self):
        m = Manager(roles="manager")
        self.addCleanup(m.cleanup)
        m.start(manager_config(f"ldap://127.0.0.1:{closed_port()}", BIND_DN))
        status, body = m.request("POST", "/v1/tokens",
                                 {"user": "alice", "password": ALICE_PW})
        self.assertEqual(status, 503, body)
        self.assertNotIn(ALICE_PW, m.log())


@unittest.skipUnless(SLAPD and LDAPADD and os.path.isdir(MODULE_DIR)
                     and shutil.which("openssl"),
                     "LDAP TLS tests skipped: slapd, ldap-utils or openssl "
                     "is not installed")
class LdapTlsTest(unittest.TestCase):
    """ldaps:// and StartTLS, the server's certificate checked against
    ldap_ca_file; without it the throw-away CA is not trusted."""

    def setUp(self):
        self.slapd = Slapd(tls=True)
        self.addCleanup(self.slapd.cleanup)
        self.slapd.start()
        self.slapd.add(ENTRIES.format(suffix=SUFFIX, alice=ALICE_PW,
                                      bob=BOB_PW, carol=CAROL_PW))

    def login(self, url, extra):
        m = Manager(roles="manager")
        self.addCleanup(m.cleanup)
        m.start(manager_config(url, BIND_DN + "\n" + extra))
        status, body = m.request("POST", "/v1/tokens",
                                 {"user": "alice", "password": ALICE_PW})
        log = m.log()
        self.assertNotIn(ALICE_PW, log)
        return status, body, log

    def test_ldaps_with_the_ca(self):
        ca = f'ldap_ca_file = "{self.slapd.ca_file}"'
        status, body, _ = self.login(self.slapd.ldaps_url, ca)
        self.assertEqual(status, 201, body)

    def test_start_tls_with_the_ca(self):
        extra = f'ldap_ca_file = "{self.slapd.ca_file}"\nldap_start_tls = true'
        status, body, _ = self.login(self.slapd.url, extra)
        self.assertEqual(status, 201, body)

    def test_an_untrusted_certificate_is_refused(self):
        for url, extra in [(self.slapd.ldaps_url, ""),
                           (self.slapd.url, "ldap_start_tls = true")]:
            with self.subTest(url=url):
                status, body, log = self.login(url, extra)
                self.assertEqual(status, 503, body)
                self.assertIn("ldap: ", log)
        # Only verify_tls = false takes it (test servers only).
        status, body, _ = self.login(self.slapd.ldaps_url,
                                     "verify_tls = false")
        self.assertEqual(status, 201, body)


class StaticTokensTakeNoPasswords(unittest.TestCase):
    def test_post_tokens_is_501(self):
        m = Manager(roles="manager")
        self.addCleanup(m.cleanup)
        m.start("""
[manager]
member_id = "static.test"
[manager.driver]
kind = "instant"
[[identity.users]]
id = "alice"
token = "alice-secret"
""")
        status, body = m.request("POST", "/v1/tokens",
                                 {"user": "alice", "password": "x"})
        self.assertEqual(status, 501, body)


if __name__ == "__main__":
    unittest.main()
