"""The web dashboard.

DashboardFiles (stdlib only): `/` and `/dashboard/...` serve the static
files without a token, with their Content-Type and a Content-Security-Policy
allowing only 'self'; nothing outside the dashboard directory can be reached
(`..`, `%2e%2e`, absolute paths, symlinks); index.html has no inline script.

DashboardInBrowser (headless Chromium through Selenium, Debian's `chromium`,
`chromium-driver`, `python3-selenium`): against `fogbow --role=all` with the
local driver and the reverse tunnel, a wrong token shows an error; signed
in, an order created in the form becomes fulfilled, its instance's SSH line
shows `ssh -p PORT fogbow@127.0.0.1` for the tunnel's port, and deleting it
removes it. It takes a screenshot (FOGBOW_UPDATE_SCREENSHOT=1 writes it to
docs/dashboard.png). DashboardPages: with `[http] max_page_size = 2`, the
dashboard shows every order and every instance of each kind, not only the
first page. Skipped, saying what is missing, without a browser.
"""

import http.client
import os
import re
import shutil
import sys
import tempfile
import unittest

from fogbow_harness import (Manager, closed_port, reach_debian_package,
                            start_manager, wait_until)
from tunnel_harness import free_port_range, published_through_tunnel

TOKEN = "alice-secret"
SOURCE_DIR = os.environ.get(
    "FOGBOW_SOURCE_DIR",
    os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
DASHBOARD_DIR = os.path.join(SOURCE_DIR, "dashboard")
UPDATE_SCREENSHOT = os.environ.get("FOGBOW_UPDATE_SCREENSHOT") == "1"
WAIT_S = 60  # upper bound of every browser wait


def users():
    return f"""
[identity]
plugin = "static-tokens"
[[identity.users]]
id = "alice"
token = "{TOKEN}"
"""


def raw_get(port, target, method="GET"):
    """One request with `target` sent exactly as written (no normalising)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        conn.endheaders()
        res = conn.getresponse()
        return res.status, dict(res.getheaders()), res.read()
    finally:
        conn.close()


class DashboardFiles(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # A copy of the dashboard in a directory of its own, with a secret
        # beside it and links pointing out: what must never be served.
        cls.tmp = tempfile.mkdtemp(prefix="fogbow-dash-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.dir = os.path.join(cls.tmp, "dash")
        shutil.copytree(DASHBOARD_DIR, cls.dir)
        with open(os.path.join(cls.tmp, "secret.js"), "w") as f:
            f.write("TOP-SECRET")
        os.symlink(os.path.join(cls.tmp, "secret.js"),
                   os.path.join(cls.dir, "link.js"))
        os.symlink(cls.tmp, os.path.join(cls.dir, "up"))
        cls.m = start_manager(cls, f"""
[manager]
member_id = "dash.test"
[manager.driver]
kind = "instant"
[http]
dashboard_dir = "{cls.dir}"
""" + users())

    def test_files_are_served_with_their_types_and_headers(self):
        for target, ctype in [("/", "text/html"), ("/dashboard", "text/html"),
                              ("/dashboard/", "text/html"),
                              ("/dashboard/index.html", "text/html"),
                              ("/dashboard/app.js", "text/javascript"),
                              ("/dashboard/style.css", "text/css")]:
            with self.subTest(target=target):
                status, headers, body = raw_get(self.m.port, target)
                self.assertEqual(status, 200, body[:200])
                self.assertTrue(headers["Content-Type"].startswith(ctype),
                                headers["Content-Type"])
                csp = headers["Content-Security-Policy"]
                self.assertIn("default-src 'self'", csp)
                self.assertIn("script-src 'self';", csp)
                self.assertNotIn("unsafe-inline", csp)
                self.assertEqual(headers["X-Content-Type-Options"], "nosniff")
                self.assertEqual(headers["X-Frame-Options"], "DENY")
        status, headers, body = raw_get(self.m.port, "/", "HEAD")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")

    def test_index_has_no_inline_script_or_style(self):
        with open(os.path.join(DASHBOARD_DIR, "index.html")) as f:
            html = f.read()
        scripts = re.findall(r"<script\b[^>]*>", html)
        self.assertTrue(scripts)
        for tag in scripts:
            self.assertRegex(tag, r'src="/dashboard/[a-z]+\.js"')
        self.assertNotRegex(html, r"<script\b[^>]*>(?!</script>)")  # no body
        self.assertNotRegex(html, r"\son[a-z]+=")  # no handler attributes
        self.assertNotRegex(html, r"\sstyle=|<style")
        # Only this origin: no CDN, no external font.
        self.assertNotRegex(html, r"(src|href)=\"(https?:)?//")

    def test_nothing_outside_the_directory(self):
        targets = [
            "/dashboard/../secret.js", "/dashboard/%2e%2e/secret.js",
            "/dashboard/%2E%2E%2Fsecret.js", "/dashboard/..%2fsecret.js",
            "/dashboard/%252e%252e/secret.js", "/dashboard/..\\secret.js",
            "/dashboard/" + self.tmp + "/secret.js",
            "/dashboard/%2f" + self.tmp.lstrip("/") + "/secret.js",
            "/dashboard/link.js", "/dashboard/up/secret.js",
            "/dashboard/../../../../../../etc/passwd",
            "/dashboard/.%2e/secret.js", "/dashboard/%00/app.js",
            "/dashboard/app.js%00.css", "/dashboard/missing.js",
            "/dashboard/notes.txt", "/secret.js", "/index.html",
        ]
        for target in targets:
            with self.subTest(target=target):
                status, headers, body = raw_get(self.m.port, target)
                self.assertIn(status, (400, 404), body[:200])
                self.assertNotIn(b"TOP-SECRET", body)

    def test_no_token_needed_and_the_api_is_unchanged(self):
        status, _, _ = raw_get(self.m.port, "/dashboard/app.js")
        self.assertEqual(status, 200)
        status, body = self.m.request("GET", "/v1/orders")
        self.assertEqual(status, 401, body)
        status, body = self.m.request("POST", "/", {"x": 1})
        self.assertEqual(status, 405, body)

    def test_a_missing_configured_directory_stops_the_start(self):
        m = Manager()
        self.addCleanup(m.cleanup)
        with self.assertRaisesRegex(RuntimeError, "dashboard_dir"):
            m.start(f"""
[manager.driver]
kind = "instant"
[http]
dashboard_dir = "{self.tmp}/nowhere"
""" + users())


def load_selenium():
    """(webdriver module, None) or (None, why the browser tests skip)."""
    reach_debian_package("selenium")
    try:
        from selenium import webdriver
    except ImportError:
        return None, "python3-selenium is not installed"
    for tool in ("chromium", "chromedriver"):
        if not shutil.which(tool):
            return None, f"{tool} is not installed (apt-get install chromium chromium-driver)"
    return webdriver, None


USER_DATA = """#!/bin/sh
python3 -m http.server {web} --bind 127.0.0.1 >/dev/null 2>&1 &
"$HOME/.fogbow-tunnel/connect" web {web} >> "$HOME/.fogbow-tunnel/web.log" 2>&1 &
"""


class BrowserTest(unittest.TestCase):
    """Headless Chromium and the helpers the browser tests share; a
    subclass's setUpClass starts its manager as `cls.m`, then
    `cls.start_browser()`."""

    @classmethod
    def start_browser(cls):
        webdriver, why = load_selenium()
        if why:
            raise unittest.SkipTest(f"dashboard browser tests skipped: {why}")
        from selenium.webdriver.chrome.service import Service
        profile = tempfile.mkdtemp(prefix="fogbow-chromium-")
        cls.addClassCleanup(shutil.rmtree, profile, True)
        options = webdriver.ChromeOptions()
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--window-size=1400,1500",
                    "--no-first-run", f"--user-data-dir={profile}"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        # The Debian driver by its path: Selenium would otherwise try to
        # download one.
        service = Service(executable_path=shutil.which("chromedriver"))
        cls.driver = webdriver.Chrome(service=service, options=options)
        cls.addClassCleanup(cls.driver.quit)
        cls.driver.set_page_load_timeout(WAIT_S)

    # -- helpers ------------------------------------------------------------

    def wait(self, condition, message, timeout=WAIT_S):
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(
                condition, message)
        except Exception:
            print(self.m.log_tail(), file=sys.stderr)
            raise

    def css(self, selector):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def visible(self, selector):
        return lambda d: next((e for e in self.css(selector) if e.is_displayed()),
                              None)

    def sign_in(self, token):
        field = self.wait(self.visible("#token"), "the token field")
        field.clear()
        field.send_keys(token)
        self.css("#sign-in-form button[type=submit]")[0].click()

    def csp_violations(self):
        return [e["message"] for e in self.driver.get_log("browser")
                if "Content Security Policy" in e["message"]
                or "Refused to" in e["message"]]


class DashboardInBrowser(BrowserTest):
    @classmethod
    def setUpClass(cls):
        cls.start_browser()
        cls.low, high = free_port_range(4)
        api_port, svc = closed_port(), closed_port()
        cls.m = start_manager(cls, f"""
[manager]
member_id = "site-a.localhost"
[manager.driver]
kind = "local"
""" + users() + published_through_tunnel(cls.low, high, api_port, svc))

    # -- the test ----------------------------------------------------------

    def test_sign_in_order_ssh_line_delete(self):
        d = self.driver
        d.get(self.m.url + "/")
        self.assertEqual(d.title, "Fogbow")

        # A wrong token: a clear error, and nothing of the app.
        self.sign_in("not-a-token")
        error = self.wait(self.visible("#sign-in-error"), "the sign-in error")
        self.assertIn("Sign-in failed", error.text)
        self.assertIn("invalid token", error.text)
        self.assertFalse(self.css("#app")[0].is_displayed())

        # The right one.
        self.sign_in(TOKEN)
        self.wait(self.visible("#app"), "the signed-in view")
        self.assertEqual(d.execute_script(
            "return sessionStorage.getItem('fogbow.token')"), TOKEN)
        self.wait(self.visible("[data-quota=vCPU]"), "the quota bars")
        self.wait(self.visible("[data-member-id='site-a.localhost']"),
                  "this member in the members table")

        # Create a compute order whose user data publishes an extra port.
        web = closed_port()
        self.css("#order-form textarea[name=user_data]")[0].send_keys(
            USER_DATA.format(web=web))
        self.css("#create-order")[0].click()
        created = self.wait(self.visible("#order-created"), "the created order")
        order_id = re.search(r"Created 1 order\(s\): (\S+)", created.text).group(1)

        # It becomes fulfilled in the table.
        self.wait(self.visible(f"tr[data-order-id='{order_id}'][data-state=fulfilled]"),
                  "the order to be fulfilled")
        status, order = self.m.request("GET", f"/v1/orders/{order_id}", token=TOKEN)
        self.assertEqual(status, 200, order)
        instance_id = order["instance_id"]

        # Its SSH line, unfolded, shows the command for the tunnel's port.
        summary = self.wait(
            self.visible(f"details[data-instance-id='{instance_id}'] summary"),
            "the instance's public address")
        self.assertEqual(summary.text, f"SSH 127.0.0.1:{self.low}")
        summary.click()
        ssh = self.wait(self.visible(
            f"details[data-instance-id='{instance_id}'] input[data-command=ssh]"),
            "the SSH command")
        self.assertEqual(ssh.get_attribute("value"),
                         f"ssh -p {self.low} fogbow@127.0.0.1")
        status, compute = self.m.request("GET", f"/v1/computes/{instance_id}",
                                         token=TOKEN)
        self.assertEqual(compute["ssh_public_address"], f"127.0.0.1:{self.low}")
        # The extra port, once the instance published it; the line stays
        # unfolded across refreshes.
        extra = self.wait(self.visible(
            f"details[data-instance-id='{instance_id}'] input[data-command=port-web]"),
            "the extra port's command")
        status, compute = self.m.request("GET", f"/v1/computes/{instance_id}",
                                         token=TOKEN)
        self.assertEqual(extra.get_attribute("value"),
                         f"curl http://{compute['extra_ports']['web']}/")

        self.screenshot()
        self.assertEqual(self.csp_violations(), [])

        # Delete: a click arms the button, a second one deletes.
        self.css(f"tr[data-order-id='{order_id}'] button[data-action=delete]")[0].click()
        armed = self.wait(self.visible(
            f"tr[data-order-id='{order_id}'] button.armed"), "the confirmation")
        self.assertEqual(armed.text, "Confirm delete")
        armed.click()
        self.wait(lambda d: not self.css(f"tr[data-order-id='{order_id}']"),
                  "the order to disappear from the table")
        wait_until(lambda: self.m.request("GET", f"/v1/orders/{order_id}",
                                          token=TOKEN)[0] == 404,
                   WAIT_S, message="the order to be gone")

        # Another kind: the form shows that kind's fields; the local driver
        # has no volumes, so the order stays open and says why.
        from selenium.webdriver.support.ui import Select
        Select(self.css("#order-kind")[0]).select_by_value("volume")
        self.assertFalse(self.css("textarea[name=user_data]")[0].is_displayed())
        size = self.wait(self.visible("input[name=size_gb]"), "the volume's size")
        size.clear()
        size.send_keys("2")
        self.css("#create-order")[0].click()
        self.wait(lambda d: re.search(r"Created 1 order\(s\): (\S+)",
                                      self.css("#order-created")[0].text)
                  and order_id not in self.css("#order-created")[0].text,
                  "the volume order")
        volume_id = re.search(r"Created 1 order\(s\): (\S+)",
                              self.css("#order-created")[0].text).group(1)
        row = self.wait(self.visible(f"tr[data-order-id='{volume_id}']"),
                        "the volume order's row")
        self.assertIn("volume", row.text)
        status, order = self.m.request("GET", f"/v1/orders/{volume_id}", token=TOKEN)
        self.assertEqual((status, order["kind"]), (200, "volume"), order)
        self.css(f"tr[data-order-id='{volume_id}'] button[data-action=delete]")[0].click()
        self.wait(self.visible(f"tr[data-order-id='{volume_id}'] button.armed"),
                  "the confirmation").click()
        self.wait(lambda d: not self.css(f"tr[data-order-id='{volume_id}']"),
                  "the volume order to disappear")

        # Signing out forgets the token.
        self.css("#sign-out")[0].click()
        self.wait(self.visible("#sign-in"), "the sign-in form")
        self.assertIsNone(d.execute_script(
            "return sessionStorage.getItem('fogbow.token')"))

    def screenshot(self):
        png = self.driver.get_screenshot_as_png()
        self.assertEqual(png[:8], b"\x89PNG\r\n\x1a\n")
        if UPDATE_SCREENSHOT:
            path = os.path.join(SOURCE_DIR, "docs", "dashboard.png")
            with open(path, "wb") as f:
                f.write(png)
            print(f"screenshot written to {path}", file=sys.stderr)


PAGE = 2  # [http] max_page_size of DashboardPages: every list has pages
EACH = 3  # orders of each kind, more than one page


class DashboardPages(BrowserTest):
    """Lists longer than a page: the dashboard shows every order and every
    instance of each kind, following the REST API's next links."""

    @classmethod
    def setUpClass(cls):
        cls.start_browser()
        cls.m = start_manager(cls, f"""
[manager]
member_id = "pages.test"
[manager.driver]
kind = "instant"
vcpu = 64
memory_mb = 65536
instances = 100
[http]
max_page_size = {PAGE}
dashboard_dir = "{DASHBOARD_DIR}"
""" + users())
        computes = cls.create({"kind": "compute", "vcpu": 1, "memory_mb": 64})
        volumes = cls.create({"kind": "volume", "size_gb": 1})
        cls.create({"kind": "network", "network_cidr": "10.9.0.0/24"})
        cls.wait_fulfilled()
        for compute, volume in zip(computes, volumes):
            cls.create({"kind": "attachment", "compute": compute,
                        "volume": volume}, count=1)
        cls.wait_fulfilled()

    @classmethod
    def create(cls, body, count=EACH):
        """Ids of `count` new orders of `body`."""
        status, created = cls.m.request("POST", "/v1/orders",
                                        {**body, "count": count}, TOKEN)
        assert status == 201, created
        return [o["id"] for o in created["orders"]]

    @classmethod
    def walk(cls, path, key):
        """Every item of a list, through the REST API's next links."""
        items = []
        for _ in range(100):
            status, page = cls.m.request("GET", path, token=TOKEN)
            assert status == 200, page
            items += page[key]
            nexts = [l["href"] for l in page["links"] if l["rel"] == "next"]
            if not nexts:
                return items
            path = nexts[0]
        raise AssertionError(f"{path}: endless pages")

    @classmethod
    def wait_fulfilled(cls):
        wait_until(lambda: all(o["state"] == "fulfilled"
                               for o in cls.walk("/v1/orders", "orders")),
                   timeout=WAIT_S, message="every order fulfilled")

    def test_every_page_of_every_list_is_shown(self):
        orders = {o["id"] for o in self.walk("/v1/orders", "orders")}
        self.assertEqual(len(orders), 4 * EACH)
        _, first = self.m.request("GET", "/v1/orders", token=TOKEN)
        self.assertEqual(len(first["orders"]), PAGE)  # the test needs pages

        self.driver.get(self.m.url + "/")
        self.sign_in(TOKEN)
        self.wait(self.visible("#app"), "the signed-in view")
        # The first render comes after the whole walk; what it shows then
        # is the whole list, or the dashboard stopped at a page.
        self.wait(lambda d: self.css("#orders-table tr[data-order-id]")
                  and self.css("#instances-tables tr[data-instance-id]"),
                  "the first orders and instances")
        self.assertEqual(
            {e.get_attribute("data-order-id")
             for e in self.css("#orders-table tr[data-order-id]")}, orders)
        self.assertEqual(self.css("#orders-count")[0].text, f"({len(orders)})")
        for kind in ("computes", "volumes", "networks", "attachments"):
            with self.subTest(kind=kind):
                ids = {x["id"] for x in self.walk(f"/v1/{kind}", kind)}
                self.assertEqual(len(ids), EACH)
                self.assertEqual(
                    {e.get_attribute("data-instance-id") for e in
                     self.css(f"#instances-{kind} tr[data-instance-id]")}, ids)
        members = {m["id"] for m in self.walk("/v1/members", "members")}
        self.assertEqual(
            {e.get_attribute("data-member-id")
             for e in self.css("#members-table tr[data-member-id]")}, members)
        self.assertEqual(self.csp_violations(), [])


if __name__ == "__main__":
    unittest.main()
