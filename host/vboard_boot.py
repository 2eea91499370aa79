"""Boot shim of the virtual board: runs INSIDE the MicroPython unix port (not CPython).

  micropython -X heapsize=64k -i host/vboard_boot.py IMAGE BLOCK_SIZE BLOCK_COUNT MODE ROMDIR READY

Does what a board's firmware does before its REPL: opens the flash image as a
block device, formats it as littlefs2 if it holds no filesystem, replaces the
unix port's VfsPosix root with it (umount '/', mount at '/'), mounts the host
folder ROMDIR read-only at /.rom (the board's "ROM": the simulated network and
machine modules and, with --frozen, the project's compiled modules as frozen
into a firmware), sets sys.path like a board ('', '.frozen', '/.rom', '/lib'),
then runs /boot.py and (MODE "friendly"
only, as a board does after a soft reset in the raw REPL) /main.py. The unix
port then enters its REPL (-i), which the host relays to a pty.
"""
import sys
import os
import vfs

try:
    import _thread
except ImportError:  # a unix port built without threads: one thread, no race to see
    class _thread:
        get_ident = staticmethod(lambda: 1)


class FlashBdev:
    """littlefs block device (extended interface) over the image file.

    ``races`` counts the times two threads were inside littlefs at once, seen as block
    calls from thread A, then B, then A again: the unix port has no GIL, and littlefs
    must never see two threads (tests read it as ``_vboard.FLASH.races``; it stays 0).
    """

    def __init__(self, f, bs, count):
        self.f = f
        self.bs = bs
        self.count = count
        self.races = 0
        self._callers = [0, 0]  # the threads of the two block calls before this one
        self._ident = _thread.get_ident

    def _note_caller(self):
        t = self._ident()
        c = self._callers
        if t == c[0] != c[1]:
            self.races += 1
        c[0], c[1] = c[1], t

    def readblocks(self, n, buf, off=0):
        self._note_caller()
        self.f.seek(n * self.bs + off)
        self.f.readinto(buf)

    def writeblocks(self, n, buf, off=0):
        self._note_caller()
        self.f.seek(n * self.bs + off)
        self.f.write(buf)

    def ioctl(self, op, arg):
        if op == 4:  # block count
            return self.count
        if op == 5:  # block size
            return self.bs
        return 0  # init, deinit, sync (writes are unbuffered), erase (no-op)


def _vboard_boot(a):
    img, bs, count, mode, rom = a[1], int(a[2]), int(a[3]), a[4], a[5]
    ready = open(a[6], "wb")  # tells the host relay that Ctrl-C may now be a SIGINT
    dev = FlashBdev(open(img, "r+b"), bs, count)
    try:
        fs = vfs.VfsLfs2(dev)
    except OSError:
        print("vboard: formatting the flash image as littlefs2")
        vfs.VfsLfs2.mkfs(dev)
        fs = vfs.VfsLfs2(dev)
    vfs.umount("/")
    vfs.mount(fs, "/")
    vfs.mount(vfs.VfsPosix(rom), "/.rom", readonly=True)
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/.rom", "/lib"]
    sys.argv[:] = [""]
    import _vboard

    _vboard.FLASH = dev  # the flash's race counter, for tests
    ready.write(b"1")
    ready.close()
    names = ("boot.py", "main.py") if mode == "friendly" else ("boot.py",)
    for name in names:
        try:
            os.stat(name)
        except OSError:
            continue
        try:
            with open(name) as f:
                src = f.read()
            exec(src, globals())
            src = None
        except KeyboardInterrupt:
            print("vboard: %s interrupted" % name)
        except SystemExit:
            raise
        except BaseException as e:  # as a board does: print it and go on to the REPL
            sys.print_exception(e)


def _vboard_reset():
    # A board's soft reset sweeps the heap, which runs the finalisers of files
    # left open (`open(p, "w").write(x)`), so their data reaches the flash; the
    # unix port just exits, so sweep here (the finaliser closes what is garbage).
    import gc

    gc.collect()


_vboard_boot(sys.argv)
sys.atexit(_vboard_reset)
del _vboard_boot, _vboard_reset, FlashBdev, sys, os, vfs, _thread
import gc

gc.collect()
del gc
