"""EDT paths as CalEPA's server (ASP.NET on IIS) matches them: without regard to the case of
their letters and with or without one trailing slash, in both environments; a path under
/EDT/ or /Staging/ that names no endpoint answers 404 in the service's own error shape (a plain
message, or JSON when asked for), while the rest of the site keeps its own paths and 404 page.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.urls import Resolver404, resolve, reverse
from lxml import etree

from edt.api.catalogue import ENDPOINTS
from edt.models import EdtTransaction

from .conftest import content, legacy_header
from .test_rfc import rfc_document

ENVIRONMENTS = ("/EDT/", "/Staging/")


def answered(response) -> bytes:
    """The answer's body without its root's ``timeStamp`` (the moment it was written, which
    moves when two calls straddle a second)."""
    return re.sub(rb' timeStamp="[^"]*"', b"", content(response), count=1)


def spellings(path: str) -> list[str]:
    """``path`` as a client might write it: swapped case, lower case, upper case, each with a
    trailing slash and without; the query string, if any, untouched."""
    path, mark, query = path.partition("?")
    forms = []
    for cased in (path.swapcase(), path.lower(), path.upper()):
        cased = cased.rstrip("/")
        forms += [cased + mark + query, cased + "/" + mark + query]
    return forms


def catalogue_paths() -> list[str]:
    """Every endpoint path the catalogue names (RFTQ's two spellings), with its sub-path when
    it takes an argument, the endpoint list and the schema versions page, under both
    environments. (A schema file's path names the schema: see the download tests.)"""
    tails = ["", "Schemas/", "Regulator/Facility/Transfer"]
    for endpoint in ENDPOINTS:
        tails.append(endpoint.path)
        if endpoint.path_argument:
            tails.append(f"{endpoint.path}/{uuid.UUID(int=7)}")
    return [base + tail for base in ENVIRONMENTS for tail in tails]


@pytest.mark.parametrize("path", catalogue_paths())
def test_every_edt_path_resolves_whatever_its_case_and_trailing_slash(path):
    canonical = resolve(path)
    for spelling in spellings(path):
        match = resolve(spelling)
        assert (match.func, match.url_name, match.namespace) == (
            canonical.func,
            canonical.url_name,
            canonical.namespace,
        ), spelling
        assert match.kwargs == canonical.kwargs, spelling


def test_a_path_argument_keeps_its_case_and_loses_only_the_trailing_slash():
    match = resolve("/edt/regulator/facility/create/AbC-Key/")
    assert match.url_name == "rfc_one"
    assert match.kwargs == {"environment": "production", "CERSTransactionKey": "AbC-Key"}


def test_names_still_reverse_to_calepas_spelling():
    assert reverse("edt:rfq") == "/EDT/Regulator/Facility"
    assert reverse("edt_staging:schemas") == "/Staging/Schemas/"
    assert reverse("edt:rfc_one", kwargs={"CERSTransactionKey": "k"}).endswith("/Create/k")


def test_only_ascii_letters_fold(client, db):
    # Python's regular expressions would fold the long s ("ſ") into "s"; IIS does not, nor do
    # we: such a path names no endpoint
    response = client.get("/EDT/Regulator/Faclility/Tran\u017ffer?regulatorCode=1001")
    assert response.status_code == 404
    assert "is not an EDT endpoint" in response.content.decode()
    assert resolve("/EDT/Regulator/Li\u017fting").url_name is None
    assert resolve("/EDT/Regulator/LISTING").url_name == "rl"


def test_more_than_one_trailing_slash_is_not_an_endpoint(client, db):
    response = client.get("/EDT/Regulator/Listing//")
    assert response.status_code == 404
    assert "is not an EDT endpoint" in response.content.decode()


@pytest.mark.parametrize("base", ENVIRONMENTS)
def test_an_authenticated_query_answers_the_same_on_any_spelling(client, edt_account, base):
    url = f"{base}Regulator/Authenticate?regulatorCode=1001"
    expected = client.get(url, **legacy_header(edt_account))
    assert expected.status_code == 200
    for spelling in spellings(url):
        response = client.get(spelling, **legacy_header(edt_account))
        assert (response.status_code, response.content) == (200, expected.content), spelling
    environment = "production" if base == "/EDT/" else "testing"
    logged = EdtTransaction.objects.filter(endpoint="RAT", environment=environment)
    assert logged.count() == 1 + len(spellings(url))


@pytest.mark.parametrize("base", ENVIRONMENTS)
def test_an_open_query_answers_the_same_on_any_spelling(client, cast, base):
    expected = client.get(f"{base}Regulator/Listing")
    assert expected.status_code == 200
    for spelling in spellings(f"{base}Regulator/Listing"):
        response = client.get(spelling)
        assert response.status_code == 200, spelling
        assert answered(response) == answered(expected), spelling


def test_rftq_answers_on_both_its_spellings_whatever_their_case(client, edt_account):
    paths = ["/edt/REGULATOR/faclility/transfer/", "/Edt/regulator/FACILITY/Transfer/"]
    for path in paths:
        response = client.get(f"{path}?regulatorCode=1001", **legacy_header(edt_account))
        assert response.status_code == 200, path
        root = etree.fromstring(content(response))
        assert etree.QName(root).localname == "RegulatorFacilityTransferQuery", path
    logged = EdtTransaction.objects.filter(endpoint="RFTQ", environment="production")
    assert logged.count() == len(paths)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.mark.parametrize(
    ("upload", "status"),
    [
        ("/edt/regulator/facility/create/", "/EDT/REGULATOR/FACILITY/CREATE/{key}/"),
        ("/STAGING/Regulator/Facility/Create", "/staging/regulator/facility/create/{key}"),
    ],
)
def test_an_upload_and_its_status_query_answer_on_any_spelling(
    client, cast, edt_account, media, upload, status
):
    response = client.post(
        f"{upload}?regulatorCode=1001",
        rfc_document("Trial"),
        content_type="text/xml",
        **legacy_header(edt_account),
    )
    assert response.status_code == 200, content(response)
    root = etree.fromstring(content(response))
    key = root.findtext("Transaction/TransactionKey")
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    logged = EdtTransaction.objects.get(key=key)
    assert logged.endpoint == "RFC"
    staging = upload.lower().startswith("/staging/")
    assert logged.environment == ("testing" if staging else "production")

    canonical = ENVIRONMENTS[1] if staging else ENVIRONMENTS[0]
    canonical += f"Regulator/Facility/Create/{key}?regulatorCode=1001"
    expected = client.get(canonical, **legacy_header(edt_account))
    assert expected.status_code == 200
    answer = client.get(
        status.format(key=key) + "?regulatorCode=1001", **legacy_header(edt_account)
    )
    assert (answer.status_code, answered(answer)) == (200, answered(expected))


@pytest.mark.parametrize("base", ENVIRONMENTS)
def test_a_document_query_answers_the_same_on_any_spelling(client, edt_account, base):
    key = uuid.UUID(int=42)
    url = f"{base}Regulator/FacilitySubmittal/Query/Document/{key}?regulatorCode=1001"
    expected = client.get(url, **legacy_header(edt_account))
    assert expected.status_code == 404  # no such document: the endpoint's own answer
    assert expected["Content-Type"].startswith("text/plain")
    for spelling in spellings(url):
        # the key itself is written as the client wrote it: keep its case
        spelling = spelling.replace(str(key).swapcase(), str(key)).replace(
            str(key).upper(), str(key)
        )
        response = client.get(spelling, **legacy_header(edt_account))
        assert (response.status_code, content(response)) == (404, content(expected)), spelling


@pytest.mark.parametrize("base", ENVIRONMENTS)
def test_a_schema_file_downloads_on_any_spelling(client, db, base):
    expected = client.get(f"{base}Schemas/RegulatorFacilitySubmittal/1/10/")
    assert expected.status_code == 200
    for spelling in spellings(f"{base}Schemas/RegulatorFacilitySubmittal/1/10/"):
        response = client.get(spelling)
        assert response.status_code == 200, spelling
        assert response.content == expected.content, spelling
        assert response["Content-Disposition"] == expected["Content-Disposition"]


def test_a_schema_files_name_is_not_a_different_schema_in_another_case(client, db):
    assert client.get("/EDT/Schemas/regulatorcmequery/1/05/").status_code == 200
    assert client.get("/edt/schemas/cmesubmittalquery/1/05/").status_code == 404


# --- paths that name no endpoint -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("/EDT/Regulator/Nothing", "/EDT/"),
        ("/edt/regulator/facilitysubmittal/querry/", "/EDT/"),
        ("/EDT/Regulator/Listing//", "/EDT/"),
        ("/EDT/Regulator/Listing/x", "/EDT/"),
        ("/Staging/Regulator/Nothing", "/Staging/"),
        ("/STAGING/x", "/Staging/"),
    ],
)
def test_an_unknown_edt_path_answers_the_services_404_in_text(client, db, path, root):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    message = response.content.decode()
    assert f"{path} is not an EDT endpoint" in message
    assert f"http://testserver{root}" in message
    assert "<html" not in message.lower()


def test_an_unknown_edt_path_answers_json_when_json_is_asked_for(client, db):
    response = client.get("/Staging/Regulator/Nothing", HTTP_ACCEPT="application/json")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == 404
    assert "/Staging/Regulator/Nothing is not an EDT endpoint" in body["error"]
    assert "http://testserver/Staging/" in body["error"]


@pytest.mark.parametrize(
    ("path", "listing"),
    [
        ("/EDT/Schemas/Nope/1/05/", "http://testserver/EDT/Schemas/"),
        ("/staging/schemas/RegulatorFacilitySubmittal/1/11", "http://testserver/Staging/Schemas/"),
        ("/EDT/Schemas/RegulatorFacilitySubmittal/1/10/Nope.xsd", None),
    ],
)
def test_a_schema_path_that_names_no_file_answers_the_services_404(client, db, path, listing):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    if listing:
        assert listing in response.content.decode()


def test_an_endpoint_page_for_no_endpoint_answers_the_services_404(client, db):
    assert client.get("/edt/home/endpointdetail/rfsq/").status_code == 200
    response = client.get("/Staging/Home/EndpointDetail/NOPE")
    assert response.status_code == 404
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "http://testserver/Staging/" in response.content.decode()


def test_a_post_to_an_unknown_edt_path_answers_404_not_a_csrf_refusal(db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    response = client.post("/EDT/Regulator/Nothing/Submit", b"<x/>", content_type="text/xml")
    assert response.status_code == 404
    assert "is not an EDT endpoint" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/nothing-here/",
        "/business/nothing-here/",
        "/Business/",
        "/ACCOUNTS/login/",
        "/edt-program/nothing-here/",
        "/EDT-program/",
        "/EDTX/Regulator/Listing",
        "/StagingX/Regulator/Listing",
        "/regulator/edt/nothing-here/",
    ],
)
def test_every_other_path_keeps_the_portals_404_page(client, db, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content


def test_portal_paths_still_match_in_their_own_case_only():
    assert resolve("/edt-program/vendors/").namespace == "edt_program"
    with pytest.raises(Resolver404):
        resolve("/EDT-PROGRAM/vendors/")
    with pytest.raises(Resolver404):
        resolve("/Accounts/login/")
