"""The Tier 2 queries RFQ, ROQ, RFTQ and RAIQ, over HTTP with the legacy header: scope, every
filter, the answers against CalEPA's schemas, JSON, the ceiling, constant queries, the tier.

CalEPA's schemas of these four queries end ``cers:Date``/``cers:DateTime`` at 2024-12-31 (and
RAIQ's and RFTQ's ``timeStamp`` is one), so the tests run with the clock pinned inside that
range (``clock``) and validate against the files as published, but for the last one, which
checks answers dated after 2024; RFTQ's schema also wants 9-digit organization codes (see there).
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from edt.api import base, queries
from edt.models import EdtTransaction
from facilities import services as facility_services
from facilities.legacy import import_legacy_facilities
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from tests import factories
from tests.edt.pins import assert_pinned, without_transaction_key

from .conftest import (
    assert_valid,
    assert_valid_beyond_2024,
    content,
    legacy_header,
    make_edt_account,
)

PACIFIC = datetime.timezone(datetime.timedelta(hours=-7))  # June: PDT
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

RFQ = "Regulator/Facility"
ROQ = "Regulator/Organization"
RFTQ = "Regulator/Faclility/Transfer"
RAIQ = "Regulator/ActionItem"

# The cast's rows are dated by the pinned clock (``clock``), so each test builds its own.
pytestmark = pytest.mark.fresh_cast


class Clock:
    """The time ``django.utils.timezone.now`` answers; moved on by hand."""

    def __init__(self, now: datetime.datetime):
        self.now = now

    def set(self, *args) -> None:
        self.now = datetime.datetime(*args, tzinfo=PACIFIC)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    """Every row and answer dated 3 June 2024, 10:00 Pacific, unless a test moves the clock."""
    pinned = Clock(datetime.datetime(2024, 6, 3, 10, 0, tzinfo=PACIFIC))
    monkeypatch.setattr(timezone, "now", lambda: pinned.now)
    return pinned


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path  # transfer letters


def get(client, account, path: str, accept: str = "", **params):
    query = urlencode({"regulatorCode": account.regulator.code, **params})  # loaded once
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    return client.get(f"/EDT/{path}?{query}", **legacy_header(account), **extra)


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def submitted(facility, element: int, status=ElementStatus.SUBMITTED, at=(2024, 6, 3, 11, 0)):
    """A submitted element of ``facility``, routed as the submit service routes it."""
    moment = datetime.datetime(*at, tzinfo=PACIFIC)
    regulator = FacilityRegulator.objects.get(facility=facility, element=element).regulator
    group = FacilitySubmittal.objects.create(
        facility=facility, status=FacilitySubmittal.Status.SUBMITTED, submitted_at=moment
    )
    return SubmittalElementRecord.objects.create(
        facility_submittal=group,
        facility=facility,
        element=element,
        status=status,
        regulator=regulator,
        submitted_at=moment,
    )


def answered(record, **answers):
    """``record`` (Facility Information) answering the Business Activities ``answers`` (by
    number, ``f5="Y"``): the answers that count switch elements on (``schedule.requirement_of``)."""
    data = {number.removeprefix("f"): value for number, value in answers.items()}
    SubmittalElementRecord.objects.filter(pk=record.pk).update(data=data)


@pytest.fixture
def world(cast):
    """Acme's Sacramento depot (CUPA 1001; its USTs with PA 1101) has submitted Facility
    Information (waiting), an inventory (accepted) and USTs (waiting, at the PA); its Davis
    yard (CUPA 1002) has submitted Facility Information."""
    Organization.objects.filter(pk=cast.org.pk).update(headquarters="Sacramento, California")
    cast.org.refresh_from_db()
    cast.fi = submitted(cast.facility, 1)
    cast.hmi = submitted(cast.facility, 2, ElementStatus.ACCEPTED, at=(2024, 6, 2, 9, 30))
    cast.ust = submitted(cast.facility, 4)
    cast.yolo_fi = submitted(cast.facility_yolo, 1)
    return cast


@pytest.fixture
def extra(world, clock):
    """Other Co's Elk Grove facility, ZIP+4 in CUPA 1001's area, added a week later."""
    clock.set(2024, 6, 10, 8, 0)
    world.extra = factories.make_facility(
        world.other_org,
        name="Other Co Elk Grove",
        street="9 River Road",
        city="Elk Grove",
        zip_code="95814-1234",
    )
    clock.set(2024, 6, 11, 8, 0)
    return world.extra


def nine_digit_codes(*organizations):
    """RFTQ's 1/06 schema takes organization codes 100000001-999999999 only."""
    for offset, organization in enumerate(organizations):
        Organization.objects.filter(pk=organization.pk).update(code=100_000_001 + offset)
        organization.refresh_from_db()


@pytest.fixture
def state_manager(cast):
    """The state administrator moves and merges facilities anywhere."""
    return cast.state_admin


@pytest.fixture
def transfers(world, extra, clock):
    """In CUPA 1001's area: Other Co's Elk Grove facility moved to Acme on 12 June, and a
    duplicate of Acme's depot merged into it on 13 June. In CUPA 1002's: Other Co's plant
    moved to Acme on 14 June."""
    nine_digit_codes(world.org, world.other_org)
    clock.set(2024, 6, 12, 9, 0)
    world.move = facility_services.move_facility(
        actor=world.state_admin,
        facility=extra,
        to_organization=world.org,
        reason="Bought by Acme.",
        letter=SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf"),
    )
    clock.set(2024, 6, 13, 9, 0)
    duplicate = factories.make_facility(
        world.org, name="Acme Depot (duplicate)", street="1 Duplicate Lane"
    )
    world.duplicate_cers_id = duplicate.cers_id
    world.merge = facility_services.merge_facilities(
        actor=world.state_admin,
        duplicate=duplicate,
        survivor=world.facility,
        reason="Entered twice.",
    )
    clock.set(2024, 6, 14, 9, 0)
    world.yolo_move = facility_services.move_facility(
        actor=world.state_admin,
        facility=world.other_facility,
        to_organization=world.org,
        reason="Bought by Acme too.",
        letter=SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf"),
    )
    clock.set(2024, 6, 15, 9, 0)
    return world


@pytest.fixture
def library_only(cast):
    return make_edt_account("1001", "sac_library", "1", "both")


def check_filters(cases, names: dict, results: dict, answer) -> None:
    """Each case's parameters (``{name}`` filled from ``names``) must answer the ``results``
    its expected names stand for, in order; a failure names the case."""
    for params, expected in cases:
        params = {key: value.format(**names) for key, value in params.items()}
        assert (params, answer(params)) == (params, [results[n] for n in expected])


# --- every endpoint -----------------------------------------------------------------------


@pytest.mark.parametrize("path", [RFQ, ROQ, RFTQ, "Regulator/Facility/Transfer", RAIQ])
def test_an_account_without_tier_2_gets_401_code_8(client, library_only, path):
    response = get(client, library_only, path)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED


BAD_COMMON_PARAMETERS = [
    ({"CERSID": "abc"}, b"CERSID must be a whole number"),
    ({"organizationCode": "1e5"}, b"organizationCode must be a whole number"),
    ({"schemaVersion": "1/99"}, b"schemaVersion=1/99 is not one of them"),
]


@pytest.mark.parametrize("path", [RFQ, ROQ, RFTQ, RAIQ])
def test_bad_common_parameters_are_explained(client, edt_account, path):
    for params, message in BAD_COMMON_PARAMETERS:
        response = get(client, edt_account, path, **params)
        assert (params, response.status_code) == (params, 400)
        assert message in response.content
    statuses = set(EdtTransaction.objects.values_list("status", flat=True))
    assert statuses == {EdtTransaction.Status.REJECTED}


@pytest.mark.parametrize(
    ("path", "start", "end"),
    [
        (RFQ, "createdOnStart", "createdOnEnd"),
        (RFTQ, "occurredOnStart", "occurredOnEnd"),
        (RFTQ, "assumedOwnershipOnStart", "assumedOwnershipOnEnd"),
        (RAIQ, "requestedOnStart", "requestedOnEnd"),
    ],
)
def test_bad_dates_are_explained(client, edt_account, path, start, end):
    typo = get(client, edt_account, path, **{start: "13-45-2024"})
    backwards = get(client, edt_account, path, **{start: "06-05-2024", end: "06-04-2024"})
    assert typo.status_code == 400
    assert b"MM-DD-YYYY" in typo.content
    assert backwards.status_code == 400
    assert f"{start} is after {end}".encode() in backwards.content


# --- RFQ ----------------------------------------------------------------------------------


def rfq_ids(response) -> list[int]:
    root = assert_valid(body(response), "1.05", "RegulatorFacilityQuery.xsd")
    return [int(f.findtext("CERSID")) for f in root.findall("Facility")]


def test_rfq_answers_the_cupas_facilities_in_calepas_shape(client, edt_account, world):
    answered(world.fi, f4="Y", f5="Y", f8="N")  # materials on site, USTs, no APSA
    response = get(client, edt_account, RFQ)
    root = assert_valid(body(response), "1.05", "RegulatorFacilityQuery.xsd")
    transaction = EdtTransaction.objects.get()
    assert root.get("transactionKey") == str(transaction.key)
    assert response["X-CERS-Transaction-Key"] == str(transaction.key)
    assert (root.get("returnedResultCount"), root.get("totalQueryResultCount")) == ("1", "1")
    assert (transaction.status, transaction.result_count) == (EdtTransaction.Status.ACCEPTED, 1)
    (facility,) = root.findall("Facility")
    assert facility.findtext("CERSID") == str(world.facility.cers_id)
    assert facility.findtext("RegulatorCode") == "1001"
    assert facility.findtext("Name") == "Acme Sacramento Depot"
    assert facility.findtext("LastSubmittalOn") == "2024-06-03"
    assert facility.findtext("EstablishedOn") == "2024-06-03"
    organization = facility.find("Organization")
    assert {child.tag: child.text for child in organization} == {
        "Code": str(world.org.code),
        "Name": "Acme Fuels",
        "Headquarters": "Sacramento, California",
        "FacilityCount": "2",  # the Davis yard too, though CUPA 1002's
        "UserCount": "4",
        "LeadRegulatorCode": "1001",
        "LastSubmittalOn": "2024-06-03",
        "Origin": "2",
    }
    elements = {e.tag: dict(e.attrib) for e in facility.find("SubmittalElements")}
    assert elements["FacilityInformation"] == {"regulatorCode": "1001", "reportingRequirement": "2"}
    assert elements["HazardousMaterialsInventory"]["reportingRequirement"] == "2"
    assert elements["EmergencyResponseTrainingPlans"]["reportingRequirement"] == "2"
    assert elements["UndergroundStorageTanks"] == {
        "regulatorCode": "1101",
        "reportingRequirement": "2",
    }
    assert elements["AbovegroundPetroleumStorageTanks"] == {
        "regulatorCode": "1001",
        "reportingRequirement": "1",
    }
    assert len(elements) == 10
    address = {child.tag: child.text for child in facility.find("FacilityAddress")}
    assert address == {
        "SiteAddress": world.facility.street,
        "City": "Sacramento",
        "ZipCode": "95814",
    }


def test_rfq_states_the_requirement_the_business_activities_answers_give(
    client, edt_account, world
):
    """Without a setting, RFQ says what the status grid says: an element the answers that
    count switch on is Applicable though never submitted (APSA); one submitted once but no
    longer switched on is Not Applicable (the inventory, the USTs); the answers of a Not
    Accepted Facility Information do not count."""
    answered(world.fi, f4="N", f5="N", f8="Y")

    def requirements():
        root = assert_valid(
            body(get(client, edt_account, RFQ)), "1.05", "RegulatorFacilityQuery.xsd"
        )
        elements = root.find("Facility/SubmittalElements")
        return {e.tag: e.get("reportingRequirement") for e in elements}

    stated = requirements()
    assert stated["AbovegroundPetroleumStorageTanks"] == "2"
    assert stated["HazardousMaterialsInventory"] == "1"
    assert stated["UndergroundStorageTanks"] == "1"
    assert stated["FacilityInformation"] == "2"

    refused = submitted(world.facility, 1, ElementStatus.NOT_ACCEPTED, at=(2024, 6, 3, 12, 0))
    answered(refused, f5="Y")
    assert requirements() == stated


def test_rfq_gives_the_legacy_imports_organizations_the_seeding_origin(client, edt_account, cast):
    facilities = (
        "legacy_key,name,street,city,zip_code\nL-1,Corner Gas,1 Legacy Way,Sacramento,95814\n"
    )
    import_legacy_facilities(SimpleUploadedFile("legacy.csv", facilities.encode()))
    response = get(
        client, edt_account, RFQ, organizationCode=Organization.objects.get(name="Corner Gas").code
    )
    root = assert_valid(body(response), "1.05", "RegulatorFacilityQuery.xsd")
    assert root.findtext("Facility/Organization/Origin") == "5"
    assert root.find("Facility/Organization/Headquarters") is None


def test_rfq_answers_what_facility_create_and_metadata_set(client, edt_account, cast):
    """What the CUPA sets through Facility Create and Facility Metadata comes back out of RFQ
    and ROQ: the keys, each element's reporting requirement and due date, the geographic
    point, and the EDT origin of the organization the create made."""
    from .test_rfc import GEO, URL, rfc_document

    created = client.post(
        URL, rfc_document(geo=GEO), content_type="text/xml", **legacy_header(edt_account)
    )
    assert created.status_code == 200, content(created)
    facility = Facility.objects.get(name="River Depot")
    metadata = (
        "<FacilityID>LOCAL-9</FacilityID><FacilityRegulatorKey>sac-9</FacilityRegulatorKey>"
        "<SubmittalElements>"
        '<HazardousMaterialsInventory reportingRequirement="3" nextDueDate="2024-09-15"/>'
        '<UndergroundStorageTanks reportingRequirement="1"/>'
        "</SubmittalElements>"
    )
    namespace = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilityMetadata/1/06/"
    changed = client.post(
        "/EDT/Regulator/Facility/Metadata?regulatorCode=1001",
        (
            f'<?xml version="1.0"?><cers:RegulatorFacilityMetadata xmlns:cers="{namespace}">'
            f"<CERSID>{facility.cers_id}</CERSID>{metadata}</cers:RegulatorFacilityMetadata>"
        ).encode(),
        content_type="text/xml",
        **legacy_header(edt_account),
    )
    assert b"Accepted" in content(changed), content(changed)

    answered = body(get(client, edt_account, RFQ, CERSID=facility.cers_id))
    for folder in ("1.05", "cers3"):  # both sets hold RFQ 1/05
        root = assert_valid(answered, folder, "RegulatorFacilityQuery.xsd")
        (answer,) = root.findall("Facility")
        assert (answer.findtext("FacilityID"), answer.findtext("FacilityRegulatorKey")) == (
            "LOCAL-9",
            "sac-9",
        )
        elements = answer.find("SubmittalElements")
        inventory = elements.find("HazardousMaterialsInventory")
        assert (inventory.get("reportingRequirement"), inventory.get("nextDueDate")) == (
            "3",
            "2024-09-15",
        )
        assert elements.find("UndergroundStorageTanks").get("reportingRequirement") == "1"
        assert elements.find("FacilityInformation").get("reportingRequirement") == "2"
        point = answer.find("GeographicInformation/CERSPoint")
        assert [child.text for child in point] == [
            "38.5816",
            "-121.4944",
            "5.5",
            "101",
            "102",
            "WGS84",
            "2024-05-01",
        ]
        assert answer.findtext("Organization/Origin") == "1"  # EDT

    code = facility.organization.code
    roq = assert_valid(
        body(get(client, edt_account, ROQ, organizationCode=code)),
        "1.05",
        "RegulatorOrganizationQuery.xsd",
    )
    assert roq.findtext("Organization/Origin") == "EDT"


def test_rfq_shows_a_pa_the_facilities_where_it_regulates_an_element(client, pa_edt_account, world):
    assert rfq_ids(get(client, pa_edt_account, RFQ)) == [world.facility.cers_id]


def test_rfq_never_shows_another_cupas_facilities(client, edt_account, world):
    assert rfq_ids(get(client, edt_account, RFQ, CERSID=world.facility_yolo.cers_id)) == []
    assert world.facility_yolo.cers_id not in rfq_ids(get(client, edt_account, RFQ))


RFQ_FILTERS = [
    ({}, ["facility", "extra"]),
    ({"cersid": "{facility}"}, ["facility"]),
    ({"organizationCode": "{other_org}"}, ["extra"]),
    ({"createdOnStart": "06-05-2024"}, ["extra"]),
    ({"createdOnEnd": "06-05-2024"}, ["facility"]),
    ({"createdOnStart": "06-10-2024 08:00:01"}, []),
    ({"createdOnStart": "06-10-2024", "createdOnEnd": "06-10-2024"}, ["extra"]),
    # .NET's DateTime.MaxValue, which clients send for "no end": past every moment stored
    ({"createdOnEnd": "12-31-9999 23:59:59"}, ["facility", "extra"]),
    ({"createdOnStart": "06-05-2024", "createdOnEnd": "12-31-9999"}, ["extra"]),
    ({"street": "river"}, ["extra"]),
    ({"city": "ELK GROVE"}, ["extra"]),
    ({"city": "Elk"}, []),
    ({"zip": "95814"}, ["facility", "extra"]),
    ({"zip": "95814-1234"}, ["extra"]),
]


def test_rfq_filters(client, edt_account, world, extra):
    names = {"facility": world.facility.cers_id, "other_org": world.other_org.code}
    names["extra"] = extra.cers_id
    check_filters(RFQ_FILTERS, names, names, lambda p: rfq_ids(get(client, edt_account, RFQ, **p)))


def test_rfq_refuses_a_zip_that_is_not_one(client, edt_account):
    response = get(client, edt_account, RFQ, zip="958")
    assert response.status_code == 400
    assert b"zip is a 5-digit ZIP code or ZIP+4" in response.content


def test_rfq_answers_json_with_the_same_records(client, edt_account, world, extra):
    answered(world.fi, f5="Y")
    response = get(client, edt_account, RFQ, accept="application/json")
    assert response["Content-Type"] == "application/json"
    answer = json.loads(body(response))
    assert answer["returnedResultCount"] == "2"
    facilities = answer["Facility"]
    assert [f["CERSID"] for f in facilities] == [str(world.facility.cers_id), str(extra.cers_id)]
    assert facilities[0]["SubmittalElements"]["UndergroundStorageTanks"] == {
        "@regulatorCode": "1101",
        "@reportingRequirement": "2",
        "#text": "",
    }
    assert facilities[1]["Organization"]["Name"] == "Other Co"


def test_rfq_refuses_more_than_the_ceiling(client, edt_account, world, extra, settings):
    settings.EDT_QUERY_MAX_RESULTS = 1
    response = get(client, edt_account, RFQ)
    assert response.status_code == 413
    assert b"2 facilities" in response.content
    assert rfq_ids(get(client, edt_account, RFQ, zip="95814-1234")) == [extra.cers_id]


# Authentication (account, grant), the transaction row, the count, the accepted mark, the
# cursor over the facilities joined to their organizations; per batch their element
# regulators, their last submissions, their Business Activities answers that count, and the
# facts of the organizations first met.
RFQ_QUERIES = 10


def test_rfq_runs_the_same_queries_for_one_facility_or_several(
    client, edt_account, world, django_assert_num_queries
):
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(RFQ_QUERIES):
        assert len(rfq_ids(get(client, edt_account, RFQ))) == 1
    for number in range(3):
        factories.make_facility(world.org, name=f"More {number}")
    EdtTransaction.objects.all().delete()
    with django_assert_num_queries(RFQ_QUERIES):
        assert len(rfq_ids(get(client, edt_account, RFQ))) == 4


# --- RFQ, the whole answer byte for byte ---------------------------------------------------


def pinned_answer(client, account, accept: str = "") -> bytes:
    """RFQ's whole answer, checked against CalEPA's schema when in XML, without its
    transaction's key (the time is the pinned clock's)."""
    raw = body(get(client, account, RFQ, accept=accept))
    if not accept:
        assert_valid(raw, "1.05", "RegulatorFacilityQuery.xsd")
    return without_transaction_key(raw)


@pytest.mark.parametrize("accept", ["", "application/json"])
def test_rfq_writes_the_whole_answer_byte_for_byte_as_pinned(
    client, cast, edt_account, pa_edt_account, world, extra, clock, monkeypatch, accept
):
    """Facilities with every optional part (keys, location, each element's requirement and
    due date), without them, with text that needs escaping; a large organization's facts read
    over several batches and read again once forgotten; the legacy import's, EDT's and the
    business portal's organizations; as the CUPA and its PA see them, in XML and in JSON. A
    change to how RFQ is written must not change one byte of it (the files are written again
    with RFQ_PIN=write, on purpose only)."""
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    monkeypatch.setattr(queries, "FACTS_KEPT", 1)
    clock.set(2024, 6, 12, 9, 30)
    more = [
        factories.make_facility(world.org, name=f"Acme Site {n}", street=f"{n} Acme Way")
        for n in range(4)
    ]
    submitted(more[1], 1, ElementStatus.ACCEPTED, at=(2024, 6, 12, 23, 30))  # 13 June in UTC
    import_legacy_facilities(
        SimpleUploadedFile(
            "legacy.csv",
            b"legacy_key,name,street,city,zip_code\nL-1,Corner Gas,1 Legacy Way,Sacramento,95814\n",
        )
    )
    legacy = Facility.objects.get(name="Corner Gas")
    codes = {world.org: 10_001_234, world.other_org: 10_005_678, legacy.organization: 99_999_999}
    for organization, code in codes.items():
        Organization.objects.filter(pk=organization.pk).update(code=code)
    Organization.objects.filter(pk=world.other_org.pk).update(
        name="Other & Co <West>", headquarters='Elk Grove, "CA"', lead_regulator=None
    )
    cers_ids = [world.facility, extra, *more, legacy]
    for number, facility in enumerate(cers_ids):
        Facility.objects.filter(pk=facility.pk).update(cers_id=20_000_001 + number)
    Facility.objects.filter(pk=world.facility.pk).update(
        name='Acme "Depot" & <Yard> Café',
        street="1 Main Street",
        local_facility_id="SAC-7",
        regulator_key="FAC-0001 & more",
        latitude=Decimal("38.5816"),
        longitude=Decimal("-121.4944"),
        horizontal_accuracy=Decimal("10.50"),
        horizontal_collection_method=101,
        geographic_reference_point=102,
        horizontal_reference_datum="WGS84",
        location_collected_on=datetime.date(2024, 1, 2),
    )
    # Part of a location is not written.
    Facility.objects.filter(pk=extra.pk).update(
        street="9 River Road\r\nSuite > 2", latitude=Decimal("38.4"), longitude=Decimal("-121.3")
    )
    FacilityRegulator.objects.filter(facility=world.facility, element=2).update(
        reporting_requirement=3, next_due_date=datetime.date(2024, 9, 15)
    )
    FacilityRegulator.objects.filter(facility=world.facility, element=4).update(
        next_due_date=datetime.date(2024, 12, 31)
    )
    FacilityRegulator.objects.filter(facility=more[2], element=1).update(reporting_requirement=1)
    answer = pinned_answer(client, edt_account, accept) + pinned_answer(
        client, pa_edt_account, accept
    )
    assert_pinned(answer, f"rfq_everything.{'json' if accept else 'xml'}", "RFQ_PIN")


# --- ROQ ----------------------------------------------------------------------------------


def roq(response):
    return assert_valid(body(response), "1.05", "RegulatorOrganizationQuery.xsd")


def roq_codes(response) -> list[int]:
    return [int(o.findtext("OrganizationCode")) for o in roq(response).findall("Organization")]


def test_roq_lists_organizations_with_their_facilities_in_the_jurisdiction(
    client, edt_account, world
):
    response = get(client, edt_account, ROQ, includeFacilities="true")
    root = roq(response)
    assert root.get("resultCount") == "1"
    assert root.get("transactionKey") == str(EdtTransaction.objects.get().key)
    (organization,) = root.findall("Organization")
    values = {child.tag: child.text for child in organization if child.tag != "Facilities"}
    assert values == {
        "OrganizationCode": str(world.org.code),
        "OrganizationName": "Acme Fuels",
        "OrganizationHeadquarters": "Sacramento, California",
        "FacilityCount": "2",
        "UserCount": "4",
        "EstablishedOn": "2024-06-03",
        "IsMJB": "true",  # Sacramento and Yolo
        "Origin": "Business",
        "LastSubmittalDate": "2024-06-03",
    }
    (facility,) = organization.findall("Facilities/Facility")  # not the Davis yard
    assert {child.tag: child.text for child in facility} == {
        "CERSID": str(world.facility.cers_id),
        "FacilityName": "Acme Sacramento Depot",
        "SiteAddress": world.facility.street,
        "City": "Sacramento",
        "ZipCode": "95814",
        "LastSubmittalDate": "2024-06-03",
    }


def test_roq_lists_no_facilities_unless_asked(client, edt_account, world):
    root = roq(get(client, edt_account, ROQ))
    assert root.find("Organization/Facilities") is None


def test_roq_cuts_long_names_to_the_schemas_lengths(client, edt_account, world):
    Organization.objects.filter(pk=world.org.pk).update(name="A" * 150, headquarters="H" * 90)
    root = roq(get(client, edt_account, ROQ, includeFacilities="1"))
    assert root.findtext("Organization/OrganizationName") == "A" * 100
    assert root.findtext("Organization/OrganizationHeadquarters") == "H" * 75


def test_roq_single_cupa_organizations_are_not_mjb(client, world):
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "both")
    root = roq(get(client, yolo, ROQ))
    flags = {o.findtext("OrganizationName"): o.findtext("IsMJB") for o in root}
    assert flags == {"Acme Fuels": "true", "Other Co": "false"}


def test_roq_shows_a_pa_the_organizations_it_regulates(client, pa_edt_account, world):
    root = roq(get(client, pa_edt_account, ROQ, includeFacilities="true"))
    assert [o.findtext("OrganizationName") for o in root] == ["Acme Fuels"]
    assert [f.findtext("CERSID") for f in root.iter("Facility")] == [str(world.facility.cers_id)]


def test_roq_never_shows_another_cupas_organizations(client, edt_account, world):
    assert roq_codes(get(client, edt_account, ROQ, organizationCode=world.other_org.code)) == []
    assert roq_codes(get(client, edt_account, ROQ, CERSID=world.facility_yolo.cers_id)) == []


ROQ_FILTERS = [
    ({}, ["org", "other_org"]),
    ({"organizationName": "ACME"}, ["org"]),
    ({"organizationName": "co"}, ["other_org"]),
    ({"organizationHeadquarters": "california"}, ["org"]),
    ({"organizationCode": "{other_org}"}, ["other_org"]),
    ({"CERSID": "{extra}"}, ["other_org"]),
    ({"establishedSince": "06-03-2024"}, ["org", "other_org"]),
    ({"establishedSince": "06-04-2024"}, []),
    ({"establishedSince": "12-31-9999 23:59:59"}, []),
]


def test_roq_filters(client, edt_account, world, extra):
    names = {"org": world.org.code, "other_org": world.other_org.code, "extra": extra.cers_id}
    check_filters(
        ROQ_FILTERS, names, names, lambda p: roq_codes(get(client, edt_account, ROQ, **p))
    )


def test_roq_refuses_a_bad_flag_or_date(client, edt_account):
    flag = get(client, edt_account, ROQ, includeFacilities="maybe")
    since = get(client, edt_account, ROQ, establishedSince="yesterday")
    assert flag.status_code == since.status_code == 400
    assert b"includeFacilities is true or false" in flag.content
    assert b"establishedSince must be a date" in since.content


def test_roq_answers_json_with_the_same_records(client, edt_account, world, extra):
    second = factories.make_facility(world.org, name="Acme Second Depot")
    response = get(client, edt_account, ROQ, accept="application/json", includeFacilities="y")
    answer = json.loads(body(response))
    assert answer["resultCount"] == "2"
    acme, other = answer["Organization"]
    assert acme["Facilities"] == [
        {
            "CERSID": str(world.facility.cers_id),
            "FacilityName": "Acme Sacramento Depot",
            "SiteAddress": world.facility.street,
            "City": "Sacramento",
            "ZipCode": "95814",
            "LastSubmittalDate": "2024-06-03",
        },
        {
            "CERSID": str(second.cers_id),
            "FacilityName": "Acme Second Depot",
            "SiteAddress": second.street,
            "City": "Sacramento",
            "ZipCode": "95814",
        },
    ]
    assert (other["OrganizationName"], other["IsMJB"]) == ("Other Co", "true")
    assert "LastSubmittalDate" not in other


def test_roq_refuses_more_than_the_ceiling(client, edt_account, world, extra, settings):
    settings.EDT_QUERY_MAX_RESULTS = 1
    response = get(client, edt_account, ROQ)
    assert response.status_code == 413
    assert b"2 organizations" in response.content


# Authentication (account, grant), the transaction row, the count, the accepted mark, the
# cursor over the organizations' keys; per batch the organizations with their facts, and their
# facilities in the jurisdiction.
ROQ_QUERIES = 8


def test_roq_runs_the_same_queries_for_one_organization_or_several(
    client, edt_account, world, django_assert_num_queries
):
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(ROQ_QUERIES):
        assert len(roq_codes(get(client, edt_account, ROQ, includeFacilities="true"))) == 1
    for number in range(3):
        lead = factories.make_user(f"lead{number}@more.example")
        organization = factories.make_organization(lead, f"More {number}")
        factories.make_facility(organization, name=f"More {number} Site")
    EdtTransaction.objects.all().delete()
    with django_assert_num_queries(ROQ_QUERIES):
        assert len(roq_codes(get(client, edt_account, ROQ, includeFacilities="true"))) == 4


# --- RFTQ ---------------------------------------------------------------------------------


def rftq(response):
    return rftq_valid(body(response))


def rftq_ids(response) -> list[int]:
    return [int(t.findtext("Facility/CERSID")) for t in rftq(response)]


def test_rftq_lists_the_moves_and_merges_in_the_jurisdiction(client, edt_account, transfers):
    root = rftq(get(client, edt_account, RFTQ))
    assert root.get("transactionKey") == str(EdtTransaction.objects.get().key)
    assert root.get("timeStamp") == "2024-06-15T09:00:00-07:00"
    move, merge = root.findall("RegulatorFacilityTransfer")
    assert {c.tag: c.text for c in move.find("Facility")} == {
        "CERSID": str(transfers.extra.cers_id),
        "FacilityName": "Other Co Elk Grove",
    }
    assert {c.tag: c.text for c in move.find("Organization")} == {
        "OrganizationCode": "100000001",
        "OrganizationName": "Acme Fuels",
        "OrganizationHeadquarters": "Sacramento, California",
    }
    assert move.findtext("AssumedOwnershipOn") == "2024-06-12"
    assert move.findtext("OccurredOn") == "2024-06-12T09:00:00-07:00"
    assert (
        move.findtext("Comments") == "Moved from organization 100000002 (Other Co): Bought by Acme."
    )
    assert merge.findtext("Facility/CERSID") == str(transfers.duplicate_cers_id)
    assert merge.findtext("Comments") == (
        f"Merged into CERS ID {transfers.facility.cers_id} (Acme Sacramento Depot): Entered twice."
    )


def test_rftq_answers_the_spelling_of_calepas_page_too(client, edt_account, transfers):
    response = get(client, edt_account, "Regulator/Facility/Transfer")
    assert rftq_ids(response) == [transfers.extra.cers_id, transfers.duplicate_cers_id]


def test_rftq_writes_an_empty_headquarters_the_schema_requires(client, edt_account, transfers):
    Organization.objects.filter(pk=transfers.org.pk).update(headquarters="")
    root = rftq(get(client, edt_account, RFTQ))
    assert root.findtext("RegulatorFacilityTransfer/Organization/OrganizationHeadquarters") == ""


def test_rftq_never_shows_another_cupas_transfers(client, edt_account, transfers):
    other = get(client, edt_account, RFTQ, CERSID=transfers.other_facility.cers_id)
    assert rftq_ids(other) == []
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "both")
    assert rftq_ids(get(client, yolo, RFTQ)) == [transfers.other_facility.cers_id]


def test_rftq_shows_a_pa_the_transfers_of_facilities_it_regulates(
    client, pa_edt_account, transfers
):
    assert rftq_ids(get(client, pa_edt_account, RFTQ)) == [
        transfers.extra.cers_id,
        transfers.duplicate_cers_id,
    ]


RFTQ_FILTERS = [
    ({"CERSID": "{extra}"}, ["extra"]),
    ({"CERSID": "{duplicate}"}, ["duplicate"]),
    ({"CERSID": "{facility}"}, ["duplicate"]),  # merged into it
    ({"organizationCode": "100000001"}, ["extra", "duplicate"]),  # new owner
    ({"organizationCode": "100000002"}, ["extra"]),  # former owner
    ({"occurredOnStart": "06-13-2024"}, ["duplicate"]),
    ({"occurredOnEnd": "06-12-2024"}, ["extra"]),
    ({"occurredOnStart": "06-12-2024 09:00:01"}, ["duplicate"]),
    ({"assumedOwnershipOnStart": "06-13-2024"}, ["duplicate"]),
    ({"assumedOwnershipOnEnd": "06-12-2024"}, ["extra"]),
    ({"assumedOwnershipOnStart": "06-14-2024"}, []),
    ({"occurredOnStart": "06-13-2024", "occurredOnEnd": "12-31-9999"}, ["duplicate"]),
    (
        {"assumedOwnershipOnStart": "06-13-2024", "assumedOwnershipOnEnd": "12-31-9999 23:59:59"},
        ["duplicate"],
    ),
]


def test_rftq_filters(client, edt_account, transfers):
    names = {
        "extra": transfers.extra.cers_id,
        "duplicate": transfers.duplicate_cers_id,
        "facility": transfers.facility.cers_id,
    }
    check_filters(
        RFTQ_FILTERS, names, names, lambda p: rftq_ids(get(client, edt_account, RFTQ, **p))
    )


def test_rftq_does_not_list_organization_merges(client, edt_account, transfers):
    facility_services.merge_organizations(
        actor=transfers.state_admin,
        source=transfers.other_org,
        target=transfers.org,
        reason="One business.",
    )
    assert len(rftq_ids(get(client, edt_account, RFTQ))) == 2


def test_rftq_answers_json_with_the_same_records(client, edt_account, transfers):
    response = get(client, edt_account, RFTQ, accept="application/json")
    answer = json.loads(body(response))
    records = answer["RegulatorFacilityTransfer"]
    assert [r["Facility"]["CERSID"] for r in records] == [
        str(transfers.extra.cers_id),
        str(transfers.duplicate_cers_id),
    ]
    assert records[0]["AssumedOwnershipOn"] == "2024-06-12"
    assert records[0]["Organization"]["OrganizationCode"] == "100000001"


def test_rftq_refuses_more_than_the_ceiling(client, edt_account, transfers, settings):
    settings.EDT_QUERY_MAX_RESULTS = 1
    response = get(client, edt_account, RFTQ)
    assert response.status_code == 413
    assert b"2 facility transfers" in response.content


def pinned_rftq(client, account, accept: str = "") -> bytes:
    """RFTQ's whole answer without its transaction's key, an XML one checked against the
    schema first."""
    answer = body(get(client, account, RFTQ, accept=accept))
    if not accept:
        rftq_valid(answer)
    return without_transaction_key(answer)


def rftq_valid(answer: bytes):
    return assert_valid(answer, "cers3", "RegulatorFacilityTransferQuery.xsd")


@pytest.mark.parametrize("accept", ["", "application/json"])
def test_rftq_writes_the_whole_answer_byte_for_byte_as_pinned(
    client, edt_account, pa_edt_account, transfers, clock, monkeypatch, accept
):
    """Moves and a merge over several batches: one late in the Pacific evening (the next day
    in UTC) with a fraction of a second, an owner without a headquarters, names and reasons
    that need escaping; as the CUPA and its PA see them, in XML (valid by its schema) and in
    JSON. A change to how RFTQ is written must not change one byte of it (the
    files are written again with RFTQ_PIN=write, on purpose only)."""
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    clock.set(2024, 6, 13, 23, 30)
    late = factories.make_facility(transfers.org, name="Acme Night Yard", street="5 Late Way")
    late_move = facility_services.move_facility(
        actor=transfers.state_admin,
        facility=late,
        to_organization=transfers.other_org,
        reason='Sold & <signed> "at night"\r\nSecond line\ttabbed.',
        letter=SimpleUploadedFile("request.pdf", PDF, content_type="application/pdf"),
    )
    late_move.__class__.objects.filter(pk=late_move.pk).update(
        performed_at=timezone.now() + datetime.timedelta(microseconds=123_456),
        facility_name='Acme "Night" Yard & <Dock> Café',
    )
    Organization.objects.filter(pk=transfers.other_org.pk).update(
        name="Other & Co <West>", headquarters=""
    )
    Facility.objects.filter(pk=transfers.facility.pk).update(name='Acme "Depot" & <Yard>')
    answer = pinned_rftq(client, edt_account, accept) + pinned_rftq(client, pa_edt_account, accept)
    assert_pinned(answer, f"rftq_everything.{'json' if accept else 'xml'}", "RFTQ_PIN")


# Authentication (account, grant), the transaction row, the count, the accepted mark, and the
# transfers with their organizations.
RFTQ_QUERIES = 6


def test_rftq_runs_the_same_queries_for_one_transfer_or_several(
    client, edt_account, transfers, django_assert_num_queries
):
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(RFTQ_QUERIES):
        assert len(rftq_ids(get(client, edt_account, RFTQ, occurredOnEnd="06-12-2024"))) == 1
    EdtTransaction.objects.all().delete()
    with django_assert_num_queries(RFTQ_QUERIES):
        assert len(rftq_ids(get(client, edt_account, RFTQ))) == 2


# --- RAIQ ---------------------------------------------------------------------------------


def raiq(response):
    return assert_valid(body(response), "cers3", "RegulatorActionItemQuery.xsd")


def items(response) -> list[tuple[str, str]]:
    return [(i.findtext("Type"), i.findtext("LinkUri")) for i in raiq(response)]


def review_link(record) -> str:
    return f"http://testserver/regulator/submittals/elements/{record.pk}/"


def facility_link(cers_id) -> str:
    return f"http://testserver/regulator/facilities/{cers_id}/"


SUBMITTAL = "Facility Submittal Notification"
TRANSFER = "Facility Transfer Request"
MERGE = "Facility Merge Request"


def test_raiq_lists_the_elements_waiting_for_the_agency(client, edt_account, world):
    root = raiq(get(client, edt_account, RAIQ))
    assert root.get("transactionKey") == str(EdtTransaction.objects.get().key)
    (item,) = root.findall("ActionItem")
    assert {c.tag: c.text for c in item} == {
        "Type": SUBMITTAL,
        "Summary": f"Facility Information of Acme Sacramento Depot (CERS ID "
        f"{world.facility.cers_id}), Acme Fuels ({world.org.code}): Submitted.",
        "LinkUri": review_link(world.fi),
        "RequestedOn": "2024-06-03T11:00:00-07:00",
    }


def test_raiq_lists_what_the_agency_completed(client, edt_account, transfers):
    response = get(client, edt_account, RAIQ, completed="true")
    assert items(response) == [
        (SUBMITTAL, review_link(transfers.hmi)),
        (TRANSFER, facility_link(transfers.extra.cers_id)),
        (MERGE, facility_link(transfers.facility.cers_id)),
    ]


def test_raiq_shows_a_pa_its_own_elements(client, pa_edt_account, world):
    assert items(get(client, pa_edt_account, RAIQ)) == [(SUBMITTAL, review_link(world.ust))]


def test_raiq_never_shows_another_cupas_items(client, edt_account, transfers):
    outside = get(client, edt_account, RAIQ, CERSID=transfers.facility_yolo.cers_id)
    assert items(outside) == []
    moved_outside = get(
        client, edt_account, RAIQ, completed="true", CERSID=transfers.other_facility.cers_id
    )
    assert items(moved_outside) == []
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "both")
    assert items(get(client, yolo, RAIQ)) == [(SUBMITTAL, review_link(transfers.yolo_fi))]


RAIQ_FILTERS = [
    ({"completed": "false"}, ["fi"]),
    ({"typeID": "26", "completed": "true"}, ["move"]),
    ({"typeID": "25,26", "completed": "true"}, ["move", "merge"]),
    ({"typeID": "12", "completed": "true"}, ["hmi"]),
    ({"typeID": "6,21,24", "completed": "true"}, []),
    ({"typeID": "26"}, []),  # transfers are never outstanding
    ({"CERSID": "{extra}", "completed": "true"}, ["move"]),
    ({"CERSID": "{facility}", "completed": "true"}, ["hmi", "merge"]),
    ({"organizationCode": "100000002", "completed": "true"}, ["move"]),
    ({"organizationCode": "100000001"}, ["fi"]),
    ({"requestedOnStart": "06-03-2024", "completed": "true"}, ["move", "merge"]),
    ({"requestedOnEnd": "06-12-2024", "completed": "true"}, ["hmi", "move"]),
    ({"requestedOnStart": "06-03-2024 11:00:01"}, []),
    (
        {"requestedOnStart": "06-03-2024", "requestedOnEnd": "12-31-9999", "completed": "true"},
        [
            "move",
            "merge",
        ],
    ),
]


def test_raiq_filters(client, edt_account, transfers):
    names = {"extra": transfers.extra.cers_id, "facility": transfers.facility.cers_id}
    links = {
        "fi": (SUBMITTAL, review_link(transfers.fi)),
        "hmi": (SUBMITTAL, review_link(transfers.hmi)),
        "move": (TRANSFER, facility_link(transfers.extra.cers_id)),
        "merge": (MERGE, facility_link(transfers.facility.cers_id)),
    }
    check_filters(RAIQ_FILTERS, names, links, lambda p: items(get(client, edt_account, RAIQ, **p)))


def test_raiq_refuses_bad_types_and_flags(client, edt_account):
    types = get(client, edt_account, RAIQ, typeID="26,x")
    flag = get(client, edt_account, RAIQ, completed="perhaps")
    assert types.status_code == flag.status_code == 400
    assert b"typeID is a comma-separated list of numbers" in types.content
    assert b"completed is true or false" in flag.content


def test_raiq_answers_json_with_the_same_records(client, edt_account, transfers):
    response = get(client, edt_account, RAIQ, accept="application/json", completed="true")
    answer = json.loads(body(response))
    assert [(i["Type"], i["LinkUri"]) for i in answer["ActionItem"]] == [
        (SUBMITTAL, review_link(transfers.hmi)),
        (TRANSFER, facility_link(transfers.extra.cers_id)),
        (MERGE, facility_link(transfers.facility.cers_id)),
    ]


def test_raiq_counts_every_kind_of_item_against_the_ceiling(
    client, edt_account, transfers, settings
):
    settings.EDT_QUERY_MAX_RESULTS = 2
    response = get(client, edt_account, RAIQ, completed="true")
    assert response.status_code == 413
    assert b"3 action items" in response.content


def pinned_raiq(client, account, records: dict, accept: str = "", **params) -> bytes:
    """RAIQ's whole answer without its transaction's key, each record's key in its links
    named (``records``: name to pk; keys depend on what ran before), an XML one checked
    against the schema first."""
    answer = body(get(client, account, RAIQ, accept=accept, **params))
    if not accept:
        assert_valid(answer, "cers3", "RegulatorActionItemQuery.xsd")
    text = without_transaction_key(answer).decode()
    for name, pk in records.items():
        text = text.replace(f"/elements/{pk}/", f"/elements/({name})/")
    return text.encode()


@pytest.mark.parametrize("accept", ["", "application/json"])
def test_raiq_writes_the_whole_answer_byte_for_byte_as_pinned(
    client, edt_account, transfers, clock, monkeypatch, accept
):
    """Outstanding and completed items of every kind over several batches, names that need
    escaping, as the CUPA sees them, in XML (valid by its schema) and in JSON. A change to
    how RAIQ is written must not change one byte of it (the files are written again with
    RAIQ_PIN=write, on purpose only)."""
    monkeypatch.setattr(base, "BATCH_SIZE", 2)
    Organization.objects.filter(pk=transfers.other_org.pk).update(name="Other & Co <West>")
    Facility.objects.filter(pk=transfers.facility.pk).update(name='Acme "Depot" & <Yard>')
    late = submitted(transfers.facility, 9, ElementStatus.UNDER_REVIEW, at=(2024, 6, 13, 23, 30))
    records = {"fi": transfers.fi.pk, "hmi": transfers.hmi.pk, "late": late.pk}
    answer = b"".join(
        pinned_raiq(client, edt_account, records, accept, **params)
        for params in ({}, {"completed": "true"}, {"typeID": "12,26"})
    )
    assert_pinned(answer, f"raiq_everything.{'json' if accept else 'xml'}", "RAIQ_PIN")


# Authentication (account, grant), the transaction row, the three counts, the accepted mark,
# the elements with their facilities, the transfers, and the requests to join the staff.
RAIQ_QUERIES = 10


def test_raiq_runs_the_same_queries_for_one_item_or_several(
    client, edt_account, transfers, django_assert_num_queries
):
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(RAIQ_QUERIES):
        one = get(client, edt_account, RAIQ, completed="true", requestedOnEnd="06-02-2024")
        assert len(items(one)) == 1
    EdtTransaction.objects.all().delete()
    with django_assert_num_queries(RAIQ_QUERIES):
        assert len(items(get(client, edt_account, RAIQ, completed="true"))) == 3


# --- RAIQ: requests to join the agency's staff (type 6) -------------------------------------

ACCESS = "Regulator User Access Request"


def staff_link(staff_request) -> str:
    return f"http://testserver/regulator/staff/#staff-request-{staff_request.pk}"


@pytest.fixture
def staff_requests(transfers, clock):
    """Requests to join CUPA 1001's staff: Rita's waiting since 4 June, Abel's approved (asked
    5 June), Dina's declined (asked 6 June), Walt's withdrawn (asked 7 June); and Yolo's
    (1002) own request, waiting."""
    from regulators import services as regulator_services

    admin = factories.make_user("admin@sac-cupa.example", first_name="Ada")
    factories.add_staff(transfers.cupa, admin, "administrator")
    yolo_admin = factories.make_user("admin@yolo-cupa.example")
    factories.add_staff(transfers.cupa2, yolo_admin, "administrator")

    def ask(day, email, agency, role="viewer", first_name="", last_name="", message=""):
        clock.set(2024, 6, day, 8, 0)
        person = factories.make_user(email, first_name=first_name, last_name=last_name)
        return regulator_services.request_staff_access(
            user=person, regulator=agency, role=role, message=message
        )

    transfers.rita = ask(
        4, "rita@sac.example", transfers.cupa, "reviewer", "Rita", "Reyes", "Inspector, unit 3."
    )
    transfers.abel = ask(5, "abel@sac.example", transfers.cupa, first_name="Abel")
    transfers.dina = ask(6, "dina@sac.example", transfers.cupa)
    transfers.walt = ask(7, "walt@sac.example", transfers.cupa)
    transfers.yolo_request = ask(8, "yara@yolo.example", transfers.cupa2)
    clock.set(2024, 6, 9, 8, 0)
    regulator_services.decide_staff_request(
        actor=admin, staff_request=transfers.abel, approve=True, role="reviewer"
    )
    regulator_services.decide_staff_request(
        actor=admin, staff_request=transfers.dina, approve=False, reason="Not our county."
    )
    regulator_services.withdraw_staff_request(
        user=transfers.walt.user, staff_request=transfers.walt
    )
    clock.set(2024, 6, 15, 9, 0)
    return transfers


def test_raiq_lists_the_requests_to_join_the_staff_waiting(client, edt_account, staff_requests):
    root = raiq(get(client, edt_account, RAIQ))
    assert [(i.findtext("Type"), i.findtext("LinkUri")) for i in root] == [
        (SUBMITTAL, review_link(staff_requests.fi)),
        (ACCESS, staff_link(staff_requests.rita)),
    ]
    item = root.findall("ActionItem")[1]
    assert {c.tag: c.text for c in item} == {
        "Type": ACCESS,
        "Summary": "Rita Reyes (rita@sac.example) asks to join the agency's staff as Reviewer / "
        "inspector: Pending. Their message: Inspector, unit 3.",
        "LinkUri": staff_link(staff_requests.rita),
        "RequestedOn": "2024-06-04T08:00:00-07:00",
    }


def test_raiq_lists_the_requests_answered_as_completed(client, edt_account, staff_requests):
    root = raiq(get(client, edt_account, RAIQ, completed="true"))
    assert [(i.findtext("Type"), i.findtext("LinkUri")) for i in root] == [
        (SUBMITTAL, review_link(staff_requests.hmi)),
        (ACCESS, staff_link(staff_requests.abel)),  # the withdrawn one is not the agency's
        (ACCESS, staff_link(staff_requests.dina)),
        (TRANSFER, facility_link(staff_requests.extra.cers_id)),
        (MERGE, facility_link(staff_requests.facility.cers_id)),
    ]
    summaries = [i.findtext("Summary") for i in root if i.findtext("Type") == ACCESS]
    assert summaries == [
        "Abel (abel@sac.example) asks to join the agency's staff as Viewer: Approved as "
        "Reviewer / inspector.",
        "dina@sac.example asks to join the agency's staff as Viewer: Declined. Reason: Not our "
        "county.",
    ]


def test_raiq_shows_each_agency_only_its_own_staff_requests(client, pa_edt_account, staff_requests):
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "both")
    assert items(get(client, yolo, RAIQ, typeID="6")) == [
        (ACCESS, staff_link(staff_requests.yolo_request))
    ]
    # The PA works under the CUPA, but its staff is its own: nobody asked to join it.
    assert items(get(client, pa_edt_account, RAIQ, typeID="6", completed="true")) == []
    assert items(get(client, pa_edt_account, RAIQ, typeID="6")) == []


STAFF_REQUEST_FILTERS = [
    ({"typeID": "6"}, ["rita"]),
    ({"typeID": "6", "completed": "true"}, ["abel", "dina"]),
    ({"typeID": "12"}, ["fi"]),
    ({"typeID": "6,26", "completed": "true"}, ["abel", "dina", "move"]),
    ({"CERSID": "{facility}"}, ["fi"]),  # a person's request concerns no facility
    ({"organizationCode": "100000001", "typeID": "6"}, []),
    ({"typeID": "6", "requestedOnStart": "06-04-2024 08:00:01"}, []),
    ({"typeID": "6", "completed": "true", "requestedOnStart": "06-06-2024"}, ["dina"]),
    ({"typeID": "6", "completed": "true", "requestedOnEnd": "06-05-2024"}, ["abel"]),
]


def test_raiq_filters_the_staff_requests(client, edt_account, staff_requests):
    names = {"facility": staff_requests.facility.cers_id}
    links = {
        "fi": (SUBMITTAL, review_link(staff_requests.fi)),
        "move": (TRANSFER, facility_link(staff_requests.extra.cers_id)),
        **{
            name: (ACCESS, staff_link(getattr(staff_requests, name)))
            for name in ("rita", "abel", "dina")
        },
    }
    check_filters(
        STAFF_REQUEST_FILTERS, names, links, lambda p: items(get(client, edt_account, RAIQ, **p))
    )


@pytest.mark.parametrize("accept", ["", "application/json"])
def test_raiq_answers_a_request_whose_text_xml_cannot_carry(
    client, edt_account, staff_requests, accept
):
    """Anyone signed in may ask to join an agency, with a name and a message of their own: a
    character XML 1.0 cannot carry (a control character pasted in, U+FFFF) must not stop the
    agency's action items from being answered. It is replaced by U+FFFD in the summary."""
    from regulators import services as regulator_services

    person = factories.make_user("vera@sac.example", first_name="Ve\x01ra", last_name="\x02Lo\x0b")
    regulator_services.request_staff_access(
        user=person, regulator=staff_requests.cupa, role="viewer", message="Unit\x08 3\uffff."
    )

    response = get(client, edt_account, RAIQ, accept=accept, typeID="6")

    assert response.status_code == 200
    if accept:
        summaries = [i["Summary"] for i in json.loads(body(response))["ActionItem"]]
    else:
        summaries = [i.findtext("Summary") for i in raiq(response)]
    assert summaries[-1] == (
        "Ve\ufffdra \ufffdLo (vera@sac.example) asks to join the agency's staff as Viewer: "
        "Pending. Their message: Unit\ufffd 3\ufffd."
    )


def test_raiq_answers_the_staff_requests_in_json(client, edt_account, staff_requests):
    response = get(client, edt_account, RAIQ, accept="application/json", typeID="6")
    (item,) = json.loads(body(response))["ActionItem"]
    assert (item["Type"], item["LinkUri"]) == (ACCESS, staff_link(staff_requests.rita))


def test_raiq_counts_the_staff_requests_against_the_ceiling(
    client, edt_account, staff_requests, settings
):
    settings.EDT_QUERY_MAX_RESULTS = 4
    response = get(client, edt_account, RAIQ, completed="true")
    assert response.status_code == 413
    assert b"5 action items" in response.content


def test_raiq_runs_the_same_queries_with_staff_requests(
    client, edt_account, staff_requests, django_assert_num_queries
):
    assert edt_account.regulator.code == "1001"
    with django_assert_num_queries(RAIQ_QUERIES):
        assert len(items(get(client, edt_account, RAIQ, completed="true"))) == 5
    # A filter no request can meet reads none: two queries fewer.
    cers_id = staff_requests.facility.cers_id
    with django_assert_num_queries(RAIQ_QUERIES - 2):
        assert len(items(get(client, edt_account, RAIQ, completed="true", CERSID=cers_id))) == 2


def test_answers_dated_after_2024_carry_their_true_dates(client, edt_account, transfers, clock):
    """Every query writes the dates it holds, after 2024 too (see
    ``assert_valid_beyond_2024``): a facility submitted, moved and created in 2026."""
    clock.set(2026, 3, 2, 9, 0)
    submitted(transfers.facility, 9, at=(2026, 3, 2, 8, 0))
    facility_services.move_facility(
        actor=transfers.state_admin,
        facility=transfers.extra,
        to_organization=transfers.other_org,
        reason="Sold back.",
        letter=SimpleUploadedFile("letter.pdf", PDF, "application/pdf"),
    )
    cers_id = transfers.facility.cers_id
    organizations = (transfers.org, transfers.other_org)
    for path, file_name, params, dated in (
        (RFQ, "RegulatorFacilityQuery.xsd", {"CERSID": cers_id}, "Facility/LastSubmittalOn"),
        (
            ROQ,
            "RegulatorOrganizationQuery.xsd",
            {"CERSID": cers_id},
            "Organization/LastSubmittalDate",
        ),
        (RFTQ, "RegulatorFacilityTransferQuery.xsd", {}, "RegulatorFacilityTransfer/OccurredOn"),
        (RAIQ, "RegulatorActionItemQuery.xsd", {}, "ActionItem/RequestedOn"),
    ):
        if path in (RFQ, ROQ):  # their schema's organization codes have 8 digits
            for offset, organization in enumerate(organizations):
                Organization.objects.filter(pk=organization.pk).update(code=99_999_998 + offset)
        else:
            nine_digit_codes(*organizations)
        response = get(client, edt_account, path, **params)
        schema_set = "1.05" if path in (RFQ, ROQ) else "cers3"
        root = assert_valid_beyond_2024(body(response), schema_set, file_name)
        assert root.get("timeStamp", "2026").startswith("2026"), path
        assert any(e.text.startswith("2026") for e in root.iterfind(dated)), path


OUT_OF_RANGE = ["9223372036854775808", "99999999999999999999999", "-9223372036854775809"]
INTEGER_PARAMETERS = [
    *((path, name) for path in (RFQ, ROQ, RFTQ, RAIQ) for name in ("CERSID", "organizationCode")),
    (RAIQ, "typeID"),
    ("Regulator/FacilitySubmittal/Query", "status"),
    ("Regulator/FacilitySubmittal/Query", "CERSID"),
    ("Regulator/CME/Query", "status"),
    ("Regulator/CME/Query", "CERSID"),
]


@pytest.mark.parametrize("number", OUT_OF_RANGE)
@pytest.mark.parametrize(("path", "name"), INTEGER_PARAMETERS)
def test_a_number_past_any_cers_number_is_explained(client, edt_account, path, name, number):
    response = get(client, edt_account, path, **{name: number})
    assert response.status_code == 400
    assert f"{name} must be".encode() in response.content
