"""The EDT services' common ground, over HTTP: authentication and its result codes, the
environments, parameters, the transaction log, the open endpoints and the endpoint pages."""

from __future__ import annotations

import pytest
from lxml import etree

from edt.access import services
from edt.credentials import legacy_value
from edt.models import EdtTransaction, TierGrant

from .conftest import assert_valid, legacy_header

RAT = "/EDT/Regulator/Authenticate?regulatorCode=1001"


def test_rat_answers_authentication_succeeded(client, edt_account):
    response = client.get(RAT, **legacy_header(edt_account))
    assert response.status_code == 200
    assert response.content == b"Authentication Succeeded"
    logged = EdtTransaction.objects.get()
    assert (logged.endpoint, logged.environment, logged.status) == ("RAT", "production", 2)
    assert logged.account == edt_account
    assert logged.authentication_result == 1


@pytest.mark.parametrize(
    ("header", "code"),
    [
        (None, 9),
        ("Basic Zm9vOmJhcg==", 7),
        (f"user nobody:{legacy_value('x')}", 3),
        (f"user sac_edt:{legacy_value('wrong')}", 4),
        # PostgreSQL's text holds no NUL: the name is not looked up, nor written to the log
        (f"user sac\x00edt:{legacy_value('x')}", 7),
    ],
)
def test_rat_refuses_bad_credentials_with_calepas_codes(client, edt_account, header, code):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(RAT, **extra)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == str(code)
    assert response.content.decode().startswith(f"{code} ")
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED


def test_another_agencys_code_is_refused(client, edt_account):
    response = client.get(
        "/EDT/Regulator/Authenticate?regulatorCode=1002", **legacy_header(edt_account)
    )
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "2"


def test_parameter_names_are_case_insensitive(client, edt_account):
    response = client.get(
        "/EDT/Regulator/Authenticate?REGULATORCODE=1001", **legacy_header(edt_account)
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("url", "named"),
    [
        ("/EDT/Regulator/Authenticate?regulatorCode=1001&note=a%00b", "note"),
        ("/EDT/Regulator/Authenticate?regulatorCode=1001&a%00b=1", "a"),
        (
            "/EDT/Regulator/Organization?regulatorCode=1001&organizationName=a%00b",
            "organizationName",
        ),
        ("/EDT/Regulator/Facility?regulatorCode=1001&street=a%00b", "street"),
        ("/EDT/Library/Chemicals/a%00b", "path"),
        ("/EDT/Regulator/FacilitySubmittal/Query/Document/a%00b", "path"),
        ("/EDT/Regulator/CME/Submit/a%00b?regulatorCode=1001", "path"),
    ],
)
def test_a_nul_character_in_the_call_is_refused_with_a_message(client, edt_account, url, named):
    """No CERS value holds a NUL (PostgreSQL's text cannot): the call is refused before the
    transaction log or a query would fail on it with a server error."""
    response = client.get(url, **legacy_header(edt_account))
    assert response.status_code == 400
    message = response.content.decode()
    assert "NUL character (%00)" in message
    assert named in message


@pytest.mark.parametrize(
    "code", ["abc", "10O1", "1001.0", "100", "10010", "-1001", "0999", "１００１"]
)
@pytest.mark.parametrize(
    "path", ["Regulator/Authenticate", "Regulator/Facility", "Regulator/CME/Submit"]
)
def test_a_regulator_code_that_is_not_one_is_explained(client, edt_account, path, code):
    """Not an agency the account lacks rights to (401, result 2): a value that cannot be a
    regulator code at all, which the client has to correct."""
    call = client.get if path != "Regulator/CME/Submit" else client.post
    response = call(f"/EDT/{path}?regulatorCode={code}", **legacy_header(edt_account))
    assert response.status_code == 400
    message = response.content.decode()
    assert f"'{code}'" in message
    assert "4-digit CERS regulator code" in message


def test_a_missing_regulator_code_is_explained(client, edt_account):
    response = client.get("/EDT/Regulator/Authenticate", **legacy_header(edt_account))
    assert response.status_code == 400
    assert b"regulatorCode parameter is required" in response.content


def test_staging_checks_testing_grants(client, cast):
    from .conftest import make_edt_account

    account = make_edt_account("1001", "test_only", "1", "testing")
    staging = client.get(
        "/Staging/Regulator/Authenticate?regulatorCode=1001", **legacy_header(account)
    )
    production = client.get(RAT, **legacy_header(account))
    assert staging.status_code == 200
    assert production.status_code == 401
    assert production["X-CERS-Authentication-Result"] == "8"


def test_revoking_takes_effect_on_the_next_call(client, cast, edt_account):
    assert client.get(RAT, **legacy_header(edt_account)).status_code == 200
    grant = TierGrant.objects.get(regulator=cast.cupa, environment="production", tier=1)
    services.revoke_grant(actor=cast.state_admin, grant=grant, reason="Overload.")
    response = client.get(RAT, **legacy_header(edt_account))
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_a_bearer_token_works_like_the_legacy_header(client, cast, edt_account):
    from datetime import timedelta

    from django.utils import timezone

    _token, plain = services.issue_token(
        actor=cast.state_admin,
        account=edt_account,
        name="CI",
        expires_at=timezone.now() + timedelta(days=1),
        environments=["production"],
        tiers=[1],
    )
    response = client.get(RAT, HTTP_AUTHORIZATION=f"Bearer {plain}")
    assert response.status_code == 200


def test_json_errors_when_json_is_asked_for(client, edt_account):
    response = client.get(RAT, HTTP_ACCEPT="application/json")
    assert response.status_code == 401
    assert response.json() == {"error": "9 Missing Authorization header", "status": 401}


def test_a_post_to_a_query_endpoint_is_refused(client, edt_account):
    response = client.post(RAT, **legacy_header(edt_account))
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_a_pa_account_never_reaches_tier_3(client, pa_edt_account):
    response = client.post(
        "/EDT/Regulator/CME/Submit?regulatorCode=1101", **legacy_header(pa_edt_account)
    )
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_the_regulator_listing_needs_no_authentication(client, cast):
    response = client.get("/EDT/Regulator/Listing")
    assert response.status_code == 200
    root = etree.fromstring(response.content)
    listed = [(r.get("code"), r.get("type"), r.text) for r in root]
    assert listed == [
        ("1001", "CUPA", "Sacramento County CUPA"),
        ("1002", "CUPA", "Yolo County CUPA"),
        ("1101", "PA", "Sacramento City Fire PA"),
    ]
    assert client.get("/EDT/Regulator/Listing", HTTP_ACCEPT="application/json").json()[
        "regulators"
    ][0] == {"code": "1001", "type": "CUPA", "name": "Sacramento County CUPA"}


def test_the_endpoint_metadata_validates_against_calepas_schema(client, db):
    response = client.get("/Staging/Endpoint/Metadata")
    assert response.status_code == 200
    root = assert_valid(b"".join(response.streaming_content), "cers3", "EndpointMetadata.xsd")
    assert root.get("environment") == "Testing"
    acronyms = [e.findtext("Acronym") for e in root.findall("Endpoint")]
    assert {"RAT", "VLQ", "CLQ", "DDQ", "RFSQ", "RCMES", "RFS"} <= set(acronyms)
    uri = next(e.findtext("Uri") for e in root if e.findtext("Acronym") == "RAT")
    assert uri.endswith("/Staging/Regulator/Authenticate")


def test_the_endpoint_metadata_in_json_carries_the_same_endpoints(client, db):
    xml = etree.fromstring(b"".join(client.get("/EDT/Endpoint/Metadata").streaming_content))
    response = client.get("/EDT/Endpoint/Metadata", HTTP_ACCEPT="application/json")
    import json

    data = json.loads(b"".join(response.streaming_content))
    assert [e["Acronym"] for e in data["Endpoint"]] == [e.findtext("Acronym") for e in xml]
    rfsq = next(e for e in data["Endpoint"] if e["Acronym"] == "RFSQ")
    assert [p["Name"] for p in rfsq["Parameters"]][:2] == ["regulatorCode", "status"]


def test_the_endpoint_pages_list_every_endpoint(client, db):
    listing = client.get("/EDT/")
    assert listing.status_code == 200
    for acronym in ("RAT", "RFSQ", "RCMES", "RFS"):
        assert f"Home/EndpointDetail/{acronym}".encode() in listing.content
    detail = client.get("/Staging/Home/EndpointDetail/RFSQ")
    assert detail.status_code == 200
    assert b"submittedOnStart" in detail.content
    assert b"/Staging/Regulator/FacilitySubmittal/Query" in detail.content
    assert client.get("/EDT/Home/EndpointDetail/NOPE").status_code == 404


def test_the_openapi_document_describes_every_endpoint(client, db):
    from edt.api.catalogue import ENDPOINTS

    document = client.get("/EDT/openapi.json").json()
    assert document["openapi"].startswith("3.")
    assert document["servers"][1]["url"].endswith("/Staging")
    for endpoint in ENDPOINTS:
        operation = document["paths"][f"/{endpoint.path}"][endpoint.method.lower()]
        assert operation["summary"] == endpoint.name
        names = [p["name"] for p in operation["parameters"]]
        assert names == [p.name for p in endpoint.parameters]
    upload = document["paths"]["/Regulator/FacilitySubmittal/Submit"]["post"]
    assert set(upload["requestBody"]["content"]) == {"text/xml", "application/zip"}
    status = document["paths"]["/Regulator/CME/Submit/{CERSTransactionKey}"]["get"]
    assert status["parameters"][0]["in"] == "path"


def test_the_openapi_document_names_the_credentials_tiers_and_headers(client, db):
    document = client.get("/Staging/openapi.json").json()
    assert set(document["components"]["securitySchemes"]) == {"legacy", "token"}
    assert document["components"]["securitySchemes"]["legacy"]["name"] == "Authorization"
    listing = document["paths"]["/Regulator/Listing"]["get"]
    assert listing["security"] == []
    assert listing["tags"] == ["Open"]
    query = document["paths"]["/Regulator/FacilitySubmittal/Query"]["get"]
    assert query["operationId"] == "RFSQ"
    assert query["tags"] == ["Tier 2"]
    assert query["security"] == [{"legacy": []}, {"token": []}]
    assert "X-CERS-Authentication-Result" in query["responses"]["401"]["headers"]
    assert "Retry-After" in query["responses"]["429"]["headers"]
    assert set(query["responses"]["200"]["content"]) == {"text/xml", "application/json"}
    assert "Tier 2" in [tag["name"] for tag in document["tags"]]
    assert "/Regulator/Facility/Transfer" not in document["paths"]  # CalEPA's spelling only


def test_the_api_reference_page_loads_swagger_ui(client, db):
    response = client.get("/EDT/api-docs/")
    assert response.status_code == 200
    assert b"swagger-ui-bundle.js" in response.content
    assert b'data-url="../openapi.json"' in response.content


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        ("<Facilities><Facility><CERSID>1</CERSID></Facility></Facilities>", [{"CERSID": "1"}]),
        ("<Violations><Violation>x</Violation></Violations>", ["x"]),
        ("<Facility><Name>A</Name></Facility>", {"Name": "A"}),
        ("<A><B>1</B><B>2</B><C>3</C></A>", {"B": ["1", "2"], "C": "3"}),
        ('<A code="7">t</A>', {"@code": "7", "#text": "t"}),
    ],
)
def test_json_follows_the_xml_shape(xml, expected):
    from edt.api.output import element_to_json

    assert element_to_json(etree.fromstring(xml)) == expected
