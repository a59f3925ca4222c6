"""Uploads as vendors' programs really send them: the same data in every shape XML allows
(comments and processing instructions anywhere, other prefixes), and the answer each shape
gets: stored as sent, or refused with a message that says what to change."""

from __future__ import annotations

import gzip
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import etree

from cme.models import Inspection
from edt.models import EdtTransaction
from facilities.models import Facility
from tests.factories import make_facility
from tests.submittals.data import submit

from . import test_rcmes as rcmes
from .conftest import legacy_header
from .test_rfc import URL as RFC_URL
from .test_rfc import answer, rfc_document
from .test_rfs import URL as RFS_URL
from .test_rfs import _zip, exported, to_rfs


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


# --- encodings ----------------------------------------------------------------------------------

NAME = "Café Niño “Ñ” Depot"  # the curly quotes: windows-1252 has them, ISO-8859-1 does not
LATIN_NAME = "Café Niño Depot"


def written(encoding: str, declared: str | None, name: str = NAME) -> bytes:
    """The RFC document named ``name``, declaring ``declared`` (no encoding declared: None,
    no declaration at all: ""), written in ``encoding``."""
    text = rfc_document(name="{name}").decode().replace("{name}", name)
    if declared == "":
        text = text.removeprefix('<?xml version="1.0"?>')
    elif declared is not None:
        text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{declared}"?>')
    return text.encode(encoding)


BOM = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}

READ_AS_SENT = {
    # .NET's XmlWriter on a stream with Encoding.UTF8 writes the byte order mark
    "UTF-8 with its byte order mark": (BOM["utf-8"] + written("utf-8", "utf-8"), "text/xml"),
    # ... and with Encoding.Unicode, UTF-16 little-endian with its mark
    "UTF-16 LE": (BOM["utf-16-le"] + written("utf-16-le", "utf-16"), "text/xml"),
    "UTF-16 BE": (BOM["utf-16-be"] + written("utf-16-be", "utf-16"), "text/xml"),
    "UTF-16 without a declaration": (BOM["utf-16-le"] + written("utf-16-le", ""), "text/xml"),
    # .NET reads UTF-16 without its mark from the first character's zero byte; so does CERS
    "UTF-16 LE without its mark": (written("utf-16-le", "utf-16"), "text/xml"),
    "UTF-16 BE without its mark nor a declaration": (written("utf-16-be", ""), "text/xml"),
    # .NET's StringContent(xml, Encoding.Unicode, "text/xml"): no mark, and the charset
    # said in the header, which is the body's and not the query string's
    "UTF-16 as .NET's StringContent sends it": (
        written("utf-16-le", "utf-16"),
        "text/xml; charset=utf-16",
    ),
    "UTF-16 with its mark, charset=utf-16": (
        BOM["utf-16-le"] + written("utf-16-le", ""),
        "application/xml; charset=UTF-16",
    ),
    "windows-1252 declared": (written("cp1252", "windows-1252"), "text/xml"),
    "ISO-8859-1 declared": (written("latin-1", "ISO-8859-1", LATIN_NAME), "text/xml"),
    # .NET's StringWriter declares utf-16; the string is then sent as UTF-8
    "UTF-8 declared utf-16": (written("utf-8", "utf-16"), "text/xml"),
    "UTF-8 declared UTF-16 in single quotes": (
        written("utf-8", None).replace(b'"1.0"?>', b"\"1.0\" encoding='UTF-16' ?>"),
        "application/xml",
    ),
    # the Content-Type's charset, for a document that declares no encoding
    "ISO-8859-1 by its Content-Type": (
        written("latin-1", None, LATIN_NAME),
        "text/xml; charset=ISO-8859-1",
    ),
    "windows-1252 by its Content-Type": (written("cp1252", ""), "text/xml; charset=windows-1252"),
    # the document's own word is taken over the header's: its mark, its declaration, its
    # bytes when they are UTF-8
    "UTF-16 sent as charset=utf-8": (
        BOM["utf-16-le"] + written("utf-16-le", "utf-16"),
        "text/xml; charset=utf-8",
    ),
    "windows-1252 declared, sent as charset=utf-8": (
        written("cp1252", "windows-1252"),
        "text/xml; charset=UTF-8",
    ),
    "UTF-8 sent as charset=iso-8859-1": (written("utf-8", ""), "text/xml; charset=iso-8859-1"),
    "no Content-Type": (written("utf-8", None), ""),
    "application/octet-stream": (written("utf-8", None), "application/octet-stream"),
}


@pytest.mark.parametrize("case", READ_AS_SENT)
def test_a_document_is_read_in_the_encoding_it_was_written_in(client, cast, edt_account, case):
    body, content_type = READ_AS_SENT[case]
    root = answer(post(client, edt_account, body, content_type=content_type))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted", last_messages()
    expected = LATIN_NAME if "ISO-8859-1" in case else NAME
    assert list(
        Facility.objects.values_list("name", flat=True).filter(name__startswith="Café")
    ) == [expected]


def test_a_document_re_encoded_past_the_size_limit_is_refused(client, cast, edt_account, settings):
    """A document in a single-byte encoding named by its Content-Type is stored as UTF-8, in
    which each accented letter takes two bytes: the size limit holds for what is stored and
    processed, as it does for a ZIP's data.xml."""
    body = written("cp1252", "", "Caf\u00e9 " + "\u00e9" * 200)
    settings.EDT_MAX_XML_BYTES = len(body) + 100  # the bytes sent fit; in UTF-8 they do not
    response = post(client, edt_account, body, content_type="text/xml; charset=windows-1252")
    assert response.status_code == 413
    text = response.content.decode()
    assert "in UTF-8" in text and "Nothing was stored" in text
    assert not Facility.objects.filter(name__startswith="Caf").exists()


NOT_READABLE = {
    # Windows PowerShell 5.1 sends a string body in ISO-8859-1 unless told otherwise
    "ISO-8859-1 without a declaration": (
        written("latin-1", None, LATIN_NAME),
        "not UTF-8, the encoding XML reads when none is declared",
    ),
    "ISO-8859-1 declared UTF-8": (
        written("latin-1", "UTF-8", LATIN_NAME),
        "not UTF-8, the encoding its declaration names",
    ),
    "ISO-8859-1 declared utf-16": (
        written("latin-1", "utf-16", LATIN_NAME),
        "not UTF-8, the encoding its declaration names",
    ),
    "an encoding nobody knows": (
        written("utf-8", "klingon-8"),
        "names the encoding 'klingon-8', which CERS cannot read",
    ),
    "blank lines before the declaration": (
        b"\r\n\r\n" + written("utf-8", "utf-8"),
        "remove what comes before it",
    ),
}


@pytest.mark.parametrize("case", NOT_READABLE)
def test_a_document_that_cannot_be_read_is_told_why(client, cast, edt_account, case):
    body, expected = NOT_READABLE[case]
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    (message,) = last_messages()
    assert expected in message
    assert not Facility.objects.filter(name__startswith="Café").exists()


def test_a_zip_packages_data_xml_is_read_in_its_encoding_too(client, cast, edt_account):
    submit(cast, 2)  # Facility Information and an inventory, sent again to another facility
    second = make_facility(cast.org, name=cast.facility.name, zip_code="95814")
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    as_dotnet = document.replace(b"encoding='utf-8'", b'encoding="utf-16"')
    assert as_dotnet != document
    response = post(
        client,
        edt_account,
        _zip({"data.xml": as_dotnet}),
        url=RFS_URL,
        content_type="application/zip",
    )
    assert response.status_code == 200
    row = EdtTransaction.objects.order_by("-pk").first()
    assert row.status == EdtTransaction.Status.ACCEPTED, row.messages


# --- the shapes XML allows ----------------------------------------------------------------------

_START_TAG = re.compile(r"<(?P<name>[A-Za-z]\w*)(?=[\s>/])")


def default_namespace(body: bytes, children: str = ' xmlns=""') -> bytes:
    """The document with its root's namespace as the default, its children written with
    ``children`` (``xmlns=""``, which takes them out of it, as CalEPA's test data does)."""
    text = body.decode()
    text = re.sub(r"<(/?)cers:", r"<\1", text).replace("xmlns:cers=", "xmlns=")
    root = re.search(r"<(\w+) xmlns=", text)
    head, rest = text[: root.end()], text[root.end() :]
    return (head + _START_TAG.sub(rf"<\g<name>{children}", rest)).encode()


def pretty(body: bytes) -> bytes:
    root = etree.fromstring(body)
    etree.indent(root, "\t")
    return etree.tostring(root, xml_declaration=True, encoding="utf-8").replace(b"\n", b"\r\n")


def in_cdata(body: bytes) -> bytes:
    root = etree.fromstring(body)
    for element in root.iter(etree.Element):
        if len(element) == 0 and element.text:
            element.text = etree.CDATA(element.text)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


SHAPES = {
    "the default namespace, children out of it": default_namespace,
    "another prefix": lambda body: body.replace(b"cers:", b"ns0:").replace(
        b"xmlns:cers", b"xmlns:ns0"
    ),
    "xsi:schemaLocation": lambda body: body.replace(
        b' mode="',
        b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="'
        b"http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilityCreate/1/06/ "
        b'RegulatorFacilityCreate.xsd" mode="',
    ),
    "indented, CRLF line endings": pretty,
    "values in CDATA sections": in_cdata,
    "comments between the elements": lambda body: body.replace(b"><", b"><!-- - --><"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_every_shape_the_schema_allows_is_stored_the_same(client, cast, edt_account, shape):
    body = SHAPES[shape](rfc_document(name=NAME, site="500  River Road"))
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted", last_messages()
    facility = Facility.objects.get(name=NAME)
    assert (facility.street, facility.zip_code) == ("500  River Road", "95814")


def test_children_left_in_the_roots_namespace_are_told_how_to_take_them_out(
    client, cast, edt_account
):
    """A root with a default namespace puts its children in it too, unless they say
    otherwise; CalEPA's schemas want them in none (``elementFormDefault="unqualified"``)."""
    body = default_namespace(rfc_document(name=NAME), children="")
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    (message,) = last_messages()
    assert message.startswith("Element 'RegulatorTransactionKey' is in the namespace")
    assert 'xmlns=""' in message
    assert not Facility.objects.filter(name=NAME).exists()


def test_a_compressed_body_is_refused_before_it_is_read(client, cast, edt_account):
    """IIS, CalEPA's server, does not uncompress a request's body, and neither does CERS: the
    client is told to send it as it is (or its documents in a ZIP package)."""
    body = gzip.compress(rfc_document(name=NAME))
    response = post(client, edt_account, body, HTTP_CONTENT_ENCODING="gzip")
    assert response.status_code == 415
    assert "Content-Encoding: gzip" in response.content.decode()
    row = EdtTransaction.objects.order_by("-pk").first()
    assert (row.http_status, row.payload.name) == (415, "")
    assert not Facility.objects.filter(name=NAME).exists()


def test_identity_is_no_encoding(client, cast, edt_account):
    response = post(client, edt_account, rfc_document(name=NAME), HTTP_CONTENT_ENCODING="identity")
    assert answer(response).findtext("Transaction/TransactionStatus") == "Accepted"


def test_a_form_upload_is_told_to_send_the_document_as_the_body(client, cast, edt_account):
    """``curl -F file=@data.xml`` sends a form, the document one of its parts."""
    response = client.post(
        RFC_URL,
        {"file": SimpleUploadedFile("data.xml", rfc_document(name=NAME), "text/xml")},
        **legacy_header(edt_account),
    )
    assert response.status_code == 415
    assert "--data-binary" in response.content.decode()
    assert not Facility.objects.filter(name=NAME).exists()


def test_a_form_encoded_body_that_is_the_document_is_read(client, cast, edt_account):
    """``curl -d @data.xml`` labels the body a form but sends the file as it is (its line
    breaks removed)."""
    body = pretty(rfc_document(name=NAME)).replace(b"\r\n", b"")
    response = post(client, edt_account, body, content_type="application/x-www-form-urlencoded")
    assert answer(response).findtext("Transaction/TransactionStatus") == "Accepted"


@pytest.mark.parametrize(
    "body",
    [b'{"RegulatorFacilityCreate": {}}', b"xml=%3C%3Fxml%20version", b"RegulatorFacilityCreate"],
)
def test_a_body_that_is_not_xml_says_what_it_begins_with(client, cast, edt_account, body):
    root = answer(post(client, edt_account, body, content_type="application/json"))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    (message,) = last_messages()
    assert message.startswith("The body is not an XML document: it begins with")
    assert repr(body[:10].decode())[1:-1] in message


# --- values ---------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_whitespace_around_a_date_is_what_the_schema_collapses(client, cast, edt_account, encoding):
    """XML Schema collapses the whitespace around every value that is not a string, dates
    included (.NET's validator, CalEPA's, does); libxml2 does so for numbers but refuses a
    date written on a line of its own."""
    body = rcmes.document(
        inspections=[
            rcmes.inspection(
                "I-1",
                f" {cast.facility.cers_id} ",
                at="\r\n\t\t2024-05-02T09:00:00-07:00\r\n\t",
                OccurredOn="\n 2024-05-01",
                ViolationsRTCOn="2024-05-20\t",
                Comment="  Checked on 2024-05-01  ",
            )
        ]
    )
    if encoding == "utf-16":
        body = body.decode().replace("?>", ' encoding="utf-16"?>', 1).encode("utf-16")
    root = rcmes.answer(post(client, edt_account, body, url=rcmes.URL))
    assert rcmes.status(root) == "Accepted", last_messages()
    inspection = Inspection.objects.get()
    assert (str(inspection.occurred_on), str(inspection.violations_rtc_on)) == (
        "2024-05-01",
        "2024-05-20",
    )
    assert inspection.comments == "Checked on 2024-05-01"


def test_a_date_that_is_wrong_is_still_refused_where_it_is(client, cast, edt_account):
    body = rcmes.document(
        inspections=[
            rcmes.inspection("I-1", cast.facility.cers_id, OccurredOn="\n 2024-05-01\n"),
            rcmes.inspection("I-2", cast.facility.cers_id, OccurredOn="2024-13-01"),
        ]
    ).replace(b"<Inspection>", b"\n<Inspection>")
    root = rcmes.answer(post(client, edt_account, body, url=rcmes.URL))
    assert rcmes.status(root) == "Rejected"
    (message,) = EdtTransaction.objects.order_by("-pk").first().messages
    assert "2024-13-01" in message["message"]
    assert message["location"].startswith("line 5 ")


def test_an_xml_body_labelled_zip_is_read_as_xml(client, cast, edt_account):
    """CalEPA's server tells a ZIP package by its bytes, not by its label alone."""
    submit(cast, 2)
    second = make_facility(cast.org, name=cast.facility.name, zip_code="95814")
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    response = post(client, edt_account, document, url=RFS_URL, content_type="application/zip")
    assert response.status_code == 200
    row = EdtTransaction.objects.order_by("-pk").first()
    assert (row.status, row.is_zip) == (EdtTransaction.Status.ACCEPTED, False), row.messages


def test_a_zip_body_that_is_not_one_says_so(client, cast, edt_account):
    response = post(client, edt_account, b"PK\x03\x04 cut short", url=RFS_URL, content_type="")
    assert response.status_code == 200
    (message,) = last_messages()
    assert message == "The data sent is not a valid zip file."


def test_utf8_under_a_declaration_of_iso_8859_1_is_stored_as_declared_with_a_warning(
    client, cast, edt_account
):
    """A template's declaration kept while the program writes UTF-8: the bytes are read as
    declared, as CalEPA reads them, and the answer says how they read, so the vendor sees it."""
    body = written("utf-8", "ISO-8859-1", LATIN_NAME)
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert Facility.objects.filter(name="CafÃ© NiÃ±o Depot").exists()
    (warning,) = [m.text for m in root.iterfind("Messages/Message") if m.get("type") == "Warning"]
    assert "declares ISO-8859-1" in warning
    assert "'CafÃ©'" in warning and "'Café'" in warning


@pytest.mark.parametrize(
    "body",
    [written("latin-1", "ISO-8859-1", LATIN_NAME), written("cp1252", "windows-1252")],
)
def test_a_document_in_the_encoding_it_declares_has_no_such_warning(
    client, cast, edt_account, body
):
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.find("Messages") is None


def test_a_utf16_uploads_progress_counts_its_records(client, cast, edt_account, monkeypatch):
    """The transaction log's progress of an action notification upload counts its records in
    the encoding the document is written in."""
    from edt.uploads import UploadContext

    from . import test_rfsan as rfsan

    reports: list[tuple[int, int]] = []
    monkeypatch.setattr(
        UploadContext, "progress", lambda context, done, total: reports.append((done, total))
    )
    records = submit(cast, 2, 4)
    body = rfsan.document(rfsan.notification(records[1], status=4), rfsan.notification(records[2]))
    response = post(client, edt_account, body.decode().encode("utf-16"), url=rfsan.URL)
    assert response.status_code == 200
    assert EdtTransaction.objects.order_by("-pk").first().status == EdtTransaction.Status.ACCEPTED
    assert reports[-1] == (2, 2)
