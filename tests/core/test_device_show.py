"""show(id)'s result lines (device/smtpmtm_board/commands_show.py) from a message's result part.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
"""

from smtpmtm_board.commands_show import _result_lines


def test_interruptions_are_counted_in_words():
    one = _result_lines({"rcpt": {}, "interrupted": 1, "error": None})
    three = _result_lines({"rcpt": {}, "interrupted": 3, "error": None})
    assert "interrupted 1 time (cut mid-send)" in one, one
    assert "interrupted 3 times (cut mid-send)" in three, three
    assert not [x for x in _result_lines({"rcpt": {}, "interrupted": 0, "error": None}) if "interrupted" in x]
