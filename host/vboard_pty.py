"""The virtual board's serial line: a pty relayed to the MicroPython unix port, with board-like resets.

Host-only (CPython: pty, subprocess, signals). ``Relay`` owns a pseudo-terminal
pair; the slave path is what ``mpremote connect <pty>`` opens. Behind it runs
the unix port (``micropython -X heapsize=... -i host/vboard_boot.py ...``) with
its stdin/stdout on pipes. Measured on this port (v1.29-preview): it speaks the
raw REPL itself (Ctrl-A, "raw REPL; CTRL-B to exit\\r\\n>", "OK", output,
\\x04, errors, \\x04, and raw-paste "\\x05A\\x01" -> "R\\x01"), so the relay only
has to add what a board does and a process does not:

- Soft reset. Ctrl-D at an empty raw-REPL prompt (what mpremote sends), Ctrl-D
  at the friendly prompt, sys.exit() or a crash end the unix port; the relay
  prints ``MPY: soft reboot\\r\\n`` and starts it again on the same flash image.
  After a reset in the raw REPL the new process is put straight back into the
  raw REPL (its banner is dropped, /main.py is not run), as a board's pyexec
  does; after a friendly reset /boot.py and /main.py run and the banner shows.
  ``machine.reset()`` in the simulated ``machine`` exits with HARD_RESET_RC:
  a hard reset (friendly mode, no "soft reboot" line). ``machine.deepsleep(ms)``
  writes ms into <state>/sleep_ms and ends the process: the relay waits ms
  (nothing runs, the line is silent)
  and starts the board again, kind "deepsleep" (main.py runs; the flash kept).
- Ctrl-C. A board's UART interrupt turns Ctrl-C into KeyboardInterrupt even
  while code runs; the unix port only gets SIGINT for that, and SIGINT while it
  waits at a prompt kills it. So the byte is forwarded, and if the process is
  not back to waiting on stdin (``/proc/<pid>/syscall`` is a read on fd 0 with
  the pipe drained) within ``interrupt_grace`` seconds, it is busy running
  code and gets SIGINT. Not before the boot shim has written ``ready_path``:
  until then the process is still the CPython wrapper starting up or the shim
  mounting the flash, and the Ctrl-C waits.
- Line ends. A board's UART sends "\\r\\n" for every "\\n" the program prints
  (MicroPython's cooked stdout); the unix port sends a bare "\\n", which a
  terminal in raw mode (``mpremote repl``) shows as a staircase. The relay adds
  the "\\r", except while ``mpremote mount`` is in use (its protocol sends binary
  data over the same line, as ``sys.stdout.buffer`` on a board sends it raw).

Example::

    r = Relay(argv_factory, env); r.start(); print(r.pty_path); ...; r.stop()
"""

import array
import fcntl
import os
import select
import signal
import subprocess
import termios
import threading
import time
import tty

HARD_RESET_RC = 126
BANNER_END = b'Type "help()" for more information.\r\n>>> '
RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"MPY: soft reboot\r\n"
MOUNT_CODE = b"class RemoteFS"  # in the code ``mpremote mount`` runs on the board


class Relay:
    """A pty whose far end is a (restarted on reset) MicroPython unix port process.

    ``argv_factory(mode)`` returns the command line for one boot ("friendly"
    or "raw"); ``on_boot(count, kind)`` is called at every (re)start.
    """

    def __init__(self, argv_factory, env=None, cwd=None, interrupt_grace=0.2, on_boot=None,
                 ready_path=None):
        self.argv_factory = argv_factory
        self.env = env
        self.cwd = cwd
        self.interrupt_grace = interrupt_grace
        self.on_boot = on_boot
        self.ready_path = ready_path
        self._ready = False
        self.mode = "friendly"  # the REPL mode the board is in: friendly / raw
        self.boots = 0
        self.sleeps = 0  # deep sleeps so far (machine.deepsleep)
        self.awake_ms = []  # per deep sleep: ms from that boot's process start to the sleep
        self._spawned_at = 0.0
        self.proc = None
        self._stop = False
        self._thread = None
        self._to_child = bytearray()
        self._filter = None  # bytes held back while the raw-mode banner is dropped
        self._tail = b""
        self._int_at = None
        self._kill_next = None  # "power": restart as a power cycle
        self._deaf = False  # nobody reads the pty: drop output instead of waiting
        self._cook = True  # "\n" -> "\r\n" (off while mpremote mount's binary protocol runs)
        self._last = 0  # the last byte sent to the pty (a "\r" then "\n" split across reads)
        self._typed = b""  # the tail of what the host sent (to see mount's code go by)
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)
        self.pty_path = os.ttyname(self._slave)
        fl = fcntl.fcntl(self.master, fcntl.F_GETFL)
        fcntl.fcntl(self.master, fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self._wake_r, self._wake_w = os.pipe()

    # -- the process -------------------------------------------------------------
    def _spawn(self, kind):
        mode = "raw" if kind == "soft" and self.mode == "raw" else "friendly"
        self._ready = False
        if self.ready_path:
            open(self.ready_path, "wb").close()
        if kind != "soft":
            self.mode = "friendly"
        self._spawned_at = time.monotonic()
        env = dict(self.env if self.env is not None else os.environ)
        env["VBOARD_WAKE"] = kind  # machine.reset_cause() tells a deep-sleep wake
        self.proc = subprocess.Popen(
            self.argv_factory(mode), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, env=env, cwd=self.cwd, bufsize=0,
        )
        fl = fcntl.fcntl(self.proc.stdin.fileno(), fcntl.F_GETFL)
        fcntl.fcntl(self.proc.stdin.fileno(), fcntl.F_SETFL, fl | os.O_NONBLOCK)
        self._to_child = bytearray()
        self._tail = b""
        self._int_at = None
        self._cook = True  # a new process: any mount is gone until mpremote sets it up again
        if mode == "raw":
            self._to_child += b"\x01"  # back into the raw REPL once the boot shim is done
            self._filter = b""
        else:
            self._filter = None
        self.boots += 1
        if self.on_boot:
            self.on_boot(self.boots, kind)

    def _child_ready(self):
        """Has the boot shim got as far as boot.py/main.py/the REPL (SIGINT is safe)?"""
        if not self._ready:
            try:
                self._ready = not self.ready_path or os.path.getsize(self.ready_path) > 0
            except OSError:
                self._ready = False
            if self._ready and self._int_at is not None:
                self._int_at = time.monotonic()  # the grace period starts now
        return self._ready

    def _child_idle(self):
        """True if the unix port is blocked reading stdin with nothing left unread."""
        try:
            with open("/proc/%d/syscall" % self.proc.pid) as f:
                fields = f.read().split()
        except OSError:
            return False
        if len(fields) < 2 or fields[0] != "0" or int(fields[1], 16) != 0:
            return False
        buf = array.array("i", [0])
        try:
            fcntl.ioctl(self.proc.stdin.fileno(), termios.FIONREAD, buf)
        except OSError:
            return False
        return buf[0] == 0 and not self._to_child

    # -- output towards the pty --------------------------------------------------
    def _crlf(self, data):
        """Bare LF -> CR LF, as a board's cooked stdout sends it."""
        if not data:
            return data
        last, self._last = self._last, data[-1]
        if not self._cook or b"\n" not in data:
            return data
        lead = b""
        if data[0] == 10 and last == 13:  # "\r" ended the previous piece
            lead, data = b"\n", data[1:]
        return lead + data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")

    def _emit(self, data):
        """Write to the pty; if nobody has read it for 2 s, drop output (a UART with no listener)."""
        view = memoryview(data)
        deadline = time.monotonic() + 2.0
        while view:
            try:
                n = os.write(self.master, view)
                view = view[n:]
                self._deaf = False
                deadline = time.monotonic() + 2.0
            except BlockingIOError:
                if self._deaf or time.monotonic() > deadline:
                    self._deaf = True  # until someone drains the pty, output goes nowhere at once
                    return
                select.select([], [self.master], [], 0.05)

    def _from_child(self, data):
        tail = self._tail + data
        raw_at, banner_at = tail.rfind(RAW_PROMPT), tail.rfind(BANNER_END)
        if raw_at > banner_at:
            self.mode = "raw"
        elif banner_at > raw_at and self._filter is None:
            self.mode = "friendly"
        self._tail = tail[-64:]
        if self._filter is not None:
            self._filter += data
            end = self._filter.find(BANNER_END)
            if end < 0:
                if len(self._filter) > 65536:  # boot.py talks a lot: let it through
                    data, self._filter = self._filter, None
                    self._emit(data)
                return
            start = self._filter.rfind(b"MicroPython ", 0, end)
            before = self._filter[:start] if start >= 0 else b""
            after = self._filter[end + len(BANNER_END):]
            self._filter = None
            if after.startswith(b"\r\n"):
                after = after[2:]
            data = before + after
        if data:
            self._emit(self._crlf(data))

    # -- the loop ----------------------------------------------------------------
    def start(self):
        if os.path.exists(self._sleep_path()):  # left by an earlier run: this is a power-on
            os.remove(self._sleep_path())
        self._spawn("power")
        self._thread = threading.Thread(target=self._run, name="vboard-relay", daemon=True)
        self._thread.start()
        return self

    def _wake(self):
        try:
            os.write(self._wake_w, b"x")
        except OSError:
            pass

    def said(self, text):
        """True if the board's latest output (its last 64 bytes) holds ``text``."""
        return text in self._tail

    def power_cycle(self):
        """Cut the power: kill the unix port; it comes back as after a hard reset."""
        self._kill_next = "power"
        p = self.proc
        if p and p.poll() is None:
            p.kill()
        self._wake()

    def _run(self):
        while not self._stop:
            p = self.proc
            out_fd = p.stdout.fileno()
            in_fd = p.stdin.fileno()
            wr = [in_fd] if self._to_child else []
            timeout = 0.01 if self._int_at is not None else 0.5
            try:
                r, w, _ = select.select([self.master, out_fd, self._wake_r], wr, [], timeout)
            except (OSError, ValueError):
                continue
            if self._wake_r in r:
                os.read(self._wake_r, 64)
            if self.master in r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:
                    data = b""
                if data:
                    self._to_child += data
                    seen = self._typed + data
                    if MOUNT_CODE in seen:
                        self._cook = False
                    self._typed = seen[-len(MOUNT_CODE):]
                    if b"\x03" in data:
                        self._int_at = time.monotonic()
                    w = [in_fd]
            if in_fd in w and self._to_child:
                try:
                    n = os.write(in_fd, self._to_child)
                    del self._to_child[:n]
                except BlockingIOError:
                    pass
                except OSError:  # the process has gone; its EOF is handled below
                    self._to_child = bytearray()
            if out_fd in r:
                try:
                    data = os.read(out_fd, 4096)
                except OSError:
                    data = b""
                if data:
                    self._from_child(data)
                else:
                    self._restart(p)
                    continue
            if self._int_at is not None and self._child_ready():
                if self._child_idle():
                    self._int_at = None
                elif time.monotonic() - self._int_at >= self.interrupt_grace:
                    self._int_at = None
                    try:
                        p.send_signal(signal.SIGINT)
                    except OSError:
                        pass

    def _restart(self, p):
        rc = p.wait()
        for f in (p.stdin, p.stdout):
            try:
                f.close()
            except OSError:
                pass
        if self._stop:
            return
        if self._filter:
            self._emit(self._filter)
        if self._kill_next != "power" and os.path.exists(self._sleep_path()):
            self.awake_ms.append(int((time.monotonic() - self._spawned_at) * 1000))
            kind = self._deep_sleep()
            if not self._stop:
                self._spawn(kind)
            return
        if self._kill_next == "power" or rc == HARD_RESET_RC:
            self._kill_next = None
            self._spawn("power")
        else:
            self._emit(SOFT_REBOOT)
            self._spawn("soft")

    def _sleep_path(self):
        return os.path.join(self.cwd or ".", "sleep_ms")

    def _deep_sleep(self):
        """Asleep: no process, the serial line silent, until the time is up (or a power cycle)."""
        try:
            with open(self._sleep_path()) as f:
                ms = int(f.read().strip() or 0)
        except (OSError, ValueError):
            ms = 0
        os.remove(self._sleep_path())
        self.sleeps += 1
        end = time.monotonic() + ms / 1000.0
        while not self._stop and self._kill_next != "power":
            left = end - time.monotonic()
            if ms and left <= 0:
                break
            r, _, _ = select.select([self._wake_r], [], [], 0.5 if not ms else min(left, 0.5))
            if r:
                os.read(self._wake_r, 64)
        kind = "power" if self._kill_next == "power" else "deepsleep"
        self._kill_next = None
        return kind

    def stop(self):
        self._stop = True
        p = self.proc
        if p and p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self._wake()
        if self._thread:
            self._thread.join(5)
        for fd in (self.master, self._slave, self._wake_r, self._wake_w):
            try:
                os.close(fd)
            except OSError:
                pass
        if p:
            for f in (p.stdin, p.stdout):
                try:
                    f.close()
                except OSError:
                    pass
