"""CalEPA's schema files as a deployment dependency: the system check stops a start-up without
them, and a call that needs them while they are gone answers 503, logged as an error, never 500."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import run_checks

from edt.checks import check_schema_files
from edt.models import EdtTransaction

from .conftest import content, legacy_header
from .test_rfc import rfc_document
from .test_uploads import URL as CME_URL
from .test_uploads import cme_document

SHIPPED = Path(django_settings.EDT_SCHEMA_DIR)


@pytest.fixture
def copied(tmp_path):
    """A copy of the shipped schema folder, to break."""
    shutil.copytree(SHIPPED, tmp_path / "schemas")
    return tmp_path / "schemas"


def ids(errors) -> list[str]:
    return [error.id for error in errors]


# The system check --------------------------------------------------------------------------


def test_the_repository_carries_both_schema_sets():
    carried = Path(django_settings.BASE_DIR) / "edt" / "schemas"
    assert (carried / "1.05" / "RegulatorCMESubmit.xsd").is_file()
    assert (carried / "cers3" / "RegulatorFacilitySubmittal.xsd").is_file()


def test_the_check_passes_on_the_shipped_folder():
    assert check_schema_files() == []


@pytest.mark.django_db
def test_the_check_is_registered_with_django():
    assert "edt.E001" not in ids(run_checks())


@pytest.mark.django_db
def test_a_missing_folder_fails_the_check_naming_it_and_the_setting(settings, tmp_path):
    settings.EDT_SCHEMA_DIR = tmp_path / "absent"
    errors = check_schema_files()
    assert ids(errors) == ["edt.E001"]
    assert str(tmp_path / "absent") in errors[0].msg
    assert "does not exist" in errors[0].msg
    assert "CERS_EDT_SCHEMA_DIR" in errors[0].hint
    assert ids(run_checks()).count("edt.E001") == 1


def test_a_folder_without_a_set_fails_the_check(settings, copied):
    shutil.rmtree(copied / "1.05")
    settings.EDT_SCHEMA_DIR = copied
    errors = check_schema_files()
    assert errors[0].id == "edt.E002"
    assert "no 1.05/ schema set" in errors[0].msg
    # The set's versions no later file declares are named one by one.
    assert "No file in the EDT schema folder" in errors[1].msg
    assert any("RegulatorFacilitySubmittal version 1/05," in e.msg for e in errors)


def test_a_folder_without_a_file_the_service_needs_fails_the_check(settings, copied):
    (copied / "cers3" / "RegulatorActionItemQuery.xsd").unlink()
    settings.EDT_SCHEMA_DIR = copied
    errors = check_schema_files()
    assert ids(errors) == ["edt.E004"]
    assert "declares RegulatorActionItemQuery version 1/06" in errors[0].msg
    assert "CERS_EDT_SCHEMA_DIR" in errors[0].hint


def test_the_cme_query_schema_is_found_by_its_namespace_name(settings, copied):
    # CMESubmittalQuery.xsd declares RegulatorCMEQuery: present in both sets, absent only if
    # both files go.
    (copied / "cers3" / "CMESubmittalQuery.xsd").unlink()
    settings.EDT_SCHEMA_DIR = copied
    assert check_schema_files() == []
    (copied / "1.05" / "CMESubmittalQuery.xsd").unlink()
    errors = check_schema_files()
    assert ids(errors) == ["edt.E004"]
    assert "CMESubmittalQuery version 1/05" in errors[0].msg


def test_an_unreadable_file_fails_the_check(settings, copied):
    (copied / "cers3" / "EndpointMetadata.xsd").write_bytes(b"<xs:schema")
    settings.EDT_SCHEMA_DIR = copied
    errors = check_schema_files()
    assert ids(errors) == ["edt.E003"]
    assert "EndpointMetadata.xsd" in errors[0].msg
    assert "cannot be read" in errors[0].msg


# At request time ---------------------------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def assert_unavailable(response):
    """A 503 in the plain error envelope, and the call's transaction logged as an error."""
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "schema files are unavailable" in body
    assert "Traceback" not in body
    row = EdtTransaction.objects.order_by("-pk").first()
    assert row.status == EdtTransaction.Status.ERROR_PROCESSING
    assert row.http_status == 503
    assert "schema files are unavailable" in row.messages[0]["message"]


def test_an_upload_without_the_schema_folder_answers_503(client, edt_account, settings, tmp_path):
    settings.EDT_SCHEMA_DIR = tmp_path / "elsewhere"
    response = client.post(
        CME_URL, cme_document("c-1"), content_type="text/xml", **legacy_header(edt_account)
    )
    assert_unavailable(response)
    assert EdtTransaction.objects.get().endpoint == "RCMES"


def test_an_upload_with_a_broken_schema_file_answers_503_in_json_too(
    client, edt_account, settings, copied
):
    (copied / "1.05" / "RegulatorCMESubmit.xsd").write_bytes(b"not a schema")
    settings.EDT_SCHEMA_DIR = copied
    response = client.post(
        CME_URL,
        cme_document("c-2"),
        content_type="text/xml",
        HTTP_ACCEPT="application/json",
        **legacy_header(edt_account),
    )
    assert response.status_code == 503
    assert response.json()["status"] == 503
    assert "schema files are unavailable" in response.json()["error"]
    row = EdtTransaction.objects.get()
    assert (row.status, row.http_status) == (EdtTransaction.Status.ERROR_PROCESSING, 503)


def test_a_status_query_answers_from_the_row_without_the_schema_files(
    client, cast, edt_account, settings, tmp_path, media
):
    # The request's mode is kept on the transaction row: its status query parses nothing.
    created = client.post(
        "/EDT/Regulator/Facility/Create?regulatorCode=1001",
        rfc_document(),
        content_type="text/xml",
        **legacy_header(edt_account),
    )
    assert created.status_code == 200
    key = EdtTransaction.objects.get().key
    settings.EDT_SCHEMA_DIR = tmp_path / "elsewhere"
    response = client.get(
        f"/EDT/Regulator/Facility/Create/{key}?regulatorCode=1001", **legacy_header(edt_account)
    )
    assert response.status_code == 200
    assert b'mode="Commit"' in content(response)


def test_a_status_query_that_reads_the_stored_request_answers_503(
    client, cast, edt_account, settings, tmp_path, media
):
    # A row recorded before the mode was kept: the status query parses the stored request
    # (its mode) with the registry.
    created = client.post(
        "/EDT/Regulator/Facility/Create?regulatorCode=1001",
        rfc_document(),
        content_type="text/xml",
        **legacy_header(edt_account),
    )
    assert created.status_code == 200
    key = EdtTransaction.objects.get().key
    EdtTransaction.objects.filter(key=key).update(mode="")
    settings.EDT_SCHEMA_DIR = tmp_path / "elsewhere"
    response = client.get(
        f"/EDT/Regulator/Facility/Create/{key}?regulatorCode=1001", **legacy_header(edt_account)
    )
    assert_unavailable(response)
    assert EdtTransaction.objects.get(key=key).status == EdtTransaction.Status.ACCEPTED
