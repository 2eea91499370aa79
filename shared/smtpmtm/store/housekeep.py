"""Housekeeping: keep Sent and Deleted bounded so a board that mails every hour never fills.

Every message sent stays in Sent (as Symbian keeps it), and a board that sends
a report every 15 minutes would fill its flash in days, and its RAM too, since
the index keeps each entry in memory. ``tidy()`` purges the oldest Sent
messages beyond ``keep_sent`` and the oldest Deleted ones beyond
``keep_deleted`` (oldest by Date, then by id). It never touches the Outbox, the
Drafts or the Inbox: queued mail is never housekept away. Each purge is one
atomic store record, so a power cut in the middle leaves some purged and the
rest intact.

Example::

    n = tidy(store, keep_sent=20, keep_deleted=0)   # -> messages purged
"""

from .entry import DELETED, SENT
from ..errors import InputError


def _oldest_first(store, folder):
    kids = store.children(folder)
    kids.sort(key=lambda e: (e.date, e.id))
    return kids


def tidy(store, keep_sent=20, keep_deleted=0):
    """Purge all but the newest keep_sent Sent and keep_deleted Deleted entries.

    None for either keeps that folder as it is. Returns how many were purged."""
    plan = ((SENT, keep_sent, "keep_sent"), (DELETED, keep_deleted, "keep_deleted"))
    for _, keep, what in plan:  # both checked before anything is purged
        if keep is not None and (not isinstance(keep, int) or isinstance(keep, bool) or keep < 0):
            raise InputError("%s: a whole number >= 0, or None to keep all (got %r)" % (what, keep))
    n = 0
    for folder, keep, _ in plan:
        if keep is None:
            continue
        kids = _oldest_first(store, folder)
        for e in kids[:max(0, len(kids) - keep)]:
            store.purge(e.id)
            n += 1
    return n
