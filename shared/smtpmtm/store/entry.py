"""Message-store entries: TMsvEntry / TMsvEmailEntry fields, flags, states, ids.

An ``Entry`` is one node of the message store tree (root, service, folder,
message, attachment), as Symbian's TMsvEntry (msvstd.h) with the email flags
of TMsvEmailEntry (miuthdr.h). Constant values are Symbian's where known
(../shared/reference/symbian-smtp-mtm.md sections 4 and 5). Differences:

- ``sending_state`` is its own field (Symbian packs it in iData bits 17-20);
  it adds ``SEND_UNCERTAIN`` (10): the message data went out, the final reply
  was not seen, so a resend may duplicate it (the sender records this).
- ``date`` is Unix seconds (Symbian: TTime); ``attempts``, ``first_try`` and
  ``next_try`` (Unix seconds) are the send engine's retry bookkeeping, with the
  flags ``FLAG_ATTEMPT_OPEN`` and ``FLAG_INTERRUPTED`` (in Symbian's unused
  sending-state bits) marking an attempt a power cut ended.
- its compact binary form (varints, omitted defaults) is index.py's
  ``encode``/``decode`` (SPEC.md section 3).

Example::

    from smtpmtm.store import entry
    e = entry.Entry(type=entry.TYPE_MESSAGE, parent=entry.OUTBOX,
                    mtm=entry.MTM_SMTP, description="Alarm", details="ann@x.org")
    e.sending_state = entry.SEND_WAITING
    e.set_flag(entry.FLAG_ATTACHMENT, True)
"""

from smtpmtm.compat import const

# ---- fixed ids (msvids.h) -------------------------------------------------
NULL_ID = const(0)
ROOT = const(0x1000)
LOCAL_SERVICE = const(0x1001)
INBOX = const(0x1002)
OUTBOX = const(0x1003)
DRAFTS = const(0x1004)
SENT = const(0x1005)
DELETED = const(0x1006)
UNKNOWN_SERVICE = const(0x1007)
FIRST_FREE_ID = const(0x100000)
STANDARD_FOLDERS = (INBOX, OUTBOX, DRAFTS, SENT, DELETED)

# ---- entry types (iType UIDs, msvuids.h) ------------------------------------
TYPE_ROOT = const(0x10000F67)
TYPE_SERVICE = const(0x10000F68)
TYPE_FOLDER = const(0x10000F69)
TYPE_MESSAGE = const(0x10000F6A)
TYPE_ATTACHMENT = const(0x10000F6B)
TYPES = (TYPE_ROOT, TYPE_SERVICE, TYPE_FOLDER, TYPE_MESSAGE, TYPE_ATTACHMENT)

# ---- MTM UIDs (mtmuids.h). LOCAL is Symbian's local-service MTM (value unconfirmed).
MTM_LOCAL = const(0x10000F71)
MTM_SMTP = const(0x10001028)
MTM_POP3 = const(0x10001029)
MTM_IMAP4 = const(0x1000102A)
MTMS = (MTM_LOCAL, MTM_SMTP, MTM_POP3, MTM_IMAP4)

# ---- iData flag bits (TMsvEntry) -------------------------------------------
PRIORITY_MASK = const(0x3)
PRIORITY_LOW = const(0)
PRIORITY_MEDIUM = const(1)
PRIORITY_HIGH = const(2)
FLAG_OFF_PEAK = const(0x4)
FLAG_NOT_COMPLETE = const(0x8)
FLAG_NEW = const(0x10)
FLAG_UNREAD = const(0x20)
FLAG_FAILED = const(0x40)
FLAG_OPERATION = const(0x80)
FLAG_OWNER = const(0x100)
FLAG_INVISIBLE = const(0x200)
FLAG_MULTIPLE_RECIPIENTS = const(0x400)
FLAG_SCHEDULED = const(0x800)
FLAG_READ_ONLY = const(0x1000)
FLAG_DELETED = const(0x2000)
FLAG_STANDARD_FOLDER = const(0x4000)
FLAG_ATTACHMENT = const(0x8000)
FLAG_IN_PREPARATION = const(0x10000)
# bits 17-20 hold the sending state in Symbian; here sending_state does, and the send
# engine keeps two bits of its own there (outbox/sender.py; SPEC.md 3.2):
FLAG_ATTEMPT_OPEN = const(0x20000)  # an attempt began and has no outcome yet
FLAG_INTERRUPTED = const(0x40000)  # its last attempt was cut (power cut, reset mid-send)
FLAGS_CUT = const(0x60000)  # FLAG_ATTEMPT_OPEN | FLAG_INTERRUPTED
FLAG_PENDING_CONDITIONS = const(0x800000)
FLAG_CONNECTED = const(0x01000000)
FLAG_PENDING_DELETE = const(0x02000000)

# ---- TMsvSendState ------------------------------------------------------------
SEND_UNKNOWN = const(0)
SEND_UPON_REQUEST = const(1)
SEND_WAITING = const(2)
SEND_SENDING = const(3)
SEND_SCHEDULED = const(4)
SEND_RESEND = const(5)
SEND_SUSPENDED = const(6)
SEND_FAILED = const(7)
SEND_SENT = const(8)
SEND_NOT_APPLICABLE = const(9)
SEND_UNCERTAIN = const(10)  # smtpmtm: data sent, final reply not seen
# the states the send engine sends from the Outbox (outbox/plan.send_list); a message left
# "sending" by a power cut counts as waiting
SENDABLE = (SEND_WAITING, SEND_SCHEDULED, SEND_RESEND, SEND_UNCERTAIN, SEND_SENDING)
SEND_STATE_NAMES = ("unknown", "upon-request", "waiting", "sending", "scheduled",
                    "resend", "suspended", "failed", "sent", "not-applicable",
                    "uncertain")

# ---- TMsvEmailEntry flags (iMtmData1) -------------------------------------------
EMAIL_ENCRYPTED = const(0x1)
EMAIL_SIGNED = const(0x2)
EMAIL_RECEIPT = const(0x4)
EMAIL_ORPHAN = const(0x8)
EMAIL_VCARD = const(0x10)
EMAIL_VCALENDAR = const(0x20)
EMAIL_MHTML = const(0x40)
EMAIL_BODY_TEXT_COMPLETE = const(0x80)
# the bits a remote mailbox uses (POP3/IMAP4: disconnected operations 0xF00, the IMAP
# flags 0x1000-0x80000, valid UID 0x100000, mailbox 0x200000, local subscription
# 0x400000, delete protected 0x800000, partial download 0x10000000, locally deleted
# 0x80000000) mean nothing to an SMTP MTM: left out, never set
EMAIL_FOLDER_TYPE_MASK = const(0x0F000000)
EMAIL_ICALENDAR = const(0x20000000)
EMAIL_FORWARDED = const(0x40000000)
# TImEmailFolderType values, stored in EMAIL_FOLDER_TYPE_MASK (shift 24)
FOLDER_UNKNOWN = const(0)
FOLDER_RELATED = const(1)
FOLDER_MIXED = const(2)
FOLDER_PARALLEL = const(3)
FOLDER_ALTERNATIVE = const(4)
FOLDER_DIGEST = const(5)
FOLDER_RFC822 = const(6)
FOLDER_PARTIAL = const(7)
FOLDER_DIRECTORY = const(8)
FOLDER_EXTERNAL = const(9)

# ---- errors recorded in iError (Symbian values) -----------------------------------
ERR_NONE = const(0)
ERR_UNKNOWN = const(-2)
ERR_ACCESS_DENIED = const(-21)

# field order is the encoding order (SPEC.md 3.2): name, default
INT_FIELDS = ("service", "related", "type", "mtm", "date", "size", "error", "flags",
               "sending_state", "email_flags", "attempts", "first_try", "next_try")
DEFAULTS = {"service": 0, "related": 0, "type": TYPE_MESSAGE, "mtm": 0, "date": 0,
             "size": 0, "error": 0, "flags": PRIORITY_MEDIUM, "sending_state": 0,
             "email_flags": 0, "attempts": 0, "first_try": 0, "next_try": 0,
             "description": "", "details": ""}
FIELDS = ("id", "parent") + INT_FIELDS + ("description", "details")


class Entry:
    """One store entry. Keyword arguments set any field in FIELDS."""

    def __init__(self, **kw):
        self.id = 0
        self.parent = 0
        for k in DEFAULTS:
            setattr(self, k, DEFAULTS[k])
        for k in kw:
            if k not in FIELDS:
                raise TypeError("unknown entry field " + k)
            setattr(self, k, kw[k])

    def __eq__(self, other):  # (!= is its negation on both interpreters)
        if not isinstance(other, Entry):
            return False
        for k in FIELDS:
            if getattr(self, k) != getattr(other, k):
                return False
        return True

    def __repr__(self):
        out = ["Entry(id=0x%x, parent=0x%x" % (self.id, self.parent)]
        for k in FIELDS[2:]:
            v = getattr(self, k)
            if v != DEFAULTS[k]:
                out.append("%s=%r" % (k, v))
        return ", ".join(out) + ")"

    def copy(self, **kw):
        e = Entry()
        for k in FIELDS:
            setattr(e, k, getattr(self, k))
        for k in kw:
            setattr(e, k, kw[k])
        return e

    # ---- flag helpers ----
    def flag(self, bit):
        return bool(self.flags & bit)

    def set_flag(self, bit, on=True):
        self.flags = (self.flags | bit) if on else (self.flags & ~bit)

    def email_flag(self, bit):
        return bool(self.email_flags & bit)

    def set_email_flag(self, bit, on=True):
        self.email_flags = (self.email_flags | bit) if on else (self.email_flags & ~bit)

    @property
    def priority(self):
        return self.flags & PRIORITY_MASK

    @priority.setter
    def priority(self, value):
        self.flags = (self.flags & ~PRIORITY_MASK) | (value & PRIORITY_MASK)

    @property
    def visible(self):
        return not self.flags & FLAG_INVISIBLE

    @property
    def complete(self):
        return not self.flags & FLAG_NOT_COMPLETE

    @property
    def in_preparation(self):
        return bool(self.flags & FLAG_IN_PREPARATION)

    @property
    def folder_type(self):
        return (self.email_flags & EMAIL_FOLDER_TYPE_MASK) >> 24

    @folder_type.setter
    def folder_type(self, value):
        self.email_flags = (self.email_flags & ~EMAIL_FOLDER_TYPE_MASK) | ((value & 0xF) << 24)
