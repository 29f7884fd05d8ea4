"""The Debian package: `cpack` in the build directory builds a .deb that
lintian accepts (no errors), that holds the binary, the man page, the
configuration files as conffiles and the three systemd units, whose units
`systemd-analyze verify` accepts, whose shipped configurations pass
`fogbow config check`, and that installs and purges cleanly (in a
throw-away overlay of this machine's root, when the test runs as root).

Needs FOGBOW_BUILD_DIR (ctest sets it): the build directory, already
built (the man page is built with the binary)."""

import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile
import unittest

UNITS = ["fogbow-manager.service", "fogbow-rendezvous.service",
         "fogbow-tunnel.service"]
CONFFILES = ["/etc/fogbow/manager.toml", "/etc/fogbow/rendezvous.toml",
             "/etc/fogbow/tunnel.toml", "/etc/fogbow/members.txt"]
SOURCE = os.environ.get("FOGBOW_SOURCE_DIR",
                        os.path.join(os.path.dirname(__file__), "..", ".."))


def run(*args, check=True, timeout=300, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True,
                            timeout=timeout, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {result.returncode}:\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


class DebianPackage(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build = os.environ.get("FOGBOW_BUILD_DIR")
        if not build:
            raise unittest.SkipTest("FOGBOW_BUILD_DIR not set (run by ctest)")
        for tool in ("cpack", "dpkg-deb", "lintian"):
            if not shutil.which(tool):
                raise AssertionError(f"{tool} is not installed "
                                     "(scripts/install-deps.sh)")
        cls.work = tempfile.mkdtemp(prefix="fogbow-package-")
        # -B: the package and CPack's staging tree go to the temporary
        # directory, not into the build directory.
        run("cpack", "-G", "DEB", "--config",
            os.path.join(build, "CPackConfig.cmake"), "-B", cls.work)
        debs = glob.glob(os.path.join(cls.work, "*.deb"))
        assert len(debs) == 1, debs
        cls.deb = debs[0]
        cls.root = os.path.join(cls.work, "root")
        run("dpkg-deb", "-x", cls.deb, cls.root)
        cls.control = os.path.join(cls.work, "control")
        run("dpkg-deb", "-e", cls.deb, cls.control)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)

    def test_file_name_and_fields(self):
        self.assertRegex(os.path.basename(self.deb),
                         r"^fogbow_\d+\.\d+\.\d+-1_[a-z0-9]+\.deb$")
        info = run("dpkg-deb", "-I", self.deb).stdout
        self.assertRegex(info, r"(?m)^ Package: fogbow$")
        depends = re.search(r"(?m)^ Depends: (.*)$", info).group(1)
        # Computed from the binary's libraries (dpkg-shlibdeps) ...
        for lib in ("libc6", "libssh-4", "libqxmpp", "libsqlite3-0"):
            self.assertIn(lib, depends)
        # ... and what the local driver and the tunnel agent run.
        for tool in ("bubblewrap", "openssh-client", "adduser"):
            self.assertIn(tool, depends)

    def test_contents(self):
        listing = run("dpkg-deb", "-c", self.deb).stdout
        paths = {line.split()[-1].lstrip(".") for line in listing.splitlines()}
        expected = ["/usr/bin/fogbow", "/usr/share/man/man1/fogbow.1.gz",
                    "/usr/share/doc/fogbow/copyright",
                    "/usr/share/doc/fogbow/changelog.Debian.gz",
                    "/usr/share/doc/fogbow/README.md",
                    "/usr/share/doc/fogbow/deployment.md",
                    "/usr/share/doc/fogbow/examples/all-in-one.toml",
                    *CONFFILES, *(f"/lib/systemd/system/{u}" for u in UNITS)]
        for path in expected:
            self.assertIn(path, paths)
        dashboard = os.path.join(SOURCE, "dashboard")
        self.assertEqual(os.path.isdir(dashboard),
                         any(p.startswith("/usr/share/fogbow/dashboard/")
                             for p in paths))
        # Configurations hold secrets: not readable by everyone.
        for line in listing.splitlines():
            if line.split()[-1].lstrip(".") in CONFFILES:
                self.assertTrue(line.startswith("-rw-r-----"), line)

    def test_conffiles_and_maintainer_scripts(self):
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(sorted(f.read().split()), sorted(CONFFILES))
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, script)
            self.assertTrue(os.access(path, os.X_OK), script)
            run("sh", "-n", path)
        with open(os.path.join(self.control, "postinst")) as f:
            postinst = f.read()
        self.assertIn("adduser --system", postinst)
        self.assertIn("dpkg-statoverride", postinst)

    def test_install_and_purge_in_a_throwaway_overlay(self):
        """dpkg -i, then -P, in a chroot whose root is an overlay of this
        machine's / (in a mount namespace of its own, writes go to a
        temporary directory): the maintainer scripts create the fogbow
        user and give it the configuration files, purge forgets them."""
        if os.geteuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root (a mount namespace and chroot)")
        overlay = os.path.join(self.work, "overlay")
        for d in ("up", "work", "root"):
            os.makedirs(os.path.join(overlay, d))
        script = f"""
set -e
mount -t overlay overlay \
  -o lowerdir=/,upperdir={overlay}/up,workdir={overlay}/work {overlay}/root
mount --rbind /proc {overlay}/root/proc
mount --rbind /dev {overlay}/root/dev
chroot {overlay}/root sh -ec '
  rm -f /var/lib/man-db/auto-update  # no man-db index rebuild: slow
  dpkg -i {self.deb} >/dev/null
  echo "user: $(getent passwd fogbow | cut -d: -f1,7)"
  stat -c "config: %U:%G %a %n" /etc/fogbow/manager.toml /etc/fogbow/tunnel.toml
  echo "version: $(fogbow --version)"
  dpkg -P fogbow >/dev/null
  echo "overrides after purge: $(dpkg-statoverride --list | grep -c /etc/fogbow/ || true)"
  echo "etc after purge: $(ls /etc/fogbow 2>/dev/null | wc -l)"
'
"""
        probe = run("unshare", "-m", "--propagation", "private", "sh", "-c",
                    f"mount -t overlay overlay -o lowerdir=/,upperdir="
                    f"{overlay}/up,workdir={overlay}/work {overlay}/root",
                    check=False)
        if probe.returncode != 0:
            self.skipTest("cannot mount an overlay of / here: "
                          + probe.stderr.strip())
        out = run("unshare", "-m", "--propagation", "private", "sh", "-c",
                  script).stdout
        self.assertIn("user: fogbow:/usr/sbin/nologin\n", out)
        self.assertIn("config: root:fogbow 640 /etc/fogbow/manager.toml\n",
                      out)
        self.assertIn("config: root:fogbow 640 /etc/fogbow/tunnel.toml\n",
                      out)
        self.assertRegex(out, r"version: fogbow \d+\.\d+\.\d+\n")
        self.assertIn("overrides after purge: 0\n", out)
        self.assertIn("etc after purge: 0\n", out)

    def test_lintian_finds_no_errors(self):
        result = run("lintian", "--no-tag-display-limit", "--info",
                     self.deb, check=False)
        errors = [line for line in result.stdout.splitlines()
                  if line.startswith("E: ")]
        self.assertEqual(errors, [], result.stdout + result.stderr)
        # lintian exits 1 on errors, 2 when it could not check at all.
        self.assertNotIn(result.returncode, (2,), result.stderr)

    def test_copyright_names_the_license(self):
        with open(os.path.join(self.root,
                               "usr/share/doc/fogbow/copyright")) as f:
            copyright = f.read()
        self.assertTrue(copyright.startswith("Format: https://www.debian.org/"
                                             "doc/packaging-manuals/"
                                             "copyright-format/1.0/"))
        self.assertRegex(copyright, r"(?m)^Files: \*\n(.+\n)*License: Apache-2.0$")
        self.assertIn("/usr/share/common-licenses/Apache-2.0", copyright)
        with open(os.path.join(SOURCE, "LICENSE")) as f:
            self.assertIn("Apache License\n                           "
                          "Version 2.0, January 2004", f.read())

    def test_man_page_holds_every_help_text(self):
        with gzip.open(os.path.join(self.root,
                                    "usr/share/man/man1/fogbow.1.gz"),
                       "rt") as f:
            page = f.read()
        self.assertIn(".TH FOGBOW", page.upper())
        for text in (r"\-\-role", r"\-\-log\-format", "fogbow order create",
                     "fogbow config check", "/etc/fogbow/manager.toml"):
            self.assertIn(text, page)
        if shutil.which("man"):
            # groff's warnings about the page (what lintian's check reads).
            result = run("man", "--warnings", "-E", "UTF-8", "-l",
                         os.path.join(self.root,
                                      "usr/share/man/man1/fogbow.1.gz"),
                         check=False, env={**os.environ, "MANWIDTH": "80",
                                           "MAN_KEEP_FORMATTING": "0"})
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr.strip(), "")

    def test_shipped_configurations_pass_the_check(self):
        binary = os.path.join(self.root, "usr/bin/fogbow")
        self.assertIn("fogbow", run(binary, "--version").stdout)
        for name in ("manager.toml", "rendezvous.toml", "tunnel.toml"):
            result = run(binary, "config", "check",
                         os.path.join(self.root, "etc/fogbow", name))
            self.assertEqual(result.stdout.strip(), "ok")

    def test_units_run_each_role_as_fogbow(self):
        for unit in UNITS:
            role = unit[len("fogbow-"):-len(".service")]
            with open(os.path.join(self.root, "lib/systemd/system", unit)) as f:
                text = f.read()
            self.assertIn(f"ExecStart=/usr/bin/fogbow --role={role} --config "
                          f"/etc/fogbow/{role}.toml --data-dir "
                          f"/var/lib/fogbow/{role}\n", text)
            for line in ("User=fogbow", f"StateDirectory=fogbow/{role}",
                         "ProtectSystem=strict", "NoNewPrivileges=yes",
                         "PrivateTmp=yes", "CapabilityBoundingSet=\n"):
                self.assertIn(line, text, unit)
            if role == "manager":
                # Its instances share its uid: the other roles' secrets on
                # the same host are out of their (and its) sight.
                for line in ("TemporaryFileSystem=/var/lib/fogbow:ro\n",
                             "BindPaths=/var/lib/fogbow/manager\n",
                             "InaccessiblePaths=-/etc/fogbow/tunnel.toml "
                             "-/etc/fogbow/rendezvous.toml\n"):
                    self.assertIn(line, text)

    def test_systemd_analyze_verifies_the_units(self):
        if not shutil.which("systemd-analyze"):
            self.skipTest("systemd-analyze is not installed")
        # verify checks that ExecStart's binary exists: copies of the units
        # name the unpacked one instead of /usr/bin/fogbow.
        copies = os.path.join(self.work, "units")
        os.makedirs(copies, exist_ok=True)
        units = []
        for unit in UNITS:
            with open(os.path.join(self.root, "lib/systemd/system", unit)) as f:
                text = f.read()
            units.append(os.path.join(copies, unit))
            with open(units[-1], "w") as f:
                f.write(text.replace(
                    "ExecStart=/usr/bin/fogbow",
                    "ExecStart=" + os.path.join(self.root, "usr/bin/fogbow")))
        probe = run("systemd-analyze", "--version", check=False)
        if probe.returncode != 0:
            self.skipTest("systemd-analyze cannot run here: " + probe.stderr)
        result = run("systemd-analyze", "verify", "--man=no", *units,
                     check=False)
        self.assertEqual(result.returncode, 0,
                         result.stdout + result.stderr)
        self.assertEqual(result.stderr.strip(), "", result.stderr)
        # systemd's own score of the hardening (0 best, 10 worst): the
        # manager keeps what the local driver's sandbox needs.
        for unit in units:
            limit = 35 if "manager" in unit else 20
            result = run("systemd-analyze", "security", "--offline=true",
                         f"--threshold={limit}", unit, check=False)
            self.assertEqual(result.returncode, 0,
                             result.stdout[-3000:] + result.stderr)


if __name__ == "__main__":
    unittest.main()
