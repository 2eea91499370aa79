"""`python -m host link up|down|status`: switch the virtual board's simulated link.

Writes <state>/link, which the board's simulated network.WLAN / network.PPP
and the simulated modem's coverage follow (host/vboard.py).
"""

import os
import sys

HELP = "switch the virtual board's link: up, down or status"


def add_arguments(p):
    p.add_argument("state_word", choices=("up", "down", "status"), metavar="up|down|status")
    from host.vboard import boards

    p.add_argument("--board", default="sim", choices=boards())
    p.add_argument("--state", default=None, help="state folder of the board (default var/vboard/<board>)")
    p.add_argument("--wifi", choices=("on", "off"), default=None,
                   help="the access point in range or not: off leaves only the cellular coverage (a "
                        "board's modem, `host sim --modem`)")


def main(args):
    from host.vboard import default_state_dir, read_link, write_link

    state = os.path.abspath(args.state or default_state_dir(args.board))
    if not os.path.isdir(state):
        print("no virtual board state in %s (start one with `python -m host sim`)" % state, file=sys.stderr)
        return 1
    if args.state_word != "status":
        write_link(state, args.state_word == "up")
    if args.wifi:
        write_link(state, args.wifi == "on", "wifi")
    print("link %s%s" % ("up" if read_link(state) else "down",
                         "" if read_link(state, "wifi", True) else " (Wi-Fi access point off: cellular only)"))
    return 0
