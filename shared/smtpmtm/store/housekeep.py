"""Housekeeping: keep Sent and Deleted bounded so a board that mails every hour never fills.

Every message sent stays in Sent (as Symbian keeps it), and a board that sends
a report every 15 minutes would fill its flash in days, and its RAM too, since
the index keeps each entry in memory. ``tidy()`` purges the oldest Sent
messages beyond ``keep_sent`` and the oldest Deleted ones beyond
``keep_deleted`` (oldest by Date, then by id). Failed messages stay in the
Outbox (as Symbian keeps them) until ``retry`` or a delete; with ``keep_failed``
the oldest failed ones beyond it are purged too, for a board nobody looks at
that meets a 5xx every day. It never touches a message that may still be sent
(waiting, suspended, uncertain), the Drafts or the Inbox: queued mail is never
housekept away. Each purge is one
atomic store record, so a power cut in the middle leaves some purged and the
rest intact.

Example::

    n = tidy(store, keep_sent=20, keep_deleted=0, keep_failed=50)   # -> messages purged
"""

from .entry import DELETED, OUTBOX, SEND_FAILED, SENT
from ..errors import whole


def _oldest_first(store, folder):
    kids = store.children(folder)
    if folder == OUTBOX:  # only what can no longer be sent
        kids = [e for e in kids if e.sending_state == SEND_FAILED]
    kids.sort(key=lambda e: (e.date, e.id))
    return kids


def tidy(store, keep_sent=20, keep_deleted=0, keep_failed=None):
    """Purge all but the newest keep_sent Sent, keep_deleted Deleted and keep_failed failed
    entries (in the Outbox).

    None for any keeps those as they are. Returns how many were purged."""
    plan = ((SENT, keep_sent, "keep_sent"), (DELETED, keep_deleted, "keep_deleted"),
            (OUTBOX, keep_failed, "keep_failed"))
    for _, keep, what in plan:  # all checked before anything is purged
        if keep is not None:
            whole(what, keep, unit="a whole number (or None to keep all)")
    n = 0
    for folder, keep, _ in plan:
        if keep is None:
            continue
        kids = _oldest_first(store, folder)
        for e in kids[:max(0, len(kids) - keep)]:
            store.purge(e.id)
            n += 1
    return n
