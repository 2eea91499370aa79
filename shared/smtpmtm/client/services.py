"""Settings, services, queueing and capabilities of the client MTM (mixin of Client).

After CSmtpClientMtm's service-context calls: ``settings`` / ``set_settings``
(SetSettingsL), ``restore_settings`` / ``store_settings`` (through
CEmailAccounts, accounts.py), ``default_service`` / ``change_default_service``
/ ``remove_default_service`` (always NotSupported, as Symbian), and
``query_capability`` answering as the inventory table: max body and message
size KMaxTInt, supported body 0x0F, editor UID 0x10003C53, subject,
attachments, send, recipient type and SendAs supported; everything else
(receive, offline, folders, BIO, scheduling, max recipients) NotSupported.
``queue()`` fixes Message-ID (RFC 5322 section 3.6.4) and Date (3.6.1)
in the header part and moves the message to the Outbox, Waiting, in one
atomic store record. Also the account-driven parts of a new message: signature (RFC 3676 section
4.3 delimiter ``-- ``) and vCard attachment.

Example::

    c.query_capability("max-body-size")     # 0x7FFFFFFF
    c.query_capability("supports-scheduling")   # raises NotSupported
    svc = c.default_service(); c.switch(svc); c.settings.port = 587; c.store_settings()
"""

from ..store import entry as E
from ..store import headpart as M
from ..errors import InputError, NotFound, SettingsError, SmtpMtmError
from ..settings import SmtpSettings
from ..syntax import message_id_for

MAX_INT = 0x7FFFFFFF
CAPS = {"max-body-size": MAX_INT, "max-total-msg-size": MAX_INT, "supported-body": 0x0F,
        "editor-uid": 0x10003C53, "support-subject": True, "support-attachments": True,
        "can-send-msg": True, "supports-recipient-type": True,
        "send-as-message-send-support": True}
NOT_SUPPORTED = ("can-receive-msg", "off-line-allowed", "supports-folder", "supports-bio-msg",
                 "supports-scheduling", "max-recipient-count")


class NotSupported(SmtpMtmError):
    """KErrNotSupported: the MTM does not offer this."""

    code = "not-supported"


class ServiceMixin:
    """Service context calls (part of Client)."""

    def _account_for(self, svc):
        if self.accounts is None or not svc:
            return None
        try:
            return self.accounts.get(service=svc)
        except NotFound:
            return None

    def settings_for(self, svc):
        """The SmtpSettings of service ``svc`` (defaults if it has no account), as its account
        holds them now (the cache goes when the accounts change)."""
        gen = getattr(self.accounts, "generation", 0)
        if gen != self._svc_gen:
            self._svc_cache = {}
            self._svc_gen = gen
        s = self._svc_cache.get(svc)
        if s is None:
            a = self._account_for(svc)
            s = self.accounts.load(a) if a else SmtpSettings()
            self._svc_cache[svc] = s
        return s

    def _service(self):
        return self.store.get(self._id).service if self._id else 0

    @property
    def settings(self):
        """Settings of the context's service (SetSettingsL via ``set_settings``)."""
        if self._settings is None:
            e = self.store.get(self._id) if self._id else None
            svc = e.id if e and e.type == E.TYPE_SERVICE else (e.service if e else 0)
            self._settings = self.settings_for(svc).copy()
        return self._settings

    def set_settings(self, s):
        self._settings = s.copy()

    def restore_settings(self):
        """RestoreSettingsL: reload the context service's settings from its account."""
        self._svc_cache = {}
        self._settings = None
        return self.settings

    def store_settings(self):
        """StoreSettingsL: save the cached settings into the context's account."""
        e = self.entry()
        svc = e.id if e.type == E.TYPE_SERVICE else e.service
        a = self._account_for(svc)
        if a is None:
            raise NotFound("no SMTP account for service %d" % svc)
        self.accounts.save(a, self.settings)
        self._svc_cache = {}

    def default_service(self):
        """DefaultServiceL: the default account's service id (NotFound if none)."""
        if self.accounts is None:
            raise NotFound("no accounts")
        return self.accounts.default().service

    def change_default_service(self, svc):
        self.accounts.set_default(self.accounts.get(service=svc))

    def remove_default_service(self):
        raise NotSupported("remove_default_service is not supported (as in Symbian)")

    def _default_svc(self):
        try:
            return self.default_service()
        except NotFound:
            return 0

    @staticmethod
    def _signature(s):
        if s.add_signature and s.signature:
            return "\n-- \n" + s.signature + ("" if s.signature.endswith("\n") else "\n")
        return ""

    @staticmethod
    def _add_vcard(s, e, h, parts):
        if s.add_vcard and s.vcard:
            data = s.vcard.encode()
            parts["vcard"] = data
            h["attachments"].append({"part": "vcard", "kind": M.KIND_FILE, "name": "vcard.vcf",
                                     "type": "text/vcard", "path": None, "entry": None,
                                     "cid": None, "size": len(data)})
            e.set_email_flag(E.EMAIL_VCARD)

    def query_capability(self, cap):
        """QueryCapability: the value, or NotSupported (as the inventory table)."""
        if cap in CAPS:
            return CAPS[cap]
        raise NotSupported("capability %r is not supported" % (cap,))

    # -- sending --------------------------------------------------------------------
    def queue(self, msg_id=None):
        """Move a saved message to the Outbox, waiting; fix its Message-ID and Date."""
        if msg_id is None or msg_id == self._id:
            self._need(True)
            self.save_message()
            msg_id = self._id
        e = self.store.get(msg_id)
        if e.type != E.TYPE_MESSAGE:
            raise InputError("queue: %d is not a message" % msg_id)
        h = M.read_header(self.store, msg_id)
        s = self.settings_for(e.service)
        a = self._account_for(e.service)
        if a:  # an account that cannot send (no server yet): refused now, not left waiting
            try:
                s.validate()
            except SettingsError as x:
                raise SettingsError("account %r cannot send yet: %s" % (a.name, x))
        if s.email_address:
            h["from"] = (s.alias, s.email_address)
        if not h["message_id"]:
            addr = h["from"][1] if h["from"] else ""
            h["message_id"] = message_id_for(addr)  # an IDN domain as IDNA (RFC 5891)
        if h["date"] is None:
            h["date"] = self._now()
            h["tz"] = self.tz_minutes
        e.parent = E.OUTBOX
        e.sending_state = E.SEND_WAITING
        e.date = h["date"]
        e.error = 0
        e.set_flag(E.FLAG_FAILED, False)
        e.set_flag(E.FLAG_INVISIBLE, False)
        e.set_flag(E.FLAG_IN_PREPARATION, False)
        self.store.update(e, {M.HEADER: M.header_chunks(h)})
        if msg_id == self._id:
            self._load(h)
        return msg_id

    def send_on_next_connection(self, ids=None):
        """KSMTPMTMSendOnNextConnection (client half): queue each message. -> ids"""
        if ids is None:
            ids = [self._id]
        return [self.queue(i) for i in ids]
