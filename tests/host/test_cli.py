"""The host command line (`python -m host send|serve`) as a script would use it.

Host-only: runs the CLI in a subprocess against the local server. Exit 0 and
"sent: 250 ..." when accepted; a non-zero status and exactly one line on stderr
naming the reason (refusal, TLS code, partial acceptance, bad input) otherwise.
"""

import os
import subprocess
import sys

import pytest

from host.mpy import ROOT
from servers import PASSWORD, USER, certs, smtp_server  # noqa: F401


def run(*args, timeout=60, env=None):
    return subprocess.run([sys.executable, "-m", "host"] + list(args), cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def send(srv, *extra, mode="--starttls", to=("ann@example.com",), env=None):
    args = ["send", "--host", "127.0.0.1", "--port", str(srv.port), mode,
            "--from", "Pump <pump@example.com>", "--subject", "Alarm ✓", "--timeout", "10"]
    for t in to:
        args += ["--to", t]
    return run(*(args + list(extra)), env=env)


def one_line(r):
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


def test_send_accepted_exit_0(smtp_server, certs, tmp_path):
    srv = smtp_server("starttls", require_auth=True)
    att = tmp_path / "log.csv"
    att.write_bytes(b"t,p\n1,2\n")
    html = tmp_path / "b.html"
    html.write_text("<p>hi</p>")
    r = send(srv, "--cafile", certs.ca, "--user", USER, "--password", PASSWORD,
             "--cc", "cc@example.com", "--bcc", "hidden@example.com", "--body", "low pressure",
             "--html-file", str(html), "--attach", str(att))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("sent: 250")
    got = srv.wait_messages(1)[0]
    assert sorted(got.rcpt_tos) == ["ann@example.com", "cc@example.com", "hidden@example.com"]
    assert b"hidden@" not in got.data
    msg = got.parse()
    assert msg["Subject"] == "Alarm ✓"
    assert [p.get_filename() for p in msg.iter_attachments()] == ["log.csv"]


def test_implicit_tls_and_body_file(smtp_server, certs, tmp_path):
    srv = smtp_server("implicit")
    body = tmp_path / "body.txt"
    body.write_text("from a file ✓\n", encoding="utf-8")
    r = send(srv, "--cafile", certs.ca, "--body-file", str(body), mode="--tls")
    assert r.returncode == 0, r.stderr
    assert "from a file" in srv.wait_messages(1)[0].parse().get_body(("plain",)).get_content()


def test_tls_failure_exit_4_with_the_code(smtp_server, certs):
    srv = smtp_server("starttls", cert_case="expired")
    r = send(srv, "--cafile", certs.ca, "--user", USER, "--password", PASSWORD, "--body", "x")
    assert r.returncode == 4
    assert one_line(r).startswith("send: tls-expired:")
    assert srv.leaked() == []


def test_starttls_not_offered_exit_4(smtp_server):
    srv = smtp_server("plain")
    r = send(srv, "--body", "x")
    assert r.returncode == 4
    assert one_line(r).startswith("send: tls-not-offered:")
    assert srv.leaked() == []


def test_plain_only_with_the_flag(smtp_server):
    srv = smtp_server("plain")
    r = send(srv, "--body", "x", mode="--plain")
    assert r.returncode == 0, r.stderr
    assert len(srv.wait_messages(1)) == 1


def test_refused_exit_1_one_line(smtp_server, certs):
    srv = smtp_server("starttls", faults={"MAIL": "550 5.7.1 sender rejected"})
    r = send(srv, "--cafile", certs.ca, "--body", "x")
    assert r.returncode == 1
    line = one_line(r)
    assert "550" in line and "sender rejected" in line


def test_partial_exit_3(smtp_server, certs):
    srv = smtp_server("starttls", faults={"RCPT bob@example.com": "550 5.1.1 no such user"})
    r = send(srv, "--cafile", certs.ca, "--body", "x", to=("ann@example.com", "bob@example.com"))
    assert r.returncode == 3
    assert "bob@example.com" in one_line(r)
    assert srv.wait_messages(1)[0].rcpt_tos == ["ann@example.com"]


def test_bad_input_exit_6_before_connecting(smtp_server):
    srv = smtp_server("plain")
    r = send(srv, "--body", "x", "--attach", "/nonexistent/file.bin", mode="--plain")
    assert r.returncode == 6
    one_line(r)
    assert srv.log == []  # not even a connection


def test_connection_refused_exit_5(smtp_server):
    srv = smtp_server("plain")
    srv.stop()
    r = send(srv, "--body", "x", mode="--plain")
    assert r.returncode == 5
    one_line(r)


def test_wrong_arguments_are_one_line_each(smtp_server, certs):
    """Found walking the CLI: --timeout -1 ended in a traceback (socket.settimeout), --inline
    without '=' said "attach[0]: cannot read file ''", and --tls to a STARTTLS port gave only
    OpenSSL's "wrong version number"."""
    srv = smtp_server("plain")
    r = send(srv, "--body", "x", "--timeout", "-1", mode="--plain")
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert "argument --timeout: whole seconds, 1 or more, not -1" in r.stderr, r.stderr
    r = send(srv, "--body", "x", "--inline", "logo.png", mode="--plain")
    assert r.returncode == 6 and "--inline wants CID=FILE" in one_line(r) and "'logo.png'" in one_line(r)
    assert srv.log == []  # not even a connection
    tls = smtp_server("starttls")
    r = send(tls, "--body", "x", "--cafile", certs.ca, mode="--tls")
    assert r.returncode == 4 and one_line(r).startswith("send: tls-handshake: "), r.stderr
    assert one_line(r).endswith("is it a STARTTLS port (587, 25)? try --starttls"), r.stderr
    implicit = smtp_server("implicit")  # and the other way round: it waited, then said "GREET"
    r = send(implicit, "--body", "x", "--cafile", certs.ca, "--timeout", "2")
    assert r.returncode == 5, r.stderr
    assert one_line(r) == "send: timeout: no reply to the greeting within 2 s (RFC 5321 4.5.3.2); an " \
        "implicit-TLS port (465) greets only after TLS: try --tls", r.stderr


def test_serve_and_sim_refuse_what_they_cannot_use_in_one_line():
    """Found walking the CLI: serve took --fault FOO=drop and RCPT=bogus silently (the server
    then replied "bogus"), --size -5 too; serve --port 99999 and sim --heap 1q ended in
    tracebacks."""
    from host.cli_serve import fault

    assert fault("RCPT=550 5.1.1 no") == ("RCPT", "550 5.1.1 no")
    assert fault("rcpt Bob@X.org=550 no") == ("RCPT bob@x.org", "550 no")
    assert fault("STARTTLS=inject") == ("STARTTLS", "inject") and fault("DOT=stall") == ("DOT", "stall")
    for bad in ("FOO=drop", "RCPT=bogus", "DATA=inject", "MAIL x@y=550 no", "RCPT", "DOT=55 no"):
        with pytest.raises(ValueError):
            fault(bad)
    cases = [(("serve", "--fault", "FOO=drop"), "COMMAND one of GREETING"),
             (("serve", "--fault", "RCPT=bogus"), "not 'bogus'"),
             (("serve", "--size", "-5"), "--size: bytes, 0 (no limit) or more"),
             (("serve", "--port", "99999"), "argument --port: 0 to 65535, not '99999'"),
             (("sim", "--heap", "1q"), "argument --heap: a size such as 64k")]
    for args, said in cases:
        r = run(*args, timeout=30)
        assert r.returncode == 2 and said in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)


def test_usage_error_is_non_zero():
    r = run("send", "--host", "127.0.0.1")
    assert r.returncode != 0


def test_serve_command_accepts_mail(tmp_path):
    maildir = tmp_path / "mail"
    p = subprocess.Popen([sys.executable, "-m", "host", "serve", "--mode", "plain", "--port", "0",
                          "--maildir", str(maildir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:"), line
        port = line.split(":")[1].split()[0]
        r = run("send", "--host", "127.0.0.1", "--port", port, "--plain", "--from", "a@example.com",
                "--to", "b@example.com", "--subject", "s", "--body", "readable")
        assert r.returncode == 0, r.stderr
        files = os.listdir(maildir / "new")
        assert len(files) == 1
        shown = p.stdout.readline()
        assert shown.startswith("received ") and files[0] in shown
        assert b"readable" in (maildir / "new" / files[0]).read_bytes()
    finally:
        p.terminate()
        p.wait(10)


def test_password_from_the_environment(smtp_server, certs):
    srv = smtp_server("implicit", require_auth=True)
    env = dict(os.environ, SMTPMTM_PASSWORD=PASSWORD)
    r = send(srv, "--cafile", certs.ca, "--user", USER, "--body", "x", mode="--tls", env=env)
    assert r.returncode == 0, r.stderr
    assert srv.wait_messages(1)[0].user == USER
    r = send(srv, "--cafile", certs.ca, "--user", USER, "--body", "x", mode="--tls")
    assert r.returncode == 1 and "535" in one_line(r)


def _serve(tmp_path, *extra):
    """`python -m host serve` in the background; returns (process, port) once it listens."""
    p = subprocess.Popen([sys.executable, "-m", "host", "serve", "--port", "0", "--certs",
                          str(tmp_path / "certs"), "--user", "ann:s3cret"] + list(extra),
                         cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    assert line.startswith("listening on 127.0.0.1:"), (line, p.stderr.read() if p.poll() is not None else "")
    return p, int(line.split(":", 2)[1].split()[0]), line


def test_serve_keeps_its_ca_across_restarts_and_logs_no_deprecations(tmp_path):
    """Issue 10 finding 7: `host serve` made a new CA at every start (a board's copy went
    stale: tls-unknown-ca), and aiosmtpd's deprecation notes flooded its log."""
    maildir = str(tmp_path / "mail")
    p, port, first = _serve(tmp_path, "--maildir", maildir)
    try:
        with open(tmp_path / "certs" / "ca.pem", "rb") as f:
            ca = f.read()
        for _ in range(2):
            r = run("send", "--host", "127.0.0.1", "--port", str(port), "--starttls", "--cafile",
                    str(tmp_path / "certs" / "ca.pem"), "--user", "ann", "--password", "s3cret",
                    "--from", "pump@example.com", "--to", "ann@example.com", "--subject", "x",
                    "--body", "y", "--timeout", "10")
            assert r.returncode == 0, r.stderr
    finally:
        p.terminate()
        _out, err = p.communicate(timeout=30)
    assert "deprecated" not in err, err
    assert "(new)" in first, first
    p, port, again = _serve(tmp_path, "--maildir", maildir)
    p.terminate()
    p.communicate(timeout=30)
    assert "the same as before" in again, again
    with open(tmp_path / "certs" / "ca.pem", "rb") as f:
        assert f.read() == ca


def test_serve_maildir_with_a_missing_parent_is_one_line(tmp_path):
    r = run("serve", "--port", "0", "--mode", "plain", "--maildir", str(tmp_path / "no" / "such" / "mail"),
            timeout=60)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert str(tmp_path / "no" / "such") in one_line(r)
