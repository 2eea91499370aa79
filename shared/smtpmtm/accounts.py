"""SMTP accounts (Symbian's CEmailAccounts): create, list, load, save, delete, default.

Each account has an id, a name and an SMTP service entry in the message store
(invisible, under the root, ``details`` = account name, as
CreateSmtpAccountL makes it); messages carry that service id. The accounts
and their settings live in one small file beside the store, written with
``fsutil.atomic_write`` (two CRC-checked slots: a power cut at any byte
leaves the old or the new version, also on FAT); its keys are specified in
store/SPEC.md section 10.

Power-cut order: a new service entry is created *in preparation*, then the
file is written, then the flag is cleared; a delete marks the entry in
preparation, writes the file, then purges the entry. On open, an SMTP
service entry in preparation that the file does not name is purged and one
that it names is finished, so a cut never leaves a half account.

The password is stored as given (a board has no secure storage; protect the
flash). It never appears in repr of an Account or of SmtpSettings.

Example::

    from smtpmtm.accounts import Accounts
    accts = Accounts(store)
    a = accts.create("pump", SmtpSettings(server="smtp.example.com", ...))
    accts.set_default(a)
    s = accts.load(accts.default())      # SmtpSettings
    s.port = 587; accts.save(a, s)
"""

import json

from .store import entry as E
from .store import fsutil
from .errors import NotFound, SettingsError
from .settings import SmtpSettings

VERSION = 1
MAX_NAME = 256


def _check_name(name):
    if not isinstance(name, str) or not name or len(name) > MAX_NAME:
        raise SettingsError("name: account name must be 1..%d characters" % MAX_NAME)


class Account:
    """TSmtpAccount: id, name, service (store entry id), related service id."""

    def __init__(self, id, name, service, related=0, read_only=False):
        self.id = id
        self.name = name
        self.service = service
        self.related = related
        self.read_only = read_only

    def __eq__(self, other):
        return isinstance(other, Account) and self.id == other.id and self.service == other.service

    def __ne__(self, other):
        return not self.__eq__(other)

    def __repr__(self):
        return "Account(id=%d, name=%r, service=0x%x)" % (self.id, self.name, self.service)


class Accounts:
    """The accounts of one store (CEmailAccounts)."""

    def __init__(self, store, path=None):
        self.store = store
        if path is None:
            path = store.root + "/accounts"
        self.path = path
        self._fs = getattr(store, "fs", None)
        self.generation = 0  # counts the changes: a Client's cached settings go stale with it
        try:
            self._data = json.loads(fsutil.read_file(path, self._fs).decode())
        except NotFound:
            self._data = {"version": VERSION, "next": 1, "default": 0, "accounts": []}
        if self._data.get("version", 0) > VERSION:
            raise SettingsError("accounts: file version %r is newer than %d"
                                % (self._data.get("version"), VERSION))
        self._recover()

    # -- internals --------------------------------------------------------------
    def _write(self, data):
        fsutil.atomic_write(self.path, json.dumps(data).encode(), self._fs)
        self._data = data
        self.generation += 1

    def _clone(self):
        return json.loads(json.dumps(self._data))

    def _recover(self):
        named = {}
        for a in self._data["accounts"]:
            named[a["service"]] = a
        for e in self.store.children(E.ROOT):
            if e.type != E.TYPE_SERVICE or e.mtm != E.MTM_SMTP or not e.in_preparation:
                continue
            if e.id in named:
                e.set_flag(E.FLAG_IN_PREPARATION, False)  # create finished but not flagged
                self.store.update(e)
            else:
                self.store.purge(e.id)  # half-created or half-deleted account

    def _rec(self, account):
        aid = account.id if isinstance(account, Account) else account
        for a in self._data["accounts"]:
            if a["id"] == aid:
                return a
        raise NotFound("no SMTP account with id %r" % (aid,))

    @staticmethod
    def _acct(a):
        return Account(a["id"], a["name"], a["service"], a.get("related", 0), a.get("read_only", False))

    # -- CEmailAccounts ---------------------------------------------------------------
    def create(self, name, settings=None, related=0, read_only=False):
        """CreateSmtpAccountL: a new account with an invisible SMTP service entry."""
        _check_name(name)
        settings = settings or SmtpSettings()
        settings.validate(for_sending=False)
        e = E.Entry(type=E.TYPE_SERVICE, parent=E.ROOT, mtm=E.MTM_SMTP, details=name,
                    related=related, flags=E.FLAG_INVISIBLE | E.FLAG_IN_PREPARATION)
        sid = self.store.create(e)
        data = self._clone()
        aid = data["next"]
        data["next"] = aid + 1
        data["accounts"].append({"id": aid, "name": name, "service": sid, "related": related,
                                 "read_only": bool(read_only), "settings": settings.to_dict()})
        self._write(data)
        e = self.store.get(sid)
        e.set_flag(E.FLAG_IN_PREPARATION, False)
        e.service = sid
        self.store.update(e)
        return Account(aid, name, sid, related, bool(read_only))

    def list(self):
        """GetSmtpAccountsL: every account, in creation order."""
        return [self._acct(a) for a in self._data["accounts"]]

    def get(self, account_id=None, service=None):
        """GetSmtpAccountL by account id or by service entry id (NotFound if none)."""
        for a in self._data["accounts"]:
            if (service is not None and a["service"] == service) or (
                    service is None and a["id"] == account_id):
                return self._acct(a)
        raise NotFound("no SMTP account %s" % (
            "for service 0x%x" % service if service is not None else "with id %r" % (account_id,)))

    def load(self, account):
        """LoadSmtpSettingsL: the account's SmtpSettings (a fresh copy)."""
        return SmtpSettings.from_dict(self._rec(account)["settings"])

    def save(self, account, settings):
        """SaveSmtpSettingsL: validate (fields only) and persist the settings."""
        rec = self._rec(account)
        if rec.get("read_only"):
            raise SettingsError("account: %r is read-only" % rec["name"])
        settings.validate(for_sending=False)
        data = self._clone()
        for a in data["accounts"]:
            if a["id"] == rec["id"]:
                a["settings"] = settings.to_dict()
        self._write(data)

    def rename(self, account, name):
        rec = self._rec(account)
        _check_name(name)
        data = self._clone()
        for a in data["accounts"]:
            if a["id"] == rec["id"]:
                a["name"] = name
        self._write(data)
        e = self.store.get(rec["service"])
        e.details = name
        self.store.update(e)

    def is_read_only(self, account):
        return bool(self._rec(account).get("read_only"))

    def delete(self, account):
        """DeleteSmtpAccountL: forget the account and purge its service entry."""
        rec = self._rec(account)
        sid = rec["service"]
        try:
            e = self.store.get(sid)
            e.set_flag(E.FLAG_IN_PREPARATION, True)
            self.store.update(e)
        except NotFound:
            e = None
        data = self._clone()
        data["accounts"] = [a for a in data["accounts"] if a["id"] != rec["id"]]
        if data.get("default") == rec["id"]:
            data["default"] = 0
        self._write(data)
        if e is not None:
            self.store.purge(sid)

    def load_connect_prefs(self, account):
        """LoadSmtpIapSettingsL: the ordered connect-hook names (CImIAPPreferences)."""
        return list(self.load(account).connect_prefs)

    def save_connect_prefs(self, account, prefs):
        """SaveSmtpIapSettingsL: e.g. ["wifi", "modem"]; tried in that order."""
        s = self.load(account)
        s.connect_prefs = list(prefs)
        self.save(account, s)

    def populate_defaults(self):
        """PopulateDefaultSmtpSettingsL: fresh default settings."""
        return SmtpSettings()

    # -- default account ----------------------------------------------------------------
    def default(self):
        """DefaultSmtpAccountL: the default account; NotFound if none is set."""
        d = self._data.get("default") or 0
        if not d:
            raise NotFound("no default SMTP account")
        return self._acct(self._rec(d))

    def set_default(self, account):
        rec = self._rec(account)
        data = self._clone()
        data["default"] = rec["id"]
        self._write(data)

    def remove_default(self):
        """DeleteDefaultSmtpAccountL."""
        if self._data.get("default"):
            data = self._clone()
            data["default"] = 0
            self._write(data)
