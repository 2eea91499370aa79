"""Run one core test function on the emulated board: qemu_run.main(MODULE, FUNC).

The host (host/qemuboard.py) soft-resets the board before each test, so every
test starts on an empty heap with only the frozen code in flash; this runner
formats and mounts the littlefs2 RAM disk at / (a fresh disk per test: one
test's files cannot fill the next one's), imports the test module and runs the
function with whatever heap is left: no ballast, no preloading.

Prints ``QRUN-HEAP held=N free=N`` before the test, then ``QRUN-PASS``,
``QRUN-SKIP reason`` (portable.missing: cpython_only, needs) or the
traceback and ``QRUN-FAIL``.

Example (raw REPL): import qemu_run; qemu_run.main("test_entry", "test_roundtrip")
"""

import gc
import sys


def mount(fresh=True):
    """Mount the RAM disk at / as a board's flash (littlefs2, rp2's progsize); ``fresh``:
    format it first and make /tmp."""
    import os
    import ramdisk
    import vfs

    dev = ramdisk.RAMDisk()
    if fresh:
        vfs.VfsLfs2.mkfs(dev)
    vfs.mount(vfs.VfsLfs2(dev, progsize=256), "/")
    if fresh:
        os.mkdir("/tmp")
    os.chdir("/")


def main(modname, fname):
    mount()
    from portable import missing

    fn = getattr(__import__(modname), fname)
    reason = missing(fn)
    if reason:
        print("QRUN-SKIP", reason)
        return
    gc.collect()
    print("QRUN-HEAP held=%d free=%d" % (gc.mem_alloc(), gc.mem_free()))
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - a test's failure of any kind is reported
        sys.print_exception(e)
        print("QRUN-FAIL")
        return
    print("QRUN-PASS")
