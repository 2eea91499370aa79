"""The outbox: the send engine (Symbian's SMTP server MTM) and what it needs.

``sender`` (the engine, Sender and Job: send list, one session, outcomes),
``plan`` (what to send: the send list, each message's transmissions, its
result part), ``retry`` (backoff), ``progress`` (TImSmtpProgress), ``link``
and ``manualhook`` (connect hooks), ``sendwhen`` (send on next connection),
``tokensource`` and ``oauth2`` (OAuth2 access tokens). Never imports the client.

Example::

    from smtpmtm.outbox.sender import Sender
    Sender(store, settings, service, connect, clock).send_all()
"""
