"""`fogbow config check FILE` and `fogbow config defaults`, run as real
processes: every shipped example passes, a broken file is refused with one
line per error naming its key, and the printed defaults pass the check."""

import glob
import os
import tempfile
import unittest

from fogbow_harness import fogbow

SOURCE_DIR = os.environ.get(
    "FOGBOW_SOURCE_DIR",
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


class ConfigCommand(unittest.TestCase):
    def setUp(self):
        self.workspace = tempfile.TemporaryDirectory(prefix="fogbow-config-")
        self.addCleanup(self.workspace.cleanup)

    def write(self, name, text):
        path = os.path.join(self.workspace.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def test_every_shipped_example_passes(self):
        files = sorted(glob.glob(os.path.join(SOURCE_DIR, "config", "*.toml")))
        self.assertGreaterEqual(len(files), 7)
        for path in files:
            with self.subTest(path=path):
                done = fogbow("config", "check", path)
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(done.stdout, "ok\n")

    def test_a_broken_file_is_refused_with_every_error(self):
        path = self.write("bad.toml", "[http]\nport = 70000\n"
                                      "[manager]\nmember_idd = \"x\"\n")
        done = fogbow("config", "check", path)
        self.assertEqual(done.returncode, 1)
        self.assertEqual(done.stdout, "")
        lines = done.stderr.splitlines()
        self.assertEqual(len(lines), 2, done.stderr)
        self.assertIn("unknown key 'manager.member_idd'", lines[0])
        self.assertIn("'http.port' must be between 0 and 65535", lines[1])
        self.assertTrue(all(line.startswith("error: " + path) for line in lines))

    def test_a_syntax_error_names_the_line(self):
        done = fogbow("config", "check", self.write("bad.toml", "\n[manager\n"))
        self.assertEqual(done.returncode, 1)
        self.assertIn("line 2", done.stderr)

    def test_usage_errors_and_missing_files_exit_2(self):
        missing = os.path.join(self.workspace.name, "missing.toml")
        done = fogbow("config", "check", missing)
        self.assertEqual(done.returncode, 2)
        self.assertIn("cannot read the configuration file", done.stderr)
        self.assertEqual(fogbow("config").returncode, 2)
        self.assertEqual(fogbow("config", "check").returncode, 2)
        self.assertEqual(fogbow("config", "frobnicate").returncode, 2)

    def test_the_printed_defaults_pass_the_check(self):
        done = fogbow("config", "defaults")
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn('sandbox = "bwrap"', done.stdout)
        self.assertIn("# [tunnel]", done.stdout)
        checked = fogbow("config", "check",
                         self.write("defaults.toml", done.stdout))
        self.assertEqual(checked.returncode, 0, checked.stderr)
        self.assertEqual(checked.stdout, "ok\n")

    def test_a_role_refuses_to_start_with_the_same_message(self):
        path = self.write("bad.toml", "[http]\nport = 70000\n")
        done = fogbow("--role=manager", "--config", path, "--data-dir",
                      self.workspace.name)
        self.assertEqual(done.returncode, 2)
        self.assertIn("'http.port' must be between 0 and 65535", done.stderr)

    def test_help_names_the_config_command(self):
        done = fogbow("--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("fogbow config check FILE", done.stdout)
        done = fogbow("config", "--help")
        self.assertEqual(done.returncode, 0)
        self.assertIn("defaults", done.stdout)


if __name__ == "__main__":
    unittest.main()
