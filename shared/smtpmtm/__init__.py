"""smtpmtm: email sending for MicroPython boards, after the Symbian OS SMTP MTM.

The core package: pure Python that runs unchanged on MicroPython and CPython.
It never opens a socket, never sleeps and never reads a clock on its own: I/O,
time and links are passed in. Its layers are folders: ``wire`` (SMTP, sans
I/O), ``mime`` (the streaming builder), ``store`` (the message store on
flash), ``client`` (the client MTM), ``outbox`` (the send engine), beside
``errors``, ``compat``, ``syntax``, ``settings`` and ``accounts``.

The names a user needs are here, each loaded on first use (module
``__getattr__``, as MicroPython's asyncio does), so ``import smtpmtm`` costs
nothing until one is used::

    from smtpmtm import Store, Accounts, SmtpSettings, Client, Sender, Links, build

    store = Store("/flash/mail"); accts = Accounts(store)
    c = Client(store, accts, clock); c.create_message(); ...; c.queue()
    Sender(store, accts.load(acct), acct.service, connect, clock).send_all()
"""

__version__ = "0.1.0"  # the one place: package.json, build/dist and the freeze manifests read it
VERSION = __version__

# name -> the module that defines it (relative to this package)
_ATTRS = {
    "Store": "store.tree",
    "Accounts": "accounts",
    "SmtpSettings": "settings",
    "Client": "client.mtm",
    "Sender": "outbox.sender",
    "Links": "outbox.link",
    "Message": "mime",
    "build": "mime",
}


def __getattr__(name):
    where = _ATTRS.get(name)
    if where is None:
        # MicroPython asks here before it imports a sub-module for ``from . import mime``:
        # load it as that import would, or say the name is unknown
        try:
            return __import__("smtpmtm." + name, None, None, ("",))
        except ImportError:
            raise AttributeError(name)
    module = __import__("smtpmtm." + where, None, None, (name,))
    value = getattr(module, name)
    globals()[name] = value  # found once, then an ordinary attribute
    return value
