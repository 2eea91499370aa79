"""A private Postfix instance in a temporary folder: a real MTA for the end-to-end probes.

Host-only (CPython, Linux, root). ``Postfix(folder, certs)`` writes its own
main.cf and master.cf (config, queue, data and maildir all inside ``folder``),
listens on 127.0.0.1 only, offers STARTTLS with the test CA's "good"
certificate (host/testca.py) and requires it before AUTH (PLAIN, LOGIN) against
a Cyrus SASL database made with saslpasswd2, refuses bare LF line endings
(``smtpd_forbid_bare_newline = reject``, Postfix 3.5.23/3.6.13/3.7.9/3.8.4 and later;
RFC 5321 section 2.3.8) and delivers every accepted message for example.com /
example.org into one maildir, ``folder/mail/inbox/new``.

``ensure_installed()`` installs postfix and sasl2-bin with apt when they are
missing and we are root (non-interactive: debconf told "No configuration"),
and returns None when Postfix can be used, else the one-line reason it can't.

Example::

    why = ensure_installed()
    if why is None:
        with Postfix(tmp, make_certs(tmp + "/certs"), users={"pump": "secret"}) as mta:
            ...  # send to 127.0.0.1:mta.port with STARTTLS and AUTH
            print(len(mta.delivered()))
"""

import os
import shutil
import socket
import subprocess
import time

POSTFIX = "/usr/sbin/postfix"
SASLPASSWD = "/usr/sbin/saslpasswd2"
REALM = "mta.test"
DOMAINS = ("example.com", "example.org")

MAIN_CF = """\
compatibility_level = 3.6
config_directory = {etc}
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = {realm}
mydomain = {realm}
mydestination =
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
alias_maps =
alias_database =
local_recipient_maps =
relayhost =
maillog_file = {folder}/maillog
maillog_file_prefixes = {folder}
syslog_name = smtpmtm-postfix
virtual_mailbox_domains = {domains}
virtual_mailbox_base = {folder}/mail
virtual_mailbox_maps = static:inbox/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
message_size_limit = 20480000
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = {realm}
cyrus_sasl_config_path = {etc}/sasl
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
smtpd_forbid_bare_newline = reject
smtpd_forbid_bare_newline_exclusions =
smtpd_forbid_bare_newline_reject_code = 550
smtpd_client_connection_rate_limit = 0
smtpd_client_connection_count_limit = 0
anvil_rate_time_unit = 60s
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 1000
smtpd_hard_error_limit = 1000
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
"""

# every service Postfix needs, none chrooted (the folder is not a chroot jail)
MASTER_CF = """\
127.0.0.1:{port} inet n - n - 20 smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""

SASL_CONF = """\
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: {db}
"""


def ensure_installed(apt=True):
    """None when Postfix and saslpasswd2 are usable; else one line saying why not.

    Installs them with apt-get when missing and running as root (``apt=False``: never).
    """
    if not os.path.exists("/usr/sbin/postconf") and apt and hasattr(os, "geteuid") \
            and os.geteuid() == 0 and shutil.which("apt-get"):
        sel = ("postfix postfix/main_mailer_type select No configuration\n"
               "postfix postfix/mailname string localhost\n")
        subprocess.run(["debconf-set-selections"], input=sel.encode(), capture_output=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "postfix",
                        "sasl2-bin"], env=env, capture_output=True, timeout=900)
    if not os.path.exists(POSTFIX) or not os.path.exists(SASLPASSWD):
        return "postfix or saslpasswd2 not installed (apt-get install postfix sasl2-bin, as root)"
    if os.geteuid() != 0:
        return "a private Postfix instance needs root (its daemons drop to the postfix user)"
    try:
        out = subprocess.run(["/usr/sbin/postconf", "-d", "smtpd_forbid_bare_newline"],
                             capture_output=True, timeout=30).stdout
    except OSError as e:
        return "postconf failed: %s" % e
    if b"smtpd_forbid_bare_newline" not in out:
        return "this Postfix is too old to refuse bare LF (smtpd_forbid_bare_newline)"
    return None


def _let_postfix_through(path):
    """The daemons (as user postfix) must reach the folder: add o+x (pass through, not
    list) to its parents below the system temp folder; elsewhere say what is missing."""
    import tempfile

    tmps = set(os.path.realpath(t) for t in (tempfile.gettempdir(), "/tmp"))
    path = os.path.realpath(path)
    while path != "/" and path not in tmps:
        mode = os.stat(path).st_mode
        if not mode & 0o001:
            if not any(path.startswith(t + "/") for t in tmps):
                raise RuntimeError("%s: the postfix user cannot pass through (chmod o+x)" % path)
            os.chmod(path, (mode & 0o7777) | 0o001)
        path = os.path.dirname(path)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Postfix:
    """One private Postfix instance; see the module docstring."""

    def __init__(self, folder, certs, users=None, port=None, chunking=True):
        self.folder = os.path.abspath(folder)
        self.certs = certs
        self.users = dict(users or {"pump": "secret"})
        self.port = port or free_port()
        self.etc = os.path.join(self.folder, "etc")
        self.queue = os.path.join(self.folder, "queue")
        self.maildir = os.path.join(self.folder, "mail", "inbox")
        self.chunking = chunking  # False: CHUNKING not offered, clients send DATA (RFC 3030)
        self.running = False
        self._write_config()

    def _write_config(self):
        import pwd

        pw = pwd.getpwnam("postfix")
        os.makedirs(os.path.join(self.etc, "sasl"), exist_ok=True)
        for d in ("queue", "data", "mail"):
            os.makedirs(os.path.join(self.folder, d), exist_ok=True)
        os.chmod(self.folder, 0o755)  # the postfix user walks through it
        _let_postfix_through(os.path.dirname(self.folder))
        os.chown(os.path.join(self.folder, "data"), pw.pw_uid, pw.pw_gid)
        os.chown(os.path.join(self.folder, "mail"), pw.pw_uid, pw.pw_gid)
        # the daemons run as postfix: their own copy of the key, readable by them
        cert = os.path.join(self.etc, "server.pem")
        key = os.path.join(self.etc, "server.key")
        shutil.copy(self.certs.chain("good"), cert)
        shutil.copy(self.certs.key("good"), key)
        os.chmod(key, 0o600)
        db = os.path.join(self.etc, "sasldb2")
        for user, password in self.users.items():
            subprocess.run([SASLPASSWD, "-p", "-c", "-f", db, "-u", REALM, user],
                           input=password.encode(), check=True, capture_output=True)
        os.chown(db, pw.pw_uid, pw.pw_gid)
        os.chmod(db, 0o600)
        with open(os.path.join(self.etc, "sasl", "smtpd.conf"), "w") as f:
            f.write(SASL_CONF.format(db=db))
        with open(os.path.join(self.etc, "main.cf"), "w") as f:
            f.write(MAIN_CF.format(etc=self.etc, queue=self.queue, data=os.path.join(self.folder, "data"),
                                   folder=self.folder, realm=REALM, domains=", ".join(DOMAINS),
                                   uid=pw.pw_uid, gid=pw.pw_gid, cert=cert, key=key))
            if not self.chunking:
                f.write("smtpd_discard_ehlo_keywords = chunking\n")
        with open(os.path.join(self.etc, "master.cf"), "w") as f:
            f.write(MASTER_CF.format(port=self.port))

    def _postfix(self, *args):
        r = subprocess.run([POSTFIX, "-c", self.etc] + list(args), capture_output=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError("postfix %s failed: %s\nmaillog: %s" % (
                " ".join(args), (r.stdout + r.stderr).decode("utf-8", "replace")[-1000:], self.log_tail()))

    def log_tail(self, n=8):
        """The last n lines Postfix logged (its maillog_file), for error messages."""
        try:
            with open(os.path.join(self.folder, "maillog"), "rb") as f:
                return b"".join(f.readlines()[-n:]).decode("utf-8", "replace")
        except OSError:
            return "(none)"

    def start(self):
        try:
            self._postfix("start")
        except RuntimeError:  # a master that has just been told to stop may still hold its lock
            time.sleep(2)
            self._postfix("start")
        self.running = True
        self.wait_listening()
        return self

    def wait_listening(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(64).startswith(b"220"):
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("postfix does not answer on port %d; see %s/maillog"
                                   % (self.port, self.folder))
            time.sleep(0.1)

    def stop(self):
        if self.running:
            self.running = False
            self._postfix("stop")

    def restart(self):
        """Stop, then start again (connections in flight are cut; the queue is kept)."""
        self.stop()
        self.start()

    def flush(self):
        """Ask the queue manager to deliver what is queued now (after an outage)."""
        if self.running:
            self._postfix("flush")

    def delivered(self):
        """The paths of the messages delivered so far, sorted."""
        out = []
        for sub in ("new", "cur"):
            d = os.path.join(self.maildir, sub)
            if os.path.isdir(d):
                out.extend(os.path.join(d, n) for n in os.listdir(d))
        return sorted(out)

    def queued(self):
        """How many messages Postfix holds in its queue, not yet delivered."""
        n = 0
        for sub in ("incoming", "active", "deferred", "maildrop"):
            for _root, _dirs, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
