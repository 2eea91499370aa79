"""One content-type table: the MIME builder and the client give a file the same type."""

from portable import tmpdir, write_file
from smtpmtm import mime
from smtpmtm.mime.filetypes import guess_type


def test_guess_type_by_extension_any_case_and_path():
    assert guess_type("/flash/log.CSV") == "text/csv"
    assert guess_type("pic.jpeg") == "image/jpeg"
    assert guess_type("card.vcf") == "text/vcard"
    assert guess_type("invite.ics") == "text/calendar"
    assert guess_type("old.eml") == "message/rfc822"


def test_unknown_or_missing_extension_is_octet_stream():
    assert guess_type("data") == "application/octet-stream"
    assert guess_type("/flash.d/data") == "application/octet-stream"  # a dot in a folder name
    assert guess_type("x.weird") == "application/octet-stream"


def test_builder_uses_the_table_for_an_attachment_without_a_type():
    d = tmpdir()
    write_file(d + "/card.vcf", b"BEGIN:VCARD\r\nEND:VCARD\r\n")
    m = mime.Message(sender="a@example.com", to=["b@example.com"], subject="s",
                     date=1732790000, message_id="<t@example.com>")
    m.set_text("hi")
    m.attach(d + "/card.vcf")
    data = b"".join(mime.build(m).chunks())
    assert b"Content-Type: text/vcard; name=\"card.vcf\"" in data
