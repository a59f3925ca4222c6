"""CalEPA's schema files for implementers: each served version downloads, byte for byte, at its
namespace's path; nothing else under (or beside) the schema folder can be reached; the versions
page lists every version with what changed, computed from the files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from core import xmlsafe
from edt.api import schema_files
from edt.api.catalogue import ENDPOINTS, SCHEMA_VERSIONS, schema_namespace

SERVED = [(name, version) for name, versions in SCHEMA_VERSIONS.items() for version in versions]


def url(name: str, version: str, base: str = "/EDT/") -> str:
    family = schema_namespace(name, version).split("/")[-4]
    return f"{base}Schemas/{family}/{version}/"


@pytest.mark.parametrize(("name", "version"), SERVED, ids=[f"{n}-{v}" for n, v in SERVED])
def test_every_served_schema_version_downloads_as_the_service_validates_with_it(
    client, name, version
):
    response = client.get(url(name, version))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response["Content-Disposition"].startswith("attachment; filename=")
    family = schema_namespace(name, version).split("/")[-4]
    path = xmlsafe.schema_file(family, version)
    assert response.content == path.read_bytes()  # as published, CRLF and all
    # the file declares the namespace whose path it is served at
    assert f'targetNamespace="{schema_namespace(name, version)}"'.encode() in response.content
    assert client.get(url(name, version, base="/Staging/")).content == response.content


def test_the_cme_query_is_served_under_its_namespaces_name(client):
    response = client.get("/EDT/Schemas/RegulatorCMEQuery/1/05/")
    assert response.status_code == 200
    assert 'filename="RegulatorCMEQuery_1_05.xsd"' in response["Content-Disposition"]
    assert client.get("/EDT/Schemas/CMESubmittalQuery/1/05/").status_code == 404


def test_the_issues_example_path_serves_the_1_10_facility_submittal(client):
    response = client.get("/EDT/Schemas/RegulatorFacilitySubmittal/1/10/")
    assert response.status_code == 200
    assert b"Schemas/RegulatorFacilitySubmittal/1/10/" in response.content


@pytest.mark.parametrize(
    "path",
    [
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/11/",  # a version not served
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/5/",  # not CalEPA's spelling
        "/EDT/Schemas/Nope/1/05/",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/RegulatorFacilitySubmittal.xsd",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/../../../../cers/settings.py",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/..%2F..%2F..%2F..%2Fcers%2Fsettings.py",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/%2e%2e/%2e%2e/README.md",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10//etc/passwd",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/%2Fetc%2Fpasswd",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/..\\..\\README.md",
        "/EDT/Schemas/..%2F1.05%2FRegulatorFacilitySubmittal.xsd/1/05/",
        "/EDT/Schemas/%2e%2e/1/05/",
        "/EDT/Schemas/RegulatorFacilitySubmittal/..%2F..%2F/10/",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/..%2Fcers3/",
        "/EDT/Schemas/RegulatorFacilitySubmittal/1/10/file:%2F%2F%2Fetc%2Fpasswd",
    ],
)
def test_no_path_reaches_a_file_that_is_not_a_served_schema(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.get("Content-Type", "").split(";")[0] != "application/xml"


def test_only_get_and_head_are_answered(client):
    assert client.head(url("RegulatorFacilitySubmittal", "1/10")).status_code == 200
    assert client.post(url("RegulatorFacilitySubmittal", "1/10")).status_code == 405


@pytest.fixture
def split_set(tmp_path, settings):
    """A copy of the schema folder in which the 1/06 endpoint metadata schema includes a file
    of common types from a subfolder, which includes another; and one that points outside."""
    folder = tmp_path / "schemas"
    shutil.copytree(Path(django_settings.EDT_SCHEMA_DIR), folder)
    schema = folder / "cers3" / "EndpointMetadata.xsd"
    includes = (
        '<xs:include schemaLocation="common/Types.xsd"/>'
        '<xs:include schemaLocation="../../secret.xsd"/>'
        '<xs:include schemaLocation="/etc/passwd"/>'
        '<xs:import namespace="urn:x" schemaLocation="http://example.com/x.xsd"/>'
    )
    text = re.sub(r"(<xs:schema[^>]*>)", lambda m: m[1] + includes, schema.read_text(), count=1)
    schema.write_text(text, encoding="utf-8")
    (folder / "cers3" / "common").mkdir()
    (folder / "cers3" / "common" / "Types.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">'
        '<xs:include schemaLocation="More.xsd"/></xs:schema>',
        encoding="utf-8",
    )
    (folder / "cers3" / "common" / "More.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"/>', encoding="utf-8"
    )
    (tmp_path / "secret.xsd").write_text("<secret/>", encoding="utf-8")
    settings.EDT_SCHEMA_DIR = str(folder)
    return folder


def test_the_files_a_schema_includes_download_beside_it(client, split_set):
    base = "/EDT/Schemas/EndpointMetadata/1/06/"
    first = client.get(base + "common/Types.xsd")
    assert first.status_code == 200
    assert first["Content-Type"] == "application/xml"
    assert first.content == (split_set / "cers3" / "common" / "Types.xsd").read_bytes()
    # an include of an included file, by its location relative to the first schema's folder
    assert client.get(base + "common/More.xsd").status_code == 200
    # what the schema points at outside its folder, absolute or on another host, is not served
    for location in ("../../secret.xsd", "%2E%2E/%2E%2E/secret.xsd", "/etc/passwd", "x.xsd"):
        assert client.get(base + location).status_code == 404
    # nor is a file beside it that it does not include
    assert client.get(base + "RegulatorFacilityQuery.xsd").status_code == 404
    # and another schema's page does not serve this one's includes
    assert client.get("/EDT/Schemas/RegulatorFacilityQuery/1/05/common/Types.xsd").status_code == (
        404
    )


def test_missing_schema_files_answer_503_not_500(client, tmp_path, settings, caplog):
    settings.EDT_SCHEMA_DIR = str(tmp_path / "gone")
    response = client.get(url("RegulatorFacilitySubmittal", "1/10"))
    assert response.status_code == 503
    assert b"unavailable" in response.content
    assert "EDT schema file unavailable" in caplog.text
    page = client.get("/EDT/Schemas/")
    assert page.status_code == 200
    assert b"unavailable just now" in page.content


# --- the versions page ------------------------------------------------------------------------


def test_the_versions_page_lists_every_version_with_its_download(client):
    response = client.get("/EDT/Schemas/")
    assert response.status_code == 200
    content = response.content.decode()
    listed = {
        (file.name, file.version)
        for family in response.context["families"]
        for file, _changes in family.versions
    }
    assert listed == set(SERVED)
    for name, version in SERVED:
        assert f'href="http://testserver{url(name, version)}"' in content
        assert schema_namespace(name, version) in content
    staging = client.get("/Staging/Schemas/").content.decode()
    assert 'href="http://testserver/Staging/Schemas/RegulatorFacilitySubmittal/1/10/"' in staging


def changes_of(client, family_name: str, version: str):
    response = client.get("/EDT/Schemas/")
    family = next(f for f in response.context["families"] if f.family == family_name)
    return next(changes for file, changes in family.versions if file.version == version)


def test_what_changed_is_computed_from_the_files(client):
    assert changes_of(client, "ViolationLibraryQuery", "1/05") is None  # the first version
    violations = changes_of(client, "ViolationLibraryQuery", "1/06")
    assert violations.added == [
        ("Violations/Violation/BeginDate", 0),
        ("Violations/Violation/EndDate", 0),
    ]
    assert violations.removed == [] and violations.changed == []

    # a branch moved: listed once with the count beneath it
    create = changes_of(client, "RegulatorFacilityCreateResponse", "1/06")
    assert create.added == [("RegulatorFacilityCreateResponse/PotentialDuplicates", 11)]
    assert create.removed == [("RegulatorFacilityCreateResponse/Result/PotentialDuplicates", 11)]

    # an element that became optional
    facility = changes_of(client, "RegulatorFacilityCreate", "1/06")
    assert facility.changed == [
        (
            ("occurs 1 → 0..1",),
            ["RegulatorFacilityCreate/GeographicInformation/CERSPoint/DataCollectionDate"],
        )
    ]

    # codes added to and removed from a list of values
    response = changes_of(client, "RegulatorFacilitySubmittalResponse", "1/06")
    notes, paths = response.changed[0]
    assert "RegulatorFacilitySubmittalResponse/EntityKeys/EntityKey/EntityResource" in paths
    assert any(n.startswith("values added: ") and "CMEV" in n for n in notes)
    assert any(n.startswith("values removed: ") and "APSADOC" in n for n in notes)

    # the 1/10 submittal moved its dates' upper bound from 2024-12-31 to 2099-12-31
    submittal = changes_of(client, "RegulatorFacilitySubmittal", "1/10")
    assert any(
        "maxInclusive 2024-12-31, " in note and "→ date, maxInclusive 2099-12-31, " in note
        for notes, paths in submittal.changed
        if len(paths) > 1
        for note in notes
    )
    page = client.get("/EDT/Schemas/").content.decode()
    assert "Violations/Violation/BeginDate" in page


def test_a_version_that_changed_only_its_namespace_says_so(client):
    metadata = changes_of(client, "RegulatorFacilityMetadata", "1/06")
    assert not metadata
    assert "only the namespace" in client.get("/EDT/Schemas/").content.decode()


def test_the_outline_follows_extensions_and_named_types():
    path = xmlsafe.schema_file("RegulatorFacilityQuery", "1/05")
    outline = schema_files._outline(path.resolve())
    # CERSID comes from the FacilityType the Facility element extends
    assert outline["RegulatorFacilityQuery/Facility/CERSID"].occurs == "1"
    assert outline["RegulatorFacilityQuery/Facility"].occurs == "0..n"
    assert outline["RegulatorFacilityQuery/@timeStamp"].value == "dateTime"


# --- the endpoint pages link their schema files -----------------------------------------------


@pytest.mark.parametrize(
    "endpoint", [e for e in ENDPOINTS if e.input_schema or e.output_schema], ids=lambda e: e.acronym
)
def test_each_endpoint_page_links_every_version_of_its_schemas(client, endpoint):
    page = client.get(f"/EDT/Home/EndpointDetail/{endpoint.acronym}").content.decode()
    for name in filter(None, (endpoint.input_schema, endpoint.output_schema)):
        for version in SCHEMA_VERSIONS[name]:
            assert f'href="http://testserver{url(name, version)}"' in page
    assert 'href="http://testserver/EDT/Schemas/"' in page


def test_the_endpoint_listing_links_the_versions_page(client):
    assert b'href="Schemas/"' in client.get("/EDT/").content
