"""Run real `fogbow` processes from integration tests (standard library only).

    from fogbow_harness import start_manager, fogbow

    class T(unittest.TestCase):
        def test_x(self):
            manager = start_manager(self, CONFIG)   # stopped by addCleanup
            status, body = manager.request("GET", "/v1/orders",
                                           token="alice-secret")
            result = fogbow("order", "list", "--url", manager.url)

The binary is taken from the environment variable FOGBOW_BINARY (ctest sets
it). Each Manager owns a temporary workspace holding its config file, one
log file per start and, unless another is given, its data directory; the
data directory survives stop()/start(), so restart tests can reuse it.
cleanup() stops the process, kills whatever is left in the process groups it
started (local instances) and removes the workspace.
"""

import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

LISTENING = re.compile(r"listening on (https?://[^\s:/]+:(\d+))")
# What AddressSanitizer, LeakSanitizer and UBSan print (a build with
# -DFOGBOW_SANITIZE=ON): such a report fails the test even when the process
# printed it on its way out, where no request notices it.
SANITIZER_REPORT = re.compile(r"runtime error: |ERROR: (Address|Leak)Sanitizer")


def reach_debian_package(module):
    """Lets `import module` find Debian's python3-<module> when this
    interpreter is not Debian's (pyenv, venv), which skips the system's
    dist-packages. No effect when the module is already importable."""
    try:
        __import__(module)
    except ImportError:
        debian = "/usr/lib/python3/dist-packages"
        if os.path.isdir(os.path.join(debian, module)):
            sys.path.append(debian)


def binary():
    """Path of the fogbow executable under test."""
    path = os.environ.get("FOGBOW_BINARY")
    if not path:
        raise RuntimeError("set FOGBOW_BINARY to the fogbow executable")
    return path


def closed_port():
    """A loopback port that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(predicate, timeout=30.0, interval=0.1, message="condition"):
    """Calls predicate until it returns a truthy value, which is returned.

    Raises AssertionError naming `message` once `timeout` seconds passed.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def kill_processes_under(directory):
    """Kills the process groups of every process whose working directory is
    inside `directory`: local-driver instances run in sessions of their own
    (they outlive the manager, like VMs), so only their cwd tells they
    belong to a test."""
    root = os.path.realpath(directory) + os.sep
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd") + os.sep
            if cwd.startswith(root):
                os.killpg(os.getpgid(int(pid)), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            pass


def fogbow(*args, env=None, timeout=60):
    """Runs `fogbow ARGS...` and returns the CompletedProcess (text output).

    FOGBOW_URL and FOGBOW_TOKEN from the caller's environment are dropped so
    that a developer's shell cannot change what a test sends; pass them in
    `env` to test them.
    """
    full_env = {k: v for k, v in os.environ.items()
                if k not in ("FOGBOW_URL", "FOGBOW_TOKEN")}
    full_env.update(env or {})
    return subprocess.run([binary(), *map(str, args)], capture_output=True,
                          text=True, env=full_env, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def spawn_fogbow(workspace, roles, config_text, data_dir, log_path,
                 extra_args=(), env=None, open_files=None):
    """Writes `config_text` to WORKSPACE/config.toml and starts
    `fogbow --role=ROLES --config … --data-dir DATA_DIR EXTRA_ARGS…` in
    `workspace`, in a process group of its own (so that its leftovers can be
    killed together), its output going to `log_path`, with `env` added to
    this process's environment; with `open_files`, under that open-file
    limit (soft and hard, so the process cannot raise it). Returns the
    Popen."""
    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    config_path = os.path.join(workspace, "config.toml")
    with open(config_path, "w") as f:
        f.write(config_text)
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [binary(), f"--role={roles}", "--config", config_path,
             "--data-dir", data_dir, *map(str, extra_args)],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            cwd=workspace, start_new_session=True,
            preexec_fn=limit if open_files else None,
            env={**os.environ, **(env or {})})


def wait_for_log(process, read_log, ready, timeout):
    """Calls ready(read_log()) every 50 ms until it gives a truthy value,
    which is returned. Returns None when `process` exits first; raises
    TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = ready(read_log())
        if value:
            return value
        if process.poll() is not None:
            return None
        if time.monotonic() >= deadline:
            raise TimeoutError
        time.sleep(0.05)


class Cleanups:
    """Collects cleanups like a TestCase does, for scripts (benchmarks)
    that use the harness outside unittest: run() calls them in reverse."""

    def __init__(self):
        self.items = []

    def addCleanup(self, fn, *args):
        self.items.append((fn, args))

    def run(self):
        for fn, args in reversed(self.items):
            try:
                fn(*args)
            except Exception as e:  # noqa: BLE001 - report, go on cleaning
                print(f"cleanup: {e}", file=sys.stderr)

class Manager:
    """One `fogbow --role=all` process listening on a free loopback port."""

    def __init__(self, roles="all", env=None):
        self.roles = roles
        self.env = env or {}  # added to the process's environment
        self.workspace = tempfile.mkdtemp(prefix="fogbow-test-")
        self.process = None
        self.url = None
        self.port = None
        self.log_path = None
        self.data_dir = None
        self._starts = 0
        self._process_groups = []

    def start(self, config_text, data_dir=None, extra_args=(), timeout=30.0,
              http_port=0):
        """Starts the process and waits for its `listening on` log line.

        The REST API listens on `http_port` (0: a free port, found in the
        log). Returns self. Raises RuntimeError with the log's tail when the
        process exits or does not listen within `timeout` seconds.
        """
        if self.process is not None:
            raise RuntimeError("manager already running")
        # A group of its own, so cleanup() can reach the instances the
        # local driver spawns without touching anything else.
        self._spawn(config_text, data_dir,
                    ("--http-port", str(http_port), *extra_args))
        try:
            match = wait_for_log(self.process, self.log, LISTENING.search,
                                 timeout)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"fogbow did not listen within {timeout} s:\n"
                               + self.log_tail()) from None
        if not match:
            code = self.process.returncode
            self.process = None
            raise RuntimeError(f"fogbow exited with {code} before listening:\n"
                               + self.log_tail())
        self.url, self.port = match.group(1), int(match.group(2))
        return self

    def _spawn(self, config_text, data_dir, args):
        """Starts the process (data dir: `data_dir` or WORKSPACE/data, log:
        WORKSPACE/server-N.log) without waiting for it."""
        self.data_dir = data_dir or os.path.join(self.workspace, "data")
        os.makedirs(self.data_dir, exist_ok=True)
        self._starts += 1
        self.log_path = os.path.join(self.workspace, f"server-{self._starts}.log")
        self.process = spawn_fogbow(self.workspace, self.roles, config_text,
                                    self.data_dir, self.log_path, args,
                                    self.env)
        self._process_groups.append(self.process.pid)

    def log(self):
        """Everything the current (or last) process printed."""
        if not self.log_path:
            return ""
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def log_tail(self, lines=40):
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after `timeout` seconds; returns the exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if SANITIZER_REPORT.search(self.log()):
            raise AssertionError("fogbow printed a sanitizer report:\n"
                                 + self.log_tail(80))
        return process.returncode

    def kill9(self):
        """Kills the process at once, as a crash would; returns the exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        process.kill()
        return process.wait()

    def cleanup(self):
        """Stops the process, kills its leftovers, removes the workspace."""
        try:
            self.stop()
        finally:
            self._remove_leftovers()

    def _remove_leftovers(self):
        for group in self._process_groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._process_groups.clear()
        kill_processes_under(self.workspace)
        shutil.rmtree(self.workspace, ignore_errors=True)

    def request(self, method, path, body=None, token=None, timeout=10.0):
        """One REST call; returns (status, parsed JSON or None if no body)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("X-Auth-Token", token)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as res:
                status, raw = res.status, res.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        return status, (json.loads(raw) if raw else None)


def start_manager(test, config_text, **kwargs):
    """Starts a Manager that is cleaned up when `test` ends.

    `test` is a TestCase (addCleanup) or a TestCase class inside
    setUpClass (addClassCleanup); kwargs go to Manager.start.
    """
    manager = Manager(roles=kwargs.pop("roles", "all"))
    if isinstance(test, type):
        test.addClassCleanup(manager.cleanup)
    else:
        test.addCleanup(manager.cleanup)
    return manager.start(config_text, **kwargs)
