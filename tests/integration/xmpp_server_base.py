"""What the tests' throw-away XMPP servers (xmpp_harness.Prosody,
ejabberd_harness.Ejabberd) have in common (standard library only): a
temporary folder, a c2s port on one loopback address, one foreground
process started in its own session and stopped by PID, its output in
`stdout.log`, and accounts created as files, without the server's admin
tool.

A subclass says how: NAME (for messages), LOG_FILE (the server's own log
in the folder), START_TIMEOUT_S, STOP_TIMEOUT_S, `_command()`, `_env()`, `_cwd()` and
`_store_password(user, password)`."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile

from fogbow_harness import closed_port, wait_until

DOMAIN = "localhost"


def port_open(port, address="127.0.0.1"):
    """Whether something accepts connections on address:port."""
    try:
        with socket.create_connection((address, port), timeout=0.2):
            return True
    except OSError:
        return False


class XmppServer:
    """One server of one domain on one loopback address; `s2s` is the
    server-to-server port, or None."""

    NAME = "xmpp server"
    LOG_FILE = "server.log"
    START_TIMEOUT_S = 20
    STOP_TIMEOUT_S = 10

    def __init__(self, domain=DOMAIN, address="127.0.0.1", c2s=None):
        self.dir = tempfile.mkdtemp(prefix=f"fogbow-{self.NAME}-")
        self.domain = domain
        self.address = address
        self.c2s = c2s or closed_port()
        self.s2s = None
        self.process = None

    # -- what a subclass provides --------------------------------------------

    def _command(self):
        raise NotImplementedError

    def _env(self):
        """The process's environment; None: this one's."""
        return None

    def _cwd(self):
        return None

    def _store_password(self, user, password):
        raise NotImplementedError

    # -- shared --------------------------------------------------------------

    def add_account(self, user, password):
        """Creates user@domain (works while the server runs, too)."""
        self._store_password(user, password)
        return f"{user}@{self.domain}"

    def listening(self):
        return port_open(self.c2s, self.address) and (
            self.s2s is None or port_open(self.s2s, self.address))

    def start(self, timeout=None):
        """Starts the server and waits until it listens; returns self."""
        timeout = timeout or self.START_TIMEOUT_S
        log = open(os.path.join(self.dir, "stdout.log"), "a")
        self.process = subprocess.Popen(
            self._command(), stdin=subprocess.DEVNULL, stdout=log,
            stderr=subprocess.STDOUT, cwd=self._cwd(), env=self._env(),
            start_new_session=True)
        log.close()
        wait_until(lambda: self.listening() or self.process.poll() is not None,
                   timeout=timeout, message=f"{self.NAME} to listen")
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.NAME} exited:\n" + self.log())
        return self

    def stop(self, sig=signal.SIGTERM):
        """Stops the server by PID (SIGKILL to simulate a crash)."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(self.STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        wait_until(lambda: not port_open(self.c2s, self.address), timeout=10,
                   message=f"{self.NAME}'s port to close")

    def log(self):
        out = []
        for name in ("stdout.log", self.LOG_FILE):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out.append(f.read())
            except OSError:
                pass
        return "\n".join(out)

    def cleanup(self):
        self.stop(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)
