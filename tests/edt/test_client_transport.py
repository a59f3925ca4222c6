"""Uploads over a real socket (the live test server, Django's own): what a client's HTTP
library does that the test client cannot, chunks, ``Expect: 100-continue``, HEAD and OPTIONS."""

from __future__ import annotations

import http.client
import socket
from urllib.parse import urlsplit

import pytest

from edt.models import EdtTransaction
from facilities.models import Facility

from .conftest import legacy_header
from .test_rfc import URL, rfc_document


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the stored uploads


def connect(live_server) -> http.client.HTTPConnection:
    address = urlsplit(live_server.url)
    return http.client.HTTPConnection(address.hostname, address.port, timeout=30)


def authorization(account) -> str:
    return legacy_header(account)["HTTP_AUTHORIZATION"]


def test_an_upload_with_expect_100_continue_is_answered(live_server, cast, edt_account):
    """.NET's HttpClient and curl ask before sending a body (``Expect: 100-continue``)."""
    body = b"\xff\xfe" + rfc_document(name="Wire Depot").decode().encode("utf-16-le")
    connection = connect(live_server)
    connection.request(
        "POST",
        URL,
        body,
        {
            "Authorization": authorization(edt_account),
            "Content-Type": "text/xml; charset=utf-16",
            "Expect": "100-continue",
        },
    )
    response = connection.getresponse()
    answer = response.read()
    assert response.status == 200, answer
    assert b"<TransactionStatus>Accepted</TransactionStatus>" in answer
    assert Facility.objects.filter(name="Wire Depot").exists()


def test_a_body_over_the_limit_is_refused_before_it_is_sent(live_server, cast, edt_account):
    """The declared length is enough: the client that waits for ``100 Continue`` hears 413
    without sending a byte of its 50 MB."""
    address = urlsplit(live_server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as client:
        client.sendall(
            (
                f"POST {URL} HTTP/1.1\r\nHost: {address.netloc}\r\n"
                f"Authorization: {authorization(edt_account)}\r\n"
                "Content-Type: text/xml\r\nContent-Length: 52428800\r\n"
                "Expect: 100-continue\r\nConnection: close\r\n\r\n"
            ).encode()
        )
        received = b""
        while b"413" not in received and (chunk := client.recv(65536)):
            received += chunk
    assert b" 413 " in received
    row = EdtTransaction.objects.get(endpoint="RFC")
    assert (row.http_status, row.payload.name) == (413, "")


def test_a_chunked_body_the_server_cannot_read_asks_for_its_length(live_server, cast, edt_account):
    """Django's development server does not put chunks together: the client is told to send
    a Content-Length (gunicorn does, and the body is read whole there)."""
    connection = connect(live_server)
    body = rfc_document(name="Wire Depot")
    connection.request(
        "POST",
        URL,
        iter([body[:100], body[100:]]),
        {"Authorization": authorization(edt_account), "Content-Type": "text/xml"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    assert response.status == 411
    assert b"Content-Length" in response.read()
    assert not Facility.objects.filter(name="Wire Depot").exists()


def test_head_and_options_answer_without_a_body(live_server, cast, edt_account):
    connection = connect(live_server)
    headers = {"Authorization": authorization(edt_account)}
    connection.request("HEAD", "/EDT/Regulator/Facility?regulatorCode=1001", headers=headers)
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, b"")
    assert response.getheader("Content-Type") == "text/xml; charset=utf-8"

    connection.request("OPTIONS", URL, headers=headers)
    response = connection.getresponse()
    assert response.status == 405
    assert response.getheader("Allow") == "POST"
    response.read()


@pytest.mark.parametrize("length", ["²", "٣", "1²"])
def test_a_content_length_of_other_digits_than_ascii_is_no_server_error(
    client, cast, edt_account, length
):
    """str.isdigit() holds for "²" and "٣", which int() refuses or reads: only 0-9 are a
    length. A server passing such a header on gets the answer any unusable length gets."""
    response = client.generic(
        "POST",
        URL,
        rfc_document(name="Odd Length Depot"),
        content_type="text/xml",
        CONTENT_LENGTH=length,
        **legacy_header(edt_account),
    )
    assert response.status_code < 500
