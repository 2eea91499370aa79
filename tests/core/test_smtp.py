"""The sans-I/O client: transition table, ERROR state, capabilities, deadlines, events, injection."""

from smtpmtm.wire import auth
from smtpmtm.errors import InputError, ProtocolError, TlsError
from smtpmtm.wire.smtp import NEED_DATA, Client, parse_capabilities
from portable import raises




def greeted(**kw):
    c = Client("board", **kw)
    c.receive_data(b"220 mx ESMTP\r\n")
    ev = c.next_event()
    assert ev.command == "GREET" and ev.code == 220 and c.state == "GREETED"
    return c


def ready(caps=(b"PIPELINING", b"SIZE 100", b"8BITMIME", b"AUTH PLAIN LOGIN", b"STARTTLS")):
    c = greeted()
    c.ehlo()
    assert c.data_to_send() == b"EHLO board\r\n"
    c.receive_data(b"250-mx hi\r\n" + b"".join(b"250-" + x + b"\r\n" for x in caps) + b"250 DSN\r\n")
    assert c.next_event().command == "EHLO" and c.state == "READY"
    return c


def test_capabilities():
    caps = parse_capabilities(["mx hello", "SIZE 35882577", "8BITMIME", "AUTH LOGIN PLAIN XOAUTH2",
                               "AUTH=LOGIN", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8",
                               "STARTTLS", "DSN", "size", "X-WEIRD a b"])
    assert caps["SIZE"] == 0  # the last SIZE (no number) wins: no limit announced
    assert caps["AUTH"] == ["LOGIN", "PLAIN", "XOAUTH2"]
    for k in ("8BITMIME", "ENHANCEDSTATUSCODES", "PIPELINING", "CHUNKING", "SMTPUTF8", "STARTTLS", "DSN"):
        assert k in caps, k
    assert caps["X-WEIRD"] == ["a", "b"]
    assert parse_capabilities(["mx", "SIZE 1000"])["SIZE"] == 1000


def test_need_data_until_reply_complete():
    c = Client("board")
    assert c.next_event() is NEED_DATA
    c.receive_data(b"22")
    assert c.next_event() is NEED_DATA
    c.receive_data(b"0 hi\r")
    assert c.next_event() is NEED_DATA
    c.receive_data(b"\n")
    assert c.next_event().code == 220


def test_pipelined_replies_matched_in_order():
    c = ready()
    c.mail("a@x.org", size=10)
    c.rcpt("b@y.org")
    c.rcpt("c@y.org")
    c.data()
    assert c.data_to_send() == (b"MAIL FROM:<a@x.org> SIZE=10\r\nRCPT TO:<b@y.org>\r\n"
                                b"RCPT TO:<c@y.org>\r\nDATA\r\n")
    c.receive_data(b"250 ok\r\n250 ok\r\n550 5.1.1 no\r\n354 go\r\n")
    evs = [c.next_event() for _ in range(4)]
    assert [(e.command, e.code, e.arg) for e in evs] == [
        ("MAIL", 250, "a@x.org"), ("RCPT", 250, "b@y.org"), ("RCPT", 550, "c@y.org"), ("DATA", 354, None)]
    assert evs[2].enhanced == "5.1.1" and c.state == "BODY"
    c.body(b"hi\n.")
    c.end_body()
    assert c.data_to_send() == b"hi\r\n..\r\n.\r\n"
    c.receive_data(b"250 2.0.0 queued\r\n")
    assert c.next_event().command == "DOT" and c.state == "READY"


def test_transition_table_refuses_out_of_order_commands():
    c = greeted()
    e = raises(InputError, c.mail, "a@x.org")
    assert e.code == "state"
    c = ready()
    raises(InputError, c.data)
    raises(InputError, c.body, b"x")
    raises(InputError, c.tls_started)
    c.mail("a@x.org")
    raises(InputError, c.starttls)
    raises(InputError, c.auth, auth.Plain("u", "p"))


def test_error_state_is_final():
    c = ready()
    c.noop()
    c.data_to_send()
    c.receive_data(b"25x garbage\r\n")
    raises(ProtocolError, c.next_event)
    assert c.state == "ERROR"
    raises(ProtocolError, c.noop)
    raises(ProtocolError, c.quit)
    raises(ProtocolError, c.receive_data, b"250 ok\r\n")
    raises(ProtocolError, c.next_event)
    assert c.state == "ERROR" and c.data_to_send() == b""


def test_unsolicited_reply_is_protocol_error_but_421_closes():
    c = ready()
    c.receive_data(b"250 surprise\r\n")
    raises(ProtocolError, c.next_event)
    c = ready()
    c.receive_data(b"421 4.4.2 idle too long\r\n")
    ev = c.next_event()
    assert ev.command == "UNSOLICITED" and ev.code == 421 and c.state == "CLOSED"


def test_421_anywhere_closes():
    c = ready()
    c.mail("a@x.org")
    c.rcpt("b@y.org")
    c.receive_data(b"250 ok\r\n421 4.3.2 bye\r\n")
    c.next_event()
    ev = c.next_event()
    assert ev.code == 421 and c.state == "CLOSED" and c.pending == 0
    raises(InputError, c.rcpt, "c@y.org")


def test_helo_fallback_on_500_and_502_only():
    for code in (b"500", b"502"):
        c = greeted()
        c.ehlo()
        c.data_to_send()
        c.receive_data(code + b" what\r\n")
        assert c.next_event() is NEED_DATA
        assert c.data_to_send() == b"HELO board\r\n"
        c.receive_data(b"250 mx\r\n")
        ev = c.next_event()
        assert ev.command == "HELO" and c.state == "READY" and c.capabilities == {}
    c = greeted()
    c.ehlo()
    c.receive_data(b"554 go away\r\n")
    ev = c.next_event()
    assert ev.command == "EHLO" and ev.code == 554 and c.data_to_send() == b"EHLO board\r\n"


def test_starttls_upgrade_discards_and_needs_ehlo():
    c = ready()
    c.starttls()
    c.receive_data(b"220 go ahead\r\n")
    ev = c.next_event()
    assert ev.kind == "upgrade" and c.state == "UPGRADE"
    c.tls_started()
    assert c.state == "GREETED" and c.capabilities == {} and c.tls
    raises(InputError, c.mail, "a@x.org")
    c.ehlo()
    assert c.data_to_send() == b"EHLO board\r\n"


def test_starttls_injection_same_segment_and_later():
    c = ready()
    c.starttls()
    c.receive_data(b"220 go ahead\r\n250-evil\r\n")
    e = raises(TlsError, c.next_event)
    assert e.code == "tls-injection" and c.state == "ERROR"
    c = ready()
    c.starttls()
    c.receive_data(b"220 go ahead\r\n")
    c.next_event()
    e = raises(TlsError, c.receive_data, b"250 x\r\n")
    assert e.code == "tls-injection" and c.state == "ERROR"


def test_auth_plain_login_steps():
    c = ready()
    c.auth(auth.Plain("u", "p"))
    assert c.data_to_send() == b"AUTH PLAIN AHUAcA==\r\n"
    c.receive_data(b"235 2.7.0 ok\r\n")
    assert c.next_event().code == 235 and c.state == "READY"
    c = ready()
    c.auth(auth.Login("u", "p"))
    assert c.data_to_send() == b"AUTH LOGIN\r\n"
    c.receive_data(b"334 VXNlcm5hbWU6\r\n")
    assert c.next_event() is NEED_DATA and c.data_to_send() == b"dQ==\r\n"
    c.receive_data(b"334 UGFzc3dvcmQ6\r\n")
    assert c.next_event() is NEED_DATA and c.data_to_send() == b"cA==\r\n"
    c.receive_data(b"535 5.7.8 no\r\n")
    ev = c.next_event()
    assert ev.code == 535 and c.state == "READY"


def test_auth_bad_challenge_and_too_many():
    c = ready()
    c.auth(auth.Login("u", "p"))
    c.receive_data(b"334 !!!notbase64\r\n")
    raises(ProtocolError, c.next_event)
    c = ready()
    c.auth(auth.Login("u", "p"))
    c.receive_data(b"334 VXNlcm5hbWU6\r\n" * 7)
    raises(ProtocolError, c.next_event)


def test_deadlines_rfc5321_defaults():
    c = Client("board")
    assert c.deadline(1000.0) == 1300.0  # greeting 5 min
    assert c.deadline(1200.0) == 1300.0  # same wait, same deadline
    c.receive_data(b"220 hi\r\n")
    c.next_event()
    assert c.deadline(2000.0) is None  # nothing pending
    c.ehlo()
    c.receive_data(b"250-mx\r\n250 PIPELINING\r\n")
    c.next_event()
    c.mail("a@x.org")
    c.rcpt("b@y.org")
    c.data()
    assert c.deadline(0.0) == 300.0  # MAIL 5 min
    c.receive_data(b"250 ok\r\n")
    c.next_event()
    assert c.deadline(10.0) == 310.0  # RCPT 5 min, from the last reply
    c.receive_data(b"250 ok\r\n")
    c.next_event()
    assert c.deadline(20.0) == 140.0  # DATA initiation 2 min
    c.receive_data(b"354 go\r\n")
    c.next_event()
    c.end_body()
    assert c.deadline(30.0) == 630.0  # final dot 10 min
    assert c.timeouts["block"] == 180


def test_configurable_timeouts():
    c = Client("board", timeouts={"greeting": 7, "dot": 60})
    assert c.deadline(0.0) == 7 and c.timeouts["dot"] == 60 and c.timeouts["mail"] == 300


def test_mail_parameters_and_refusals():
    c = ready()
    raises(InputError, c.mail, "a@x.org", size=101)
    raises(InputError, c.mail, "\u00e4@x.org")
    raises(InputError, c.mail, "a@x.org\r\nRCPT TO:<evil@x>")
    raises(InputError, c.mail, "a@x.org", ret="SOME")
    assert c.data_to_send() == b"" and c.state == "READY"
    c.mail("", size=5, body8=True, ret="full", envid="a b")
    assert c.data_to_send() == b"MAIL FROM:<> SIZE=5 BODY=8BITMIME RET=FULL ENVID=a+20b\r\n"
    raises(InputError, c.rcpt, "b@y.org", notify="SOMETIMES")


def test_bdat_bytes_exact():
    c = ready()
    c.mail("a@x.org")
    c.rcpt("b@y.org")
    c.bdat(b"abc\r\n")
    c.bdat(b"", last=True)
    assert c.data_to_send().endswith(b"BDAT 5\r\nabc\r\nBDAT 0 LAST\r\n")
    c.receive_data(b"250 ok\r\n250 ok\r\n250 ok\r\n250 2.0.0 done\r\n")
    assert [c.next_event().command for _ in range(4)] == ["MAIL", "RCPT", "BDAT", "BDATL"]
    assert c.state == "READY"


def test_quit_closes():
    c = ready()
    c.quit()
    c.receive_data(b"221 bye\r\n")
    assert c.next_event().command == "QUIT" and c.state == "CLOSED"


def test_long_command_refused():
    c = ready()
    e = raises(InputError, c.rcpt, "a" * 240 + "@" + "b" * 10 + ".org")
    assert e.code == "address"
