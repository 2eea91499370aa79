"""REPL commands and the board App on the MicroPython unix port, against aiosmtpd (STARTTLS + AUTH).

Host-only: starts the local SMTP server and the test CA, runs
tests/mpy/device_repl_flow.py in a MicroPython subprocess (heap as a mid-size
board) and checks what the commands printed and what the server received.
"""

import os
import sys
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PASSWORD, USER, certs, marks, mpy_path, mpy_script, smtp_server  # noqa: E402,F401
from host import mpy  # noqa: E402

# As on a board, the code runs precompiled (.mpy bytecode, mpy-cross). Loaded from
# .mpy files (not frozen) the bytecode itself lives in the heap: App + REPL + sender
# + MIME + Session + net (+ OAuth, housekeeping) measure about 250 KB that way, hence
# 448 KB here, leaving a wide margin (at 90% of 384 KB the 1 MB send ran short); frozen
# into firmware (boards/*/manifest.py) that part stays in flash.
HEAP = "448k"
ROOT_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(scenario, tmp_path, srv, certs, mpy_path, *more, heap=HEAP):
    """device_repl_flow.py SCENARIO DIR PORT CAFILE [more ...] -> (returncode, output, marks)."""
    args = [scenario, str(tmp_path), srv.port, certs.ca] + list(more)
    r = mpy.run(mpy_script("device_repl_flow.py"), args, heap=heap, timeout=120, path=mpy_path)
    out = r.stdout.decode() + r.stderr.decode()
    return r.returncode, out, marks(out)


def big_bin(data):
    """The decoded big.bin attachment of a received message (device_repl_flow.queue_log)."""
    import email

    return [p for p in email.message_from_bytes(data).walk() if p.get_filename() == "big.bin"][0].get_payload(
        decode=True)


def test_three_messages_sent_on_next_connection(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("outbox", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["outbox_before"] == "3", out  # nothing went out while the link was down
    assert m["outbox_after"] == "0" and m["sent_after"] == "3", out
    msgs = srv.wait_messages(3)
    assert sorted(len(x.rcpt_tos) for x in msgs) == [1, 1, 3]
    big = [x for x in msgs if b"Subject: Log" in x.data][0]
    assert big_bin(big.data) == bytes(range(256)) * 16 * 256
    assert "password" in out and "s3cret" not in out  # account() hides the password
    assert "link up" in out or "link wifi up" in out
    assert "send: 3 sent, 0 failed" in out
    assert int(m["wdt_feeds"]) > 200, out  # fed while the 1 MB attachment streamed, not once per step


def test_sent_and_deleted_are_kept_bounded(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("tidy", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert len(srv.wait_messages(4)) == 4
    assert m["sent_after_send"] == m["kept_expected"], out  # the two newest of four kept
    assert "tidy: 2 old messages purged" in out, out
    assert m["deleted_before"] == "1" and m["deleted_after"] == "0", out
    assert m["sent_after_zero"] == "0" and out.count("purged 1 old message\n") == 2, out
    assert m["tidy_default"] == m["tidy_zero"] == "None", out  # nothing for the REPL to echo
    assert m["outbox_after_zero"] == m["waiting_id"], out  # queued mail is never housekept
    assert m["outbox_after_reboot"] == "1", out
    # failed messages beyond config keep_failed (1 here) go, the oldest first: they stayed for
    # ever, so a board meeting a 5xx a day grew without end; the waiting one stays
    assert m["failed_left"] == m["failed_newest"] and m["outbox_left"] == "2", out
    assert "tidy: 2 old messages purged (Sent kept to 2, Deleted to 0, failed to 1)" in out, out


def test_failures_retry_suspend_rm(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", faults={"RCPT bad@example.com": "550 5.1.1 no such user"})
    rc, out, m = run("failures", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert "550 5.1.1 no such user" in out  # show() prints the recipient's reply
    # and, the message failed, how to send it again, with its id as every command prints it
    assert "what to do: the server refused every recipient: queue it again to a corrected " \
        "address" in out, out  # retry(id) would only be refused again
    assert m["after_retry_state"] == "2"  # waiting
    assert m["after_suspend_state"] == "6"  # suspended
    assert m["suspended_still_in_outbox"] == "True"
    assert m["outbox_after_rm"] == "0"
    assert "error (" in out  # the bad queue() calls print a one-line error
    assert "not an email address: 'ann@example.com; bob@example.com' (an address looks like " \
        "ann@example.com; separate addresses with commas); nothing was queued" in out, out
    assert m["bcc_only"] == "1", out
    assert m["outbox_after_bad_queues"] == "0" and m["drafts_after_bad_queues"] == "0", out
    # show()/rm() of the account's service id say what it is; rm() moved it to Deleted,
    # where housekeeping purged the account's entry
    assert "is not a message: it is an account's service (account() shows it); ls() lists " \
        "the messages" in out, out
    assert "has no part 'header'" not in out and m["service_parent_after_rm"] == "%d" % 0x1000, out
    assert len(srv.messages) == 1


def test_messages_a_short_run_left_untried_are_said_to_wait(smtp_server, certs, tmp_path, mpy_path):
    """Two linked files removed, a third message fine: after the second failure the run ends
    and the third waits for a retry time. send() said only 'sent 0, failed 2, deferred 0,
    suspended 0, held 0': the third was in no count and no 'waiting:' line said when."""
    srv = smtp_server("starttls")
    rc, out, m = run("notsent", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert "sent 0, failed 2, deferred 0, suspended 0, held 0, not sent 1" in out, out
    assert "waiting: 1, next try " in out and m["states"] == "7 7 2", out


def test_account_presets_clear_and_failures_say_what_to_do(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("account", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    # a preset without a password is saved, but nothing is queued that AUTH would only refuse
    assert "not ready to send yet: password: AUTH is on but no password" in out, out
    assert m["queue_without_password"] == "None", out
    # a server other than the provider's drops the provider's extras, and says so
    assert "provider 'gmail' cleared: its fallback ports, sending limits and OAuth2 endpoint " \
        "were for smtp.gmail.com" in out, out
    assert m["after_server"] == "- [] None ''", out
    assert m["own_limits"] == "- [] {'messages_per_hour': 5} ''", out
    assert m["after_none"] == "- [] None ''", out
    assert "error (settings): provider" not in out, out
    assert m["from_now"] == "pump2@example.com", out  # not the address the Client had cached
    # the account as tls= takes it, and the CA file a board uses without one
    assert "  tls                 starttls\n" in out and "starttls            True" not in out, out
    assert "  cafile              %s\n" % certs.ca in out, out
    # a wrong password: the advice is the account, not a bare retry
    assert "what to do: the login failed: fix the account's user and password (or OAuth2 " \
        "settings) with account(...), then retry(" in out, out
    # a deferred message: when it is tried again, never Symbian's "err -2"
    assert "err -2" not in out and "error -2" not in out, out
    line = [x for x in out.splitlines() if "no coverage" in x and "outbox" in x][0]
    assert " waiting " in line and " retry 20" in line, line
    assert "last try failed: log() says why" in out, out
    # the size column lines up under a subject with umlauts too (padded by characters)
    import re

    rows = [x for x in out.splitlines() if re.match(r"\d+ outbox ", x)]
    assert any("Grüße, Überdruck" in x for x in rows) and len(rows) >= 2, out
    assert len({re.search(r" +\d+B", x).end() for x in rows}) == 1, rows

    assert m["send_returns"] == "None" and "'round_trips'" not in out, out
    # a linked file gone by send time: put it back, not a bare retry that fails again
    assert "what to do: put the file it links back where it was (the error above names it), then retry(" \
        in out.split("MARK-FORWARDED")[0], out
    # forwarded as an attachment, the message that links it: the same advice (it said a bare
    # retry(id), which fails again)
    fwd = out.split("MARK-FORWARDED")[1].split("MARK-FORWARDED-END")[0]
    assert "cannot read file" in fwd and "log.csv" in fwd, fwd
    assert "what to do: put the file it links back where it was (the error above names it), then retry(" \
        in fwd, fwd
    # sent while the job is still finishing: shown as sent, not "sending"
    line = [x for x in out.splitlines() if "no coverage" in x and x.split()[1] == "sent"][-1]
    assert " sent " in line.split("sent", 1)[1][:12] and "sending" not in line, line
    assert len(srv.wait_messages(2)) == 2  # the one that waited for coverage, the umlauts


def test_a_tls_mode_that_does_not_match_the_port_gets_a_hint(smtp_server, certs, tmp_path,
                                                             mpy_path):
    import socket
    import threading

    srv = smtp_server("starttls", require_auth=True)
    # an implicit-TLS port, as a STARTTLS client meets it: no greeting, and in the end it gives
    # up on a client that never starts TLS and closes (here at once, not after its timeout)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)

    def close_unheard():
        c, _ = silent.accept()
        c.close()

    t = threading.Thread(target=close_unheard, daemon=True)
    t.start()
    try:
        rc, out, m = run("tlsmode", tmp_path, srv, certs, mpy_path, silent.getsockname()[1])
    finally:
        silent.close()
    assert rc == 0 and m["implicit_on_starttls"] == m["starttls_on_implicit"] == "False", out
    assert "failed at tcp: error (tls-handshake)" in out and "hint: the server answered in plain " \
        "text, as a STARTTLS port (587) does: account(tls='starttls')?" in out, out
    assert "failed at greeting: error (connection-lost)" in out and "hint: no greeting came: an " \
        "implicit-TLS port (465) waits for TLS first: account(tls='implicit')?" in out, out


def test_connection_test_command(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("test", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["test"] == "True" and m["test_wrong_password"] == "False", out
    assert "tls     ok" in out and "auth    ok" in out and "failed at auth" in out


def test_a_certificate_that_does_not_verify_leaves_the_outbox_waiting_and_says_so(
        smtp_server, certs, tmp_path, mpy_path):
    """The board's REPL after send() to a server whose certificate is from a CA the board
    does not trust (an intercepting proxy, a CA file without the server's root): nothing
    sent, both messages wait (failed before: retry() each by hand), and send(), show(id),
    status() and log() say TLS verification failed, the code, the reason, when it goes
    again and what to check. Then the fix (a server that verifies) and send(): both go."""
    bad = smtp_server("starttls", require_auth=True, cert_case="unknown-ca")
    good = smtp_server("starttls", require_auth=True)
    rc, out, m = run("tls", tmp_path, bad, certs, mpy_path, good.port)
    assert rc == 0, out
    assert m["states"] == "waiting,waiting" and m["attempts"] == "1,1", out
    assert m["attempts_after_rejoins"] == "1,1", out  # three rejoins spent no attempt
    assert bad.leaked() == [] and bad.messages == []
    sent, show, status, log, fix = (out.split("MARK-SEND")[1].split("MARK-SHOW")[0],
                                    out.split("MARK-SHOW")[1].split("MARK-STATUS")[0],
                                    out.split("MARK-STATUS")[1].split("MARK-LOG")[0],
                                    out.split("MARK-LOG")[1].split("MARK-FIX")[0],
                                    out.split("MARK-FIX")[1])
    # send(): the counts, the reason, when they go again, what to check
    assert "0 sent, 0 failed, 2 deferred of 2 (tls-unknown-ca)" in sent, sent
    assert "why: TLS certificate check failed for localhost" in sent, sent
    of = "attempt 2 of %s" % m["max_attempts"]
    assert "waiting: 2, next try 20" in sent and ", " + of in sent, sent
    assert "TLS verification failed (tls-unknown-ca): nothing was sent; tried again later" in sent, sent
    assert "check the CA file (/certs/ca.pem, account(cafile=))" in sent, sent
    # show(id): state, the noted error with its reason, and the same advice
    assert "waiting  attempts 1  next try 20" in show and "error tls-unknown-ca" in show, show
    assert "what to do: it waits: next try 20" in show and of in show, show
    assert "TLS verification failed (tls-unknown-ca)" in show, show
    # status(): the Outbox and the last send's outcome
    assert "outbox  2 waiting, 0 failed" in status, status
    assert "last    why: TLS certificate check failed" in status, status
    assert "last    TLS verification failed (tls-unknown-ca)" in status, status
    # log(): the outcome with the code, the reason and the next try
    assert "send: 0 sent, 0 failed, 2 deferred, 0 held via wifi (tls-unknown-ca: TLS certificate " \
           "check failed" in log and "; next try 20" in log, log
    assert "sent 2, failed 0, deferred 0" in fix and m["sent_after"] == "2", fix
    assert len(good.wait_messages(2)) == 2


def test_help_and_empty_states(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls")
    rc, out, m = run("help", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    for cmd in ("queue(", "send()", "ls()", "show(id)", "progress()", "retry(id)", "cancel(id)",
                "rm(id)", "account()", "test()", "status()", "log("):
        assert cmd in out, cmd
    assert "no account yet" in out and "nothing to send" in out and "no send yet" in out


def test_flash_full_while_queueing(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls")
    # + 64 KB: the 48 KB RAM "flash" of this test lives in the heap too
    rc, out, m = run("full", tmp_path, srv, certs, mpy_path, heap="512k")
    assert rc == 0, out
    assert m["first"] == "True" and m["big"] == "None", out
    assert "error (store-full)" in out, out  # a clear one-line error at the REPL
    line = [x for x in out.splitlines() if "error (store-full)" in x][0]
    # what to do, and the message as the REPL names ids (decimal), not 0x...
    assert "nothing was queued (tidy() frees Sent and Deleted; attach=..., link=True" in line, line
    assert "0x" not in line and " of 10485" in line, line
    assert m["linked"] == "True"  # a linked attachment costs no flash
    assert m["outbox"] == "2" and m["drafts"] == "0", out  # the earlier message intact, nothing half-made
    assert m["sent"] == "2", out
    assert "why: the send stopped (store-full): store full: " in out, out
    assert "the flash is full: remove files of your own or tidy(), then send()" in out, out
    assert m["waiting_after_full"] == "%d 2 0" % 0x1003, out  # still waiting, no attempt counted
    msgs = srv.wait_messages(2)
    linked = [x for x in msgs if b"Log linked" in x.data][0]
    assert b"3999,12.5,13.1,ok" in linked.data or b"MTk5OSwxMi41" in linked.data or len(linked.data) > 30000


def test_background_engine_thread_sends_while_repl_idle(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls")
    rc, out, m = run("background", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["background"] == "thread" and m["sent"] == "2", out
    assert "smtpmtm ready: 0 waiting, engine thread" in out
    assert len(srv.wait_messages(2)) == 2


def test_asyncio_engine_beside_the_application_task(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls")
    rc, out, m = run("asyncio", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["sent"] == "1" and int(m["sensor_ticks_during_send"]) > 0, out
    assert len(srv.wait_messages(1)) == 1


def test_provider_preset_sending_limit_and_a_digest(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("flood", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["preset"] == "gmail True https://oauth2.googleapis.com/token", out
    assert all(m["into_%d" % n] == "True" for n in range(2, 11)), out
    assert "error (input): key:" in out and "; nothing was queued" in out, out  # a bad key
    assert m["outbox_before"] == "3", out  # 10 alarms as 1 digest, pump2, the report
    assert m["sent_after"] == "2" and m["outbox_after"] == "1", out  # 2 a minute: 1 held
    assert "held to" in out and "messages_per_minute 2 reached" in out, out
    assert "1 held" in out, out
    msgs = srv.wait_messages(2)
    digest = [x for x in msgs if b"[10] Pump 1 pressure" in x.data]
    assert len(digest) == 1, [x.data[:300] for x in msgs]
    assert b'10 messages "pump1"' in digest[0].data and b"low 10" in digest[0].data


def test_battery_cycles_send_only_what_is_due_within_the_budget(smtp_server, certs, tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("cycle", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["idle_sleep"] == "300" and m["idle_ups"] == "0", out  # nothing due: no link
    assert m["nolink_sleep"] == "300" and m["nolink_ups"] == "1", out
    assert 2000 <= int(m["nolink_ms"]) < 3500, out  # waited for the link, never past the budget
    assert m["nolink_attempts"] == "0", out  # no coverage uses up no retries
    assert m["sent_after"] == "1" and m["link_up_after"] == "False", out  # sent, link taken down
    assert m["link_sleep"] == "300", out
    assert len(srv.wait_messages(1)) == 1
    assert "cycle: 1 due, 1 sent, 0 left, link wifi" in out, out
    assert "cycle: 0 due, 0 sent, link -, sleep 300 s" in out and "link None" not in out, out
    bad = out.split("MARK-BAD")[1]
    assert "error (input): budget_s: whole seconds, 1 or more, not -1" in bad, bad
    assert "error (input): wake_s: whole seconds, 1 or more, not 'x'" in bad, bad
    assert m["bad_config_sleep"] == "900" and "cycle: wake_s: whole seconds, 1 or more, not '15m'" in bad, bad


def test_a_refused_port_falls_back_and_the_account_keeps_the_one_that_worked(smtp_server, certs,
                                                                               tmp_path, mpy_path):
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("fallback", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["port"] == str(srv.port) and "[[1, 'starttls']]" in out, out
    assert "port %d (starttls) worked; saved" % srv.port in out, out
    assert len(srv.wait_messages(1)) == 1


def test_a_portal_on_the_wifi_and_the_modem_sends(smtp_server, certs, tmp_path, mpy_path):
    """A Wi-Fi in front of a captive portal is up, so every send used it and every message
    waited, though the modem could carry them: the next link is tried in the same send, and
    send() and log() say which link was given up and why."""
    bad = smtp_server("starttls", require_auth=True, cert_case="unknown-ca")
    good = smtp_server("starttls", require_auth=True)
    rc, out, m = run("nextlink", tmp_path, bad, certs, mpy_path, good.port)
    assert rc == 0, out
    sent, log = out.split("MARK-SEND")[1].split("MARK-LOG")[0], out.split("MARK-LOG")[1]
    assert "sent 1, failed 0, deferred 0" in sent, sent
    assert "not via wifi: tls-unknown-ca: the server was not reachable that way" in sent, sent
    assert "send: 1 sent, 0 failed, 0 deferred, 0 held via modem (not via wifi: tls-unknown-ca)" in log, log
    assert m["attempts"] == "1" and len(good.wait_messages(1)) == 1
    assert bad.leaked() == [] and bad.messages == []


@pytest.mark.parametrize("via", ["home", "reboot", "modem"])
def test_mail_a_portal_deferred_goes_when_the_board_joins_another_network(smtp_server, certs, tmp_path,
                                                                         mpy_path, via):
    """A TLS failure waits for its retry time when the Wi-Fi rejoins the same network (the same
    portal would only spend attempts), but waited for it too (up to backoff_max_s, an hour)
    when the board joined another network, where it would have gone at once: another Wi-Fi
    (also after a reset: where TLS failed is kept on the flash), or another link (the modem),
    whose network the board cannot tell."""
    bad = smtp_server("starttls", require_auth=True, cert_case="unknown-ca")
    good = smtp_server("starttls", require_auth=True)
    rc, out, m = run("roam", tmp_path, bad, certs, mpy_path, good.port, via)
    assert rc == 0, out
    assert (m["after_cafe"], m["after_rejoins"], m["sent_at_home"]) == ("1", "1", "1"), out
    log = out.split("MARK-LOG")[1]
    came = {"home": "link wifi up; network 'home', not 'cafe' where TLS failed",
            "reboot": "link wifi up; network 'home', not 'cafe' where TLS failed",
            "modem": "link modem up; not on wifi 'cafe' where TLS failed"}[via]
    assert came + ": the mail that failed goes now" in log, log
    assert "send: 1 sent, 0 failed, 0 deferred, 0 held via %s" % ("modem" if via == "modem" else "wifi") in log, log
    assert len(good.wait_messages(1)) == 1 and bad.leaked() == [] and bad.messages == []


def test_an_alarm_queued_behind_a_big_log_goes_first(smtp_server, certs, tmp_path, mpy_path):
    """queue(..., priority='high'): at the next connection the alarm goes before the log
    queued earlier (then normal, then low); outbox() marks it; a priority that is none of
    high/normal/low is refused with nothing queued."""
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("priority", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["bad"] == "None", out
    bad = out.split("MARK-BAD")[1].split("MARK ")[0]
    assert "error (input): priority: 'urgent' is not high, normal, low or None; nothing was queued" in bad, bad
    listing = out.split("MARK-QUEUED")[1].split("MARK-SEND")[0]
    assert "Alarm" in listing and listing.count("(high)") == 1 and listing.count("(low)") == 1, listing
    assert "subject: Alarm  (priority high)" in listing, listing
    assert m["sent"] == "3", out
    subjects = [x.data.split(b"Subject: ")[1].split(b"\r\n")[0] for x in srv.wait_messages(3)]
    assert subjects == [b"Alarm", b"Log", b"Chatter"], subjects
    alarm = srv.wait_messages(3)[0].data
    assert b"X-Priority: 1 (Highest)" in alarm and b"Importance: high" in alarm


def test_the_repl_gets_turns_while_a_big_attachment_goes_out(smtp_server, certs, tmp_path, mpy_path):
    """A tick runs the engine for a slice (timeslice.py); with a slice of one step the
    256 KB log takes one tick per piece of its body, and REPL commands typed between two
    of them see it on the wire: progress() shows it part-sent, rm() and retry() refuse it
    (retry() reset its attempts before), and an
    alarm queued then goes out right after it in the same run (with the old engine, one
    step sent the whole log: no tick ever ended in the middle of it)."""
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("slices", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["mid_body"] == "True", out
    between = out.split("MARK-BETWEEN")[1].split("MARK-AFTER")[0]
    assert between.count("error (busy): %s is being sent; cancel(%s) first" % (m["log_id"], m["log_id"])) == 2, between
    assert int(m["ticks_for_the_rest"]) > 50, out  # ~170 pieces of ~2 KB, one a tick
    assert m["sent"] == "2", out
    msgs = srv.wait_messages(2)
    assert [x.data.split(b"Subject: ")[1].split(b"\r\n")[0] for x in msgs] == [b"Log", b"Alarm"]
    assert big_bin(msgs[0].data) == bytes(range(256)) * 16 * 64


def test_with_the_timer_engine_main_py_runs_while_a_big_attachment_goes_out(smtp_server, certs, tmp_path,
                                                                           mpy_path):
    """A board's default engine (start.py "timer": a machine.Timer schedules a tick every
    200 ms, run in the main thread between the bytecodes of main.py's own code), with a
    stand-in Timer on the unix port, one engine step a beat (over loopback the default
    100 ms slice sends the whole log at once). main.py's loop gets turns while the 64 KB log
    goes out and sees it part-sent at each of its ~20 BDAT chunks (with the old engine a tick sent the whole
    message, so main.py's code never ran in the middle of it); the log arrives whole. Then a
    Ctrl-C that lands in a tick while the next log goes out: one line, not MicroPython's
    traceback of a scheduled callback, and that log goes at the engine's next check."""
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("timer", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["sent"] == "1", out
    assert int(m["main_saw_mid_body"]) >= 10, out  # ~88 KB on the wire, 4 KB a step
    assert big_bin(srv.wait_messages(1)[0].data) == bytes(range(256)) * 16 * 16
    # a Ctrl-C that lands in a tick: one line instead of MicroPython's traceback of a
    # scheduled callback, and the log it stopped goes at the next check, its attempt not counted
    ctrl_c = out.split("MARK-CTRL-C")[1].split("MARK-AFTER-CTRL-C")[0]
    assert m["typed"] == "1" and m["log2_folder"] == str(0x1005), out
    assert "smtpmtm: Ctrl-C came while the engine ran in the background" in ctrl_c, ctrl_c
    assert "Traceback" not in ctrl_c and "KeyboardInterrupt" not in ctrl_c, ctrl_c
    shown = out.split("MARK-AFTER-CTRL-C")[1]
    assert "attempts 1" in shown and "interrupted" not in shown, shown
    assert len(srv.wait_messages(2)) == 2


def test_with_the_timer_engine_main_py_runs_while_the_server_takes_its_time(smtp_server, certs, tmp_path,
                                                                            mpy_path):
    """A server that pauses 3 s before its greeting (postscreen's greeting pause) and 3 s
    before its reply to the message (a content scan): with the timer engine, main.py's loop
    gets its turns at the beats while the engine waits (a step looks for a reply for up to
    20 ms, wire/session.py). Before, the tick waited in the read: main.py stood still for
    each pause (its loop saw none of the greeting's beats)."""
    srv = smtp_server("starttls", require_auth=True, faults={"GREETING": "pause 3", "DOT": "pause 3"})
    rc, out, m = run("slowserver", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["folder"] == str(0x1005) and len(srv.wait_messages(1)) == 1, out
    # 3 s are 15 beats of 200 ms; main.py's loop saw most of them
    assert int(m["beats_in_greeting"]) >= 5 and int(m["beats_before_last_reply"]) >= 5, out
    assert int(m["longest_gap_ms"]) < 3000, out


def test_ctrl_c_while_send_waits_suspends_the_message_wherever_it_lands(smtp_server, certs, tmp_path,
                                                                        mpy_path):
    """send()'s help says Ctrl-C suspends the send. A Ctrl-C that landed in the engine's
    step (no engine in the background: send() ticks it), or in the timer engine's tick,
    ended the run with the message waiting again: the engine sent it at its next check
    while the person had asked to stop, and with the timer it printed the line meant for
    main.py's code. Now both are a cancel: "cancelling ...", the message suspended (until
    retry(id)), and a later send leaves it alone. And send() typed while the engine's own
    run went on reported the next run (the one it had asked for, started at once after the
    cancel): "sent 1 ... suspended 0"; now it reports the run it cancelled, and the message
    behind waits."""
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("sendctrlc", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["typed_1"] == "1" and m["typed_2"] == "1", out
    assert m["log1"] == "suspended" and m["log2"] == "suspended", out
    assert m["chat"] == "waiting", out
    assert "not sent 1\nwaiting: 1, for the next send (send() sends them now)" in out, out
    assert m["logs_after"] == "suspended suspended" and m["sent"] == "2", out
    for part in (out.split("MARK-SEND-1")[1].split("MARK-SEND-2")[0],
                 out.split("MARK-SEND-2")[1].split("MARK-SEND-3")[0]):
        assert "cancelling ..." in part and "1 suspended" in part, part
        assert "Traceback" not in part and "background and stopped it" not in part, part
    assert [x.data.split(b"Subject: ")[1].split(b"\r\n")[0] for x in srv.wait_messages(2)] == [b"Chat", b"Ping"]


def test_a_battery_cycle_whose_budget_runs_out_mid_message_finishes_it(smtp_server, certs, tmp_path,
                                                                      mpy_path):
    """cycle.py: the budget is spent while a 64 KB log goes out (the cycle's clock jumps once
    the log is part-sent). The send stops after the message on the wire: the log goes on to
    its end and is sent, the next one waits (not suspended) and goes at the next wake. With
    the body in steps, the cycle's old cancel() suspended the log, and a suspended message
    waits for retry(id) by hand: on a battery board, for ever."""
    srv = smtp_server("starttls", require_auth=True)
    rc, out, m = run("budget", tmp_path, srv, certs, mpy_path)
    assert rc == 0, out
    assert m["log_state"] == "sent" and m["log_folder"] == str(0x1005), out
    assert m["chat_state"] == "waiting", out
    assert m["chat_after"] == str(0x1005), out
    assert [x.data.split(b"Subject: ")[1].split(b"\r\n")[0] for x in srv.wait_messages(2)] == [b"Log", b"Chatter"]
