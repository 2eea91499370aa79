"""End to end from both interpreters: the core sends real mail to aiosmtpd over TLS with AUTH.

Host-only: starts the local server (host/server.py) with a test CA generated at
test time, sends from CPython (host/net.py) and from the MicroPython unix port
(device/smtpmtm_board/net.py, tests/mpy/send_one.py), and parses what the server received with
CPython's ``email`` package, comparing part by part with the input: UTF-8 subject,
text + HTML alternative, an inline image, binary attachments of sizes around the
base64 line (57 bytes), the encoder's read block (684) and the chunk size (1024).

MicroPython heap: 64 KiB free for the send, as on a board whose code is frozen
into flash. The unix port cannot freeze, so tests/mpy/budget.py loads the core
(.mpy, ~90 KB of heap) first in a large heap and then pins all but 64 KiB
(the method of tests/core/_mprun.py). The heap growth *during* a send is
measured by host/bench/b_send.py.
"""

import email
import email.policy
import json
import os

import pytest

from host import mpy
from host.cli_send import deliver, make_message
from servers import PASSWORD, USER, certs, mpy_path, mpy_script, smtp_server  # noqa: F401

BUDGET = "--budget=65536"  # 64 KiB free heap after the code is loaded as if frozen
# around 57-byte base64 lines and one or two encoders.READ blocks (1482 bytes)
SIZES = (0, 1, 56, 57, 58, 1023, 1024, 1025, 1481, 1482, 1483, 2964, 100003)
SUBJECT = "Pumpe überlastet ✓ — 水位 alarm, a long subject that must be folded across lines"
TEXT = "Grüße from the pump house.\nLine two.\n.leading dot line\n\nlast ✓\n"
HTML = "<html><body><p>Grüße ✓</p><img src=\"cid:pump-photo\"></body></html>\n"


def _files(tmp_path):
    rng = __import__("random").Random(1234)
    out = []
    for n in SIZES:
        p = tmp_path / ("att_%d.bin" % n)
        p.write_bytes(bytes(rng.getrandbits(8) for _ in range(n)))
        out.append(str(p))
    odd = tmp_path / "résumé ✓.dat"
    odd.write_bytes(b"\x00\r\n.\r\n\xff" * 100)
    out.append(str(odd))
    html = tmp_path / "body.html"
    html.write_text(HTML, encoding="utf-8")
    img = tmp_path / "photo.png"
    img.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(rng.getrandbits(8) for _ in range(3000)))
    return out, str(html), str(img)


def _spec(tmp_path, srv, mode, certs):
    attach, html, img = _files(tmp_path)
    return {
        "host": "127.0.0.1", "port": srv.port, "mode": mode, "cafile": certs.ca,
        "user": USER, "password": PASSWORD,
        "from": "Pump House <pump@example.com>",
        "to": ["Ann Ångström <ann@example.com>", "bob@example.com"],
        "cc": ["carol@example.com"], "bcc": ["dave@example.com"],
        "subject": SUBJECT, "date": 1732790000, "text": TEXT, "html_path": html,
        "inline": [["pump-photo", img]], "attach": attach, "timeout": 20,
    }


def _norm(s):
    return s.replace("\r\n", "\n").rstrip("\n")


def check_received(got, spec):
    """Compare the server's copy with the spec, part by part, with CPython's email parser."""
    assert got.mail_from == "pump@example.com"
    assert sorted(got.rcpt_tos) == sorted(
        ["ann@example.com", "bob@example.com", "carol@example.com", "dave@example.com"])
    assert got.tls and got.user == USER
    msg = email.message_from_bytes(got.data, policy=email.policy.default)
    assert not msg.defects, msg.defects
    assert msg["Subject"] == spec["subject"]
    assert msg["From"].addresses[0].addr_spec == "pump@example.com"
    assert msg["From"].addresses[0].display_name == "Pump House"
    assert [a.display_name for a in msg["To"].addresses] == ["Ann Ångström", ""]
    assert msg["Bcc"] is None and b"dave@" not in got.data
    assert msg["Message-ID"] and msg["Date"]
    texts, htmls, inline, files = [], [], {}, {}
    for part in msg.walk():
        if part.is_multipart():
            assert not part.defects, part.defects
            continue
        cid = part["Content-ID"]
        if part.get_content_disposition() == "attachment":
            files[part.get_filename()] = part.get_content()
        elif cid:
            inline[cid.strip("<>")] = part.get_content()
        elif part.get_content_type() == "text/plain":
            texts.append(part.get_content())
        elif part.get_content_type() == "text/html":
            htmls.append(part.get_content())
    assert [_norm(t) for t in texts] == [_norm(spec["text"])]
    assert [_norm(h) for h in htmls] == [_norm(HTML)]
    with open(spec["inline"][0][1], "rb") as f:
        assert inline == {"pump-photo": f.read()}
    assert sorted(files) == sorted(os.path.basename(p) for p in spec["attach"])
    for path in spec["attach"]:
        with open(path, "rb") as f:
            assert files[os.path.basename(path)] == f.read(), path
    # structure: mixed > related > alternative
    assert msg.get_content_type() == "multipart/mixed"
    related = msg.get_payload()[0]
    assert related.get_content_type() == "multipart/related"
    assert related.get_payload()[0].get_content_type() == "multipart/alternative"


def _send_cpython(spec):
    m = make_message(spec["from"], spec["to"], spec["cc"], spec["bcc"], spec["subject"],
                     body=spec["text"], html_file=spec["html_path"],
                     attach=spec["attach"], inline=["%s=%s" % tuple(i) for i in spec["inline"]],
                     date=spec["date"], message_id=spec.get("message_id"))
    return deliver(spec["host"], spec["port"], spec["mode"], m, cafile=spec["cafile"],
                   user=spec["user"], password=spec["password"], timeout=spec["timeout"])


def _send_mpy(spec, tmp_path, path):
    p = tmp_path / "spec.json"
    p.write_text(json.dumps(spec))
    r = mpy.run(mpy_script("send_one.py"), [str(p), BUDGET], heap="2m", path=path, timeout=120)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    return json.loads(r.stdout.decode().strip().splitlines()[-1])


@pytest.mark.parametrize("chunking", [True, False], ids=["bdat", "data"])
@pytest.mark.parametrize("mode", ["starttls", "implicit"])
def test_cpython_sends_the_whole_message(smtp_server, certs, tmp_path, mode, chunking):
    srv = smtp_server(mode, require_auth=True, chunking=chunking)
    spec = _spec(tmp_path, srv, mode, certs)
    r = _send_cpython(spec)
    assert r["reply"][0] == 250 and not r["refused"]
    got = srv.wait_messages(1)[0]
    assert got.via == ("BDAT" if chunking else "DATA")
    check_received(got, spec)


@pytest.mark.parametrize("mode,chunking", [("starttls", True), ("implicit", False)])
def test_micropython_sends_the_whole_message(smtp_server, certs, tmp_path, mpy_path, mode, chunking):
    srv = smtp_server(mode, require_auth=True, chunking=chunking)
    spec = _spec(tmp_path, srv, mode, certs)
    out = _send_mpy(spec, tmp_path, mpy_path)
    assert "error" not in out, out
    assert out["reply"][0] == 250 and out["is_tls"] and not out["refused"]
    got = srv.wait_messages(1)[0]
    assert got.via == ("BDAT" if chunking else "DATA")
    check_received(got, spec)


def test_both_interpreters_send_identical_bytes(smtp_server, certs, tmp_path, mpy_path):
    # Same input and the same Message-ID (which also seeds the boundaries): the server
    # must receive byte-identical messages from CPython and from MicroPython.
    srv = smtp_server("starttls", require_auth=True)
    spec = _spec(tmp_path, srv, "starttls", certs)
    spec["message_id"] = "<e2e-identical.1@example.com>"
    _send_cpython(spec)
    out = _send_mpy(spec, tmp_path, mpy_path)
    assert "error" not in out, out
    a, b = srv.wait_messages(2)[:2]
    assert a.data == b.data
    check_received(b, spec)


def test_cpython_cli_hands_the_core_whole_seconds(smtp_server, certs, tmp_path):
    """The core's clock contract is whole seconds as an int: every wait the session asks of the
    stream is then an int too (with time.monotonic it was a float, a value a board's
    single-precision float could not hold)."""
    from host import net

    srv = smtp_server("starttls", require_auth=True)
    spec = _spec(tmp_path, srv, "starttls", certs)
    waits = []

    def connect(*a, **kw):
        stream = net.connect(*a, **kw)
        read = stream.read

        def recording_read(n, timeout_s):
            waits.append(timeout_s)
            return read(n, timeout_s)

        stream.read = recording_read
        return stream

    m = make_message(spec["from"], spec["to"], [], [], "clock", body="hi", date=spec["date"])
    r = deliver(spec["host"], spec["port"], "starttls", m, cafile=spec["cafile"], user=spec["user"],
                password=spec["password"], connect=connect)
    assert r["reply"][0] == 250
    assert waits and all(type(w) is int for w in waits), waits
