"""boot.py: runs first at every reset. Kept tiny so a mistake here cannot brick the board.

It imports the REPL commands (smtpmtm_board.repl), so they are at the prompt
even after a soft reset in the raw REPL (``mpremote fs cp`` does one; a board
then skips main.py): the first command then starts the app. Everything else
(store, clock, links, engine, and the GC threshold the app sets: app.collect_early)
is main.py's.
"""

try:
    from smtpmtm_board.repl import *  # noqa: F401,F403 - the commands; the app is main.py's (or the first command's)
except ImportError:  # the firmware is not installed yet
    pass
