"""`python -m host sim`: start the virtual board, flashed like a real one, and say what to type next.

The board boots as one ``make deploy`` installed (host/cli_deploy.py): boot.py
and main.py, the settings template where the flash has none yet (Wi-Fi
credentials of the simulated access point "vboard-ap"; no NTP server, the sim
has no internet), and /certs/ca.pem: the mail providers' roots
(host/cabundle.py) plus the local test CA of --certs (default .certs, the
folder ``python -m host serve`` uses and keeps: the board trusts the local
server without copying anything). ``--bare`` flashes nothing (``--fresh`` erases the
image first); ``host deploy --board sim --port <pty>`` then installs what this would.
It prints the three commands to run next (local server, REPL, link up) and runs
until Ctrl-C. See host/vboard.py for what the board is.
"""

import os
import signal
import sys
import threading

HELP = "start the virtual board (MicroPython unix port on a pty) and print how to connect mpremote"


def _heap(v):
    """--heap as typed ("512k", "4m", "65536"), checked here: "1q" was a ValueError traceback."""
    import argparse

    from host.mpy import heap_bytes

    try:
        if heap_bytes(v) > 0:
            return v
    except ValueError:
        pass
    raise argparse.ArgumentTypeError("a size such as 64k, 512k or 4m, not %r" % v)


def add_arguments(p):
    from host.vboard import boards

    p.add_argument("--board", default="sim", choices=boards(),
                   help="boards/<board>/board.json for heap and flash sizes (default sim)")
    p.add_argument("--image", default=None, help="flash image file (default var/vboard/<board>/flash.img)")
    p.add_argument("--state", default=None, help="state folder (default var/vboard/<board>)")
    p.add_argument("--heap", default="512k", type=_heap,
                   help="heap size, e.g. 64k or 512k (default 512k: the unix port keeps the loaded code "
                        "in RAM, which a board keeps in flash, so the board's own 64k would not hold the app)")
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
    p.add_argument("--bare", action="store_true",
                   help="do not flash boot.py, main.py, settings and CA bundle (with --fresh: an empty flash)")
    p.add_argument("--certs", default=".certs", help="the local test CA folder shared with `host serve` (default .certs)")


def rel(path):
    r = os.path.relpath(path)
    return r if not r.startswith("..") else path


# run on the board after the settings are in place: "modem" joins /config.json's hooks (after
# what is there) with the simulated modem's settings, unless the file names a modem already
MODEM_HOOK = """import json
with open('/config.json') as f:
    c = json.load(f)
if 'modem' not in c['hooks'] or not c.get('modem'):
    c['hooks'] = [h for h in c['hooks'] if h != 'modem'] + ['modem']
    c['modem'] = c.get('modem') or json.loads(%r)
    with open('/config.json', 'w') as f:
        json.dump(c, f)
"""


def flash(vb, args, state):
    """Put on the flash what `make deploy` puts on a real board; then power-cycle into main.py.
    Returns the CA file the board got, and whether a battery board's grace window held it awake."""
    import json
    import subprocess

    from host import cli_deploy
    from host.boardctl import BoardCtl, reboot

    work = os.path.join(state, "deploy")
    os.makedirs(work, exist_ok=True)
    lib, root_files = None, [os.path.join(cli_deploy.ROOT_DEVICE, n) for n in cli_deploy.KEEP_AS_SOURCE]
    if not args.frozen:  # the code goes to /lib as on a board without frozen modules
        _facts, lib, root_files = cli_deploy.build(args.board, os.path.join(work, "build"))
    settings = os.path.join(work, "settings")
    os.makedirs(settings, exist_ok=True)
    modem = getattr(args, "modem", False)
    files = cli_deploy.settings_template(dict(vb.facts, default_hooks=["wifi", "modem"]) if modem else vb.facts)
    local_ca = cli_deploy.for_virtual_board(files, args.certs)
    ca = cli_deploy.ca_bundle(work, local_ca=local_ca)
    for name, data in files.items():
        with open(os.path.join(settings, name), "w") as f:
            json.dump(data, f, indent=1)
    cmd = cli_deploy.mpremote_args(vb.pty, lib, root_files, settings, reset=False, ca=ca)
    if modem:  # settings kept from an earlier run get the modem too: --modem asks for it
        cmd += ["+", "exec", MODEM_HOOK % json.dumps(files["config.json"]["modem"])]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        raise SystemExit("sim: flashing the board failed:\n" + r.stdout + r.stderr)
    ctl = BoardCtl(vb.pty)
    reboot(ctl, vb)
    # a battery board ("background": "cycle") is kept awake by the boot probe's Ctrl-C
    held = "HELD True" in ctl.exec("print('HELD', app.background is None and "
                                   "app.cfg.get('background') == 'cycle')", show=False)
    return local_ca, held


def main(args):
    from host.modemsim import Modem
    from host.mpy import heap_bytes
    from host.vboard import ACCESS_POINT, BoardBusy, VirtualBoard, default_state_dir, mpremote_cmd

    state = os.path.abspath(args.state or default_state_dir(args.board))
    modem = None
    if args.modem:
        modem = Modem(sim=args.modem_sim, registration=args.modem_registration,
                      apns=(args.modem_apn,) if args.modem_apn else None,
                      link_file=os.path.join(state, "link"))
    try:
        vb = VirtualBoard(args.board, state_dir=state, image=args.image, link=args.link == "up",
                          heap=heap_bytes(args.heap), frozen=args.frozen,
                          modem=modem, fresh=args.fresh, strict_link=args.strict_link)
    except BoardBusy as e:
        print("sim: %s" % e, file=sys.stderr)
        return 1
    vb.start()
    local_ca, held = None, False
    if not args.bare:
        try:
            local_ca, held = flash(vb, args, state)
        except BaseException:
            vb.stop()
            raise
    f = vb.facts
    mpr = rel(mpremote_cmd())
    state_opt = "" if args.board == "sim" and not args.state else " --state %s" % rel(state)
    link_cmd = "python -m host link up|down" + state_opt
    print("smtpmtm virtual board %r: MicroPython unix port, heap %d KB, %s flash %d KB in %s"
          % (args.board, vb.heap // 1024, f.get("fs", "littlefs2"), vb.block_size * vb.block_count // 1024,
             rel(vb.image)))
    print("  serial port : %s" % vb.pty)
    if local_ca:
        py = rel(sys.executable)
        print("  flash       : boot.py, main.py, config.json, wifi.json (access point %r),"
              % ACCESS_POINT["ssid"])
        print("                /certs/ca.pem (mail providers' roots + the local test CA %s)" % rel(local_ca))
        print("Next, each in a terminal of its own (this one keeps the board running):")
        print("  1. %s -m host serve --user ann:secret%s" % (
            py, "" if args.certs == ".certs" else " --certs %s" % args.certs))
        print("       the local SMTP server on 127.0.0.1:2525; it uses the CA the board already trusts")
        print("  2. %s connect %s" % (mpr, vb.pty))
        print("       the board's REPL (Ctrl-] leaves); help() lists the commands; type:")
        print("       account(server='localhost', port=2525, tls='starttls', user='ann', password='secret', "
              "email='pump@example.com')")
        print("       queue('ann@example.com', 'Hello', 'from the virtual board')")
        print("  3. %s -m host link up%s" % (py, state_opt))
        print("       the Wi-Fi finds 'vboard-ap', the Outbox goes out: the message lands in mail/new")
    else:
        print("  connect     : %s connect %s            (REPL; Ctrl-] or Ctrl-x leaves)" % (mpr, vb.pty))
        print("  deploy      : python -m host deploy --board %s --port %s%s" % (
            args.board, vb.pty, "" if args.board == "sim" else " --virtual"))
        print("  wifi        : access point %r, password %r (deploy writes them to /wifi.json where it has none)"
              % (ACCESS_POINT["ssid"], ACCESS_POINT["password"]))
    if held:
        print("  battery     : /config.json has \"background\": \"cycle\"; held awake at the REPL in its")
        print("                grace window, the engine stopped: cycle() or send() by hand, or")
        print("                machine.deepsleep(1) to let it cycle by itself (README \"Battery boards\")")
    print("  link        : %s   (now %s)" % (link_cmd, args.link))
    if modem:
        print("  modem       : %s on machine.UART(1), after the Wi-Fi in /config.json's hooks: send() dials it"
              % modem.pty)
        print("                when the Wi-Fi cannot come up: `python -m host link up --wifi off` leaves only the")
        print("                cellular coverage (AT commands: picocom %s to type them)" % modem.pty)
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
