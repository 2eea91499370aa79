"""timeslice.run (device/smtpmtm_board/timeslice.py): engine steps while they say "go on"
(0), within a slice of milliseconds.

Device cases: each runs on CPython and on the MicroPython unix port (tests/core/conftest.py).
Deterministic: a slice of 0 ms is exactly one step, a slice longer than the test can take
runs until a step asks to wait; nothing here depends on how fast the machine is.
"""

from smtpmtm_board import timeslice


class Stepper:
    """A step function returning results in turn; calls counts the calls (MicroPython's
    functions take no attributes)."""

    def __init__(self, results):
        self.it = iter(results)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return next(self.it)


def test_a_slice_of_0_ms_is_one_step():
    step = Stepper([0, 0, 0, 5])
    assert timeslice.run(step, 0) == 0 and step.calls == 1
    assert timeslice.run(step, 0) == 0 and step.calls == 2


def test_steps_go_on_while_they_return_0_and_stop_at_a_wait_or_the_end():
    step = Stepper([0, 0, 0, 0.5, 0, 0, None])
    assert timeslice.run(step, 10 ** 6) == 0.5 and step.calls == 4  # asked to wait 0.5 s
    assert timeslice.run(step, 10 ** 6) is None and step.calls == 7  # the job is finished


def test_the_default_slice_leaves_half_a_timer_beat():
    assert 0 < timeslice.SLICE_MS <= 100  # the timer ticks every 200 ms (start.py)
