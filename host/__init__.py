"""The CPython host harness: command line, local SMTP server, virtual board, links."""
