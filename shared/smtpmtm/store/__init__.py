"""The message store on a filesystem: tree, entries, index log, header part, housekeeping.

``tree.Store`` (folders Inbox/Outbox/Drafts/Sent/Deleted, entries, parts as
files), ``entry`` (TMsvEntry fields, flags, states), ``index`` (the append-only
CRC-checked log), ``headpart`` (a message's header part), ``housekeep``
(Sent/Deleted kept to a number), ``fsutil`` (file helpers, CRC). Every byte
these write is specified in SPEC.md beside them.

Example::

    from smtpmtm.store.tree import Store
    st = Store("/flash/mail")
"""
