"""status()'s flash line (device/smtpmtm_board/commands_acct.py) from what os.statvfs() returns.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from smtpmtm_board.commands_acct import flash_free


def test_free_flash_as_kilobytes():
    assert flash_free((4096, 4096, 512, 377, 377, 0, 0, 0, 0, 255)) == "1508 KB free of 2048 KB"
    assert flash_free((4096, 4096, 512, 0, 0, 0, 0, 0, 0, 255)) == "0 KB free of 2048 KB"


def test_a_free_count_that_wrapped_round_says_full():
    # seen on the virtual board after queue() met a full flash, no file left open: littlefs
    # counted 24 blocks more in use than the 512 it has; status() printed "flash ? KB free"
    out = flash_free((4096, 4096, 512, 4294967272, 4294967272, 0, 0, 0, 0, 255))
    assert out.startswith("0 KB free of 2048 KB: full by littlefs's count"), out
    assert "close files left open" in out and "tidy()" in out, out
