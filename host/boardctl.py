"""Drive a board's REPL with mpremote, as a person at the serial console would.

Host-only. ``Console(pty)`` is the serial console opened by hand (type a line,
wait for what it prints). ``BoardCtl(pty)`` runs ``mpremote connect <pty> ...`` commands
against a real board or the virtual board: copy files, exec REPL commands and
wait, after a power cycle, until main.py has left the REPL ready (``app`` set).
The demo and the firmware tests use it.

Example::

    ctl = BoardCtl(vb.pty, echo=print)
    ctl.cp(["device/boot.py", "device/main.py"])
    ctl.exec("queue('ann@example.com', 'Alarm', 'Pressure low')")
"""

import contextlib
import os
import shutil
import subprocess
import tempfile
import time

from host.vboard import ACCESS_POINT, mpremote_cmd


def marks(out):
    """{key: value} of the ``MARK key value`` lines a board-side script printed."""
    return dict(line.split(" ", 2)[1:] for line in out.splitlines() if line.startswith("MARK "))


class BoardError(Exception):
    pass


def mpremote(pty, *args, timeout=120):
    """One ``mpremote connect <pty> ...`` command: (stdout, stderr); BoardError if it failed."""
    cmd = [mpremote_cmd(), "connect", pty] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, timeout=timeout)
    out, err = r.stdout.decode("utf-8", "replace"), r.stderr.decode("utf-8", "replace")
    if r.returncode != 0:
        raise BoardError("mpremote %s failed:\n%s" % (" ".join(str(a) for a in args[:2]), out + err))
    return out, err


class Console:
    """A board's serial console opened by hand (as picocom would): type, then wait for output."""

    def __init__(self, pty):
        import serial

        self.s = serial.Serial(pty, 115200, timeout=0.05)
        self.buf = b""

    def write(self, data):
        self.s.write(data)

    def expect(self, marker, timeout=10):
        """Read until marker; return what came up to and including it (BoardError on timeout)."""
        end = time.monotonic() + timeout
        while marker not in self.buf:
            if time.monotonic() > end:
                raise BoardError("no %r in %r" % (marker, self.buf[-400:]))
            self.buf += self.s.read(256)
        i = self.buf.index(marker) + len(marker)
        seen, self.buf = self.buf[:i], self.buf[i:]
        return seen

    def friendly(self):
        """Get to the friendly prompt with nothing pending (as after pressing Enter)."""
        self.write(b"\r\x03\x02")
        self.write(b"print('SYNC' + 'ED')\r")
        self.expect(b"SYNCED")
        self.expect(b">>> ")

    def cmd(self, line, timeout=10):
        """Type a line at the friendly prompt; return what it printed."""
        self.write(line + b"\r")
        self.expect(line + b"\r\n", timeout)
        return self.expect(b">>> ", timeout)[:-4]

    def close(self):
        self.s.close()


# what main.py prints in "background": "cycle" after a power-on (smtpmtm_board/cycle.py held())
GRACE = b"stays at the REPL"


class BoardCtl:
    def __init__(self, pty, echo=None):
        self.pty = pty
        self.echo = echo

    def mp(self, *args, timeout=120):
        """One mpremote command; returns its output (stdout + stderr), raises BoardError if it failed."""
        return "".join(mpremote(self.pty, *args, timeout=timeout))

    def cp(self, paths, dest=":"):
        if self.echo:
            self.echo("$ mpremote connect %s fs cp %s %s" % (self.pty, " ".join(paths), dest))
        return self.mp("fs", "cp", *(list(paths) + [dest]))

    def exec(self, code, timeout=120, show=True):
        """Run REPL code without resetting the board (mpremote resume exec)."""
        if self.echo and show:
            self.echo(">>> " + code.replace("\n", "\n... "))
        out = self.mp("resume", "exec", code, timeout=timeout)
        if self.echo and show and out.strip():
            self.echo(out.rstrip())
        return out

    def wait_booted(self, vb, boots_before, timeout=90):
        """After a power cycle of VirtualBoard vb: wait for the boot, then for main.py's app."""
        deadline = time.time() + timeout
        while vb.boots == boots_before and time.time() < deadline:
            time.sleep(0.05)
        idle = getattr(vb.relay, "_child_idle", None)
        said = getattr(vb.relay, "said", lambda text: False)
        quiet = 0
        while quiet < 5 and time.time() < deadline:  # let main.py reach the REPL prompt
            if said(GRACE):  # a battery board's grace window: the probe's Ctrl-C keeps it awake
                break
            time.sleep(0.1)
            quiet = quiet + 1 if (idle is None or idle()) else 0
        probe = "try:\n print('BOOTED', app is not None)\nexcept NameError:\n print('NOT YET')"
        out = ""
        while "BOOTED True" not in out and time.time() < deadline:
            out = self.exec(probe, show=False)
            time.sleep(0.2)
        if "BOOTED True" not in out:
            raise BoardError("the board did not finish booting:\n" + out)
        return out

    def wait_for(self, code, predicate, timeout=120, every=0.5):
        """Run code until predicate(output) holds; returns the last output."""
        deadline = time.time() + timeout
        out = self.exec(code, show=False)
        while not predicate(out) and time.time() < deadline:
            time.sleep(every)
            out = self.exec(code, show=False)
        return out


def wait_for(fn, timeout=60, every=0.2):
    """Call fn until it returns something true (returned) or timeout seconds pass (then
    fn's last value): for host-side conditions such as a board's boots or a server's mail."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = fn()
        if v:
            return v
        time.sleep(every)
    return fn()


def install_firmware(ctl, vb, work, ca_path, config=None):
    """Copy boot.py, main.py, /config.json, /wifi.json and the CA to the board; power-cycle it.

    ``work`` is a host folder for the generated files; returns after main.py is up.
    """
    import json

    from host.mpy import ROOT

    cfg = {"ntp": None, "wifi_retry_s": 1}
    cfg.update(config or {})
    files = {"config.json": json.dumps(cfg),
             "wifi.json": json.dumps(ACCESS_POINT)}
    for name, text in files.items():
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    shutil.copy(ca_path, os.path.join(work, "ca.pem"))
    ctl.cp([os.path.join(work, n) for n in ("config.json", "wifi.json", "ca.pem")]
           + [os.path.join(ROOT, "device", "boot.py"), os.path.join(ROOT, "device", "main.py")])
    reboot(ctl, vb)


@contextlib.contextmanager
def board_with_server(prefix, user, password, config=None):
    """(server, board, ctl): a local STARTTLS server wanting AUTH as user:password and a fresh
    virtual board flashed with the firmware (``config`` as in install_firmware), its account set
    to that server; both stopped and their folder removed afterwards."""
    from host.server import SmtpServer
    from host.testca import make_certs
    from host.vboard import VirtualBoard

    work = tempfile.mkdtemp(prefix=prefix)
    srv = SmtpServer(mode="starttls", certs=make_certs(os.path.join(work, "certs")),
                     users={user: password}, require_auth=True).start()
    vb = None
    try:
        vb = VirtualBoard("sim", state_dir=os.path.join(work, "board"), heap=512 * 1024,
                          frozen=True, fresh=True, link=False).start()
        ctl = BoardCtl(vb.pty)
        install_firmware(ctl, vb, work, srv.certs.ca, config)
        set_account(ctl, srv.port, user, password)
        yield srv, vb, ctl
    finally:
        if vb is not None:
            vb.stop()
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


def reboot(ctl, vb):
    """Power-cycle VirtualBoard vb and wait until main.py has left the REPL ready."""
    n = vb.boots
    vb.power_cycle()
    return ctl.wait_booted(vb, n)


def set_account(ctl, port, user, password, send=None):
    """The REPL's account(...) for the local server on 127.0.0.1 (STARTTLS, the copied CA)."""
    return ctl.exec("account(server='localhost', port=%d, tls='starttls', user=%r, password=%r, "
                    "email='pump@example.com', name='Pump House', cafile='/ca.pem'%s)"
                    % (port, user, password, (", send=%r" % send) if send else ""))


def outbox_and_sent(ctl):
    """(messages in the Outbox, messages in Sent), read under the app lock."""
    out = ctl.exec("with app.lock:\n print('MARK', len(app.store.children(0x1003)), "
                   "len(app.store.children(0x1005)))", show=False)
    parts = out.split("MARK", 1)[1].split()
    return int(parts[0]), int(parts[1])
