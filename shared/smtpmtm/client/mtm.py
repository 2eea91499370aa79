"""The client MTM (Symbian's CSmtpClientMtm): the API an application uses.

A ``Client`` has a context entry (``switch(id)``): a message, whose
addressees, subject, bodies and attachments it edits, or an SMTP service,
whose settings it stores/restores. Bodies and attachments go to the store as
they are set, in chunks (never the whole body in RAM); ``save_message()``
writes the header part (store/headpart.py) and the entry in one atomic store record:
size = header + bodies + attachments, description = subject, details = first
To else Cc else Bcc, date, Attachment and MultipleRecipients flags, visible,
not in preparation. ``queue()`` fixes Message-ID (RFC 5322 section 3.6.4)
and Date (section 3.6.1) in the header and moves the message to the Outbox
with sending state Waiting, atomically; a re-queued message keeps both, so a
resend is recognisable as the same message.

Reply/forward/receipt are in compose.py, attachments in attach.py, settings
and capabilities in services.py, find in find.py, the header format in store/headpart.py (``read_header`` is re-exported).

Example::

    c = Client(store, accounts, clock)
    mid = c.create_message()                 # Drafts, default account
    c.add_addressee("ann@example.com", "to", "Ann")
    c.subject = "Pump alarm"
    c.set_body_text("Pressure low")          # or path="/flash/log.txt"
    c.add_attachment("/flash/log.csv")
    c.save_message(); c.queue()              # Outbox, waiting
"""

from ..store import entry as E
from ..store import headpart as M
from ..syntax import format_address, parse_address, valid_address
from .attach import AttachMixin
from ..errors import InputError, store_error
from .find import (PART_ATTACHMENTS, PART_BCC, PART_BODY, PART_CC, PART_DESCRIPTION,  # noqa
                   PART_FROM, PART_ORIGINATOR, PART_RECIPIENT, PART_TO, PART_DATE,
                   PART_SUBJECT, FIND_CASE_SENSITIVE, FIND_WHOLE_WORD, FIND_WILDCARD)
from .services import CAPS, NotSupported, ServiceMixin  # noqa: F401
from ..settings import SEND_ON_REQUEST

read_header = M.read_header

KINDS = ("to", "cc", "bcc")  # EMsvRecipientTo=0, Cc=1, Bcc=2
class Client(AttachMixin, ServiceMixin):
    """The SMTP client MTM over a Store, an Accounts and a clock (seconds)."""

    def __init__(self, store, accounts=None, clock=None, tz_minutes=0):
        self.store = store
        self.accounts = accounts
        self.clock = clock
        self.tz_minutes = tz_minutes
        self._id = 0
        self._svc_cache = {}
        self._svc_gen = 0  # the accounts' generation the cache was filled at
        self._pending = {}
        self._writing = []  # part names of open attachment writers
        self._reset()

    # -- context --------------------------------------------------------------
    def _reset(self):
        """ContextEntrySwitched: forget addressees, subject, header, settings."""
        self._rcpts = []
        self._hdr = M.new_header()
        self._atts = []
        self._removed = []
        self._settings = None

    def _now(self):
        return int(self.clock()) if self.clock else 0

    def has_context(self):
        return bool(self._id)

    @property
    def entry_id(self):
        return self._id

    def entry(self):
        """The context entry (fresh from the store)."""
        self._need()
        return self.store.get(self._id)

    def switch(self, eid):
        """SwitchCurrentEntryL: make ``eid`` the context (NotFound if none). A message's
        header is read at once (as LoadMessageL would), so find(), the properties and
        save_message() see the message as stored: Symbian left them empty until
        LoadMessageL, and a save_message() before it wrote an empty header over it."""
        e = self.store.get(eid)
        h = None
        if e.type == E.TYPE_MESSAGE and M.HEADER in self.store.parts(eid):
            h = read_header(self.store, eid)
        self._enter(eid, h)

    def _enter(self, eid, h):
        """Make ``eid`` the context with header dict ``h`` (None: an empty one)."""
        self._id = eid
        self._reset()
        if h is not None:
            self._load(h)

    def _need(self, message=False):
        if not self._id:
            raise InputError("client: no context entry")
        if message and self.store.get(self._id).type != E.TYPE_MESSAGE:
            raise InputError("client: context %d is not a message" % self._id)

    # -- creating ----------------------------------------------------------------------
    @staticmethod
    def _state(s):
        return E.SEND_UPON_REQUEST if s.send_option == SEND_ON_REQUEST else E.SEND_WAITING

    def _create(self, e, parts):
        """store.create; a message made in the Outbox stays state Unknown (never
        picked by the sender) until save_message gives it its real state, which waits
        in _pending meanwhile: only for that message (one made elsewhere keeps its
        state in its entry), and only for the latest one made, so it never grows with
        the messages a board makes (another one saved gets the account's state)."""
        state = e.sending_state
        self._pending = {}
        if e.parent == E.OUTBOX:
            e.sending_state = E.SEND_UNKNOWN
        eid = self.store.create(e, parts)
        if e.parent == E.OUTBOX:
            self._pending[eid] = state
        return eid

    def _base_entry(self, folder, svc, s, state=None):
        if state is None:
            state = self._state(s)
        e = E.Entry(type=E.TYPE_MESSAGE, parent=folder or E.DRAFTS, service=svc, mtm=E.MTM_SMTP,
                    date=self._now(), sending_state=state,
                    flags=E.FLAG_INVISIBLE | E.FLAG_IN_PREPARATION | E.PRIORITY_MEDIUM)
        if s.body_encoding in ("mhtml", "mhtml-alternative"):
            e.set_email_flag(E.EMAIL_MHTML)
        return e

    def _base_header(self, s, receipts=True):
        h = M.new_header()
        if s.email_address:
            h["from"] = (s.alias, s.email_address)
        if s.reply_to:
            h["reply_to"] = (s.alias, s.reply_to)
        if receipts and s.request_receipts:
            h["receipt_to"] = (s.alias, s.receipt_to())
        h["charset"] = s.charset
        h["encoding"] = s.body_encoding
        return h

    def create_message(self, folder=None, service=None):
        """CreateMessageL: a new message (Drafts by default), now the context. -> id"""
        svc = service if service is not None else self._default_svc()
        s = self.settings_for(svc)
        e = self._base_entry(folder, svc, s)
        h = self._base_header(s)
        if h["receipt_to"]:
            e.set_email_flag(E.EMAIL_RECEIPT)
        parts = {}
        sig = self._signature(s)
        if sig:
            parts[M.TEXT] = sig.encode()
            h[M.TEXT] = M.TEXT
        self._add_vcard(s, e, h, parts)
        parts[M.HEADER] = M.header_chunks(h)
        eid = self._create(e, parts)
        self._enter(eid, h)
        return eid

    # -- addressees, subject, priority ------------------------------------------------
    def add_addressee(self, addr, kind="to", alias=None):
        """AddAddresseeL: kind "to"/"cc"/"bcc" (or 0/1/2); ``"Name" <a@b>`` is split."""
        if isinstance(kind, int):
            if not 0 <= kind < 3:
                raise InputError("addressee kind: 0, 1 or 2")
            kind = KINDS[kind]
        if kind not in KINDS:
            raise InputError("addressee kind: one of to, cc, bcc")
        name, a = parse_address(M.clean(addr, "addressee"))
        if alias is not None:
            name = alias
        self._rcpts.append((kind, M.clean(name, "alias"), a))

    def remove_addressee(self, i):
        """RemoveAddressee: removes index i if in range, else does nothing."""
        if isinstance(i, int) and 0 <= i < len(self._rcpts):
            del self._rcpts[i]

    def addressees(self, kind=None):
        """[(kind, name, addr)] in the order added (only ``kind`` if given)."""
        return [r for r in self._rcpts if kind is None or r[0] == kind]

    @property
    def subject(self):
        return self._hdr["subject"]

    @subject.setter
    def subject(self, value):
        self._hdr["subject"] = M.clean(value, "subject")

    @property
    def priority(self):
        return self._hdr["priority"]

    @priority.setter
    def priority(self, value):
        if value not in (None, "high", "normal", "low"):
            raise InputError("priority: %r is not high, normal, low or None" % (value,))
        self._hdr["priority"] = value

    def header(self):
        """The context's header dict as it would be saved (see store/headpart.py)."""
        h = self._hdr
        for k in KINDS:
            h[k] = [(n, a) for (kk, n, a) in self._rcpts if kk == k]
        h["attachments"] = self._atts
        return h

    def add_header(self, name, value):
        """An extra header line (e.g. X-Device) written by the send engine."""
        self._hdr["headers"].append((M.clean(name, "header name"), M.clean(value, name)))

    # -- saving and loading --------------------------------------------------------------
    def _parts_size(self, eid, h):
        st = self.store
        have = st.parts(eid)
        n = 0
        for p in (M.TEXT, M.HTML):
            if p in have:
                n += st.part_size(eid, p)
        for a in h["attachments"]:
            n += a.get("size") or 0
        return n

    def _details(self, h):
        for k in KINDS:
            if h[k]:
                name, addr = h[k][0]
                return format_address(name, addr)
        return ""

    def _sync(self, e, h, hsize):
        """Entry fields from the header (SaveMessageL / LoadMessageL rules)."""
        e.size = hsize + self._parts_size(e.id, h)
        e.description = h["subject"]
        e.details = self._details(h)
        n = len(h["to"]) + len(h["cc"]) + len(h["bcc"])
        e.set_flag(E.FLAG_MULTIPLE_RECIPIENTS, n >= 2)
        e.set_flag(E.FLAG_ATTACHMENT, bool(h["attachments"]))
        e.set_email_flag(E.EMAIL_MHTML, bool(h[M.HTML]) or e.email_flag(E.EMAIL_MHTML))
        e.set_email_flag(E.EMAIL_RECEIPT, bool(h["receipt_to"]))
        pr = h["priority"]
        e.priority = E.PRIORITY_HIGH if pr == "high" else (E.PRIORITY_LOW if pr == "low" else
                                                           E.PRIORITY_MEDIUM)

    def save_message(self):
        """SaveMessageL: header part + entry, one atomic store record."""
        self._need(True)
        e = self.store.get(self._id)
        h = self.header()
        have = self.store.parts(self._id)
        for p in (M.TEXT, M.HTML):
            h[p] = p if p in have else None
        hsize = 0
        for c in M.header_chunks(h):  # validates, and sizes, before anything is written
            hsize += len(c)
        self._sync(e, h, hsize)
        if e.sending_state == E.SEND_UNKNOWN:
            st = self._pending.pop(e.id, None)
            e.sending_state = self._state(self.settings_for(e.service)) if st is None else st
        e.date = self._now() or e.date
        e.set_flag(E.FLAG_INVISIBLE, False)
        e.set_flag(E.FLAG_IN_PREPARATION, False)
        parts = {M.HEADER: M.header_chunks(h)}
        for p in self._removed:
            if p in have:
                parts[p] = None
        self.store.update(e, parts)
        for x in self._removed:  # attached entries go after the header stops naming them
            if isinstance(x, int) and self.store.exists(x):
                self.store.purge(x)
        self._removed = []

    def _load(self, h):
        self._hdr = h
        self._rcpts = [(k, n, a) for k in KINDS for (n, a) in h[k]]
        self._atts = h["attachments"]
        self._removed = []

    def load_message(self):
        """LoadMessageL: service context -> restore settings; message -> header."""
        self._need()
        e = self.store.get(self._id)
        if e.type == E.TYPE_SERVICE:
            self.restore_settings()
            return
        h = read_header(self.store, self._id)
        self._load(h)
        old = e.copy()
        self._sync(e, h, self.store.part_size(self._id, M.HEADER))
        if e != old:
            self.store.update(e)

    # -- validate, find, capabilities ------------------------------------------------------
    def validate(self, parts=PART_RECIPIENT):
        """ValidateMessage: the failed parts of ``parts`` as flags (0 = valid)."""
        self._need(True)
        h = self.header()
        bad = 0
        if parts & PART_RECIPIENT:
            if not self._rcpts or not all(valid_address(r[2]) for r in self._rcpts):
                bad |= PART_RECIPIENT
        for flag, k in ((PART_TO, "to"), (PART_CC, "cc"), (PART_BCC, "bcc")):
            if parts & flag and not all(valid_address(a) for (n, a) in h[k]):
                bad |= flag
        if parts & (PART_ORIGINATOR | PART_FROM):
            s = self.settings_for(self._service())
            frm = h["from"][1] if h["from"] else s.email_address
            if not valid_address(frm):
                bad |= parts & (PART_ORIGINATOR | PART_FROM)
        if parts & PART_ATTACHMENTS and not self._atts_ok():
            bad |= PART_ATTACHMENTS
        if parts & PART_BODY:
            have = self.store.parts(self._id)
            for p in (M.TEXT, M.HTML):
                if h.get(p) and p not in have:
                    bad |= PART_BODY
        return bad

    def _bodies(self):
        have = self.store.parts(self._id)
        for p in (M.TEXT, M.HTML):
            if p in have:
                yield self.store.open_part(self._id, p)

    def find(self, text, parts):
        """Find: the flags of ``parts`` containing ``text`` (see find.py)."""
        self._need(True)
        from .find import find_in

        try:
            return find_in(text, parts, self.header(), self._bodies)
        except OSError as e:
            raise store_error("find", e)

    # -- reply, forward, receipt (compose.py, imported when first used) -----------
    def reply(self, to_all=False, folder=None):
        """CreateReplyL: to Reply-To else From (+ To/Cc as Cc if to_all). -> new id"""
        from . import compose

        return compose.reply(self, to_all, folder)

    def forward(self, folder=None):
        """CreateForwardL: "Fwd: ", original body and attachments. -> new id"""
        from . import compose

        return compose.forward(self, folder)

    def forward_as_attachment(self, folder=None):
        """CreateForwardAsAttachmentL: original as message/rfc822. -> new id"""
        from . import compose

        return compose.forward_as_attachment(self, folder)

    def receipt(self, folder=None):
        """CreateReceiptL: to the receipt address else From, Waiting. -> new id"""
        from . import compose

        return compose.receipt(self, folder)
