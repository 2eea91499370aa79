"""A small event log for the board: the last lines in RAM, older ones in a bounded file.

``log(text)`` stamps a line with the wall clock (``*`` after the time when the
clock is only an estimate), keeps the last ``keep`` lines in RAM for the
REPL's ``log()`` and appends it to ``/log.txt``; past ``max_bytes`` the file
becomes ``/log.old`` (one generation) so the flash never fills with logs.
``lines(n)`` reads the files' tail, so a reset does not hide what came before it.

Example::

    from smtpmtm_board.applog import Log
    L = Log("/log.txt", clock=clk)
    L("link wifi up"); print(L.lines(5))
"""

import os


class Log:
    def __init__(self, path="/log.txt", clock=None, keep=30, max_bytes=16384, echo=False):
        self.path = path
        self.clock = clock
        self.keep = keep
        self.max_bytes = max_bytes
        self.echo = echo
        self.ram = []

    def _stamp(self):
        c = self.clock
        if c is None:
            return ""
        import time

        from smtpmtm.compat import EPOCH_OFFSET

        t = time.gmtime(int(c()) - EPOCH_OFFSET)
        return "%02d-%02d %02d:%02d:%02d%s " % (t[1], t[2], t[3], t[4], t[5],
                                                "" if getattr(c, "valid", True) else "*")

    def __call__(self, text):
        line = self._stamp() + text
        self.ram.append(line)
        del self.ram[:-self.keep]
        if self.echo:
            print(line)
        if self.path:
            try:
                try:
                    if os.stat(self.path)[6] > self.max_bytes:
                        old = self.path[:-4] + ".old"
                        try:
                            os.remove(old)  # FAT's rename will not replace
                        except OSError:
                            pass
                        os.rename(self.path, old)
                except OSError:
                    pass
                with open(self.path, "a") as f:
                    f.write(line + "\n")
            except OSError:
                pass  # a full flash must not stop the board

    def lines(self, n=20):
        """The last n lines: the tail of /log.old + /log.txt, so the lines from before a
        reset show too (every mpremote command soft-resets the board); RAM's lines where
        the file lags behind them (a full flash) or cannot be read."""
        out = []
        if self.path:
            for p in (self.path[:-4] + ".old", self.path):
                try:
                    with open(p) as f:
                        for x in f:
                            out.append(x.rstrip("\n"))
                            if len(out) > n:
                                del out[0]
                except OSError:
                    pass
        if self.ram and self.ram[-1] not in out:
            out += [x for x in self.ram if x not in out]
        return out[-n:]
