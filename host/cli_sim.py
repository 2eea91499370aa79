"""`python -m host sim`: start the virtual board and print how to connect mpremote to it.

Runs until Ctrl-C. See host/vboard.py for what the board is; `python -m host
link up|down` (another shell) switches its link.
"""

import os
import signal
import sys
import threading

HELP = "start the virtual board (MicroPython unix port on a pty) and print how to connect mpremote"


def add_arguments(p):
    p.add_argument("--board", default="sim", help="boards/<board>/board.json for heap and flash sizes (default sim)")
    p.add_argument("--image", default=None, help="flash image file (default var/vboard/<board>/flash.img)")
    p.add_argument("--state", default=None, help="state folder (default var/vboard/<board>)")
    p.add_argument("--heap", default=None, help="heap size, e.g. 64k or 512k (default: the board's heap_bytes)")
    p.add_argument("--frozen", action="store_true",
                   help="put the project, compiled to .mpy, in the board's ROM (as if frozen into the firmware)")
    p.add_argument("--fresh", action="store_true", help="start from an erased flash image")
    p.add_argument("--link", choices=("up", "down"), default="down", help="initial link state (default down)")
    p.add_argument("--strict-link", action="store_true",
                   help="a link that is down also fails DNS lookups on the board (socket.getaddrinfo)")
    p.add_argument("--modem", action="store_true", help="attach a simulated AT modem to UART 1 (a second pty)")
    p.add_argument("--modem-sim", default="ready", choices=("ready", "absent", "pin", "puk"))
    p.add_argument("--modem-registration", default="home", choices=("home", "roaming", "searching", "denied"))
    p.add_argument("--modem-apn", default=None, help="the only APN the modem network accepts (default: any)")


def rel(path):
    r = os.path.relpath(path)
    return r if not r.startswith("..") else path


def main(args):
    from host.modemsim import Modem
    from host.mpy import heap_bytes
    from host.vboard import VirtualBoard, default_state_dir, mpremote_cmd

    state = os.path.abspath(args.state or default_state_dir(args.board))
    modem = None
    if args.modem:
        modem = Modem(sim=args.modem_sim, registration=args.modem_registration,
                      apns=(args.modem_apn,) if args.modem_apn else None,
                      link_file=os.path.join(state, "link"))
    vb = VirtualBoard(args.board, state_dir=state, image=args.image, link=args.link == "up",
                      heap=heap_bytes(args.heap) if args.heap else None, frozen=args.frozen,
                      modem=modem, fresh=args.fresh, strict_link=args.strict_link)
    vb.start()
    f = vb.facts
    mpr = rel(mpremote_cmd())
    link_cmd = "python -m host link up|down" + ("" if args.board == "sim" and not args.state else
                                               " --state %s" % rel(state))
    print("smtpmtm virtual board %r: MicroPython unix port, heap %d KB, %s flash %d KB in %s"
          % (args.board, vb.heap // 1024, f.get("fs", "littlefs2"), vb.block_size * vb.block_count // 1024,
             rel(vb.image)))
    print("  serial port : %s" % vb.pty)
    print("  connect     : %s connect %s            (REPL; Ctrl-] or Ctrl-x leaves)" % (mpr, vb.pty))
    print("  copy a file : %s connect %s fs cp main.py :" % (mpr, vb.pty))
    print("  deploy      : python -m host deploy --board %s --port %s" % (args.board, vb.pty))
    print("  link        : %s   (now %s)" % (link_cmd, args.link))
    if modem:
        print("  modem       : %s on machine.UART(1)  (AT commands; picocom %s to type them)" % (modem.pty, modem.pty))
    print("Ctrl-C here stops the board (the flash image is kept).", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    try:
        while not stop.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        vb.stop()
    print("\nvirtual board stopped (%d boots)." % vb.boots)
    return 0


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=HELP)
    add_arguments(ap)
    sys.exit(main(ap.parse_args()))
