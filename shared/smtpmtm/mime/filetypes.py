"""A content type from a file name's extension: one small table (no mimetypes module).

Both the MIME builder (mime.attach without content_type) and the client
(attachments added to a stored message) take the type from here, so a file gets
the same type whichever way it is attached.

Example::

    guess_type("/flash/log.csv")   # "text/csv"
    guess_type("data")             # "application/octet-stream"
"""

# " extension type" pairs, each between single spaces; a type always holds a "/" and an
# extension (taken from after the last "/") never does, so " ext " only matches an extension
_TYPES = (" txt text/plain log text/plain csv text/csv htm text/html html text/html"
          " json application/json xml application/xml pdf application/pdf zip application/zip"
          " gz application/gzip jpg image/jpeg jpeg image/jpeg png image/png gif image/gif"
          " bmp image/bmp svg image/svg+xml wav audio/wav vcf text/vcard ics text/calendar"
          " eml message/rfc822 ")


def guess_type(name):
    """The content type for a file name or path, by its extension (any case)."""
    base = name.rsplit("/", 1)[-1]
    i = _TYPES.find(" %s " % base.rsplit(".", 1)[-1].lower()) if "." in base else -1
    if i < 0:
        return "application/octet-stream"
    i = _TYPES.index(" ", i + 1) + 1
    return _TYPES[i:_TYPES.index(" ", i)]
