"""The client MTM: what an application uses to compose, queue and find messages.

``mtm.Client`` (create, save, load, reply, forward, queue, find), ``compose``
(reply/forward texts), ``attach`` (attachments), ``find`` (text search),
``services`` (the account behind a message, Message-ID at queue time). Never
imports the outbox: the two meet only in the store.

Example::

    from smtpmtm.client.mtm import Client
    c = Client(store, accounts, clock); c.create_message()
"""
