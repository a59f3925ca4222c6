"""RFSQ over HTTP: submitted elements in the agency's jurisdiction, grouped per facility
submittal, in RegulatorFacilitySubmittalQuery 1/05 and 1/10, as XML and JSON.

The cast's facility is in ZIP 95814: its Underground Storage Tanks (element 4) go to the City
PA (1101), every other element to the Sacramento County CUPA (1001). Its Davis yard (95616) is
the Yolo County CUPA's (1002).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from lxml import etree

from core.elements import SubmittalElement
from core.registry import schema_for
from edt.api import base
from edt.api.output import element_to_json
from edt.models import EdtTransaction
from facilities.models import Facility
from organizations.models import Organization
from submittals import documents, services
from submittals.data import data_key, row_fields, row_groups, single_valued_fields
from submittals.inventory import add_material, component_fields, material_fields
from submittals.models import DocumentFile, DocumentSource, ElementStatus, SubmittalElementRecord
from tests import factories
from tests.edt.pins import assert_pinned
from tests.submittals.data import (
    DIESEL,
    complete_data,
    complete_facility_information,
    filler,
    submit,
)

from .conftest import assert_valid, assert_valid_beyond_2024, legacy_header, make_edt_account

URL = "/EDT/Regulator/FacilitySubmittal/Query"
XSD = "RegulatorFacilitySubmittalQuery.xsd"
SCHEMA_SETS = {"1/05": "1.05", "1/10": "cers3"}
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
IN_2024 = datetime(2024, 6, 3, 17, 0, tzinfo=UTC)
UST = SubmittalElement.UST


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


# --- calling ---------------------------------------------------------------------------------


def get(client, account, code="1001", accept=None, **params):
    query = "&".join(f"{name}={value}" for name, value in {"regulatorCode": code, **params}.items())
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    return client.get(f"{URL}?{query}", **legacy_header(account), **extra)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def answer(response, version="1/10") -> etree._Element:
    """The answer, checked against CalEPA's schema of ``version``."""
    assert response.status_code == 200, response.content
    return assert_valid(body(response), SCHEMA_SETS[version], XSD)


def submittals(response, version="1/10") -> list[etree._Element]:
    return answer(response, version).findall("FacilitySubmittal")


def element_keys(response, version="1/10") -> list[str]:
    return [
        key.text
        for key in answer(response, version).iterfind(
            "FacilitySubmittal/*/SubmittalElementHeader/CERSUniqueKey"
        )
    ]


def keys(*records) -> list[str]:
    return [str(record.key) for record in records]


# --- data ------------------------------------------------------------------------------------


def at(moment):
    """Submit (or review) as if at ``moment``."""
    return mock.patch("django.utils.timezone.now", return_value=moment)


def _second_alternatives(schema) -> set[tuple[str, ...]]:
    """Paths of the xs:choice alternatives after the first (a tiered-permitting unit is one
    of PBR, CA, CESW, CESQT or CEL): real data fills one."""
    slots = [g.path for g in schema.document_slots]
    by_parent: dict = {}
    for group in schema.groups:
        if group.choice and not any(group.path[: len(s)] == s for s in slots):
            by_parent.setdefault(group.path[:-1], []).append(group.path)
    return {path for paths in by_parent.values() for path in paths[1:]}


def full_data(element, facility) -> dict:
    """Every data field of the element given a value: each single value and one row of each
    group of rows, of an xs:choice the first alternative."""
    schema = schema_for(element)
    skipped = _second_alternatives(schema)

    def kept(fields):
        return [f for f in fields if not any(f.path[: len(p)] == p for p in skipped)]

    data = {data_key(f): filler(f) for f in kept(single_valued_fields(schema))}
    for group in row_groups(schema):
        data[group.key] = [{data_key(f): filler(f) for f in kept(row_fields(schema, group))}]
    if element == SubmittalElement.FACILITY_INFORMATION:
        data.update(complete_facility_information(f3=facility.name))
    return data


FULL_MATERIAL = {f.number: filler(f) for f in material_fields()}
COMPONENTS = [
    {"name": f"Part {n}", "cas_number": "64-17-5", "percent_by_weight": "12.5", "ehs": "N"}
    for n in range(1, 6)
]
OTHER_ANSWERS = {
    DocumentSource.EXEMPT: {"comment": "Not needed at this site"},
    DocumentSource.PROVIDED_TO_REGULATOR: {"date_provided": "2024-03-01"},
    DocumentSource.PUBLIC_URL: {"url": "https://example.org/plan.pdf"},
    DocumentSource.STORED_AT_FACILITY: {},
}


def answer_every_slot(cast, record):
    """Answer each document slot, the six ways in turn (so every element has several)."""
    sources = list(DocumentSource)
    for index, slot in enumerate(schema_for(record.element).document_slots):
        source = sources[(index + record.element) % len(sources)]
        if source == DocumentSource.UPLOAD:
            documents.add_document_file(
                actor=cast.editor,
                record=record,
                slot=slot.tag,
                uploaded_file=SimpleUploadedFile("site-plan.pdf", PDF),
                title="Site plan",
                description="Where everything is",
                date_authored="2024-02-01",
            )
        elif source == DocumentSource.PROVIDED_IN_OTHER_ELEMENT:
            other = 2 if record.element == 1 else 1
            documents.set_document_answer(
                actor=cast.editor,
                record=record,
                slot=slot.tag,
                source=source,
                other_element=other,
                comment="In the other element",
            )
        else:
            documents.set_document_answer(
                actor=cast.editor,
                record=record,
                slot=slot.tag,
                source=source,
                **OTHER_ANSWERS[source],
            )


def submit_everything(cast, when=IN_2024):
    """Elements 1-9 of cast.facility with every field and document slot filled, submitted
    together (``when``: 2024, a date both versions can carry)."""
    records = {}
    for code in range(1, 10):
        record = services.start_draft(actor=cast.editor, facility=cast.facility, element=code)
        record = services.save_draft_data(
            actor=cast.editor, record=record, data=full_data(code, cast.facility)
        )
        if code == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY:
            add_material(
                actor=cast.editor, record=record, values=FULL_MATERIAL, components=COMPONENTS
            )
        answer_every_slot(cast, record)
        records[code] = record
    with at(when):
        services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=list(records.values()),
            certifier_name="Bob Approver",
            certifier_title="Manager",
            comments="Everything this year",
        )
    return {code: SubmittalElementRecord.objects.get(pk=r.pk) for code, r in records.items()}


@pytest.fixture
def everything(cast):
    return submit_everything(cast)


# --- complete answers in both versions ---------------------------------------------------------


@pytest.mark.parametrize("version", ["1/05", "1/10"])
def test_it_answers_every_element_with_all_its_data_valid_in_each_version(
    client, cast, edt_account, pa_edt_account, everything, version
):
    cupa = submittals(get(client, edt_account, schemaVersion=version), version)
    pa = submittals(get(client, pa_edt_account, code="1101", schemaVersion=version), version)

    assert len(cupa) == len(pa) == 1
    tags = [child.tag for child in cupa[0]]
    assert tags == [
        "CERSID",
        "CERSOrganization",
        "FacilityInformation",
        "HazardousMaterialsInventory",
        "EmergencyResponseTrainingPlans",
        "OnsiteHazardousWasteTreatmentNotification",
        "RecyclableMaterialsReport",
        "RemoteWasteConsolidationsAnnualNotification",
        "HWTankClosureCertification",
        "AbovegroundPetroleumStorageTanks",
    ]
    assert [child.tag for child in pa[0]][2:] == ["UndergroundStorageTanks"]
    assert cupa[0].findtext("CERSID") == str(cast.facility.cers_id)
    assert cupa[0].findtext("CERSOrganization/OrganizationCode") == str(cast.org.code)
    header = cupa[0].find("FacilityInformation/SubmittalElementHeader")
    assert header.findtext("SubmittedOn") == "2024-06-03T10:00:00-07:00"
    assert header.findtext("SubmittedByFirstName") == "Bob"
    assert header.findtext("SubmittedByEmail") == cast.approver.email
    assert header.findtext("SubmittedByComments") == "Everything this year"
    assert header.findtext("RegulatorCode") == "1001"
    assert header.findtext("SubmittalStatus") == "2"
    assert header.findtext("CERSUniqueKey") == str(everything[1].key)
    assert pa[0].findtext("UndergroundStorageTanks/SubmittalElementHeader/RegulatorCode") == "1101"


def _value_at(container: etree._Element, path: tuple[str, ...]) -> str | None:
    """The text at a registry path under an element's container (attributes as @name)."""
    renamed = {"changedFromLastSubmittal": "changeFromLastSubmittal"}
    *groups, last = path
    parent = container.find("/".join(groups)) if groups else container
    if parent is None:
        return None
    if last in renamed:
        return parent.get(renamed[last])
    return parent.findtext(last)


def test_every_stored_field_comes_out_under_its_tag(
    client, cast, edt_account, pa_edt_account, everything
):
    cupa = submittals(get(client, edt_account))[0]
    pa = submittals(get(client, pa_edt_account, code="1101"))[0]
    for code, record in everything.items():
        schema = schema_for(code)
        container = (pa if code == UST else cupa).find(schema.xml_tag)
        for key, value in record.data.items():
            if isinstance(value, list):  # a group of rows: one row each here
                (row,) = value
                for number, row_value in row.items():
                    f = schema.get(number)
                    assert _value_at(container, f.path) == str(row_value), (code, f.key)
                continue
            f = schema.get(key)
            assert _value_at(container, f.path) == str(value), (code, f.key)

    chemical = cupa.find("HazardousMaterialsInventory/Chemicals/Chemical")
    with at(datetime(2024, 7, 1, 18, 0, tzinfo=UTC)):
        services.review(
            actor=cast.cupa_reviewer,
            record=everything[3],
            status=ElementStatus.NOT_ACCEPTED,
            comments="The plan is missing its map",
            agent_name="Rita Reviewer",
        )
    information = everything[1]
    # As an EDT upload keeps them: the next due date and the element's regulator key.
    information.data.update({"20.0087": "2025-06-03", "20.0004": "FI-0001"})
    information.save(update_fields=["data"])
    material = everything[2].materials.get()
    for number, value in material.data.items():
        f = schema_for(2).get(number)
        assert chemical.findtext(f.tag) == str(value), f.key
    for position, by_attribute in component_fields().items():
        assert chemical.findtext(by_attribute["name"].tag) == f"Part {position}"
        assert (
            chemical.findtext(by_attribute["percent_by_weight"].tag) == "12.50"
        )  # the schema type has two places
        assert chemical.findtext(by_attribute["cas_number"].tag) == "64-17-5"


def test_each_document_answer_comes_out_in_its_slot_with_the_keys_rfsdq_takes(
    client, cast, edt_account, everything
):
    inventory = submittals(get(client, edt_account))[0].find("HazardousMaterialsInventory")
    # The inventory's three slots: sources 3, 4 and 5 (see answer_every_slot).
    site_map = inventory.find("SiteMaps/SiteMap/SiteMapDocument/ProvidedInOtherSubmittalElement")
    assert site_map.findtext("SubmittalElementCode") == "1"
    assert site_map.findtext("Comment") == "In the other element"
    assert (
        inventory.findtext("HMILocallyCollectedDocuments/PublicInternetUri")
        == "https://example.org/plan.pdf"
    )
    attachment = inventory.find("HMIMiscellaneousStateRequiredDocuments/Attachments/Attachment")
    upload = DocumentFile.objects.get(document__record=everything[2])
    assert attachment.findtext("AttachmentFileName") == "site-plan.pdf"
    assert attachment.findtext("DocumentTitle") == "Site plan"
    assert attachment.findtext("DocumentDescription") == "Where everything is"
    assert attachment.findtext("DateAuthored") == "2024-02-01T00:00:00"
    assert attachment.findtext("CERSUniqueKey") == str(upload.key)

    # Element 1's two slots: sources 2 and 3.
    facility_information = submittals(get(client, edt_account))[0].find("FacilityInformation")
    local = facility_information.find("FacilityInformationLocallyCollectedDocuments")
    assert local.findtext("ProvidedToRegulator/DateProvided") == "2024-03-01"
    state = facility_information.find("FacilityInformationMiscellaneousStateRequiredDocuments")
    assert state.findtext("ProvidedInOtherSubmittalElement/SubmittalElementCode") == "2"


def test_each_resource_carries_a_unique_key_that_stays_the_same(
    client, cast, edt_account, everything
):
    def resource_keys():
        fs = submittals(get(client, edt_account))[0]
        return [
            fs.findtext(f"FacilityInformation/{form}/CERSUniqueKey")
            for form in ("BusinessActivities", "OwnerOperatorInformation")
        ] + [fs.findtext("HazardousMaterialsInventory/Chemicals/Chemical/CERSUniqueKey")]

    first = resource_keys()
    assert len(set(first)) == 3 and all(len(key) == 36 for key in first)
    assert resource_keys() == first


def test_version_1_05_leaves_out_what_it_does_not_have(client, cast, edt_account, everything):
    newest = submittals(get(client, edt_account))[0]
    oldest = submittals(get(client, edt_account, schemaVersion="1.05"), "1/05")[0]
    chemical = "HazardousMaterialsInventory/Chemicals/Chemical/"
    assert newest.findtext(chemical + "FHCPhysicalFlammable") == "N"
    assert oldest.find(chemical + "FHCPhysicalFlammable") is None
    assert oldest.findtext(chemical + "FHCFire") == "N"
    apsa = "AbovegroundPetroleumStorageTanks/APSAFacilityInformation"
    assert newest.find(apsa) is not None
    assert oldest.find(apsa) is None


def test_the_newest_version_is_the_default(client, cast, edt_account):
    submit(cast)
    root = answer(get(client, edt_account))
    assert etree.QName(root).namespace.endswith("/RegulatorFacilitySubmittalQuery/1/10/")
    assert root.findtext("TransactionStatus") == "Accepted"
    assert root.findtext("TransactionKey") == str(EdtTransaction.objects.get().key)


def test_version_1_05_answers_elements_submitted_after_2024_with_their_dates(
    client, cast, edt_account
):
    """1/05's published file ends its dates at 2024-12-31, a placeholder: the answer keeps
    the true dates and differs from the file only there (``assert_valid_beyond_2024``)."""
    submit(cast)  # today: after 2024
    newest = answer(get(client, edt_account))
    response = get(client, edt_account, schemaVersion="1/05")
    assert response.status_code == 200, response.content
    oldest = assert_valid_beyond_2024(body(response), SCHEMA_SETS["1/05"], XSD)
    submitted_on = "FacilitySubmittal/*/SubmittalElementHeader/SubmittedOn"
    assert [e.text for e in oldest.iterfind(submitted_on)] == [
        e.text for e in newest.iterfind(submitted_on)
    ]
    assert int(oldest.findtext(submitted_on)[:4]) > 2024
    assert EdtTransaction.objects.filter(status=EdtTransaction.Status.ACCEPTED).count() == 2


def test_an_unknown_version_is_refused(client, cast, edt_account):
    response = get(client, edt_account, schemaVersion="2/00")
    assert response.status_code == 400
    assert b"1/05, 1/10" in response.content


def test_json_answers_the_same_records(client, cast, edt_account, everything):
    xml = answer(get(client, edt_account))
    response = get(client, edt_account, accept="application/json")
    assert response["Content-Type"] == "application/json"
    data = json.loads(body(response))
    assert data["TransactionStatus"] == "Accepted"
    assert data["FacilitySubmittal"] == [
        element_to_json(record) for record in xml.findall("FacilitySubmittal")
    ]
    header = data["FacilitySubmittal"][0]["FacilityInformation"]["SubmittalElementHeader"]
    assert header["CERSUniqueKey"] == str(everything[1].key)


# --- what is and is not answered --------------------------------------------------------------


def test_a_pa_sees_only_the_elements_it_regulates(client, cast, edt_account, pa_edt_account):
    records = submit(cast, UST)
    assert element_keys(get(client, pa_edt_account, code="1101")) == keys(records[UST])
    assert element_keys(get(client, edt_account)) == keys(records[1])


def test_another_cupa_sees_nothing_of_this_one(client, cast, edt_account):
    sacramento = submit(cast, 2)
    davis = submit(cast, facility=cast.facility_yolo)
    yolo = make_edt_account("1002", "yolo_edt", "1-2", "production")

    assert element_keys(get(client, yolo, code="1002")) == keys(davis[1])
    assert element_keys(get(client, yolo, code="1002", CERSID=cast.facility.cers_id)) == []
    assert element_keys(get(client, edt_account)) == keys(sacramento[1], sacramento[2])


def test_drafts_are_never_answered(client, cast, edt_account):
    submitted = submit(cast)
    services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    assert element_keys(get(client, edt_account)) == keys(submitted[1])


def test_calarp_is_never_answered_and_cannot_be_asked_for(client, cast, edt_account):
    records = submit(cast, SubmittalElement.CALARP)
    assert element_keys(get(client, edt_account)) == keys(records[1])
    response = get(client, edt_account, submittalElement=10)
    assert response.status_code == 400
    assert b"CalARP" in response.content


def test_without_tier_2_the_account_is_refused_with_code_8(client, cast):
    account = make_edt_account("1001", "library_only", "1", "production")
    response = get(client, account)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_the_staging_environment_answers_from_testing_grants(client, cast):
    submit(cast)
    account = make_edt_account("1001", "test_only", "2", "testing")
    staging = client.get(f"/Staging/{URL[5:]}?regulatorCode=1001", **legacy_header(account))
    assert len(submittals(staging)) == 1
    assert get(client, account).status_code == 401


def test_the_transaction_records_the_answer(client, cast, edt_account):
    submit(cast, 2)
    answer(get(client, edt_account, status="2"))
    logged = EdtTransaction.objects.get()
    assert (logged.endpoint, logged.status, logged.result_count) == (
        "RFSQ",
        EdtTransaction.Status.ACCEPTED,
        1,
    )


# --- filters -----------------------------------------------------------------------------------


@pytest.fixture
def reviewed(cast):
    """Two facility submittals of cast.facility: Facility Information and an inventory in
    March 2024 (the inventory accepted in April), Facility Information in September."""
    with at(datetime(2024, 3, 1, 18, 0, tzinfo=UTC)):
        march = submit(cast, 2)
    with at(datetime(2024, 4, 2, 18, 0, tzinfo=UTC)):
        services.review(actor=cast.cupa_reviewer, record=march[2], status=ElementStatus.ACCEPTED)
    with at(datetime(2024, 9, 10, 18, 0, tzinfo=UTC)):
        september = submit(cast)
    return march, september


def test_status_narrows_to_the_statuses_listed(client, edt_account, reviewed):
    march, september = reviewed
    assert element_keys(get(client, edt_account, status="4")) == keys(march[2])
    assert element_keys(get(client, edt_account, status="2,4")) == keys(
        march[1], march[2], september[1]
    )
    assert element_keys(get(client, edt_account, status="8")) == []


@pytest.mark.parametrize(
    ("status", "says"),
    [
        ("1", "never exported"),
        ("2,1", "never exported"),
        ("7", "status 7 is not an element status"),
        ("two", "comma-separated list of numbers"),
    ],
)
def test_a_draft_or_unknown_status_is_refused(client, edt_account, reviewed, status, says):
    response = get(client, edt_account, status=status)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_submittal_element_narrows_to_one_element_type(client, edt_account, reviewed):
    march, _september = reviewed
    assert element_keys(get(client, edt_account, submittalElement=2)) == keys(march[2])
    for bad in ("0", "11", "inventory"):
        assert get(client, edt_account, submittalElement=bad).status_code == 400


def test_cersid_narrows_to_one_facility(client, cast, edt_account):
    first = submit(cast)
    other = factories.make_facility(cast.org, name="Acme Midtown", zip_code="95814")
    second = submit(cast, facility=other)
    assert element_keys(get(client, edt_account, CERSID=other.cers_id)) == keys(second[1])
    assert element_keys(get(client, edt_account, CERSID=cast.facility.cers_id)) == keys(first[1])
    assert element_keys(get(client, edt_account, CERSID=99999999)) == []
    assert get(client, edt_account, CERSID="ten").status_code == 400


def test_submitted_on_dates_narrow_the_range_under_both_names(client, edt_account, reviewed):
    march, september = reviewed
    in_march = keys(march[1], march[2])
    assert element_keys(get(client, edt_account, submittedOnEnd="03-01-2024")) == in_march
    assert element_keys(get(client, edt_account, end="03-01-2024")) == in_march
    assert element_keys(get(client, edt_account, submittedOnStart="03-02-2024")) == keys(
        september[1]
    )
    assert element_keys(get(client, edt_account, start="09-10-2024")) == keys(september[1])
    # .NET's DateTime.MaxValue, which clients send for "no end": past every moment stored
    for no_end in ("12-31-9999", "12-31-9999%2023:59:59"):
        assert element_keys(
            get(client, edt_account, submittedOnStart="03-02-2024", submittedOnEnd=no_end)
        ) == keys(september[1])
        assert element_keys(get(client, edt_account, end=no_end)) == element_keys(
            get(client, edt_account)
        )
    # 10:00 Pacific on March 1st: after 11:00 nothing of that day.
    assert element_keys(get(client, edt_account, submittedOnStart="03-01-2024%2011:00")) == keys(
        september[1]
    )


def test_an_end_covers_the_whole_of_its_last_second(client, cast, edt_account):
    """Submitted at 23:59:59.5 Pacific, the elements are in the query that ends on that day, with
    or without its time, so a client that queries day by day misses nothing."""
    with at(datetime(2024, 3, 2, 7, 59, 59, 500000, tzinfo=UTC)):  # March 1st, PST
        late = submit(cast, 2)
    for end in ("03-01-2024", "03-01-2024%2023:59:59", "03-01-2024%2023:59"):
        assert element_keys(
            get(client, edt_account, submittedOnStart="03-01-2024", submittedOnEnd=end)
        ) == keys(late[1], late[2])
    assert element_keys(get(client, edt_account, submittedOnStart="03-02-2024")) == []
    assert element_keys(get(client, edt_account, submittedOnEnd="03-01-2024%2023:59:58")) == []
    # .NET's DateTime.ToString() in en-US: a 12-hour clock with AM or PM.
    for start, end in (
        ("3/1/2024%2012:00:00%20AM", "3/1/2024%2011:59:59%20PM"),
        ("03/01/2024%2012:00%20am", "03/01/2024%2011:59%20pm"),
    ):
        assert element_keys(
            get(client, edt_account, submittedOnStart=start, submittedOnEnd=end)
        ) == keys(late[1], late[2])
    assert element_keys(get(client, edt_account, submittedOnEnd="3/1/2024%2011:59:58%20PM")) == []
    assert element_keys(get(client, edt_account, submittedOnStart="3/1/2024%2012:00:00%20PM")) == (
        keys(late[1], late[2])
    )
    noon = get(client, edt_account, submittedOnStart="3/1/2024%2013:00:00%20PM")
    assert noon.status_code == 400
    assert "the time must be HH:MM:SS" in noon.content.decode()


def test_hourly_ranges_at_the_clock_changes_hold_each_element_once(client, cast, edt_account):
    """Pacific clock readings, as CalEPA's were: a range holds every moment whose reading lies
    in it. On the first Sunday of November 01:00-01:59 comes twice (PDT, then PST): the range
    of that hour holds both, where it held the first alone and no range held the second. On
    the second Sunday of March 02:00-02:59 never comes: its range is empty, where it repeated
    the next hour's elements."""
    moments = {
        "first 01:30": datetime(2026, 11, 1, 8, 30, tzinfo=UTC),  # 01:30 PDT
        "second 01:30": datetime(2026, 11, 1, 9, 30, tzinfo=UTC),  # 01:30 PST
        "before the gap": datetime(2026, 3, 8, 9, 30, tzinfo=UTC),  # 01:30 PST
        "after the gap": datetime(2026, 3, 8, 10, 30, tzinfo=UTC),  # 03:30 PDT
    }
    found = {}
    for name, moment in moments.items():
        with at(moment):
            found[name] = str(submit(cast)[1].key)

    def hour(day, start):
        return element_keys(
            get(
                client,
                edt_account,
                submittedOnStart=f"{day}%20{start:02}:00:00",
                submittedOnEnd=f"{day}%20{start:02}:59:59",
            )
        )

    november = {start: sorted(hour("11-01-2026", start)) for start in range(4)}
    assert november == {
        0: [],
        1: sorted([found["first 01:30"], found["second 01:30"]]),
        2: [],
        3: [],
    }
    march = {start: hour("03-08-2026", start) for start in range(5)}
    assert march == {0: [], 1: [found["before the gap"]], 2: [], 3: [found["after the gap"]], 4: []}
    # A range that starts or ends within the gap starts or ends where the gap does.
    assert element_keys(
        get(client, edt_account, submittedOnStart="03-08-2026%2002:30", submittedOnEnd="03-08-2026")
    ) == [found["after the gap"]]
    assert element_keys(
        get(client, edt_account, submittedOnStart="03-08-2026", submittedOnEnd="03-08-2026%2002:30")
    ) == [found["before the gap"]]
    # Backwards is compared as the clock reads: 01:30 (PDT) to 01:10 (PST) is refused.
    backwards = get(
        client,
        edt_account,
        submittedOnStart="11-01-2026%2001:30",
        submittedOnEnd="11-01-2026%2001:10",
    )
    assert backwards.status_code == 400
    # Whole days hold their elements once, whatever the clock did.
    assert sorted(
        element_keys(
            get(client, edt_account, submittedOnStart="11-01-2026", submittedOnEnd="11-01-2026")
        )
    ) == sorted([found["first 01:30"], found["second 01:30"]])


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"submittedOnStart": "2024-13-45"}, "must be a date like"),
        ({"submittedOnStart": "03-01-2024", "start": "03-01-2024"}, "not both"),
        ({"submittedOnStart": "09-01-2024", "submittedOnEnd": "03-01-2024"}, "is after"),
        ({"submittalActionOnEnd": "yesterday"}, "must be a date like"),
    ],
)
def test_a_bad_date_range_is_explained(client, edt_account, reviewed, params, says):
    response = get(client, edt_account, **params)
    assert response.status_code == 400
    assert says in response.content.decode()


def test_action_dates_narrow_to_what_the_regulator_acted_on(client, edt_account, reviewed):
    march, _september = reviewed
    acted = get(
        client, edt_account, submittalActionOnStart="04-01-2024", submittalActionOnEnd="04-30-2024"
    )
    assert element_keys(acted) == keys(march[2])
    details = answer(get(client, edt_account, submittalActionOnStart="04-02-2024")).find(
        "FacilitySubmittal/HazardousMaterialsInventory/SubmittalElementHeader"
    )
    assert details.findtext("SubmittalStatus") == "4"
    assert details.findtext("SubmittalActionDetails/SubmittalActionOn") == (
        "2024-04-02T11:00:00-07:00"
    )
    assert details.findtext("SubmittalActionDetails/SubmittalActionAgentEmail") == (
        "reviewer@sac-cupa.example"
    )
    assert element_keys(get(client, edt_account, submittalActionOnEnd="03-31-2024")) == []
    assert element_keys(
        get(
            client,
            edt_account,
            submittalActionOnStart="04-02-2024",
            submittalActionOnEnd="12-31-9999",
        )
    ) == keys(march[2])


# --- the shape of what is written ---------------------------------------------------------------


def test_only_the_first_alternative_of_a_choice_is_written(client, cast, edt_account):
    data = full_data(SubmittalElement.TIERED_PERMITTING, cast.facility)
    unit = data["HWFacility/HWUnits/HWUnit"][0]
    schema = schema_for(SubmittalElement.TIERED_PERMITTING)
    ca = next(f for f in schema.fields if f.path[-2] == "HWUnitCA" and not f.choice)
    unit[data_key(ca)] = filler(ca)  # a second alternative given as well
    submit(cast, 5, data={5: data})
    written = answer(get(client, edt_account, submittalElement=5)).find(
        "FacilitySubmittal/OnsiteHazardousWasteTreatmentNotification/HWFacility/HWUnits/HWUnit"
    )
    assert written.find("HWUnitPBR") is not None
    assert written.find("HWUnitCA") is None


def test_a_value_the_query_schema_cannot_carry_is_left_out(client, cast, pa_edt_account):
    """FRCodeDescriptionOther (422-99a) holds 50 characters in uploads, 30 in the query."""
    first = submit(cast, UST, data={UST: complete_data(UST, **{"422-99a": "x" * 40})})
    second = submit(cast, UST, data={UST: complete_data(UST, **{"422-99a": "y" * 30})})
    root = answer(get(client, pa_edt_account, code="1101"))
    written = [
        submittal.findtext(
            "UndergroundStorageTanks/USTFacilityInformation/FRCodeOther/FRCodeDescriptionOther"
        )
        for submittal in root.findall("FacilitySubmittal")
    ]
    assert written == [None, "y" * 30]
    assert element_keys(get(client, pa_edt_account, code="1101")) == keys(first[UST], second[UST])


def test_an_element_missing_values_the_query_schema_requires_still_validates(
    client, cast, edt_account
):
    """As an upload may store: Facility Information without a business name (written empty),
    an APSA facility form without its required ConditionallyExempt (800: the form is left
    out, it cannot be written without it)."""
    apsa = SubmittalElement.APSA
    records = submit(cast, apsa, data={apsa: complete_data(apsa, f802=1000)})
    fi_data = {k: v for k, v in records[1].data.items() if k != "3"}
    apsa_data = {k: v for k, v in records[apsa].data.items() if k != "800"}
    SubmittalElementRecord.objects.filter(pk=records[1].pk).update(data=fi_data)
    SubmittalElementRecord.objects.filter(pk=records[apsa].pk).update(data=apsa_data)

    (submittal,) = submittals(get(client, edt_account))
    activities = submittal.find("FacilityInformation/BusinessActivities")
    assert activities.find("BusinessName").text is None
    assert activities.findtext("SiteAddress") == "100 Main Street"
    assert submittal.find("AbovegroundPetroleumStorageTanks/APSAFacilityInformation") is None
    assert submittal.find("AbovegroundPetroleumStorageTanks/SubmittalElementHeader") is not None


def test_a_facility_submittal_holds_only_its_matching_elements(client, cast, edt_account):
    records = submit(cast, 2, 3)
    root = answer(get(client, edt_account, submittalElement=3))
    (submittal,) = root.findall("FacilitySubmittal")
    assert [child.tag for child in submittal][2:] == ["EmergencyResponseTrainingPlans"]
    assert element_keys(get(client, edt_account)) == keys(records[1], records[2], records[3])


@pytest.mark.parametrize("batch_size", [1, 2, 4])
def test_a_submittal_whose_elements_span_batches_is_written_once_and_whole(
    client, cast, edt_account, monkeypatch, batch_size
):
    """The cursor reads elements, a batch at a time: a submittal begun in one batch and
    ended in the next is still one FacilitySubmittal, and the answer is the same byte for byte
    whatever the batch size."""
    depot = factories.make_facility(cast.org, name="Depot", zip_code="95814")
    first, second = submit(cast, 2, 3), submit(cast, 2, facility=depot)
    whole = _pinned(client, edt_account, "1/10")
    monkeypatch.setattr(base, "BATCH_SIZE", batch_size)
    assert _pinned(client, edt_account, "1/10") == whole
    written = [
        [key.text for key in submittal.iterfind("*/SubmittalElementHeader/CERSUniqueKey")]
        for submittal in submittals(get(client, edt_account))
    ]
    assert written == [keys(*first.values()), keys(*second.values())]


# --- size ----------------------------------------------------------------------------------------

# Authentication (account, grant), the transaction row, the count, the accepted mark; the
# cursor over the matching elements with their submittal, facility, organization, regulator and
# submitter; per batch the inventory materials, their components, the document answers and
# their files; at the end the number of submittals answered.
RFSQ_QUERIES = 11


def test_the_query_count_does_not_grow_with_the_result(
    client, cast, edt_account, django_assert_num_queries
):
    def submit_one():
        record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
        record = services.save_draft_data(
            actor=cast.editor,
            record=record,
            data=complete_facility_information(f3=cast.facility.name),
        )
        inventory = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
        add_material(actor=cast.editor, record=inventory, values=DIESEL, components=COMPONENTS[:2])
        documents.add_document_file(
            actor=cast.editor,
            record=inventory,
            slot="SiteMapDocuments",
            uploaded_file=SimpleUploadedFile("site-map.pdf", PDF),
            title="Site map",
        )
        for slot in ("HMILocallyCollectedDocuments",):
            documents.set_document_answer(
                actor=cast.editor,
                record=inventory,
                slot=slot,
                source=DocumentSource.STORED_AT_FACILITY,
            )
        services.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=[record, inventory],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )

    submit_one()
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(RFSQ_QUERIES):
        assert len(submittals(get(client, edt_account))) == 1
    for _ in range(19):
        submit_one()
    with django_assert_num_queries(RFSQ_QUERIES):
        assert len(submittals(get(client, edt_account))) == 20


def test_a_result_above_the_ceiling_is_refused_with_413(client, cast, edt_account, settings):
    submit(cast, 2)
    settings.EDT_QUERY_MAX_RESULTS = 1
    response = get(client, edt_account)
    assert response.status_code == 413
    assert b"2 submittal elements" in response.content
    assert b"submittalElement" in response.content
    assert element_keys(get(client, edt_account, submittalElement=1)) != []


# --- the answer, byte for byte -------------------------------------------------------------------


def _pinned(client, account, version: str, **params) -> bytes:
    """The answer with what changes from call to call (its time, the transaction's key)
    named instead."""
    raw = body(get(client, account, schemaVersion=version, **params)).decode()
    raw = re.sub(r"<DataSetDateTime>[^<]*<", "<DataSetDateTime>(now)<", raw)
    raw = re.sub(r"<TransactionKey>[^<]*<", "<TransactionKey>(transaction)<", raw)
    raw = re.sub(r'"DataSetDateTime": "[^"]*"', '"DataSetDateTime": "(now)"', raw)
    raw = re.sub(r'"TransactionKey": "[^"]*"', '"TransactionKey": "(transaction)"', raw)
    return raw.encode()


@pytest.mark.parametrize(
    ("version", "accept"),
    [("1/05", None), ("1/10", None), ("1/10", "application/json")],
)
def test_the_whole_answer_is_written_byte_for_byte_as_pinned(
    client, cast, edt_account, pa_edt_account, everything, version, accept
):
    """Every element, document answer and inventory row, each field in its place, as XML in
    both versions and as JSON: a change to how the answer is written must not change one
    byte of it (the files are written again with RFSQ_PIN=write, on purpose only)."""
    for code, record in everything.items():
        SubmittalElementRecord.objects.filter(pk=record.pk).update(key=uuid.UUID(int=code))
    for n, pk in enumerate(DocumentFile.objects.order_by("pk").values_list("pk", flat=True)):
        DocumentFile.objects.filter(pk=pk).update(key=uuid.UUID(int=1000 + n))
    with at(datetime(2024, 7, 1, 18, 0, tzinfo=UTC)):
        services.review(
            actor=cast.cupa_reviewer,
            record=everything[3],
            status=ElementStatus.NOT_ACCEPTED,
            comments="The plan is missing its map",
            agent_name="Rita Reviewer",
        )
    information = everything[1]
    # As an EDT upload keeps them: the next due date and the element's regulator key.
    information.data.update({"20.0087": "2025-06-03", "20.0004": "FI-0001"})
    information.save(update_fields=["data"])
    material = everything[2].materials.get()
    material.data["20.0053"] = "CHEM-0001"  # ChemicalRegulatorKey, made up anew each run
    material.save(update_fields=["data"])
    Facility.objects.filter(pk=cast.facility.pk).update(
        cers_id=10_123_456,
        local_facility_id="SAC-7",
        regulator_key="FAC-0001",
        latitude=Decimal("38.5816"),
        longitude=Decimal("-121.4944"),
        horizontal_accuracy=Decimal("10"),
        horizontal_collection_method=101,
        geographic_reference_point=102,
        horizontal_reference_datum="WGS84",
        location_collected_on="2024-01-02",
    )
    Organization.objects.filter(pk=cast.org.pk).update(code=123_456)
    answer = _pinned(client, edt_account, version, accept=accept) + _pinned(
        client, pa_edt_account, version, code="1101", accept=accept
    )
    suffix = "json" if accept else "xml"
    assert_pinned(answer, f"rfsq_everything_{version.replace('/', '_')}.{suffix}", "RFSQ_PIN")
