"""Accounts (CEmailAccounts): create/list/load/save/delete/default, persisted, cut-safe order."""

from portable import raises, tmpdir

from smtpmtm.store import entry as E
from smtpmtm.store import fsutil
from smtpmtm.accounts import Account, Accounts
from smtpmtm.errors import NotFound, SettingsError
from smtpmtm.settings import SmtpSettings
from smtpmtm.store.tree import Store

# Store + index + accounts + settings compiled from source stay in the heap
# (on a board they are frozen into flash): 64k is not enough to compile them.



def S(**kw):
    d = dict(server="smtp.example.com", port=465, tls=True, email_address="pump@example.com",
             auth=True, login="pump", password="hunter2-secret")
    d.update(kw)
    return SmtpSettings(**d)


def test_create_makes_an_invisible_smtp_service_entry():
    st = Store(tmpdir())
    ac = Accounts(st)
    assert ac.list() == []
    a = ac.create("Pump house", S())
    assert isinstance(a, Account) and a.name == "Pump house" and a.id == 1
    e = st.get(a.service)
    assert e.type == E.TYPE_SERVICE and e.mtm == E.MTM_SMTP and e.parent == E.ROOT
    assert e.details == "Pump house" and not e.visible and not e.in_preparation
    assert ac.get(a.id) == a and ac.get(service=a.service) == a
    assert ac.load(a) == S()
    assert "hunter2" not in repr(a) and "hunter2" not in repr(ac.load(a))


def test_list_load_save_and_persistence():
    root = tmpdir()
    st = Store(root)
    ac = Accounts(st)
    a = ac.create("one", S())
    b = ac.create("two", S(server="smtp2.example.com", port=587, tls=False, starttls=True))
    assert [x.name for x in ac.list()] == ["one", "two"] and a.id != b.id
    s = ac.load(b)
    s.connect_prefs = ["wifi", "modem"]
    s.to_cc_include_limit = 4
    ac.save(b, s)
    ac.set_default(b)
    # reopen everything from flash
    st2 = Store(root)
    ac2 = Accounts(st2)
    assert [x.name for x in ac2.list()] == ["one", "two"]
    assert ac2.load(b.id) == s and ac2.load(b.id).password == "hunter2-secret"
    assert ac2.default() == b
    loaded = ac2.load(a)
    loaded.port = 2525
    assert ac2.load(a).port == 465  # load returns a copy


def test_save_validates_fields():
    st = Store(tmpdir())
    ac = Accounts(st)
    a = ac.create("one", S())
    e = raises(SettingsError, ac.save, a, S(port=0))
    assert "port" in str(e)
    raises(SettingsError, ac.save, a, S(starttls=True))  # with tls=True: exclusive
    assert ac.load(a).port == 465  # unchanged
    raises(SettingsError, ac.create, "", S())
    raises(SettingsError, ac.create, "x" * 257, S())
    raises(SettingsError, ac.create, "bad", S(port=-1))
    assert len(ac.list()) == 1


def test_default_get_set_remove():
    st = Store(tmpdir())
    ac = Accounts(st)
    raises(NotFound, ac.default)
    a = ac.create("one")
    b = ac.create("two")
    ac.set_default(a)
    assert ac.default() == a
    ac.set_default(b)
    assert ac.default() == b
    ac.remove_default()
    raises(NotFound, ac.default)
    ac.remove_default()  # nothing set: fine
    raises(NotFound, ac.set_default, 99)
    raises(NotFound, ac.get, 99)
    raises(NotFound, ac.get, None, 0x123456)


def test_delete_purges_service_and_clears_default():
    root = tmpdir()
    st = Store(root)
    ac = Accounts(st)
    a = ac.create("one", S())
    b = ac.create("two", S())
    ac.set_default(a)
    ac.delete(a)
    raises(NotFound, st.get, a.service)
    raises(NotFound, ac.default)
    raises(NotFound, ac.load, a)
    assert ac.list() == [b]
    assert Accounts(Store(root)).list() == [b]
    c = ac.create("three")
    assert c.id not in (a.id, b.id)  # ids are never reused


def test_connect_prefs_as_iap_preferences():
    st = Store(tmpdir())
    ac = Accounts(st)
    a = ac.create("one", S())
    assert ac.load_connect_prefs(a) == []
    ac.save_connect_prefs(a, ("wifi", "modem"))
    assert ac.load_connect_prefs(a) == ["wifi", "modem"]
    raises(SettingsError, ac.save_connect_prefs, a, ["wifi", ""])
    assert ac.load(a).connect_prefs == ["wifi", "modem"]


def test_read_only_and_rename():
    st = Store(tmpdir())
    ac = Accounts(st)
    a = ac.create("ro", S(), read_only=True)
    assert ac.is_read_only(a)
    raises(SettingsError, ac.save, a, S(port=25, tls=False))
    b = ac.create("rw", S())
    assert not ac.is_read_only(b)
    ac.rename(b, "renamed")
    assert ac.get(b.id).name == "renamed" and st.get(b.service).details == "renamed"
    assert ac.populate_defaults() == SmtpSettings()


def test_recovery_after_cut_between_entry_and_file():
    root = tmpdir()
    st = Store(root)
    ac = Accounts(st)
    a = ac.create("kept", S())
    # a cut after the service entry was created but before the file named it
    half = E.Entry(type=E.TYPE_SERVICE, parent=E.ROOT, mtm=E.MTM_SMTP, details="half",
                   flags=E.FLAG_INVISIBLE | E.FLAG_IN_PREPARATION)
    hid = st.create(half)
    # a cut after the file was written but before the flag was cleared
    e = st.get(a.service)
    e.set_flag(E.FLAG_IN_PREPARATION, True)
    st.update(e)
    st2 = Store(root)
    ac2 = Accounts(st2)
    raises(NotFound, st2.get, hid)
    assert not st2.get(a.service).in_preparation
    assert ac2.list() == [a]


def test_file_is_power_cut_safe_two_slots():
    root = tmpdir()
    st = Store(root)
    ac = Accounts(st)
    a = ac.create("one", S())
    ac.save(a, S(port=2525, tls=False))
    assert b"2525" in fsutil.read_file(ac.path)
    # tear the newest slot (the one holding 2525): the previous version must load
    for sfx in (".a", ".b"):
        p = ac.path + sfx
        with open(p, "rb") as f:
            body = f.read()
        if b"2525" in body:
            with open(p, "wb") as f:
                f.write(body[:len(body) // 2])
    ac2 = Accounts(Store(root))
    assert [x.name for x in ac2.list()] == ["one"] and ac2.load(a).port == 465


def test_oauth_settings_round_trip_through_accounts():
    root = tmpdir()
    st = Store(root)
    ac = Accounts(st)
    s = S(password="", oauth_token="ya29.a", oauth_expires=1700003600,
          oauth_token_url="https://oauth2.example.com/token", oauth_client_id="id-1",
          oauth_client_secret="cs", oauth_refresh_token="1//r", oauth_scope="https://mail.google.com/")
    a = ac.create("gmail", s)
    again = Accounts(Store(root)).load(a)
    assert again == s and again.oauth_refresh_token == "1//r" and again.oauth_expires == 1700003600
    bad = ac.load(a)
    bad.oauth_token_url = "http://oauth2.example.com/token"
    e = raises(SettingsError, ac.save, a, bad)
    assert "oauth_token_url" in str(e)
    assert Accounts(Store(root)).load(a) == s  # nothing half-saved
