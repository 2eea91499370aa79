"""`python -m host deploy --board x --port P`: compile for the board and copy it with mpremote.

What a board gets (``make deploy BOARD=x PORT=/dev/ttyUSB0``):

- every module of shared/ and device/ compiled by mpy-cross for the board's
  architecture (boards/<board>/board.json ``mpy_arch``: xtensawin for ESP32 and
  ESP32-S3, armv6m for RP2040, plain bytecode for the virtual board) into
  /lib (the package smtpmtm in /lib/smtpmtm/),
- boot.py and main.py as source at / (the firmware runs them from there),
- a settings template, only where the board has none yet (never overwrites a
  person's settings): /config.json (connect hooks and modem pins from the
  board's facts) and, for Wi-Fi boards, /wifi.json with placeholders,
- /certs/ca.pem: the CA bundle of host/cabundle.py (the roots the big mail
  providers chain to), the default CA file of device/smtpmtm_board/net.py and umail.

It is one mpremote session: ``connect P exec <mkdirs> + fs cp ... + soft-reset``.
``--dry-run`` prints the mpremote command instead. Works the same on the
virtual board's pty (``python -m host sim`` prints the command).
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

HELP = "compile for a board (its mpy arch) and copy code + a settings template with mpremote"

KEEP_AS_SOURCE = ("boot.py", "main.py")
ROOT_DEVICE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "device")


def add_arguments(p):
    from host.vboard import boards

    p.add_argument("--board", default="sim", choices=boards(), help="boards/<board>/board.json (default sim)")
    p.add_argument("--port", required=True, help="serial port of the board, e.g. /dev/ttyUSB0 or the sim's /dev/pts/N")
    p.add_argument("--out", default=None, help="build folder (default build/deploy/<board>)")
    p.add_argument("--no-settings", action="store_true", help="do not copy the settings template")
    p.add_argument("--no-reset", action="store_true", help="do not soft-reset the board at the end")
    p.add_argument("--dry-run", action="store_true", help="print the mpremote command instead of running it")
    p.add_argument("--virtual", action="store_true",
                   help="the target is the virtual board (`host sim`; implied by --board sim): its access "
                        "point in wifi.json, no NTP, and the local test CA of --certs beside the providers' roots")
    p.add_argument("--certs", default=".certs",
                   help="with --virtual: the local test CA folder shared with `host serve` (default .certs)")


# what the virtual board (host sim) gets beyond a real board's template: no internet for NTP;
# rejoin the access point soon after the link comes up
VIRTUAL_SETTINGS = {"ntp": None, "wifi_retry_s": 2}


def for_virtual_board(files, certs_dir):
    """Make a settings template the virtual board's: its access point (host.vboard.ACCESS_POINT)
    in wifi.json, VIRTUAL_SETTINGS; returns the local test CA file (host serve's, made on first
    use) for the bundle, so the board trusts the local server."""
    from host.testca import load_or_make_certs
    from host.vboard import ACCESS_POINT

    files["config.json"].update(VIRTUAL_SETTINGS)
    if "wifi.json" in files:
        files["wifi.json"] = dict(ACCESS_POINT)
    return load_or_make_certs(certs_dir)[0].ca


def settings_template(facts):
    """The /config.json and /wifi.json a fresh board starts from (the keys of device/smtpmtm_board/app.py)."""
    hooks = list(facts.get("default_hooks") or facts.get("connect_hooks") or ["wifi"])
    pins = facts.get("pins") or {}
    cfg = {"store": "/store", "hooks": hooks, "ntp": "pool.ntp.org", "wdt_ms": 0, "take_down": False,
           "hostname": "smtpmtm", "tz_minutes": 0, "wifi_file": "/wifi.json", "background": "auto",
           "keep_sent": 20, "keep_deleted": 0, "keep_failed": 50}
    if "modem" in hooks:
        cfg["modem"] = {"uart": pins.get("modem_uart"), "baud": pins.get("modem_baudrate") or 115200,
                        "tx": pins.get("modem_tx"), "rx": pins.get("modem_rx"), "apn": "internet",
                        "pin": None, "user": None, "password": None}
    files = {"config.json": cfg}
    if "wifi" in hooks:
        files["wifi.json"] = {"ssid": "your-network", "password": "your-wifi-password"}
    return files


def build(board, out=None):
    """Compile shared/ and device/ for the board; returns (out_dir, lib_files, root_files)."""
    from host import mpytable
    from host.mpy import ROOT
    from host.vboard import board_facts

    facts = board_facts(board)
    out = out or os.path.join(ROOT, "build", "deploy", board)
    lib = os.path.join(out, "lib")
    shutil.rmtree(lib, ignore_errors=True)  # no stale module of an earlier build
    mpytable.compile_all(facts.get("mpy_arch") or None, lib)
    root_files = []
    for name in KEEP_AS_SOURCE:
        mpy = os.path.join(lib, name[:-3] + ".mpy")
        if os.path.exists(mpy):
            os.remove(mpy)
        src = os.path.join(ROOT, "device", name)
        if os.path.exists(src):
            root_files.append(src)
    return facts, lib, root_files


def mpremote_args(port, lib, root_files, settings_dir=None, reset=True, ca=None):
    """One mpremote command line doing the whole copy (lib None: no code to /lib, as for a
    board whose firmware has it frozen; ca: the bundle for /certs/ca.pem)."""
    from host.vboard import mpremote_cmd

    dirs = {"/lib"} | ({"/certs"} if ca else set())
    if lib:
        dirs |= {"/lib/" + os.path.relpath(d, lib) for d, _, _ in os.walk(lib) if d != lib}
    mk = ("import os\nfor d in %r:\n    try:\n        os.mkdir(d)\n    except OSError:\n        pass\n"
          % sorted(dirs))
    cmd = [mpremote_cmd(), "connect", port, "exec", mk]
    if ca:
        cmd += ["+", "fs", "cp", ca, ":/certs/ca.pem"]
    top = sorted(os.listdir(lib)) if lib else []
    files = [os.path.join(lib, n) for n in top if n.endswith(".mpy")]
    if files:
        cmd += ["+", "fs", "cp"] + files + [":/lib/"]
    for n in top:
        if os.path.isdir(os.path.join(lib, n)):
            cmd += ["+", "fs", "cp", "-r", os.path.join(lib, n), ":/lib/"]
    if root_files:
        cmd += ["+", "fs", "cp"] + root_files + [":/"]
    if settings_dir:
        names = sorted(os.listdir(settings_dir))
        tmpl = [os.path.join(settings_dir, n) for n in names]
        cmd += ["+", "fs", "cp"] + tmpl + [":/lib/"]
        # a template becomes the settings file only where the board has none (a person's settings stay)
        code = ("import os\nhave = os.listdir('/')\nfor n in %r:\n"
                "    if n in have:\n        os.remove('/lib/' + n)\n        print('kept /' + n)\n"
                "    else:\n        os.rename('/lib/' + n, '/' + n)\n        print('new /' + n)\n" % names)
        cmd += ["+", "exec", code]
    if reset:
        cmd += ["+", "soft-reset"]
    return cmd


def ca_bundle(out, local_ca=None):
    """Build the board's CA bundle into out/ca.pem (host/cabundle.py); returns its path."""
    from host import cabundle

    path = os.path.join(out, "ca.pem")
    cabundle.write(path, local_ca=local_ca)
    return path


def main(args):
    facts, lib, root_files = build(args.board, args.out)
    files = settings_template(facts)
    # `host sim --bare` then this: the local server's CA was missing (tls-unknown-ca at test())
    local_ca = for_virtual_board(files, args.certs) if args.virtual or args.board == "sim" else None
    ca = ca_bundle(os.path.dirname(lib), local_ca=local_ca)
    settings_dir = None
    if not args.no_settings:
        settings_dir = tempfile.mkdtemp(prefix="smtpmtm-settings-")
        for name, data in files.items():
            with open(os.path.join(settings_dir, name), "w") as f:
                json.dump(data, f, indent=1)
    cmd = mpremote_args(args.port, lib, root_files, settings_dir, reset=not args.no_reset, ca=ca)
    total = sum(os.path.getsize(os.path.join(d, n)) for d, _, ns in os.walk(lib) for n in ns)
    print("deploy %s (mpy arch %s): %d bytes of .mpy from %s, boot.py/main.py, settings template %s, "
          "CA bundle %d bytes%s" % (args.board, facts.get("mpy_arch") or "bytecode", total, os.path.relpath(lib),
                                    "no" if args.no_settings else "where missing", os.path.getsize(ca),
                                    " (+ the local test CA %s)" % os.path.relpath(local_ca) if local_ca else ""))
    if args.dry_run:
        print(" ".join(repr(c) if (" " in c or "\n" in c) else c for c in cmd))
        return 0
    if args.port.startswith("/dev/") and not os.path.exists(args.port):  # mpremote: "may be in use"
        print("deploy: no serial port %s: is the board plugged in? `mpremote devs` lists the ports "
              "(PORT=... picks one; `make sim` prints the virtual board's)" % args.port, file=sys.stderr)
        return 1
    r = subprocess.run(cmd)
    if r.returncode == 0:
        print("done. Next: mpremote connect %s repl, then set the account at the REPL "
              "(help() lists the commands)." % args.port)
    return r.returncode


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=HELP)
    add_arguments(ap)
    sys.exit(main(ap.parse_args()))
