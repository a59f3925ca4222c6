"""RFC (Regulator Facility Create, tier 5) over HTTP: Trial checks, Commit creates the facility
through the portal's services, every rule's rejection stores nothing, and the answer validates
against CalEPA's response schema of the version asked (1/05 and 1/06)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from edt.models import EdtTransaction
from facilities.models import Facility, FacilityRegulator
from facilities.services import add_facility
from organizations.models import Organization
from tests.factories import make_facility

from .conftest import assert_valid, content, legacy_header

URL = "/EDT/Regulator/Facility/Create?regulatorCode=1001"
STAGING_URL = "/Staging/Regulator/Facility/Create?regulatorCode=1001"
SCHEMA_SETS = {"1/05": "1.05", "1/06": "cers3"}
RESPONSE_XSD = "RegulatorFacilityCreateResponse.xsd"

GEO = (
    "<GeographicInformation><CERSPoint>"
    "<LatitudeMeasure>38.5816</LatitudeMeasure><LongitudeMeasure>-121.4944</LongitudeMeasure>"
    "<HorizontalAccuracyMeasure>5.5</HorizontalAccuracyMeasure>"
    "<HorizontalCollectionMethod>101</HorizontalCollectionMethod>"
    "<GeographicReferencePoint>102</GeographicReferencePoint>"
    "<HorizontalReferenceDatum>WGS84</HorizontalReferenceDatum>"
    "<DataCollectionDate>2024-05-01</DataCollectionDate>"
    "</CERSPoint></GeographicInformation>"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # the stored uploads


def rfc_document(
    mode: str = "Commit",
    version: str = "1/06",
    *,
    organization: str = "<OrganizationName>River Logistics</OrganizationName>"
    "<OrganizationHeadquarters>Stockton</OrganizationHeadquarters>",
    identifiers: str = "",
    name: str = "River Depot",
    site: str = "500 River Road",
    supplemental: str = "",
    city: str = "Sacramento",
    zip_code: str = "95814",
    elements: str = "",
    geo: str = "",
    comments: str = "",
    ignore: str = "false",
) -> bytes:
    namespace = f"http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilityCreate/{version}/"
    supplemental = (
        f"<SupplementalAddress>{supplemental}</SupplementalAddress>" if supplemental else ""
    )
    elements = f"<SubmittalElements>{elements}</SubmittalElements>" if elements else ""
    comments = f"<Comments>{comments}</Comments>" if comments else ""
    return (
        f'<?xml version="1.0"?><cers:RegulatorFacilityCreate xmlns:cers="{namespace}" '
        f'mode="{mode}"><RegulatorTransactionKey>{uuid.uuid4()}</RegulatorTransactionKey>'
        f"{organization}{identifiers}<FacilityName>{name}</FacilityName>"
        f"<FacilityAddress><SiteAddress>{site}</SiteAddress>{supplemental}<City>{city}</City>"
        f"<ZipCode>{zip_code}</ZipCode></FacilityAddress>{elements}{geo}{comments}"
        f"<IgnoreExactDuplicateAddressWarning>{ignore}</IgnoreExactDuplicateAddressWarning>"
        "</cers:RegulatorFacilityCreate>"
    ).encode()


def post(client, account, body: bytes, url: str = URL):
    return client.post(url, body, content_type="text/xml", **legacy_header(account))


def answer(response, version: str = "1/06"):
    assert response.status_code == 200, content(response)
    return assert_valid(content(response), SCHEMA_SETS[version], RESPONSE_XSD)


def stored_codes(root) -> set[int]:
    row = EdtTransaction.objects.get(key=root.findtext("Transaction/TransactionKey"))
    return {message["code"] for message in row.messages}


def messages(root, kind: str) -> list[str]:
    return [m.text for m in root.iterfind("Messages/Message") if m.get("type") == kind]


def element_regulators(facility) -> dict[int, str]:
    rows = FacilityRegulator.objects.filter(facility=facility).select_related("regulator")
    return {row.element: row.regulator.code for row in rows}


def established(facility, day: str = "2020-03-04") -> None:
    """Date ``facility`` within the schema's Date range (EstablishedOn is a cers:Date, at most
    2024-12-31), so answers listing it as a potential duplicate validate."""
    when = timezone.make_aware(datetime.fromisoformat(f"{day}T12:00:00"))
    Facility.objects.filter(pk=facility.pk).update(created_at=when)


def at_the_same_address(cast):
    """cast.facility's address, as an RFC asks for it."""
    established(cast.facility)
    return {"site": cast.facility.street, "city": cast.facility.city, "zip_code": "95814"}


# --- Commit ----------------------------------------------------------------------------------


def test_a_commit_creates_the_facility_and_its_organization(client, cast, edt_account):
    body = rfc_document(
        identifiers="<FacilityID>LOCAL-42</FacilityID>"
        "<FacilityRegulatorKey>sac-fac-42</FacilityRegulatorKey><EPAID>CAD000123456</EPAID>",
        supplemental="Building B",
        geo=GEO,
    )
    root = answer(post(client, edt_account, body))

    txn = root.find("Transaction")
    assert (txn.get("mode"), txn.findtext("TransactionStatus")) == ("Commit", "Accepted")
    facility = Facility.objects.get(cers_id=int(root.findtext("Result/CERSID")))
    assert (facility.name, facility.street, facility.city, facility.zip_code) == (
        "River Depot",
        "500 River Road, Building B",
        "Sacramento",
        "95814",
    )
    assert (facility.local_facility_id, facility.regulator_key, facility.epa_id) == (
        "LOCAL-42",
        "sac-fac-42",
        "CAD000123456",
    )
    assert (facility.latitude, facility.longitude, facility.horizontal_accuracy) == (
        Decimal("38.5816"),
        Decimal("-121.4944"),
        Decimal("5.5"),
    )
    assert str(facility.location_collected_on) == "2024-05-01"
    organization = facility.organization
    assert (organization.name, organization.headquarters) == ("River Logistics", "Stockton")
    assert not organization.memberships.exists()  # its people join later with the code
    assert organization.lead_regulator == cast.cupa
    # The ZIP code's defaults: the PA handles UST in 95814, the CUPA everything else.
    assert element_regulators(facility) == {e: "1101" if e == 4 else "1001" for e in range(1, 11)}

    result = root.find("Result")
    assert result.findtext("OrganizationCode") == str(organization.code)
    assert result.findtext("OrganizationName") == "River Logistics"
    assert result.findtext("OrganizationHeadquarters") == "Stockton"
    elements = {e.tag: e.attrib for e in result.find("SubmittalElements")}
    assert len(elements) == 10
    assert elements["FacilityInformation"] == {"regulatorCode": "1001", "reportingRequirement": "2"}
    assert elements["UndergroundStorageTanks"] == {
        "regulatorCode": "1101",
        "reportingRequirement": "1",
    }
    point = result.find("GeographicInformation/CERSPoint")
    assert point.findtext("LatitudeMeasure") == "38.5816"
    assert point.findtext("DataCollectionDate") == "2024-05-01"
    assert root.find("PotentialDuplicates") is None

    user = edt_account.user
    created = AuditEvent.objects.get(action="organization.created", object_id=str(organization.pk))
    assert (created.actor, created.after["how"]) == (user, "EDT")
    event = AuditEvent.objects.get(action="facility.created", object_id=str(facility.pk))
    assert (event.actor, event.regulator, event.organization) == (user, cast.cupa, organization)
    assert event.after["local_facility_id"] == "LOCAL-42"
    row = EdtTransaction.objects.get(key=txn.findtext("TransactionKey"))
    assert list(
        row.entity_keys.order_by("position").values(
            "position", "resource", "regulator_key", "cers_unique_key"
        )
    ) == [
        {
            "position": 0,
            "resource": "Facility",
            "regulator_key": "sac-fac-42",
            "cers_unique_key": str(facility.cers_id),
        }
    ]


def test_the_created_facility_shows_in_both_regulators_portal_pages(client, cast, edt_account):
    root = answer(post(client, edt_account, rfc_document()))
    cers_id = root.findtext("Result/CERSID")
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:facility", args=[cers_id]))
    assert page.status_code == 200
    assert "River Depot" in page.content.decode()
    assert "River Logistics" in page.content.decode()
    client.force_login(cast.pa_viewer)  # the PA handles its underground storage tanks
    assert client.get(reverse("regulator:facility", args=[cers_id])).status_code == 200
    client.force_login(cast.cupa2_reviewer)
    assert client.get(reverse("regulator:facility", args=[cers_id])).status_code == 404


def test_a_commit_in_1_05_adds_to_an_existing_organization_with_element_settings(
    client, cast, edt_account
):
    elements = (
        '<FacilityInformation nextDueDate="2024-09-30"/>'
        '<HazardousMaterialsInventory reportingRequirement="3" nextDueDate="2024-06-30"/>'
        '<UndergroundStorageTanks regulatorCode="1001" reportingRequirement="2"/>'
    )
    body = rfc_document(
        version="1/05",
        organization=f"<OrganizationCode>{cast.org.code}</OrganizationCode>",
        elements=elements,
    )
    root = answer(post(client, edt_account, body), "1/05")

    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    facility = Facility.objects.get(cers_id=int(root.findtext("Result/CERSID")))
    assert facility.organization == cast.org
    assert Organization.objects.count() == 2  # no new organization
    rows = {r.element: r for r in FacilityRegulator.objects.filter(facility=facility)}
    assert rows[4].regulator == cast.cupa  # taken back from the PA
    assert (rows[2].reporting_requirement, str(rows[2].next_due_date)) == (3, "2024-06-30")
    assert str(rows[1].next_due_date) == "2024-09-30"
    returned = {e.tag: e.attrib for e in root.find("Result/SubmittalElements")}
    assert returned["HazardousMaterialsInventory"] == {
        "regulatorCode": "1001",
        "reportingRequirement": "3",
        "nextDueDate": "2024-06-30",
    }
    assert returned["UndergroundStorageTanks"]["regulatorCode"] == "1001"
    changed = AuditEvent.objects.get(action="facility.elements_changed")
    assert changed.actor == edt_account.user
    assert changed.before["4"]["regulator"] == "1101"
    assert changed.after["4"]["regulator"] == "1001"

    client.force_login(cast.lead)  # the business sees it among its facilities
    page = client.get(reverse("business:facility", args=[facility.cers_id]))
    assert page.status_code == 200
    assert "River Depot" in page.content.decode()


def test_without_an_organization_the_new_one_is_named_after_the_facility(client, cast, edt_account):
    root = answer(post(client, edt_account, rfc_document(organization="")))
    assert root.findtext("Result/OrganizationName") == "River Depot"
    assert root.findtext("Result/OrganizationHeadquarters") == ""


def test_a_point_without_its_date_is_kept_but_not_answered(client, cast, edt_account):
    geo = GEO.replace("<DataCollectionDate>2024-05-01</DataCollectionDate>", "")
    root = answer(post(client, edt_account, rfc_document(geo=geo)))  # 1/06 allows it
    facility = Facility.objects.get(cers_id=int(root.findtext("Result/CERSID")))
    assert (facility.latitude, facility.location_collected_on) == (Decimal("38.5816"), None)
    # The answer's CERSPoint needs the date, so the answer leaves the point out.
    assert root.find("Result/GeographicInformation") is None


# --- duplicates ------------------------------------------------------------------------------


def test_an_exact_duplicate_address_is_rejected_and_nothing_is_stored(client, cast, edt_account):
    facilities, events = Facility.objects.count(), AuditEvent.objects.count()
    root = answer(post(client, edt_account, rfc_document(**at_the_same_address(cast))))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [error] = messages(root, "Error")
    assert f"CERS ID {cast.facility.cers_id}" in error
    assert "IgnoreExactDuplicateAddressWarning" in error
    # As CalEPA's 1/06 answer does, the rejection still lists the potential duplicates.
    [duplicate] = root.iterfind("PotentialDuplicates/PotentialDuplicate")
    assert duplicate.findtext("CERSID") == str(cast.facility.cers_id)
    assert Facility.objects.count() == facilities
    assert AuditEvent.objects.count() == events
    assert Organization.objects.count() == 2


def test_a_duplicate_address_is_created_when_the_warning_is_ignored(client, cast, edt_account):
    body = rfc_document(
        **at_the_same_address(cast),
        ignore="true",
        comments="A second tenant with its own permit.",
    )
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    [warning] = messages(root, "Warning")
    assert f"CERS ID {cast.facility.cers_id}" in warning
    facility = Facility.objects.get(cers_id=int(root.findtext("Result/CERSID")))
    event = AuditEvent.objects.get(action="facility.created", object_id=str(facility.pk))
    assert event.after["same_address_as"] == [cast.facility.cers_id]
    assert event.after["comments"] == "A second tenant with its own permit."
    [duplicate] = root.iterfind("PotentialDuplicates/PotentialDuplicate")
    assert duplicate.get("score") == "100"
    assert duplicate.findtext("CERSID") == str(cast.facility.cers_id)
    assert duplicate.findtext("OrganizationName") == "Acme Fuels"
    assert duplicate.findtext("EstablishedOn") == "2020-03-04"


# --- Trial -----------------------------------------------------------------------------------


# Changed by issue 13: a Trial with problems used to answer Accepted with Error messages; it
# now answers Rejected, as CalEPA's Facility Create does in either mode.
def test_a_trial_with_problems_is_rejected_writes_nothing_and_lists_the_duplicates(
    client, cast, edt_account
):
    address = at_the_same_address(cast)
    # Another suite of the same site: a potential duplicate only.
    neighbour = make_facility(cast.org, name="Acme Annex", street=f"{address['site']}, Suite 9")
    established(neighbour)
    facilities, events = Facility.objects.count(), AuditEvent.objects.count()

    root = answer(post(client, edt_account, rfc_document("Trial", **address)))

    txn = root.find("Transaction")
    assert (txn.get("mode"), txn.findtext("TransactionStatus")) == ("Trial", "Rejected")
    assert root.find("Result") is None
    scores = {d.findtext("CERSID"): d.get("score") for d in root.iterfind("PotentialDuplicates/*")}
    assert scores == {str(cast.facility.cers_id): "100", str(neighbour.cers_id): "50"}
    [error] = messages(root, "Error")  # what a Commit would meet
    assert "already in CERS" in error
    assert len(messages(root, "Warning")) == 2
    assert (Facility.objects.count(), AuditEvent.objects.count()) == (facilities, events)


def test_a_trial_lists_every_problem_a_commit_would_meet(client, cast, edt_account):
    bad_geo = GEO.replace("38.5816", "123.45").replace("2024-05-01", "2999-01-01")
    body = rfc_document(
        "Trial",
        organization="<OrganizationCode>87654321</OrganizationCode>",
        zip_code="95616",
        elements='<RecyclableMaterialsReport regulatorCode="9999"/>',
        geo=bad_geo,
        identifiers="<EPAID>CAD123</EPAID>",
    )
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    errors = "\n".join(messages(root, "Error"))
    for expected in (
        "no organization with code 87654321",
        "ZIP code 95616 is outside the jurisdiction",
        "no regulator with code 9999",
        "LatitudeMeasure",
        "DataCollectionDate",
    ):
        assert expected in errors
    assert len(messages(root, "Error")) == 5
    assert "shorter than 12" in messages(root, "Warning")[0]  # warnings are kept too
    assert stored_codes(root) == {1013, 1053, 1049, 1012, 1073, 1077}


def test_a_trial_with_only_potential_duplicates_is_accepted(client, cast, edt_account):
    # Another suite of the facility's site: a potential duplicate, not an exact one.
    body = rfc_document("Trial", **at_the_same_address(cast), supplemental="Unit 4")
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.find("Result") is None
    assert messages(root, "Error") == []
    [warning] = messages(root, "Warning")
    assert f"CERS ID {cast.facility.cers_id}" in warning
    [duplicate] = root.iterfind("PotentialDuplicates/PotentialDuplicate")
    assert (duplicate.findtext("CERSID"), duplicate.get("score")) == (
        str(cast.facility.cers_id),
        "50",
    )


# Changed by issue 13: this Trial has an error (the exact duplicate), so it is now Rejected.
def test_a_trial_in_1_05_reports_duplicates_as_messages_only(client, cast, edt_account):
    body = rfc_document("Trial", "1/05", **at_the_same_address(cast))
    root = answer(post(client, edt_account, body), "1/05")
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert root.find("PotentialDuplicates") is None
    assert root.find("Result") is None
    assert any(str(cast.facility.cers_id) in text for text in messages(root, "Warning"))
    assert any("already in CERS" in text for text in messages(root, "Error"))


def test_a_clean_trial_answers_accepted_without_messages(client, cast, edt_account):
    facilities = Facility.objects.count()
    root = answer(post(client, edt_account, rfc_document("Trial")))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.find("Messages") is None
    assert Facility.objects.count() == facilities


# --- rejections ------------------------------------------------------------------------------


def test_every_problem_is_listed_and_nothing_is_stored(client, cast, edt_account):
    bad_geo = GEO.replace("38.5816", "123.45").replace("2024-05-01", "2999-01-01")
    body = rfc_document(
        organization="<OrganizationCode>87654321</OrganizationCode>",
        zip_code="95616",
        elements=(
            '<HazardousMaterialsInventory regulatorCode="1101"/>'
            '<EmergencyResponseTrainingPlans regulatorCode="1002"/>'
            '<RecyclableMaterialsReport regulatorCode="9999"/>'
        ),
        geo=bad_geo,
    )
    facilities, events = Facility.objects.count(), AuditEvent.objects.count()
    root = answer(post(client, edt_account, body))

    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    errors = messages(root, "Error")
    assert len(errors) == 7
    text = "\n".join(errors)
    assert "no organization with code 87654321" in text
    assert "ZIP code 95616 is outside the jurisdiction" in text
    assert "does not handle Hazardous Materials Inventory" in text
    assert "Yolo County CUPA (1002) is not a Participating Agency" in text
    assert "no regulator with code 9999" in text
    assert "LatitudeMeasure" in text
    assert "DataCollectionDate" in text
    assert stored_codes(root) == {1013, 1053, 1049, 1012, 1073}
    assert (Facility.objects.count(), AuditEvent.objects.count()) == (facilities, events)


def test_an_address_in_another_cupas_jurisdiction_is_refused(client, cast, edt_account):
    root = answer(post(client, edt_account, rfc_document(city="Davis", zip_code="95616")))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [error] = messages(root, "Error")
    assert "Yolo County CUPA (1002) handles it" in error
    assert stored_codes(root) == {1053}
    assert not Facility.objects.filter(name="River Depot").exists()


def test_a_zip_code_that_is_not_one_is_refused(client, cast, edt_account):
    root = answer(post(client, edt_account, rfc_document(zip_code="9581")))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert stored_codes(root) == {1017}


def test_a_short_epa_id_is_a_warning(client, cast, edt_account):
    root = answer(post(client, edt_account, rfc_document(identifiers="<EPAID>CAD123</EPAID>")))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert "shorter than 12" in messages(root, "Warning")[0]


def test_a_document_that_breaks_the_schema_is_rejected(client, cast, edt_account):
    body = rfc_document(name="x" * 71)
    root = answer(post(client, edt_account, body))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert root.find("Transaction").get("mode") is None  # nothing stored to read it from
    assert stored_codes(root) == {1066}


# --- who may, and where ----------------------------------------------------------------------


def test_the_pa_account_cannot_create_facilities(client, cast, pa_edt_account):
    url = "/EDT/Regulator/Facility/Create?regulatorCode=1101"
    facilities = Facility.objects.count()
    response = post(client, pa_edt_account, rfc_document(zip_code="95814"), url=url)
    assert response.status_code == 401
    assert Facility.objects.count() == facilities


def test_the_testing_environment_answers_as_production_and_keeps_nothing(client, cast, edt_account):
    facilities, events = Facility.objects.count(), AuditEvent.objects.count()
    root = answer(post(client, edt_account, rfc_document(), url=STAGING_URL))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert root.findtext("Result/CERSID")
    assert (Facility.objects.count(), AuditEvent.objects.count()) == (facilities, events)
    assert Organization.objects.count() == 2


def test_the_status_query_answers_with_the_mode_and_result(client, cast, edt_account):
    first = answer(post(client, edt_account, rfc_document()))
    key = first.findtext("Transaction/TransactionKey")
    response = client.get(
        f"/EDT/Regulator/Facility/Create/{key}?regulatorCode=1001", **legacy_header(edt_account)
    )
    again = answer(response)
    assert again.find("Transaction").get("mode") == "Commit"
    assert again.findtext("Result/CERSID") == first.findtext("Result/CERSID")


# --- the services underneath -----------------------------------------------------------------


def test_a_regulator_cannot_add_a_facility_outside_its_jurisdiction(cast, edt_account):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="outside"), transaction.atomic():
        add_facility(
            actor=edt_account.user,
            organization=cast.org,
            name="Yolo Yard",
            street="1 Elm Street",
            city="Davis",
            zip_code="95616",
        )
    assert not Facility.objects.filter(name="Yolo Yard").exists()


def test_a_business_still_cannot_add_a_facility_at_a_duplicate_address(cast):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="already has a facility"), transaction.atomic():
        add_facility(
            actor=cast.lead,
            organization=cast.org,
            name="Again",
            street=cast.facility.street,
            city=cast.facility.city,
            zip_code="95814",
            allow_duplicate_address=True,  # only a regulator may
        )


@pytest.mark.parametrize("who", ["pa_account", "approver"])
def test_only_a_cupas_system_or_a_lead_user_adds_a_facility(cast, pa_edt_account, who):
    from django.core.exceptions import PermissionDenied

    actor = {"pa_account": pa_edt_account.user, "approver": cast.approver}[who]
    with pytest.raises(PermissionDenied), transaction.atomic():
        add_facility(
            actor=actor,
            organization=cast.org,
            name="Capitol Yard",
            street="9 Capitol Mall",
            city="Sacramento",
            zip_code="95814",
        )
    assert not Facility.objects.filter(name="Capitol Yard").exists()


def test_a_cupas_system_adds_a_facility_as_the_cupa(cast, edt_account):
    with transaction.atomic():
        facility = add_facility(
            actor=edt_account.user,
            organization=cast.org,
            name="Capitol Yard",
            street="9 Capitol Mall",
            city="Sacramento",
            zip_code="95814",
        )
    event = AuditEvent.objects.get(action="facility.created", object_id=str(facility.pk))
    assert (event.actor, event.regulator) == (edt_account.user, cast.cupa)


# --- client transaction keys -----------------------------------------------------------------

# CalEPA's own RFC test files (the CERS3 repository's "Main/Data/XML Schemas/TestData",
# CreateFacility-*.xml) share one RegulatorTransactionKey across their documents, in 1/05 and
# 1/06, for "1001 I St." in Sacramento and "1455 Stoney Cross Ln" in Lincoln. These are built
# in their shape: the cers prefix, xsi:schemaLocation, XMLSpy's comment, tab indentation.
CALEPA_KEY = "D49066C4-27F4-4630-947A-A775259B9790"
CALEPA_SACRAMENTO = ("Cal/EPA Fun Center", "1001 I St.", "Sacramento", "95814")
CALEPA_LINCOLN = ("Mike's House", "1455 Stoney Cross Ln", "Lincoln", "95648")


def calepa_rfc(place, *, mode="Commit", version="1/06", ignore="false", key=CALEPA_KEY) -> bytes:
    name, site, city, zip_code = place
    namespace = f"http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilityCreate/{version}/"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<!--Sample XML file generated by XMLSpy v2014 sp1 (x64) (http://www.altova.com)-->\n"
        '<cers:RegulatorFacilityCreate xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xmlns:cers="{namespace}" mode="{mode}" xsi:schemaLocation="{namespace} '
        f'http://cersservices.calepa.ca.gov/Schemas/{version}/RegulatorFacilityCreate.xsd">\n'
        f"\t<RegulatorTransactionKey>{key}</RegulatorTransactionKey>\n"
        f"\t<FacilityName>{name}</FacilityName>\n"
        "\t<FacilityAddress>\n"
        f"\t\t<SiteAddress>{site}</SiteAddress>\n"
        f"\t\t<City>{city}</City>\n"
        f"\t\t<ZipCode>{zip_code}</ZipCode>\n"
        "\t</FacilityAddress>\n"
        f"\t<IgnoreExactDuplicateAddressWarning>{ignore}</IgnoreExactDuplicateAddressWarning>\n"
        "</cers:RegulatorFacilityCreate>\n"
    ).encode()


def answered_in(response, version: str):
    """The answer, checked to be in ``version`` (its namespace) and valid against that schema."""
    root = answer(response, version)
    assert root.tag.endswith(
        f"/RegulatorFacilityCreateResponse/{version}/}}RegulatorFacilityCreateResponse"
    )
    return root


def fun_centers() -> int:
    return Facility.objects.filter(name="Cal/EPA Fun Center").count()


def test_a_trial_then_a_commit_with_the_same_key_creates_the_facility(client, cast, edt_account):
    trial = post(client, edt_account, calepa_rfc(CALEPA_SACRAMENTO, mode="Trial"))
    tried = answered_in(trial, "1/06")
    assert "X-CERS-Replayed" not in trial
    assert tried.find("Transaction").get("mode") == "Trial"
    assert tried.findtext("Transaction/TransactionStatus") == "Accepted"
    assert fun_centers() == 0

    commit = post(client, edt_account, calepa_rfc(CALEPA_SACRAMENTO))
    committed = answered_in(commit, "1/06")
    assert "X-CERS-Replayed" not in commit
    txn = committed.find("Transaction")
    assert (txn.get("mode"), txn.findtext("TransactionStatus")) == ("Commit", "Accepted")
    assert txn.findtext("RegulatorTransactionKey") == CALEPA_KEY
    assert txn.findtext("TransactionKey") != tried.findtext("Transaction/TransactionKey")
    facility = Facility.objects.get(name="Cal/EPA Fun Center")
    assert committed.findtext("Result/CERSID") == str(facility.cers_id)
    assert (facility.street, facility.zip_code) == ("1001 I St.", "95814")
    rows = EdtTransaction.objects.filter(client_key=CALEPA_KEY).order_by("received_at", "pk")
    assert [row.mode for row in rows] == ["Trial", "Commit"]


def test_the_same_commit_sent_twice_creates_one_facility(client, cast, edt_account):
    body = calepa_rfc(CALEPA_SACRAMENTO)
    created = AuditEvent.objects.filter(action="facility.created")
    before = created.count()
    first = answered_in(post(client, edt_account, body), "1/06")
    again = post(client, edt_account, body)
    assert again["X-CERS-Replayed"] == "true"
    second = answered_in(again, "1/06")
    assert second.findtext("Transaction/TransactionKey") == first.findtext(
        "Transaction/TransactionKey"
    )
    assert second.findtext("Result/CERSID") == first.findtext("Result/CERSID")
    assert fun_centers() == 1
    assert created.count() == before + 1  # one effect
    resent = EdtTransaction.objects.exclude(key=first.findtext("Transaction/TransactionKey"))
    assert "resubmission of transaction" in resent.get(endpoint="RFC").messages[0]["message"]


def test_a_corrected_commit_with_the_same_key_gets_its_own_answer(client, cast, edt_account):
    wrong = post(client, edt_account, calepa_rfc(CALEPA_LINCOLN))  # outside the CUPA's area
    rejected = answered_in(wrong, "1/06")
    assert rejected.findtext("Transaction/TransactionStatus") == "Rejected"
    assert "no CUPA serves it" in messages(rejected, "Error")[0]

    corrected = post(client, edt_account, calepa_rfc(CALEPA_SACRAMENTO))
    assert "X-CERS-Replayed" not in corrected
    accepted = answered_in(corrected, "1/06")
    assert accepted.findtext("Transaction/TransactionStatus") == "Accepted"
    assert accepted.findtext("Result/CERSID")
    assert fun_centers() == 1


def test_calepas_six_documents_sharing_one_key_each_get_their_own_answer(client, cast, edt_account):
    def send(place, version="1/06", **options):
        response = post(client, edt_account, calepa_rfc(place, version=version, **options))
        assert "X-CERS-Replayed" not in response
        return answered_in(response, version)

    first = send(CALEPA_SACRAMENTO)  # "1001 Sac - v106 ignoredupwarning-false"
    assert first.findtext("Transaction/TransactionStatus") == "Accepted"
    created = Facility.objects.get(cers_id=int(first.findtext("Result/CERSID")))
    established(created)  # so the answers listing it validate (EstablishedOn <= 2024-12-31)

    lincoln_105 = send(CALEPA_LINCOLN, "1/05")  # "1455 - v105": answered in 1/05
    again = send(CALEPA_SACRAMENTO, ignore="true")  # "1001 Sac - v106 ignoredupwarning-true"
    lincoln_106 = send(CALEPA_LINCOLN, ignore="true")  # "1455 - v106"
    lincoln_106_false = send(CALEPA_LINCOLN)  # "1455 - v106 ignoredupwarning-false"
    trial_105 = send(CALEPA_SACRAMENTO, "1/05", mode="Trial")  # the Sacramento one, tried

    for root in (lincoln_105, lincoln_106, lincoln_106_false):
        assert root.findtext("Transaction/TransactionStatus") == "Rejected"
        assert root.find("Result") is None
        assert "ZIP code 95648 is outside the jurisdiction" in messages(root, "Error")[0]
    assert again.findtext("Transaction/TransactionStatus") == "Accepted"
    assert again.findtext("Result/CERSID") != first.findtext("Result/CERSID")
    [duplicate] = again.iterfind("PotentialDuplicates/PotentialDuplicate")
    assert duplicate.findtext("CERSID") == str(created.cers_id)
    assert trial_105.find("Transaction").get("mode") == "Trial"
    assert trial_105.findtext("Transaction/TransactionStatus") == "Rejected"
    assert len(messages(trial_105, "Error")) == 1  # the exact duplicates now at 1001 I St.

    answers = (first, lincoln_105, again, lincoln_106, lincoln_106_false, trial_105)
    keys = {root.findtext("Transaction/TransactionKey") for root in answers}
    assert len(keys) == 6
    assert {root.findtext("Transaction/RegulatorTransactionKey") for root in answers} == {
        CALEPA_KEY
    }
    assert fun_centers() == 2
    assert not Facility.objects.filter(name="Mike's House").exists()
