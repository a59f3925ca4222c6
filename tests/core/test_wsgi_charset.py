"""A Content-Type whose charset Python finds but cannot read text with: Django builds the
request (decoding its query string in that charset) before any middleware runs, so the
exception it raised reached the server, a 500 for any page. The WSGI entry point answers 400
instead, saying what to change."""

from wsgiref.util import setup_testing_defaults

import pytest
from django.core import signals
from django.db import close_old_connections

from cers.wsgi import application


def call(environ: dict) -> tuple[str, bytes]:
    """The entry point called as a server calls it, but keeping the test's database
    connection open across the request, as Django's test client does (a server's request
    closes it when done, which would end the test's transaction on PostgreSQL)."""
    setup_testing_defaults(environ)
    answered = {}

    def start_response(status, headers, exc_info=None):
        answered["status"] = status

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        body = b"".join(application(environ, start_response))
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
    return answered["status"], body


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=undefined",  # Python's codec that reads nothing
        "text/plain; charset=rot13",  # a codec, not a text encoding
        "text/plain; charset*=UTF-8''utf-8%00",  # RFC 2231: a NUL in the name
    ],
)
def test_a_charset_that_reads_no_text_is_a_bad_request(db, content_type):
    status, body = call(
        {"PATH_INFO": "/agencies/", "QUERY_STRING": "zip=95814", "CONTENT_TYPE": content_type}
    )
    assert status.startswith("400"), status
    assert b"charset" in body


@pytest.mark.parametrize(
    "content_type", ["", "text/plain; charset=utf-8", "text/xml; charset=klingon-8"]
)
def test_a_readable_or_unknown_charset_is_served_as_before(db, content_type):
    status, _body = call(
        {"PATH_INFO": "/agencies/", "QUERY_STRING": "zip=95814", "CONTENT_TYPE": content_type}
    )
    assert status.startswith("200"), status
