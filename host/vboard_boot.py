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

The flash is mounted through ``FlashVfs``, a "GIL for the flash": the unix port
has no GIL and runs the send engine in a thread, so code typed at the REPL
(``open()``, ``os.listdir()``, an import looked up on the flash) could enter
littlefs while the engine is inside it and corrupt it (LFS error 84, ENOENT).
Every call into littlefs (VFS methods, each file and directory-iterator call)
takes one lock, so littlefs sees the calls one after the other, as a board's
single thread would make them. Files and listings still open stay referenced
until closed (or exhausted): the garbage collector never finalises (closes)
one in a thread that does not hold the lock; at exit they are closed under it.
"""
import sys
import os
import io
import vfs

try:
    import _thread
except ImportError:  # a unix port built without threads: one thread, no race to see
    class _thread:
        get_ident = staticmethod(lambda: 1)

        class allocate_lock:  # one thread: nothing to wait for
            def acquire(self):
                return True

            def release(self):
                pass


class FlashBdev:
    """littlefs block device (extended interface) over the image file.

    ``races`` counts the times two threads were inside littlefs at once, seen as block
    calls from thread A, then B, then A again within one littlefs operation (FlashVfs
    says where each begins; A, B, A across three operations is taking turns): the unix
    port has no GIL, and littlefs must never see two threads (tests read it as
    ``_vboard.FLASH.races``; it stays 0).
    """

    def __init__(self, f, bs, count):
        self.f = f
        self.bs = bs
        self.count = count
        self.races = 0
        self._callers = [0, 0]  # the threads of the two block calls before this one
        self._ident = _thread.get_ident

    def operation_begins(self):
        """A littlefs operation begins (FlashVfs, holding its lock): the block calls before
        it were another operation's, so they cannot be half of an overlap with this one."""
        self._callers[0] = self._callers[1] = 0

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


class FlashFile(io.IOBase):
    """A file on the flash: each call into the littlefs file holds the flash lock.

    A stream (readinto/write/ioctl), so imports of .py and .mpy read through it."""

    def __init__(self, f, fs):
        self._f = f
        self._fs = fs

    def readinto(self, buf):
        return self._fs.call(self._f, "readinto", buf)

    def write(self, buf):
        return self._fs.call(self._f, "write", buf)

    def read(self, *a):
        return self._fs.call(self._f, "read", *a)

    def readline(self, *a):
        return self._fs.call(self._f, "readline", *a)

    def readlines(self):
        return self._fs.call(self._f, "readlines")

    def seek(self, *a):
        return self._fs.call(self._f, "seek", *a)

    def tell(self):
        return self._fs.call(self._f, "tell")

    def flush(self):
        return self._fs.call(self._f, "flush")

    def close(self):
        with self._fs:
            self._fs.opened.pop(id(self._f), None)
            self._f.close()

    def ioctl(self, op, arg):
        if op == 4:  # MP_STREAM_CLOSE (the import reader closes a module file so)
            self.close()
            return 0
        if op == 1:  # MP_STREAM_FLUSH
            self.flush()
            return 0
        if op == 11:  # MP_STREAM_GET_BUFFER_SIZE: the import reader's largest buffer
            return 255
        return -22  # EINVAL, as littlefs's own files answer the rest

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


class FlashListing:
    """os.ilistdir() of the flash: each step of the littlefs directory holds the flash lock."""

    def __init__(self, it, fs):
        self._it = it
        self._fs = fs

    def __iter__(self):
        return self

    def __next__(self):
        with self._fs:
            try:
                return next(self._it)
            except StopIteration:  # littlefs closed the directory
                self._fs.opened.pop(id(self._it), None)
                raise


class FlashVfs:
    """MicroPython's VFS protocol over a VfsLfs2, each call under one lock (see the module
    docstring). Errors are littlefs's own OSErrors (ENOENT, EEXIST, ENOSPC, ...)."""

    File = FlashFile  # reached through the class: the boot shim's names are deleted after boot
    Listing = FlashListing

    def __init__(self, lfs, dev):
        self.lfs = lfs
        self.dev = dev
        self.lock = _thread.allocate_lock()
        self.opened = {}  # id -> littlefs file or directory not yet closed

    def __enter__(self):  # inside littlefs: one thread at a time
        self.lock.acquire()
        self.dev.operation_begins()
        return self

    def __exit__(self, *a):
        self.lock.release()

    def call(self, obj, name, *a):
        """obj.name(*a) under the lock: the filesystem's, a file's."""
        with self:
            return getattr(obj, name)(*a)

    def mount(self, readonly, mkfs):
        return self.call(self.lfs, "mount", readonly, mkfs)

    def umount(self):
        return self.call(self.lfs, "umount")

    def open(self, path, mode):
        with self:
            f = self.lfs.open(path, mode)
            self.opened[id(f)] = f
        return self.File(f, self)

    def ilistdir(self, *path):
        with self:
            it = self.lfs.ilistdir(*path)
            self.opened[id(it)] = it
        return self.Listing(it, self)

    def chdir(self, path):
        return self.call(self.lfs, "chdir", path)

    def getcwd(self):
        return self.call(self.lfs, "getcwd")

    def mkdir(self, path):
        return self.call(self.lfs, "mkdir", path)

    def remove(self, path):
        return self.call(self.lfs, "remove", path)

    def rename(self, old, new):
        return self.call(self.lfs, "rename", old, new)

    def rmdir(self, path):
        return self.call(self.lfs, "rmdir", path)

    def stat(self, path):
        return self.call(self.lfs, "stat", path)

    def statvfs(self, path):
        return self.call(self.lfs, "statvfs", path)

    def close_all(self):
        """Close every file left open (its data reaches the flash), as a board's soft reset
        does when its sweep finalises them; listings left open are swept under the lock."""
        import gc

        with self:
            for f in self.opened.values():
                if hasattr(f, "close"):  # a file (a listing's finaliser closes it below)
                    f.close()
            self.opened.clear()
            gc.collect()


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
    fs = FlashVfs(fs, dev)
    vfs.umount("/")
    vfs.mount(fs, "/")
    vfs.mount(vfs.VfsPosix(rom), "/.rom", readonly=True)
    os.chdir("/")
    sys.path[:] = ["", ".frozen", "/.rom", "/lib"]
    sys.argv[:] = [""]
    import _vboard

    _vboard.FLASH = dev  # the flash's race counter, for tests
    _vboard.FLASH_FS = fs  # its lock and the files still open, for tests
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
    # unix port just exits, so close them here (FlashVfs keeps them referenced).
    import _vboard

    fs = getattr(_vboard, "FLASH_FS", None)
    if fs is not None:
        fs.close_all()


_vboard_boot(sys.argv)
sys.atexit(_vboard_reset)
del _vboard_boot, _vboard_reset, FlashBdev, FlashFile, FlashListing, FlashVfs, sys, os, io, vfs, _thread
import gc

gc.collect()
del gc
