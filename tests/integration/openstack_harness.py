"""Helpers for the tests tagged `openstack` (standard library only).

They run against the real OpenStack of scripts/openstack-up.sh (Keystone on
127.0.0.1:5000 by default; FOGBOW_OPENSTACK_AUTH_URL and
FOGBOW_OPENSTACK_ADMIN_PASSWORD change that). Each test gets a project and
a user of its own (Admin.make_tenant), so tests do not see each other's
servers or quotas and may run in parallel; cleanup deletes them again.

    admin = require_openstack()          # raises SkipTest with how-to
    tenant = admin.make_tenant(test)     # project + user, removed at cleanup
    manager = start_manager(test, openstack_config(tenant))
"""

import base64
import http.client
import http.server
import json
import os
import socketserver
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

import fogbow_harness

AUTH_URL = os.environ.get("FOGBOW_OPENSTACK_AUTH_URL", "http://127.0.0.1:5000/v3")
ADMIN_PASSWORD = os.environ.get("FOGBOW_OPENSTACK_ADMIN_PASSWORD", "admin-pw")
SKIP_MESSAGE = ("OpenStack tests skipped: no OpenStack answers at {url} ({why}). "
                "Start the test OpenStack with `scripts/openstack-up.sh` (as root; "
                "stop it with scripts/openstack-down.sh DIR), then run "
                "`ctest -L openstack`.")
NOVA_VERSION = "2.47"
# The test cloud shares a small machine with builds: how often an admin
# call that the cloud failed is tried, and how long a test waits for the
# cloud to reach a state (a bound, not a timing assertion).
CLOUD_ATTEMPTS = 5
CLOUD_TIMEOUT = 180


def _call(method, url, body=None, headers=None, timeout=30):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None), dict(res.headers)
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        return e.code, parsed, dict(e.headers)


def password_token(username, password, project, auth_url=AUTH_URL):
    """(token, body) of a project-scoped password token, or raises."""
    body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": username, "domain": {"id": "default"}, "password": password}}},
        "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
    status, data, headers = _call("POST", auth_url + "/auth/tokens", body)
    if status != 201:
        raise RuntimeError(f"Keystone refused {username}: {status} {data}")
    return headers.get("X-Subject-Token"), data


class Tenant:
    """A project with its own member user, made for one test."""

    def __init__(self, admin, name, project_id, user_id, password):
        self.admin = admin
        self.name = name
        self.project_id = project_id
        self.user_id = user_id
        self.username = name
        self.password = password

    def token(self):
        return password_token(self.username, self.password, self.name)[0]


class Admin:
    """The cloud administrator: sets up tenants, quotas, and looks at Nova."""

    def __init__(self):
        self._token, body = password_token("admin", ADMIN_PASSWORD, "admin")
        self._token_at = time.monotonic()
        self.endpoints = {}
        for svc in body["token"].get("catalog", []):
            for ep in svc.get("endpoints", []):
                if ep.get("interface") == "public":
                    self.endpoints[svc["type"]] = ep["url"].rstrip("/")

    def token(self):
        # The test Keystone's tokens are short-lived: renew well before.
        if time.monotonic() - self._token_at > 30:
            self._token = password_token("admin", ADMIN_PASSWORD, "admin")[0]
            self._token_at = time.monotonic()
        return self._token

    def call(self, method, service, path, body=None):
        """(status, body) of an admin call. The test cloud fails now and
        then under load (a 5xx, no answer in time): a call that may safely
        be repeated (not POST) is tried up to CLOUD_ATTEMPTS times, so that
        a test fails for what it tests, not for the cloud's own hiccups."""
        base = AUTH_URL.rstrip("/") if service == "identity" else self.endpoints[service]
        attempts = 1 if method == "POST" else CLOUD_ATTEMPTS
        for attempt in range(1, attempts + 1):
            headers = {"X-Auth-Token": self.token()}
            if service == "compute":
                headers["X-OpenStack-Nova-API-Version"] = NOVA_VERSION
            try:
                status, data, _ = _call(method, base + path, body, headers)
            except OSError:  # no answer (refused, reset, timed out)
                if attempt == attempts:
                    raise
                time.sleep(attempt)
                continue
            if status < 500 or attempt == attempts:
                return status, data
            time.sleep(attempt)

    def _role_id(self, name):
        status, data = self.call("GET", "identity", "/roles?name=" + name)
        return data["roles"][0]["id"]

    def make_tenant(self, test, quota=None):
        """Creates project and user `fbt-<random>`; removed when `test` ends."""
        name = "fbt-" + uuid.uuid4().hex[:10]
        password = "pw-" + uuid.uuid4().hex[:12]
        status, data = self.call("POST", "identity", "/projects",
                                 {"project": {"name": name, "domain_id": "default"}})
        assert status == 201, (status, data)
        project_id = data["project"]["id"]
        status, data = self.call("POST", "identity", "/users", {"user": {
            "name": name, "domain_id": "default", "password": password,
            "default_project_id": project_id}})
        assert status == 201, (status, data)
        user_id = data["user"]["id"]
        status, _ = self.call("PUT", "identity", f"/projects/{project_id}/users/"
                              f"{user_id}/roles/{self._role_id('member')}")
        assert status == 204, status
        tenant = Tenant(self, name, project_id, user_id, password)
        cleanup = test.addClassCleanup if isinstance(test, type) else test.addCleanup
        cleanup(self.remove_tenant, tenant)
        self.set_quota(tenant, **(quota or {"instances": 10, "cores": 40, "ram": 81920}))
        return tenant

    def set_quota(self, tenant, **quota):
        status, data = self.call("PUT", "compute", f"/os-quota-sets/{tenant.project_id}",
                                 {"quota_set": quota})
        assert status == 200, (status, data)

    def servers(self, tenant):
        """Every server of the tenant's project (admin view, with user data)."""
        status, data = self.call("GET", "compute", "/servers/detail?all_tenants=1"
                                 f"&project_id={tenant.project_id}")
        assert status == 200, (status, data)
        return data["servers"]

    def server(self, server_id):
        """The server, or None after a 404."""
        status, data = self.call("GET", "compute", f"/servers/{server_id}")
        if status == 404:
            return None
        assert status == 200, (status, data)
        return data["server"]

    def remove_tenant(self, tenant):
        for s in self.servers(tenant):
            self.call("DELETE", "compute", f"/servers/{s['id']}")
        deadline = time.monotonic() + CLOUD_TIMEOUT
        while self.servers(tenant) and time.monotonic() < deadline:
            time.sleep(0.5)
        self.call("DELETE", "identity", f"/users/{tenant.user_id}")
        self.call("DELETE", "identity", f"/projects/{tenant.project_id}")

    def change_password(self, tenant, password):
        """Sets the user's password; Keystone revokes the user's tokens."""
        status, data = self.call("PATCH", "identity", f"/users/{tenant.user_id}",
                                 {"user": {"password": password}})
        assert status == 200, (status, data)
        tenant.password = password


def require_openstack():
    """An Admin for the running OpenStack, or unittest.SkipTest saying how to
    start one. Under CI=true a missing OpenStack fails instead of skipping
    when FOGBOW_REQUIRE_OPENSTACK=1 (.ci/run sets it after starting one)."""
    try:
        return Admin()
    except Exception as e:  # noqa: BLE001 - any failure means "not usable"
        message = SKIP_MESSAGE.format(url=AUTH_URL, why=e)
        if os.environ.get("FOGBOW_REQUIRE_OPENSTACK") == "1":
            raise RuntimeError(message.replace("skipped", "cannot run")) from e
        print(message, flush=True)
        raise unittest.SkipTest(message)


STATIC_IDENTITY = """[identity]
plugin = "static-tokens"

[[identity.users]]
id = "alice"
name = "Alice"
token = "alice-secret"
"""


def openstack_config(tenant, auth_url=AUTH_URL, password=None, extra="",
                     member_id="site-os.localhost", poll_interval_ms=500,
                     refresh_interval_ms=2000, more_accounts=(), mapper="",
                     identity=STATIC_IDENTITY):
    """A manager config whose driver is the tenant's OpenStack account
    ("main"); `more_accounts` are (name, Tenant) pairs, `mapper` the body of
    [manager.driver.openstack.mapper], `identity` the [identity] section."""
    accounts = [("main", tenant, password if password is not None else tenant.password)]
    accounts += [(name, t, t.password) for name, t in more_accounts]
    account_text = "".join(f"""
[[manager.driver.openstack.accounts]]
name = "{name}"
username = "{t.username}"
password = "{pw}"
project_name = "{t.name}"
""" for name, t, pw in accounts)
    mapper_text = f"\n[manager.driver.openstack.mapper]\n{mapper}\n" if mapper else ""
    return f"""
[manager]
member_id = "{member_id}"
retry_initial_ms = 200
retry_max_ms = 2000

[manager.driver]
kind = "openstack"

[manager.driver.openstack]
auth_url = "{auth_url}"
image = "cirros-fake"
poll_interval_ms = {poll_interval_ms}
refresh_interval_ms = {refresh_interval_ms}
{extra}
{account_text}{mapper_text}
{identity}
"""


class ForwardingProxy:
    """A loopback HTTP proxy that forwards every request to `target` (a base
    URL such as Keystone's or Nova's) and answers what the target answered.
    `url` is the proxy's base URL (same path as the target). Subclasses look
    at requests (`on_request`) and responses (`on_response`), and may answer
    a request themselves (`on_request` returns (status, body))."""

    def __init__(self, target):
        parsed = urllib.parse.urlsplit(target)
        self.target_host, self.target_port = parsed.hostname, parsed.port or 80
        self.prefix = parsed.path.rstrip("/")
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, headers, data):
                self.send_response(status)
                for k, v in headers:
                    if k.lower() not in ("transfer-encoding", "connection",
                                         "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                own = proxy.on_request(self.command, self.path)
                if own is not None:
                    status, answer = own
                    data = json.dumps(answer).encode()
                    self._answer(status, [("Content-Type", "application/json")], data)
                    return
                conn = http.client.HTTPConnection(proxy.target_host,
                                                  proxy.target_port, timeout=60)
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body, headers)
                res = conn.getresponse()
                data = res.read()
                proxy.on_response(self.command, self.path, res.status, res.getheaders())
                self._answer(res.status, res.getheaders(), data)
                conn.close()

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{self.prefix}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def on_request(self, method, path):
        return None

    def on_response(self, method, path, status, headers):
        pass

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class KeystoneCounter(ForwardingProxy):
    """A proxy in front of Keystone that counts the password token requests
    (POST /v3/auth/tokens) passing through it. Point a driver's auth_url at
    `url`; the catalog still names the real services."""

    def __init__(self, target=AUTH_URL):
        self.token_requests = 0
        super().__init__(target)

    def on_request(self, method, path):
        if method == "POST" and path.rstrip("/").endswith("/auth/tokens"):
            with self.lock:
                self.token_requests += 1
        return None


class FaultProxy(ForwardingProxy):
    """A proxy in front of a cloud service (Nova, Cinder, Neutron: point the
    driver's [manager.driver.openstack.endpoints] entry for it at `url`)
    that answers chosen requests with an error instead of forwarding them.

        proxy = FaultProxy(admin.endpoints["compute"])
        proxy.fail("DELETE", "/servers/", times=1)   # the first DELETE → 500

    `failed` lists the (method, path) answered with an error, `seen` every
    (method, path, status) forwarded."""

    def __init__(self, target):
        self.rules = []
        self.failed = []
        self.seen = []
        super().__init__(target)

    def fail(self, method, path_part, times=1, status=500,
             message="injected by the test's fault proxy"):
        """Answers the next `times` `method` requests whose path contains
        `path_part` with `status` (a Nova-style JSON fault)."""
        with self.lock:
            self.rules.append({"method": method, "part": path_part, "left": times,
                               "status": status, "message": message})

    def on_request(self, method, path):
        with self.lock:
            for rule in self.rules:
                if rule["left"] > 0 and rule["method"] == method and rule["part"] in path:
                    rule["left"] -= 1
                    self.failed.append((method, path))
                    return rule["status"], {"computeFault": {
                        "code": rule["status"], "message": rule["message"]}}
        return None

    def on_response(self, method, path, status, headers):
        with self.lock:
            self.seen.append((method, path, status))

    def requests(self, method, path_part):
        """The forwarded (method, path, status) matching `method`/`path_part`."""
        with self.lock:
            return [r for r in self.seen if r[0] == method and path_part in r[1]]


def user_data_of(server):
    """The user data Nova stored for a server (admin view), decoded."""
    raw = server.get("OS-EXT-SRV-ATTR:user_data")
    return base64.b64decode(raw).decode() if raw else None


# -- a manager under test and its orders (shared by the openstack tests) ------

TOKEN = "alice-secret"
_current_manager = None


def wait_until(predicate, **kwargs):
    """fogbow_harness.wait_until, with the manager's log tail on a timeout."""
    try:
        return fogbow_harness.wait_until(predicate, **kwargs)
    except AssertionError as e:
        tail = _current_manager.log_tail(60) if _current_manager else ""
        raise AssertionError(f"{e}\n--- manager log ---\n{tail}") from None


def manager_for(test, config):
    """fogbow_harness.start_manager; its log is shown when a wait times out."""
    global _current_manager
    _current_manager = fogbow_harness.start_manager(test, config)
    return _current_manager


def order_state(manager, order_id):
    status, body = manager.request("GET", f"/v1/orders/{order_id}", token=TOKEN)
    return body if status == 200 else None


def wait_order(manager, order_id, state, timeout=CLOUD_TIMEOUT):
    return wait_until(lambda: (lambda o: o if o and o["state"] == state else None)(
        order_state(manager, order_id)), timeout=timeout, interval=0.1,
        message=f"order {order_id} {state}")
