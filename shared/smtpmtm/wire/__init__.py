"""The wire layer: SMTP on the connection, sans I/O (RFC 5321 and its extensions).

``smtp`` the protocol's state as a transition table and the command lines,
``replies`` the reply parser, ``dotstuff`` the DATA encoder, ``auth`` the SASL
mechanisms, ``session`` a whole SMTP session over a stream you pass in. Knows
nothing of the store, the client or the outbox.

Example::

    from smtpmtm.wire.session import Session
    s = Session(stream, clock); s.open(); s.login("ann", "secret")
"""
