"""``python -m host send``: send one message through the core (mime + Session) from CPython.

    python -m host send --host H --port P (--tls|--starttls|--plain) [--cafile F]
        [--user U --password W] --from A --to B [--to ...] [--cc ...] [--bcc ...]
        --subject S (--body TEXT | --body-file F) [--html-file F] [--attach FILE ...]
        [--inline CID=FILE ...] [--timeout S]

The password may come from the environment variable SMTPMTM_PASSWORD instead
of --password. Certificates are always verified (--cafile adds a CA, e.g. a test CA). --plain
sends without TLS and is the only way to do so (allow_plaintext). Bcc
recipients get the message but no Bcc header is written.

Exit status: 0 the server accepted the message for every recipient; 1 refused
(5xx/4xx) or protocol error; 3 accepted for only some recipients; 4 TLS failed
(the code says why: tls-not-offered, tls-unknown-ca, ...); 5 connection lost,
timeout; 6 bad input. Any non-zero status prints exactly one line on stderr:
``send: <code>: <reason>``.

``deliver(...)`` is the same as a function, for tests and the benchmark.
"""

import os
import socket
import sys
import time

HOST_BDAT_SIZE = 32768

HELP = "send one message through the core to an SMTP server"

EXIT = {"ok": 0, "refused": 1, "partial": 3, "tls": 4, "connection": 5, "input": 6}


def add_arguments(p):
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--tls", dest="mode", action="store_const", const="implicit",
                      help="implicit TLS from the first byte (port 465)")
    mode.add_argument("--starttls", dest="mode", action="store_const", const="starttls",
                      help="plain connect then STARTTLS (port 587); fails closed")
    mode.add_argument("--plain", dest="mode", action="store_const", const="plain",
                      help="no TLS at all (explicitly allowed plaintext)")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cafile", help="PEM file of CA certificates to trust (instead of the system store)")
    p.add_argument("--server-name", help="TLS server name to verify (default: --host)")
    p.add_argument("--user")
    p.add_argument("--password", help="or set SMTPMTM_PASSWORD (keeps it out of the process list)")
    p.add_argument("--from", dest="sender", required=True)
    p.add_argument("--to", action="append", default=[])
    p.add_argument("--cc", action="append", default=[])
    p.add_argument("--bcc", action="append", default=[])
    p.add_argument("--subject", required=True)
    body = p.add_mutually_exclusive_group(required=True)
    body.add_argument("--body")
    body.add_argument("--body-file")
    p.add_argument("--html-file")
    p.add_argument("--attach", action="append", default=[], metavar="FILE")
    p.add_argument("--inline", action="append", default=[], metavar="CID=FILE",
                   help="an inline image referenced from the HTML as cid:CID")
    p.add_argument("--timeout", type=_whole_seconds, default=60, help="whole seconds per command")


def _whole_seconds(v):
    """--timeout: a whole number of seconds, 1 or more (argparse's one-line usage error, not
    the traceback socket.settimeout(-1) gave)."""
    import argparse

    from smtpmtm.errors import InputError, whole

    try:
        n = int(v)
    except ValueError:
        n = v
    try:
        return whole("--timeout", n, 1, "whole seconds")
    except InputError as e:  # argparse names the argument itself
        raise argparse.ArgumentTypeError(str(e).split(": ", 1)[1])


def make_message(sender, to=(), cc=(), bcc=(), subject="", body=None, body_file=None,
                 html_file=None, attach=(), inline=(), date=None, message_id=None):
    from smtpmtm import mime

    m = mime.Message(sender=sender, to=list(to), cc=list(cc), bcc=list(bcc), subject=subject,
                     date=int(time.time()) if date is None else date, message_id=message_id)
    if body_file:
        m.set_text(path=body_file)
    else:
        m.set_text(body if body is not None else "")
    if html_file:
        m.set_html(path=html_file)
    for spec in inline:
        cid, _, path = spec.partition("=")
        m.attach(path, inline_cid=cid)
    for path in attach:
        m.attach(path)
    return m


def deliver(host, port, mode, message, cafile=None, user=None, password=None,
            server_name=None, timeout=60, connect=None, allow_plaintext=None):
    """Send a mime.Message; returns Session.send_message's result dict. Raises SmtpMtmError.

    mode: "implicit", "starttls" or "plain"; plaintext is allowed only in mode "plain"
    unless allow_plaintext says otherwise (False: a plain stream that must refuse).
    """
    from smtpmtm import mime, syntax
    from smtpmtm.wire.session import Session
    from host import net

    built = mime.build(message)  # bad input fails here, before any connection
    rcpts = message.recipients()
    mail_from = syntax.parse_address(message.sender)[1] if isinstance(message.sender, str) \
        else message.sender[1]
    stream = (connect or net.connect)(host, port, tls=mode, cafile=cafile,
                                      server_hostname=server_name or host, timeout=timeout)
    # a host has RAM to spare: BDAT chunks of 32 KiB (a board keeps the 4 KiB default),
    # so the server answers 16 times fewer commands; memory stays flat all the same
    # the core's clock is whole seconds as an int (its contract on every port)
    s = Session(stream, lambda: int(time.monotonic()), hostname=_helo_name(),
                timeouts=_timeouts(timeout),
                allow_plaintext=(mode == "plain") if allow_plaintext is None else allow_plaintext,
                bdat_size=HOST_BDAT_SIZE)
    try:
        s.open()
        if mode == "starttls":
            s.starttls(server_name or host)
        if user:
            s.login(user, password or "")
        result = s.send_message(mail_from, rcpts, built.chunks(), built.size,
                                needs_8bit=built.needs_8bit, needs_smtputf8=built.needs_smtputf8)
        try:
            s.quit()
        except Exception:  # the message is accepted; a failed QUIT changes nothing
            pass
        return result
    finally:
        s.close()


def _timeouts(seconds):
    """Every per-command deadline of the protocol (smtp.TIMEOUTS) set to ``seconds``."""
    from smtpmtm.wire.smtp import TIMEOUTS

    return {k: int(seconds) for k in TIMEOUTS}  # the core counts whole seconds


def _helo_name():
    name = socket.gethostname() or "localhost"
    return name if all(c.isalnum() or c in ".-" for c in name) else "localhost"


def classify(exc):
    """(exit kind, code) for an exception from deliver()."""
    from smtpmtm.errors import ConnectionLost, InputError, TlsError, Timeout

    if isinstance(exc, TlsError):
        return "tls", exc.code
    if isinstance(exc, (ConnectionLost, Timeout)):
        return "connection", exc.code
    if isinstance(exc, InputError):
        return "input", exc.code
    return "refused", getattr(exc, "code", "error")


def _one_line(text):
    return " ".join(str(text).split())


def main(args):
    from smtpmtm.errors import SmtpMtmError

    if not (args.to or args.cc or args.bcc):
        print("send: input: give at least one --to, --cc or --bcc", file=sys.stderr)
        return EXIT["input"]
    for spec in args.inline:
        cid, _, path = spec.partition("=")
        if not (cid and path):
            print("send: input: --inline wants CID=FILE (the HTML shows it as cid:CID), not %r" % spec,
                  file=sys.stderr)
            return EXIT["input"]
    try:
        msg = make_message(args.sender, args.to, args.cc, args.bcc, args.subject, args.body,
                           args.body_file, args.html_file, args.attach, args.inline)
        password = args.password
        if password is None:
            password = os.environ.get("SMTPMTM_PASSWORD")
        r = deliver(args.host, args.port, args.mode, msg, cafile=args.cafile, user=args.user,
                    password=password, server_name=args.server_name, timeout=args.timeout)
    except SmtpMtmError as e:
        kind, code = classify(e)
        hint = ""
        if code == "tls-handshake" and args.mode == "implicit":
            hint = "; is it a STARTTLS port (587, 25)? try --starttls"
        elif code == "timeout" and "the greeting" in str(e) and args.mode != "implicit":
            hint = "; an implicit-TLS port (465) greets only after TLS: try --tls"
        print("send: %s: %s%s" % (code, _one_line(e), hint), file=sys.stderr)
        return EXIT[kind]
    except OSError as e:
        print("send: connection: %s" % _one_line(e), file=sys.stderr)
        return EXIT["connection"]
    if r["refused"]:
        refused = "; ".join("%s (%s)" % (a, _one_line(" ".join(str(x) for x in v if x)))
                            for a, v in r["refused"].items())
        print("send: partial: accepted for %d of %d recipients; refused: %s"
              % (len(r["accepted"]), len(r["accepted"]) + len(r["refused"]), refused),
              file=sys.stderr)
        return EXIT["partial"]
    code, enhanced, text = r["reply"]
    print("sent: %d %s" % (code, _one_line(text)))
    return EXIT["ok"]
