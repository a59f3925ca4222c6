"""What the WSGI entry point does before Django builds a request.

Django reads the Content-Type's ``charset`` while it builds the request, before any
middleware runs: it takes any name Python's ``codecs`` finds, and decodes the query string
with it. A name that is found but reads no text (Python's ``undefined`` codec, ``rot13`` and
the other bytes-to-bytes codecs) or is no name at all (a NUL in it, sent RFC 2231-encoded as
``charset*=UTF-8''...%00``) raised there, out of reach of every error page: the server
answered 500 for any page. ``refuse_unreadable_charset`` answers such a request 400, saying
why. A name Python does not know is left to Django, which ignores it."""

from __future__ import annotations

import codecs

from django.utils.http import parse_header_parameters


def unreadable_charset(content_type: str) -> str | None:
    """The Content-Type's charset when Python finds it but cannot read text with it (or it is
    no name); None for any other Content-Type, an unknown charset included."""
    try:
        _kind, params = parse_header_parameters(content_type)
    except ValueError:
        return None  # Django answers 400 itself ("Invalid Content-Type header.")
    charset = params.get("charset")
    if not charset:
        return None
    try:
        codecs.lookup(charset)
    except LookupError:
        return None
    except ValueError:
        return charset
    try:
        b"a=1".decode(charset)
    except UnicodeDecodeError:
        return None  # reads text; Django falls back for a query string it cannot
    except (LookupError, ValueError):
        return charset
    return None


def refuse_unreadable_charset(application):
    """Wrap a WSGI ``application``: a request whose charset reads no text is answered
    400 in plain text."""

    def wrapped(environ, start_response):
        charset = unreadable_charset(environ.get("CONTENT_TYPE", ""))
        if charset is None:
            return application(environ, start_response)
        shown = charset.encode("ascii", "backslashreplace").decode("ascii")
        body = (
            f"The Content-Type's charset {shown!r} is not a text encoding: name the "
            "encoding of the body (charset=utf-8), or leave the charset out.\n"
        ).encode()
        start_response(
            "400 Bad Request",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("X-Content-Type-Options", "nosniff"),
            ],
        )
        return [body]

    return wrapped
