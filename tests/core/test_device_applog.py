"""The board's event log (device/smtpmtm_board/applog.py): log() shows what came before a reset.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from portable import tmpdir
from smtpmtm_board.applog import Log

NOW = 1796000000  # 2026-11-30


def clock():
    return NOW


def test_lines_from_before_a_reset_show_after_it():
    # every mpremote command soft-resets a board: the new app logs "boot" first, and
    # log() used to show RAM only, so the send that failed before the reset never showed
    path = tmpdir() + "/log.txt"
    before = Log(path, clock)
    for i in range(3):
        before("send: %d" % i)
    after = Log(path, clock)  # the reset: a new Log, empty RAM
    after("boot: 0 waiting")
    got = after.lines(3)
    assert [x.split(" ", 2)[2] for x in got] == ["send: 1", "send: 2", "boot: 0 waiting"], got
    assert len(after.lines(50)) == 4


def test_the_rotated_file_counts_and_ram_fills_in_when_the_file_cannot_be_written():
    path = tmpdir() + "/log.txt"
    L = Log(path, clock, max_bytes=60)
    for i in range(8):
        L("event %d" % i)  # ~24 B a line: rotated into log.old along the way
    assert [x.split(" ", 2)[2] for x in Log(path, clock).lines(5)] == ["event %d" % i for i in range(3, 8)]
    gone = Log(tmpdir() + "/no/such/dir/log.txt", clock)  # every write fails: RAM only
    gone("a")
    gone("b")
    assert [x.split(" ", 2)[2] for x in gone.lines(5)] == ["a", "b"]
