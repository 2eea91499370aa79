"""A connect hook switched by hand, for tests, the virtual board and a REPL.

Example::

    wifi = ManualHook("wifi", up_after=2)   # comes up two is_up() polls after up()
    links = Links([wifi], clock)
"""

from smtpmtm.errors import LinkDown
from smtpmtm.outbox.link import ConnectHook


class ManualHook(ConnectHook):
    """A hook switched by hand (tests, the virtual board, a REPL): ``set(True)``.

    ``up()`` makes it come up after ``up_after`` further is_up() polls, or
    raises LinkDown when ``can_come_up`` is False. Counts ups and downs.
    """

    def __init__(self, name="manual", up=False, can_come_up=True, up_after=0):
        self.name = name
        self.net = None  # what network() says: set it to "move" the link
        self._up = up
        self.can_come_up = can_come_up
        self.up_after = up_after
        self._pending = -1
        self.ups = 0
        self.downs = 0

    def set(self, state):
        self._up = bool(state)
        self._pending = -1

    def up(self):
        self.ups += 1
        if not self.can_come_up:
            raise LinkDown("no carrier")
        self._pending = self.up_after

    def is_up(self):
        if not self._up and self._pending >= 0:
            if self._pending == 0:
                self._up = True
                self._pending = -1
            else:
                self._pending -= 1
        return self._up

    def network(self):
        return self.net

    def down(self):
        self.downs += 1
        self._up = False
        self._pending = -1
