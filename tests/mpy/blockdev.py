"""A RAM block device for MicroPython's vfs.VfsLfs2 / vfs.VfsFat that can lose power.

MicroPython only (unix port; run with a big heap, e.g. -X heapsize=32m). It
implements the block protocol (readblocks / writeblocks / ioctl, the extended
form with offsets that littlefs uses and the plain one FAT uses) over a
bytearray, counts every write, and models a power cut the way littlefs's own
tests do. It never raises out of writeblocks (littlefs asserts if it does).

Two ways to cut power:

1. Live cut: ``dev.cut_at = N`` (1-based write number), ``dev.torn = True/False``.
   Write N is applied not at all (clean) or only its first half (torn); every
   later write is silently dropped (``dev.dropped`` counts them). The code under
   test keeps running against a device that no longer persists anything; then
   ``dev.image()`` is what the flash holds after the cut::

       dev = CutDevice(blocks=256); CutDevice.format(dev, "lfs")
       dev.cut_at, dev.torn = 17, True
       fs = dev.mount("/flash"); run_workload(); dev.umount("/flash")
       after = CutDevice(data=dev.image()); after.mount("/flash")  # recover + check

2. Record and replay (fast, many cut points per process): ``dev.record()``
   logs every write after that call; run the workload once; then
   ``Replay(dev)`` rebuilds the image as it stood at any write N, clean or
   torn, in increasing N without re-running anything::

       dev = CutDevice(); CutDevice.format(dev, "fat"); dev.record()
       ...workload...
       rp = Replay(dev)
       for n in range(1, dev.writes + 1):
           for torn in (False, True):
               img = rp.image(n, torn)      # a new bytearray each time
               d = CutDevice(data=img); d.mount("/chk") ...

Counters: ``writes`` (writeblocks calls), ``erases`` (ioctl 6), ``reads``.
"""

import vfs

BLOCK = 4096


class CutDevice:
    def __init__(self, blocks=256, block_size=BLOCK, data=None):
        self.bs = block_size
        if data is not None:
            self.data = data
            self.n = len(data) // block_size
        else:
            self.data = bytearray(blocks * block_size)
            self.n = blocks
        self.writes = 0
        self.erases = 0
        self.reads = 0
        self.cut_at = 0
        self.torn = False
        self.dropped = 0
        self.log = None
        self.kind = None
        self.keep_cut = False  # True: copy the image at the cut into self.at_cut
        self.at_cut = None

    # ---- block protocol ----
    def readblocks(self, block, buf, off=0):
        self.reads += 1
        a = block * self.bs + off
        buf[:] = memoryview(self.data)[a:a + len(buf)]

    def writeblocks(self, block, buf, off=None):
        self.writes += 1
        a = block * self.bs + (off or 0)
        if self.cut_at:
            if self.writes > self.cut_at:
                self.dropped += 1
                return
            if self.writes == self.cut_at:
                if self.torn:
                    h = len(buf) // 2
                    self.data[a:a + h] = buf[:h]
                self.dropped += 1
                if self.keep_cut:
                    self.at_cut = bytearray(self.data)
                return
        if self.log is not None:
            self.log.append((a, bytes(buf)))
        self.data[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:
            return self.n
        if op == 5:
            return self.bs
        if op == 6:
            self.erases += 1
            return 0
        return 0

    # ---- helpers ----
    def record(self):
        """Start logging writes (the current image is the replay base)."""
        self.base = bytearray(self.data)
        self.log = []
        self.writes = 0

    def image(self):
        return bytearray(self.data)

    @staticmethod
    def format(dev, kind):
        """mkfs as "lfs" (littlefs2) or "fat"."""
        (vfs.VfsLfs2 if kind == "lfs" else vfs.VfsFat).mkfs(dev)
        dev.kind = kind

    def mount(self, point, kind=None, mtime=True):
        """Mount at point; mtime=False makes littlefs images byte-identical across runs."""
        kind = kind or self.kind or "lfs"
        self.kind = kind
        fs = vfs.VfsLfs2(self, mtime=mtime) if kind == "lfs" else vfs.VfsFat(self)
        vfs.mount(fs, point)
        return fs

    @staticmethod
    def umount(point):
        try:
            vfs.umount(point)
        except OSError:
            pass


class Replay:
    """Images of a recorded device at any write N (1-based), applied in increasing N."""

    def __init__(self, dev):
        self.log = dev.log
        self.img = bytearray(dev.base)
        self.applied = 0  # writes fully applied to self.img

    def image(self, n, torn=False):
        """The flash when write n was cut: writes 1..n-1 applied, plus half of n if torn."""
        if n - 1 < self.applied:
            raise ValueError("Replay goes forward only")
        while self.applied < n - 1:
            a, b = self.log[self.applied]
            self.img[a:a + len(b)] = b
            self.applied += 1
        out = bytearray(self.img)
        if torn and n - 1 < len(self.log):
            a, b = self.log[n - 1]
            h = len(b) // 2
            out[a:a + h] = b[:h]
        return out

    def __len__(self):
        return len(self.log)
