"""Property tests end to end: random bodies and attachments survive the trip through a real server.

Host-only (hypothesis + aiosmtpd): random text with any mix of CR, LF, CRLF, dots
at line starts and non-ASCII, and random binary attachments, are sent by the
core (CPython, plaintext loopback for speed) over DATA (dot-stuffing) and over
BDAT, and what aiosmtpd stored is parsed with CPython's ``email``: the text
equals the input with line ends normalised, the attachment is byte-identical,
and no message was cut short or split (the SMTP smuggling class).
"""

import email
import email.policy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from host.cli_send import deliver, make_message
from host.server import SmtpServer

TEXT = st.lists(st.sampled_from(list("ab .\r\n\t✓é") + ["\r\n.\r\n", "\n.\n", "..", "x" * 90]),
                max_size=120).map("".join)
BLOB = st.binary(max_size=3000)


def _norm(s):
    return s.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")


def _roundtrip(srv, text, blob, tmp):
    path = tmp + "/blob.bin"
    with open(path, "wb") as f:
        f.write(blob)
    before = len(srv.messages)
    m = make_message("a@example.com", ["b@example.com"], subject="prop", body=text,
                     attach=[path], date=1732790000)
    r = deliver("127.0.0.1", srv.port, "plain", m, timeout=10)
    assert r["reply"][0] == 250
    msgs = srv.wait_messages(before + 1)
    assert len(msgs) == before + 1  # exactly one message, never two
    msg = email.message_from_bytes(msgs[-1].data, policy=email.policy.default)
    body = msg.get_body(("plain",)).get_content()
    assert _norm(body) == _norm(text)
    (att,) = list(msg.iter_attachments())
    assert att.get_content() == blob


def _run(chunking, tmp_path_factory):
    tmp = str(tmp_path_factory.mktemp("props"))
    srv = SmtpServer(mode="plain", chunking=chunking).start()

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(TEXT, BLOB)
    def prop(text, blob):
        _roundtrip(srv, text, blob, tmp)

    try:
        prop()
    finally:
        srv.stop()


def test_random_bodies_over_data(tmp_path_factory):
    _run(False, tmp_path_factory)


def test_random_bodies_over_bdat(tmp_path_factory):
    _run(True, tmp_path_factory)
