"""Uploads as vendors' programs really send them: the same data in every shape XML allows
(comments and processing instructions anywhere, other prefixes), and the answer each shape
gets: stored as sent, or refused with a message that says what to change."""

from __future__ import annotations

import io

import pytest

from cme.models import Inspection
from edt.models import EdtTransaction
from facilities.models import Facility

from . import test_rcmes as rcmes
from .conftest import legacy_header
from .test_rfc import URL as RFC_URL
from .test_rfc import answer, rfc_document


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the stored uploads


def post(client, account, body: bytes, url: str = RFC_URL, content_type="text/xml", **extra):
    return client.generic(
        "POST", url, body, content_type=content_type, **legacy_header(account), **extra
    )


def last_messages() -> list[str]:
    return [m["message"] for m in EdtTransaction.objects.order_by("-pk").first().messages]


# --- comments and processing instructions ----------------------------------------------------

INSIDE = {"comment": "<!-- from the vendor's template -->", "instruction": "<?vendor line=3?>"}


@pytest.mark.parametrize("inside", INSIDE)
def test_a_comment_or_instruction_inside_a_value_does_not_cut_it(client, cast, edt_account, inside):
    """XML reads a value as all its text: what is around a comment or a processing instruction
    is one value, and the schema checks it whole, so the service stores it whole."""
    mark = INSIDE[inside]
    body = rfc_document(name=f"Café {mark}Niño Depot", zip_code=f"958{mark}14")
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted", last_messages()
    facility = Facility.objects.get(name="Café Niño Depot")
    assert facility.zip_code == "95814"


@pytest.mark.parametrize("inside", INSIDE)
def test_a_streamed_record_keeps_its_whole_value_too(client, cast, edt_account, inside):
    """The CME upload reads its records streaming: the same rule holds there."""
    mark = INSIDE[inside]
    cers_id = cast.facility.cers_id
    body = rcmes.document(
        inspections=[
            rcmes.inspection(
                "I-1",
                f"{mark}{cers_id}",
                OccurredOn=f"2024-{mark}05-01",
                Comment=f"Annual {mark}routine",
            )
        ]
    )
    root = rcmes.answer(post(client, edt_account, body, url=rcmes.URL))
    assert rcmes.status(root) == "Accepted", last_messages()
    inspection = Inspection.objects.get()
    assert (str(inspection.occurred_on), inspection.comments) == ("2024-05-01", "Annual routine")


# --- transport ----------------------------------------------------------------------------------


def chunked(body: bytes, *, terminated: bool) -> dict:
    """The WSGI environment of a body sent with ``Transfer-Encoding: chunked``: no
    Content-Length; a server that puts the chunks together (gunicorn) says so."""
    environ = {
        "CONTENT_LENGTH": "",
        "HTTP_TRANSFER_ENCODING": "chunked",
        "wsgi.input": io.BytesIO(body),
    }
    if terminated:
        environ["wsgi.input_terminated"] = True
    return environ


def test_a_body_sent_in_chunks_is_read_whole(client, cast, edt_account):
    """Java's and .NET's clients stream a document of unknown length in chunks; gunicorn puts
    them together and says so."""
    body = rfc_document(name="Chunked Depot")
    response = post(client, edt_account, b"", **chunked(body, terminated=True))
    assert answer(response).findtext("Transaction/TransactionStatus") == "Accepted"
    assert Facility.objects.filter(name="Chunked Depot").exists()


def test_chunks_past_the_size_limit_are_refused_while_reading(client, cast, edt_account, settings):
    body = rfc_document(name="Chunked Depot")
    settings.EDT_MAX_XML_BYTES = len(body) - 1
    response = post(client, edt_account, b"", **chunked(body, terminated=True))
    assert response.status_code == 413
    assert "Nothing was stored" in response.content.decode()
    assert not Facility.objects.filter(name="Chunked Depot").exists()


def test_chunks_a_server_cannot_read_ask_for_a_content_length(client, cast, edt_account):
    """Django's development server leaves the chunks unread: say so, rather than answer that
    the document is empty."""
    body = rfc_document(name="Chunked Depot")
    response = post(client, edt_account, b"", **chunked(body, terminated=False))
    assert response.status_code == 411
    assert "Content-Length" in response.content.decode()
    row = EdtTransaction.objects.order_by("-pk").first()
    assert (row.http_status, row.payload.name) == (411, "")
    assert not Facility.objects.filter(name="Chunked Depot").exists()


def test_an_empty_body_is_told_to_send_the_document(client, cast, edt_account):
    root = answer(post(client, edt_account, b""))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert "no body" in root.findtext("Messages/Message")
