"""The public face: ``from smtpmtm import Store, ..., build`` gives each layer's own object."""

import smtpmtm
from portable import raises
from smtpmtm import Accounts, Client, Links, Message, Sender, SmtpSettings, Store, build
from smtpmtm.accounts import Accounts as Accounts_
from smtpmtm.client.mtm import Client as Client_
from smtpmtm.mime import Message as Message_
from smtpmtm.mime import build as build_
from smtpmtm.outbox.link import Links as Links_
from smtpmtm.outbox.sender import Sender as Sender_
from smtpmtm.settings import SmtpSettings as SmtpSettings_
from smtpmtm.store.tree import Store as Store_


def test_face_names_are_the_layers_objects():
    pairs = [(Store, Store_), (Accounts, Accounts_), (SmtpSettings, SmtpSettings_), (Client, Client_),
             (Sender, Sender_), (Links, Links_), (Message, Message_), (build, build_)]
    for face, own in pairs:
        assert face is own, face


def test_an_unknown_name_is_an_attribute_error():
    raises(AttributeError, getattr, smtpmtm, "NoSuchThing")
    assert smtpmtm.VERSION
