"""``python -m host serve``: run the local test SMTP server (host/server.py) until Ctrl-C.

    python -m host serve [--mode starttls|implicit|plain] [--port 2525] [--maildir mail]
        [--certs DIR] [--user NAME:PASSWORD ...] [--require-auth] [--size BYTES]
        [--no-chunking] [--fault COMMAND=ACTION ...]

TLS modes use the test CA and server certificates in --certs (default .certs),
made at the first start and kept after (a board's copy stays valid; ``host sim``
puts the same CA on the virtual board), and print the CA path to pass to
``send --cafile``. A --maildir whose parent folder is missing is refused with one line. Messages are
written to the --maildir folder (new/ holds one readable file per message).
Faults script the server's answers, e.g. ``--fault "RCPT=550 5.1.1 no"``,
``--fault DATA=drop``, ``--fault DOT=stall``, ``--fault STARTTLS=inject``.
"""

import os
import sys
import threading

HELP = "run the local SMTP test server (STARTTLS/TLS/plain, AUTH, faults, maildir)"


FAULT_KEYS = ("GREETING", "EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT", "DOT",
              "RSET", "QUIT")


def _port(v):
    """--port: 0 (any free port) to 65535, else argparse's one-line usage error."""
    import argparse

    if not v.isdigit() or int(v) > 65535:
        raise argparse.ArgumentTypeError("0 to 65535, not %r" % v)
    return int(v)


def fault(spec):
    """(key, action) of a --fault COMMAND=ACTION as host/server.py reads it, or ValueError
    naming what is wrong: an unknown command or action was taken silently before (the
    server then sent "bogus" as its reply)."""
    key, sep, action = spec.partition("=")
    verb, _, addr = key.strip().partition(" ")
    verb, addr, action = verb.upper(), addr.strip().lower(), action.strip()
    if not sep or verb not in FAULT_KEYS or (addr and verb != "RCPT"):
        raise ValueError("--fault wants COMMAND=ACTION, COMMAND one of %s or 'RCPT <address>', not %r"
                         % (", ".join(FAULT_KEYS), spec))
    reply = action[:3].isdigit() and action[:1] in "2345" and action[3:4] in ("", " ")
    if not (reply or action in ("drop", "stall") or (verb == "STARTTLS" and action in ("inject", "cut"))):
        raise ValueError("--fault %s: the action is a reply ('550 5.1.1 no such user'), drop or stall "
                         "(STARTTLS also inject, cut), not %r" % (key, action))
    return (verb + " " + addr if addr else verb), action


def add_arguments(p):
    p.add_argument("--mode", choices=("starttls", "implicit", "plain"), default="starttls")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=_port, default=2525)
    p.add_argument("--maildir", default="mail")
    p.add_argument("--certs", default=".certs", help="folder for the generated test CA")
    p.add_argument("--user", action="append", default=[], metavar="NAME:PASSWORD")
    p.add_argument("--require-auth", action="store_true")
    p.add_argument("--size", type=int, default=33554432, help="SIZE limit in bytes (0 = none)")
    p.add_argument("--no-chunking", action="store_true", help="do not offer CHUNKING/BDAT")
    p.add_argument("--fault", action="append", default=[], metavar="COMMAND=ACTION")


def _show(msg):
    print("received %d bytes from <%s> to %s via %s%s%s -> %s" % (
        len(msg.data), msg.mail_from, ", ".join("<%s>" % r for r in msg.rcpt_tos), msg.via,
        " over TLS" if msg.tls else "", " as " + msg.user if msg.user else "", msg.path),
        flush=True)


def main(args, ready=None, stop=None):
    from host.server import SmtpServer
    from host.testca import load_or_make_certs

    users = {}
    for spec in args.user:
        name, sep, pw = spec.partition(":")
        if not sep:
            print("serve: --user wants NAME:PASSWORD", file=sys.stderr)
            return 2
        users[name] = pw
    faults = {}
    for spec in args.fault:
        try:
            key, action = fault(spec)
        except ValueError as e:
            print("serve: %s" % e, file=sys.stderr)
            return 2
        faults[key] = action
    if args.size < 0:
        print("serve: --size: bytes, 0 (no limit) or more, not %d" % args.size, file=sys.stderr)
        return 2
    parent = os.path.dirname(os.path.abspath(args.maildir))
    if not os.path.isdir(parent):
        print("serve: --maildir %s: the folder %s does not exist (create it, or pick another)"
              % (args.maildir, parent), file=sys.stderr)
        return 2
    certs, made = load_or_make_certs(args.certs) if args.mode != "plain" else (None, False)
    srv = SmtpServer(mode=args.mode, certs=certs, users=users, require_auth=args.require_auth,
                     size_limit=args.size, chunking=not args.no_chunking, faults=faults,
                     maildir=args.maildir, host=args.host, port=args.port, on_message=_show)
    try:
        srv.start()
    except OSError as e:
        print("serve: cannot listen on %s:%d: %s" % (args.host, args.port, e), file=sys.stderr)
        return 5
    print("listening on %s:%d (%s)%s; messages in %s/new" % (
        args.host, srv.port, args.mode,
        ("; CA %s (%s)" % (certs.ca, "new" if made else "the same as before: boards keep trusting it"))
        if certs else "", args.maildir), flush=True)
    if ready is not None:
        ready(srv)
    try:
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        srv.stop()
    return 0
