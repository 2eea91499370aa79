"""The emulated board: every core test on a 32-bit Cortex-M0 with the code frozen, at real heaps.

Builds MicroPython v1.28.0's bare-metal ``ports/qemu`` with the out-of-tree board
boards/qemu_m0 (shared/, device/ and the core tests frozen; single-precision
floats; a littlefs2 RAM disk outside the heap), once per board heap, boots each
under qemu-system-arm and runs every ``test_*`` function of tests/core/ on it:
one emulator per heap, the two in parallel; one boot runs all the tests, with a
soft reset (a fresh heap) and a freshly formatted disk before each, so one
failure does not hide the rest (a test that hangs or crashes the board costs a
reboot). No ballast and no preloading: a test has the board's heap minus what
the frozen code it imports really holds.

The MicroPython source: ``MICROPY_SRC`` (a tree or a tarball), else
../shared/toolchain/micropython-1.28.0-min.tar.gz, else a shallow clone of tag
v1.28.0. Everything is built under build/qemu/ (never committed).

Writes .bench/qemu.json: qemu_tests_{passed,failed,skipped}_{esp32,picow} and
the heap figures (boards/qemu_m0/qemu_bench.py).

    python -m host.qemuboard                 # make qemu-test: build, test both heaps, figures
    python -m host.qemuboard --if-available  # make test: one line and exit 0 without source/toolchain
    python -m host.qemuboard --only test_entry  # the test modules whose name contains a word
"""

import argparse
import ast
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import time

from host import figures
from host.mpy import ROOT

HEAPS = (("esp32", 110592), ("picow", 169984))  # ESP32_GENERIC and Pico W MicroPython heaps
# a third firmware, only to measure the board app as .mpy files (too big for the ESP32 heap)
MEASURE_HEAP = ("measure", 393216)
RAM_BYTES = 512 * 1024  # data, bss (the heap) and stack: boards/qemu_m0/qemu_m0.ld
TAG = "v1.28.0"
TARBALL = os.path.join(os.path.dirname(ROOT), "shared", "toolchain", "micropython-1.28.0-min.tar.gz")
GIT_URL = "https://github.com/micropython/micropython"
BUILD = os.path.join(ROOT, "build", "qemu")
BOARD_DIR = os.path.join(ROOT, "boards", "qemu_m0")
DISK_KB = 4096  # the littlefs2 RAM disk (QEMU_DISK_KB of mpconfigboard.mk)
TOOLS = ("arm-none-eabi-gcc", "qemu-system-arm")
APT = "apt-get install -y --no-install-recommends gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm"
TEST_TIMEOUT = 600  # seconds for one test on the emulator before it counts as hung
RAW_PROMPT = b"raw REPL; CTRL-B to exit\r\n>"


# ---- source and toolchain ----------------------------------------------------------------

def source_at_hand():
    """(kind, path) of a MicroPython source found without the network, or None."""
    env = os.environ.get("MICROPY_SRC")
    if env:
        return ("tree" if os.path.isdir(env) else "tarball"), os.path.abspath(env)
    if os.path.exists(TARBALL):
        return "tarball", TARBALL
    return None


def toolchain_missing():
    """The names of what the build and the emulator need and this machine lacks."""
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not missing:
        libc = subprocess.run(["arm-none-eabi-gcc", "-print-file-name=libc.a"],
                              capture_output=True, text=True).stdout.strip()
        if not os.path.isabs(libc):
            missing.append("libnewlib-arm-none-eabi")
    return missing


def prepare_source(log):
    """The path of a MicroPython v1.28.0 tree to build from (unpacked or cloned under build/)."""
    found = source_at_hand()
    if found is None:
        dest = os.path.join(BUILD, "micropython-git")
        if not os.path.isdir(os.path.join(dest, "py")):
            log("cloning MicroPython %s (no MICROPY_SRC, no %s)" % (TAG, TARBALL))
            subprocess.run(["git", "clone", "-q", "--depth", "1", "--branch", TAG, GIT_URL, dest], check=True)
        return dest
    kind, path = found
    if kind == "tree":
        return path
    dest = os.path.join(BUILD, "src")
    stamp = os.path.join(dest, ".unpacked-from")
    ident = "%s %d %d" % (path, os.path.getsize(path), int(os.path.getmtime(path)))
    if not (os.path.exists(stamp) and open(stamp).read() == ident):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        with tarfile.open(path) as tf:
            tf.extractall(dest)
        with open(stamp, "w") as f:
            f.write(ident)
    tops = [d for d in os.listdir(dest) if os.path.isdir(os.path.join(dest, d, "py"))]
    if len(tops) != 1:
        raise RuntimeError("%s: no single MicroPython tree inside" % path)
    return os.path.join(dest, tops[0])


def _make(args, log, jobs):
    # the tree may sit inside this repository: keep its git out of MicroPython's version
    env = dict(os.environ, GIT_CEILING_DIRECTORIES=os.path.dirname(BUILD))
    cmd = ["make", "-s", "-j%d" % jobs] + args
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if p.returncode != 0:
        log(p.stdout[-3000:] + p.stderr[-6000:])
        raise RuntimeError("build failed: %s" % " ".join(cmd))


def build(src, log, jobs=2):
    """Build mpy-cross and one firmware per heap (HEAPS, MEASURE_HEAP); returns {name: firmware.elf}."""
    cross_build = os.path.join(BUILD, "mpy-cross")
    cross = os.path.join(cross_build, "mpy-cross")
    _make(["-C", os.path.join(src, "mpy-cross"), "BUILD=" + cross_build], log, jobs)
    elves = {}
    first = None
    for name, heap in HEAPS + (MEASURE_HEAP,):
        out = os.path.join(BUILD, name)
        if first is not None:
            # the heap size is used by main.c alone: the first build's objects, main.o rebuilt
            # (a fresh copy each time: its dependency files name the first build's paths)
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(first, out, symlinks=True)
            for f in ("main.o", "main.P", "firmware.elf", "firmware.map"):
                if os.path.exists(os.path.join(out, f)):
                    os.remove(os.path.join(out, f))
        _make(["-C", os.path.join(src, "ports", "qemu"), "BOARD_DIR=" + BOARD_DIR, "BUILD=" + out,
               "MICROPY_HEAP_SIZE=%d" % heap, "MICROPY_MPYCROSS=" + cross,
               "MICROPY_MPYCROSS_DEPENDENCY=", "QEMU_DISK_KB=%d" % DISK_KB], log, jobs)
        elves[name] = os.path.join(out, "firmware.elf")
        first = first or out
    return elves


# ---- the emulator ------------------------------------------------------------------------

class BoardError(Exception):
    """The emulated board did not answer as the raw REPL should (hung, crashed or exited)."""


def _die_with_parent():
    """In the child: QEMU gets SIGKILL when the thread that started it ends (an interrupted or
    timed-out run would otherwise leave emulators spinning; QEMU ignores EOF on -serial stdio)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


class Emulator:
    """One qemu-system-arm running a firmware, driven over its UART (the raw REPL)."""

    def __init__(self, elf):
        cmd = ["qemu-system-arm", "-machine", "microbit", "-nographic", "-monitor", "null",
               "-semihosting", "-global", "nrf51-soc.flash-size=2097152",
               "-global", "nrf51-soc.sram-size=%d" % (RAM_BYTES + DISK_KB * 1024),
               "-serial", "stdio", "-kernel", elf]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, bufsize=0, preexec_fn=_die_with_parent)
        self.chunks = queue.Queue()
        self.buf = b""
        threading.Thread(target=self._pump, daemon=True).start()
        self.write(b"\r\x03\x03\x01")
        self.read_until(RAW_PROMPT, 30)

    def _pump(self):
        while True:
            data = os.read(self.proc.stdout.fileno(), 65536)
            self.chunks.put(data)
            if not data:
                return

    def write(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError as e:
            raise BoardError("emulator gone: %s" % e)

    def read_until(self, marker, timeout):
        deadline = time.monotonic() + timeout
        while marker not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BoardError("no %r within %d s; last output: %r" % (marker, timeout, self.buf[-800:]))
            try:
                data = self.chunks.get(timeout=left)
            except queue.Empty:
                continue
            if not data:
                raise BoardError("emulator exited; last output: %r" % self.buf[-800:])
            self.buf += data
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def soft_reset(self):
        """A fresh heap: Ctrl-D at the raw REPL reboots MicroPython (the disk survives)."""
        self.write(b"\x04")
        self.read_until(b"soft reboot", 30)
        self.read_until(RAW_PROMPT, 30)

    def exec(self, code, timeout=TEST_TIMEOUT):
        """Run code at the raw REPL; returns (stdout, stderr) as text."""
        self.write(code.encode() + b"\x04")
        self.read_until(b"OK", 30)
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", 30)[:-1]
        self.read_until(b">", 30)
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ---- the tests ---------------------------------------------------------------------------

def core_tests(only=()):
    """(module, function) of every top-level test_* function in tests/core/test_*.py."""
    here = os.path.join(ROOT, "tests", "core")
    found = []
    for name in sorted(os.listdir(here)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        if only and not any(o in name for o in only):
            continue
        tree = ast.parse(open(os.path.join(here, name)).read())
        found += [(name[:-3], n.name) for n in tree.body
                  if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    return found


def run_tests(elf, tests, label, log):
    """Run the tests on one emulator; returns {"passed", "failed", "skipped", "failures", ...}."""
    res = {"passed": 0, "failed": 0, "skipped": 0, "failures": [], "skips": [], "held_max": 0}
    board = None
    try:
        for mod, fn in tests:
            try:
                if board is None:
                    board = Emulator(elf)
                board.soft_reset()
                out, err = board.exec("import qemu_run\nqemu_run.main(%r, %r)\n" % (mod, fn))
            except BoardError as e:
                out, err = "", "board: %s" % e
                if board is not None:
                    board.close()
                board = None
            for line in out.splitlines():
                if line.startswith("QRUN-HEAP held="):
                    res["held_max"] = max(res["held_max"], int(line.split()[1].split("=")[1]))
            if "QRUN-PASS" in out:
                res["passed"] += 1
            elif "QRUN-SKIP" in out:
                res["skipped"] += 1
                res["skips"].append("%s::%s: %s" % (mod, fn, out.split("QRUN-SKIP", 1)[1].strip()))
            else:
                res["failed"] += 1
                res["failures"].append(("%s::%s" % (mod, fn), (out + err)[-2500:]))
                log("[%s] FAIL %s::%s" % (label, mod, fn))
    finally:
        if board is not None:
            board.close()
    return res


# ---- heap figures ------------------------------------------------------------------------

def _bench(board, call, fresh=True):
    """Run qemu_bench.<call> after a soft reset; returns the words after QBENCH <name>."""
    board.soft_reset()
    out, err = board.exec("import qemu_run, qemu_bench\nqemu_run.mount(%r)\n%s\n" % (fresh, call))
    for line in out.splitlines():
        if line.startswith("QBENCH "):
            return line.split()[2:]
    raise RuntimeError("%s on the board: %s" % (call, (out + err)[-2000:]))


def _put_file(board, path, data):
    board.exec("f = open(%r, 'wb')\n" % path)
    for i in range(0, len(data), 4096):
        board.exec("f.write(%r)\n" % data[i:i + 4096])
    board.exec("f.close()\n")


def _put_mpy(board, out, rows, names=None):
    """Copy the .mpy files compiled into ``out`` onto the board's disk (only those of the
    modules in ``names`` when given), as a ``mip install`` of the compiled form would."""
    from host.bench.b_board import _module_name

    rows = [r for r in rows if r[0] not in ("main.py", "boot.py")
            and (names is None or _module_name(r[0]) in names)]
    dirs = sorted({"/" + os.path.dirname(rel) for rel, _src, _size in rows if "/" in rel})
    board.exec("import qemu_run, os\nqemu_run.mount()\nfor d in %r:\n    os.mkdir(d)\n" % (dirs,))
    for rel, _src, _size in rows:
        with open(os.path.join(out, rel[:-3] + ".mpy"), "rb") as f:
            _put_file(board, "/" + rel[:-3] + ".mpy", f.read())


def _held_from_mpy(elf, out, rows, names, probe):
    """Heap held after importing ``names`` from .mpy files on a fresh disk: "" is first on
    sys.path, so /<module>.mpy is imported, not the frozen one (checked)."""
    board = Emulator(elf)
    try:
        board.soft_reset()
        _put_mpy(board, out, rows, names)
        held, where, *_ = _bench(board, "qemu_bench.held_after_import(%r, %r)" % (names, probe),
                                 fresh=False)
    finally:
        board.close()
    if not where.endswith(".mpy"):
        raise RuntimeError("the board imported %s, not the .mpy file" % where)
    return int(held)


def heap_figures(elves, log):
    """qemu_heap_* figures: frozen on the ESP32_GENERIC-heap firmware, .mpy on MEASURE_HEAP's
    (the board app) and on the ESP32_GENERIC heap (what a uMail script imports)."""
    elf, measure_elf = elves["esp32"], elves[MEASURE_HEAP[0]]
    from host import mpytable
    from host.bench.b_board import import_closure

    app = import_closure(("smtpmtm_board.start", "smtpmtm_board.repl"))
    board = Emulator(elf)
    try:
        held, where, *lacking = _bench(board, "qemu_bench.held_after_import(%r, %r)"
                                       % (app, "smtpmtm_board.start"))
        figs = {"qemu_heap_board_app": int(held)}
        log("board app: %d modules, %s B held (frozen, %s)%s" % (
            len(app), held, where, "; not on ports/qemu: " + " ".join(lacking) if lacking else ""))
        figs["qemu_heap_peak_queue_send_1m"] = int(_bench(board, "qemu_bench.queue_send_1m()")[0])
    finally:
        board.close()
    # the same import with the code as .mpy files on the disk (a mip install on stock
    # firmware): the bytecode then lives in the heap, more than the ESP32 heap has: a
    # larger heap. A uMail script's modules alone do fit the ESP32's.
    out = os.path.join(BUILD, "mpy-files")
    shutil.rmtree(out, ignore_errors=True)
    rows = mpytable.compile_all(out=out)
    figs["qemu_heap_board_app_mpy"] = _held_from_mpy(measure_elf, out, rows, app, "smtpmtm_board.start")
    umail = import_closure(("umail",))
    figs["qemu_heap_umail_mpy"] = _held_from_mpy(elf, out, rows, umail, "umail")
    log("umail: %d modules as .mpy on the ESP32 heap: %d B held" % (len(umail), figs["qemu_heap_umail_mpy"]))
    figs["qemu_free_at_peak_esp32"] = dict(HEAPS)["esp32"] - figs["qemu_heap_peak_queue_send_1m"]
    return figs


# ---- entry point -------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--if-available", action="store_true",
                    help="skip (one line, exit 0) when no MicroPython source or no toolchain")
    ap.add_argument("--only", nargs="*", default=(), help="test modules whose name contains one of these")
    ap.add_argument("--no-figures", action="store_true", help="tests only, no heap figures")
    args = ap.parse_args(argv)

    def log(msg):
        print(msg, flush=True)

    missing = toolchain_missing()
    if args.if_available and (missing or source_at_hand() is None):
        why = ("no toolchain (%s): %s" % (", ".join(missing), APT)) if missing else \
            "no MicroPython source (MICROPY_SRC unset, no %s)" % os.path.relpath(TARBALL, ROOT)
        log("emulated board (make qemu-test) skipped: %s" % why)
        return 0
    if missing:
        log("emulated board: missing %s; install with: %s" % (", ".join(missing), APT))
        return 2
    t0 = time.monotonic()
    os.makedirs(BUILD, exist_ok=True)
    elves = build(prepare_source(log), log)
    t_build = time.monotonic() - t0
    log("emulated board: built mpy-cross and %d firmwares in %.0f s" % (len(elves), t_build))
    tests = core_tests(args.only)
    results = {}
    threads = [threading.Thread(target=lambda n=n: results.__setitem__(n, run_tests(elves[n], tests, n, log)))
               for n, _ in HEAPS]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    t_tests = time.monotonic() - t0 - t_build
    log("emulated board: %d tests x %d heaps in %.0f s" % (len(tests), len(HEAPS), t_tests))
    figs = {}
    for name, heap in HEAPS:
        r = results[name]
        for f_name, text in r["failures"]:
            log("---- [%s heap %d] %s\n%s" % (name, heap, f_name, text.strip()))
        for s in r["skips"]:
            log("[%s] skipped %s" % (name, s))
        for k in ("passed", "failed", "skipped"):
            figs["qemu_tests_%s_%s" % (k, name)] = r[k]
    if not args.no_figures and not args.only:
        figs.update(heap_figures(elves, log))
    figs["qemu_seconds_build_and_test"] = round(time.monotonic() - t0)
    if not args.only:  # a subset's counts are not the suite's
        figures.merge("qemu.json", figs)
    log("emulated board: %s; build %.0f s, all %.0f s" % (
        json.dumps({k: v for k, v in figs.items() if k.startswith("qemu_heap") or k.startswith("qemu_free")}),
        t_build, time.monotonic() - t0))
    for name, heap in HEAPS:
        log("emulated board, %s heap %d B: %d passed, %d failed, %d skipped (largest heap held before a test: %d B)"
            % (name, heap, results[name]["passed"], results[name]["failed"], results[name]["skipped"],
               results[name]["held_max"]))
    total = [sum(results[n][k] for n, _ in HEAPS) for k in ("passed", "failed", "skipped")]
    log("qemu: %d passed, %d failed, %d skipped" % tuple(total))  # the plain closing line CI reads
    return 1 if any(results[n]["failed"] for n, _ in HEAPS) else 0


if __name__ == "__main__":
    sys.exit(main())
