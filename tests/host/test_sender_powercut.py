"""Power cut at block writes during a send of three messages (tests/mpy/sender_powercut.py).

Host-only driver: the cut device (tests/mpy/blockdev.py, littlefs2 through vfs.VfsLfs2)
exists only in the MicroPython unix port, so the check runs there in a subprocess.
`make reliability` runs every write, clean and torn; this test every write, clean and torn,
as it takes a few seconds.
"""

from host.reliability import r_sender as R


def test_power_cut_at_every_write_loses_nothing_and_never_doubles_silently():
    res = R.powercut("all", torn=True, timeout=600)
    assert res["points"] >= 100
    assert res["failures"] == 0, res
    assert res["dup_without_same_id"] == 0
    assert res["resent"] > 0  # some cuts fell after the server had the message: re-sent
