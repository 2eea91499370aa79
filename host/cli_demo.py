"""`python -m host demo` (make demo): the main job, end to end, as a person would do it.

1. starts the local SMTP server (aiosmtpd, STARTTLS + AUTH, a test CA made now);
2. starts the virtual board (MicroPython unix port, littlefs2 flash image at /,
   the project "frozen" in its ROM) with its link DOWN;
3. copies the firmware's boot.py/main.py, config, Wi-Fi credentials and the CA
   onto the flash with ``mpremote fs cp``, and power-cycles the board;
4. at the REPL (``mpremote resume exec``): sets the account, writes a sensor log
   on the flash, queues a message with it attached, lists the outbox;
5. brings the simulated Wi-Fi link up and shows the progress until the outbox
   is empty and Sent holds the message;
6. prints where the delivered message can be read and checks it part by part.

Everything lives in var/demo/ (kept afterwards, so the mail can be read).
Exits 0 when the message arrived intact.
"""

import email
import email.policy
import logging
import os
import shutil
import sys
import time

HELP = "the main job: local SMTP server + virtual board; a message queued at the REPL and sent"

USER, PASSWORD = "pump", "demo-secret"


def add_arguments(p):
    p.add_argument("--dir", default=None, help="working folder (default var/demo)")
    p.add_argument("--rows", type=int, default=2000, help="rows in the sensor log attached (default 2000)")


def say(text=""):
    print(text, flush=True)


def step(n, text):
    say("\n== %d. %s" % (n, text))


def csv_rows(rows):
    return "".join("2026-11-28T%02d:%02d:00,%.1f,%.2f\n" % (i // 60 % 24, i % 60, 3.0 + (i % 17) / 10,
                                                            12.0 + (i % 7) / 100) for i in range(rows))


def main(args):
    from host import mpy
    from host.boardctl import BoardCtl, install_firmware, outbox_and_sent, set_account
    from host.server import SmtpServer
    from host.testca import make_certs
    from host.vboard import VirtualBoard

    logging.getLogger("mail.log").setLevel(logging.ERROR)  # aiosmtpd's own deprecation chatter
    work = os.path.abspath(args.dir or os.path.join(mpy.ROOT, "var", "demo"))
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    log_text = csv_rows(args.rows)

    step(1, "local SMTP server (aiosmtpd): STARTTLS + AUTH, test CA generated now")
    certs = make_certs(os.path.join(work, "certs"))
    maildir = os.path.join(work, "mail")
    srv = SmtpServer(mode="starttls", certs=certs, users={USER: PASSWORD}, require_auth=True,
                     maildir=maildir).start()
    say("listening on 127.0.0.1:%d, certificate for localhost signed by %s" % (srv.port, certs.ca))
    vb = None
    try:
        step(2, "virtual board: MicroPython unix port, littlefs2 flash image, link down")
        vb = VirtualBoard("sim", state_dir=os.path.join(work, "board"), heap=512 * 1024, frozen=True,
                          fresh=True, link=False).start()
        say("serial port %s (try: mpremote connect %s)" % (vb.pty, vb.pty))
        ctl = BoardCtl(vb.pty, echo=say)

        step(3, "copy the firmware and its settings onto the flash, then power-cycle")
        install_firmware(ctl, vb, work, certs.ca)
        say("booted: main.py opened the store and started the send engine")

        step(4, "at the REPL: account, a sensor log on the flash, queue a message with it")
        set_account(ctl, srv.port, USER, PASSWORD)
        # the virtual board runs the engine in a thread: flash writes at the REPL hold app.lock
        ctl.exec("with app.lock:\n with open('/pressure.csv', 'w') as f:\n  f.write(%r)" % log_text,
                 show=False)
        say(">>> # (wrote /pressure.csv on the flash: %d rows, %d bytes)" % (args.rows, len(log_text)))
        out = ctl.exec("mid = queue('ann@example.com', 'Pump house: daily report \u2713', "
                       "'Pressure log attached. Tank level normal.', attach=['/pressure.csv']); print(mid)")
        if not out.strip().isdigit():  # queue() returns the id (the REPL would echo it)
            raise SystemExit("demo: queueing failed:\n" + out)
        ctl.exec("outbox()")

        step(5, "bring the Wi-Fi link up: the outbox goes out (send on next connection)")
        say("$ python -m host link up")
        vb.set_link(True)
        seen = set()
        deadline = time.time() + 120
        done = False
        while time.time() < deadline and not done:
            out = ctl.exec("progress()", show=False).strip()
            if out and out not in seen and out != "no send yet":  # polled before the engine began
                seen.add(out)
                say(out)
            # the message is in Sent before the session's QUIT; the progress says "done" after it
            done = "done:" in out and outbox_and_sent(ctl) == (0, 1)
            time.sleep(0.2)
        ctl.exec("sent(); status()")
        if not done:
            ctl.exec("log()")
            raise SystemExit("demo: the message did not go out")

        step(6, "what the server received")
        msg = srv.wait_messages(1)[0]
        parsed = email.message_from_bytes(msg.data, policy=email.policy.default)
        att = [p for p in parsed.walk() if p.get_filename() == "pressure.csv"]
        say("delivered over %s, %s, AUTH as %r, %d bytes, via %s" % (
            "TLS" if msg.tls else "plaintext", "verified certificate", msg.user, len(msg.data), msg.via))
        say("saved to %s" % os.path.relpath(msg.path))
        say("  From: %s\n  To: %s\n  Subject: %s\n  Message-ID: %s\n  Date: %s" % (
            parsed["From"], parsed["To"], parsed["Subject"], parsed["Message-ID"], parsed["Date"]))
        ok = bool(att) and att[0].get_content().replace("\r\n", "\n") == log_text
        say("  attachment pressure.csv: %s" % ("identical to the file on the board's flash" if ok
                                               else "MISSING OR DIFFERENT"))
        say("\nRead it: less %s" % os.path.relpath(msg.path))
        return 0 if ok else 1
    finally:
        if vb is not None:
            vb.stop()
        srv.stop()
