"""RFMS (Regulator Facility Metadata, tier 5) over HTTP: a CUPA changes its facility's keys,
location and per-element regulators, reporting requirements and due dates; every rejection
stores nothing; answers validate against CalEPA's response schema (1/05 and 1/06)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse

from core.models import AuditEvent
from edt.models import EdtTransaction
from facilities.models import Facility, FacilityRegulator
from facilities.services import ElementChange, apply_facility_metadata
from organizations.models import Organization

from .conftest import assert_valid, content, legacy_header

URL = "/EDT/Regulator/Facility/Metadata?regulatorCode=1001"
STAGING_URL = "/Staging/Regulator/Facility/Metadata?regulatorCode=1001"
SCHEMA_SETS = {"1/05": "1.05", "1/06": "cers3"}
RESPONSE_XSD = "RegulatorFacilityMetadataResponse.xsd"

GEO = (
    "<GeographicInformation><CERSPoint>"
    "<LatitudeMeasure>38.5816</LatitudeMeasure><LongitudeMeasure>-121.4944</LongitudeMeasure>"
    "<HorizontalAccuracyMeasure>3</HorizontalAccuracyMeasure>"
    "<HorizontalCollectionMethod>104</HorizontalCollectionMethod>"
    "<GeographicReferencePoint>101</GeographicReferencePoint>"
    "<HorizontalReferenceDatum>NAD83</HorizontalReferenceDatum>"
    "<DataCollectionDate>2023-02-01</DataCollectionDate>"
    "</CERSPoint></GeographicInformation>"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the stored uploads


def rfms_document(cers_id, version: str = "1/06", *, body: str = "", key: str = "") -> bytes:
    namespace = f"http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilityMetadata/{version}/"
    key = f"<RegulatorTransactionKey>{key}</RegulatorTransactionKey>" if key else ""
    return (
        f'<?xml version="1.0"?><cers:RegulatorFacilityMetadata xmlns:cers="{namespace}">'
        f"{key}<CERSID>{cers_id}</CERSID>{body}</cers:RegulatorFacilityMetadata>"
    ).encode()


def post(client, account, body: bytes, url: str = URL):
    return client.post(url, body, content_type="text/xml", **legacy_header(account))


def answer(response, version: str = "1/06"):
    assert response.status_code == 200, content(response)
    return assert_valid(content(response), SCHEMA_SETS[version], RESPONSE_XSD)


def errors(root) -> list[str]:
    return [m.text for m in root.iterfind("Messages/Message") if m.get("type") == "Error"]


def stored_codes(root) -> set[int]:
    row = EdtTransaction.objects.get(key=root.findtext("Transaction/TransactionKey"))
    return {message["code"] for message in row.messages}


def settings_of(facility) -> dict[int, tuple]:
    rows = FacilityRegulator.objects.filter(facility=facility).select_related("regulator")
    return {
        row.element: (row.regulator.code, row.reporting_requirement, row.next_due_date)
        for row in rows
    }


def test_it_changes_keys_location_and_element_settings(client, cast, edt_account):
    body = (
        "<FacilityID>LOCAL-7</FacilityID><FacilityRegulatorKey>sac-7</FacilityRegulatorKey>"
        "<SubmittalElements>"
        '<FacilityInformation reportingRequirement="3" nextDueDate="2024-03-01"/>'
        '<HazardousMaterialsInventory reportingRequirement="2" nextDueDate="2024-04-15"/>'
        '<UndergroundStorageTanks regulatorCode="1001"/>'
        "</SubmittalElements>" + GEO
    )
    root = answer(post(client, edt_account, rfms_document(cast.facility.cers_id, body=body)))

    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.find("Messages") is None
    facility = Facility.objects.get(pk=cast.facility.pk)
    assert (facility.local_facility_id, facility.regulator_key) == ("LOCAL-7", "sac-7")
    assert (facility.latitude, facility.horizontal_accuracy) == (Decimal("38.5816"), Decimal(3))
    assert (facility.horizontal_collection_method, facility.horizontal_reference_datum) == (
        104,
        "NAD83",
    )
    after = settings_of(facility)
    assert after[1] == ("1001", 3, date(2024, 3, 1))
    assert after[2] == ("1001", 2, date(2024, 4, 15))
    assert after[4][0] == "1001"  # taken back from the PA
    assert after[9] == ("1001", None, None)  # not mentioned: unchanged

    user = edt_account.user
    fields = AuditEvent.objects.get(action="facility.metadata_changed")
    assert (fields.actor, fields.regulator, fields.organization) == (user, cast.cupa, cast.org)
    assert fields.before["regulator_key"] == ""
    assert fields.after["regulator_key"] == "sac-7"
    assert fields.after["latitude"] == "38.58160000"
    elements = AuditEvent.objects.get(action="facility.elements_changed")
    assert elements.actor == user
    assert elements.before["4"] == {
        "regulator": "1101",
        "reporting_requirement": None,
        "next_due_date": None,
    }
    assert elements.after["4"]["regulator"] == "1001"
    assert elements.after["1"]["next_due_date"] == "2024-03-01"
    assert set(elements.after) == {"1", "2", "4"}
    row = EdtTransaction.objects.get(key=root.findtext("Transaction/TransactionKey"))
    assert row.entity_keys.get(position=0).cers_unique_key == str(cast.facility.cers_id)

    # The portals follow: the PA no longer handles anything of this facility.
    client.force_login(cast.pa_viewer)
    assert client.get(reverse("regulator:facility", args=[facility.cers_id])).status_code == 404
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:facility", args=[facility.cers_id]))
    assert page.context["element_regulators"][3] == ("Underground Storage Tanks", cast.cupa)


def test_an_element_goes_to_a_participating_agency_that_serves_it_in_1_05(
    client, cast, edt_account
):
    FacilityRegulator.objects.filter(facility=cast.facility, element=4).update(regulator=cast.cupa)
    body = '<SubmittalElements><UndergroundStorageTanks regulatorCode="1101"/></SubmittalElements>'
    root = answer(
        post(client, edt_account, rfms_document(cast.facility.cers_id, "1/05", body=body)), "1/05"
    )
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert settings_of(cast.facility)[4][0] == "1101"
    client.force_login(cast.pa_viewer)
    assert (
        client.get(reverse("regulator:facility", args=[cast.facility.cers_id])).status_code == 200
    )


def test_the_lead_regulator_is_refreshed(client, cast, edt_account):
    Organization.objects.filter(pk=cast.org.pk).update(lead_regulator=None)
    body = "<FacilityID>LOCAL-7</FacilityID>"
    answer(post(client, edt_account, rfms_document(cast.facility.cers_id, body=body)))
    # Acme has one facility with each CUPA: the tie goes to the lower code.
    assert Organization.objects.get(pk=cast.org.pk).lead_regulator == cast.cupa


def test_sending_what_is_already_there_records_nothing(client, cast, edt_account):
    body = '<SubmittalElements><UndergroundStorageTanks regulatorCode="1101"/></SubmittalElements>'
    root = answer(post(client, edt_account, rfms_document(cast.facility.cers_id, body=body)))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert (
        not AuditEvent.objects.filter(action__startswith="facility.")
        .exclude(action="facility.created")
        .exists()
    )


def test_every_problem_is_listed_and_nothing_is_stored(client, cast, edt_account):
    body = (
        "<FacilityID>LOCAL-7</FacilityID>"
        "<SubmittalElements>"
        '<FacilityInformation reportingRequirement="1"/>'
        '<HazardousMaterialsInventory regulatorCode="1101"/>'
        '<RecyclableMaterialsReport regulatorCode="9999"/>'
        '<AbovegroundPetroleumStorageTanks regulatorCode="1002"/>'
        "</SubmittalElements>" + GEO.replace("-121.4944", "west")
    )
    before, events = settings_of(cast.facility), AuditEvent.objects.count()
    root = answer(post(client, edt_account, rfms_document(cast.facility.cers_id, body=body)))

    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    text = "\n".join(errors(root))
    assert len(errors(root)) == 5
    assert "Facility Information always applies" in text
    assert "does not handle Hazardous Materials Inventory" in text
    assert "no regulator with code 9999" in text
    assert "Yolo County CUPA (1002) is not a Participating Agency" in text
    assert "LongitudeMeasure" in text
    assert stored_codes(root) == {1012, 1053, 1049}
    assert settings_of(cast.facility) == before
    assert Facility.objects.get(pk=cast.facility.pk).local_facility_id == ""
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize("which", ["another agency's", "unknown"])
def test_a_facility_outside_the_jurisdiction_is_not_found(client, cast, edt_account, which):
    cers_id = cast.facility_yolo.cers_id if which == "another agency's" else 99_999_999
    body = "<FacilityID>MINE</FacilityID>"
    root = answer(post(client, edt_account, rfms_document(cers_id, body=body)))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [error] = errors(root)
    assert error.startswith(f"There is no facility with CERSID {cers_id}.")
    assert stored_codes(root) == {1054}
    assert Facility.objects.get(pk=cast.facility_yolo.pk).local_facility_id == ""


def test_the_pa_account_cannot_change_facilities(client, cast, pa_edt_account):
    url = "/EDT/Regulator/Facility/Metadata?regulatorCode=1101"
    body = "<FacilityID>PA</FacilityID>"
    response = post(client, pa_edt_account, rfms_document(cast.facility.cers_id, body=body), url)
    assert response.status_code == 401
    assert Facility.objects.get(pk=cast.facility.pk).local_facility_id == ""


def test_the_testing_environment_keeps_nothing(client, cast, edt_account):
    body = (
        "<FacilityID>TRY</FacilityID><SubmittalElements>"
        '<UndergroundStorageTanks regulatorCode="1001"/></SubmittalElements>'
    )
    root = answer(
        post(client, edt_account, rfms_document(cast.facility.cers_id, body=body), STAGING_URL)
    )
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert Facility.objects.get(pk=cast.facility.pk).local_facility_id == ""
    assert settings_of(cast.facility)[4][0] == "1101"
    assert not AuditEvent.objects.filter(action="facility.metadata_changed").exists()


def test_the_client_key_is_echoed(client, cast, edt_account):
    body = "<FacilityID>K</FacilityID>"
    root = answer(
        post(client, edt_account, rfms_document(cast.facility.cers_id, body=body, key="rfms-1"))
    )
    assert root.findtext("Transaction/RegulatorTransactionKey") == "rfms-1"


def test_a_corrected_document_with_the_same_key_is_processed(client, cast, edt_account):
    body = "<FacilityID>FIXED-1</FacilityID>"
    wrong = answer(post(client, edt_account, rfms_document(99999999, body=body, key="fix-1")))
    assert wrong.findtext("Transaction/TransactionStatus") == "Rejected"
    assert "There is no facility with CERSID 99999999" in errors(wrong)[0]

    fixed = post(client, edt_account, rfms_document(cast.facility.cers_id, body=body, key="fix-1"))
    assert "X-CERS-Replayed" not in fixed
    root = answer(fixed)
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.findtext("Transaction/RegulatorTransactionKey") == "fix-1"
    assert Facility.objects.get(pk=cast.facility.pk).local_facility_id == "FIXED-1"

    again = post(client, edt_account, rfms_document(cast.facility.cers_id, body=body, key="fix-1"))
    assert again["X-CERS-Replayed"] == "true"  # a retry of the corrected one: its answer
    assert answer(again).findtext("Transaction/TransactionKey") == root.findtext(
        "Transaction/TransactionKey"
    )
    assert AuditEvent.objects.filter(action="facility.metadata_changed").count() == 1


# --- the service underneath ------------------------------------------------------------------


def test_the_service_refuses_another_agencys_facility(cast, edt_account):
    with pytest.raises(PermissionDenied), transaction.atomic():
        apply_facility_metadata(
            actor=edt_account.user,
            facility=cast.facility_yolo,
            details={"local_facility_id": "X"},
        )
    assert Facility.objects.get(pk=cast.facility_yolo.pk).local_facility_id == ""


def test_the_service_refuses_facility_information_to_a_participating_agency(cast, edt_account):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="always handled by the CUPA"), transaction.atomic():
        apply_facility_metadata(
            actor=edt_account.user,
            facility=cast.facility,
            elements={1: ElementChange(regulator=cast.pa)},
        )
    assert settings_of(cast.facility)[1][0] == "1001"


@pytest.mark.parametrize("who", ["pa_account", "lead", "nobody"])
def test_the_service_refuses_whoever_is_not_the_cupas_system(cast, pa_edt_account, who):
    actor = {"pa_account": pa_edt_account.user, "lead": cast.lead, "nobody": None}[who]
    with pytest.raises(PermissionDenied), transaction.atomic():
        apply_facility_metadata(
            actor=actor, facility=cast.facility, details={"local_facility_id": "X"}
        )
    assert Facility.objects.get(pk=cast.facility.pk).local_facility_id == ""
    assert not AuditEvent.objects.filter(action="facility.metadata_changed").exists()


def test_the_service_records_the_change_as_the_cupas(cast, edt_account):
    with transaction.atomic():
        apply_facility_metadata(
            actor=edt_account.user, facility=cast.facility, details={"local_facility_id": "X"}
        )
    event = AuditEvent.objects.get(action="facility.metadata_changed")
    assert (event.actor, event.regulator) == (edt_account.user, cast.cupa)
    assert event.after == {"local_facility_id": "X"}
