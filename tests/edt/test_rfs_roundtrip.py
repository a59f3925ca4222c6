"""A lossless round trip: what a Facility Submittal Submit (RFS) carries comes back out of the
Facility Submittal Query (RFSQ), in 1/05 and in 1/10.

The document is a full facility submittal: every element (the UST element with its tanks,
tiered permitting with its units), every field and document slot filled in the portal and
exported, turned into an RFS document (``test_rfs.to_rfs``), then given what a CUPA's system
sends and the portal never makes: a submitter who has no CERS account, the facility's own
FacilityID and FacilityRegulatorKey, each file's DocumentRegulatorKey and a DateAuthored with
its time zone, decimals with trailing zeros. It is submitted for another facility, queried
back, turned into an RFS document the same way, and every leaf (element text and attribute,
by its path) compared. The UST element of ZIP 95814 is the City PA's, so the PA's account
queries it.
"""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

from core.registry import all_schemas
from facilities.models import Facility
from submittals.models import DocumentFile, SubmittalElementRecord

from .conftest import assert_valid
from .test_rfs import _zip, post, query_submittals, status, texts, to_rfs
from .test_rfs_slots import SETS, _generator
from .test_rfsq import PDF, body, get, submit_everything

XSD = "RegulatorFacilitySubmittal.xsd"
UST_TAG = "UndergroundStorageTanks"
STRANGER = ("Olga", "Outsider", "olga.outsider@consultants.example")
AUTHORED = "2024-02-01T09:30:00-08:00"
LOCAL_ID = "LOCAL-0042"
FACILITY_KEY = "7d1c2a0e-5b1f-4c53-9a51-0a2f3c4d5e6f"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def second(cast):
    from tests import factories

    return factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")


def exported(client, cupa_account, pa_account, facility, version) -> etree._Element:
    """The facility's submittal as RFSQ answers it, the UST element from the PA's answer put
    in its place."""
    (submittal,) = query_submittals(client, cupa_account, version, CERSID=facility.cers_id)
    response = get(client, pa_account, "1101", schemaVersion=version, CERSID=facility.cers_id)
    assert response.status_code == 200
    pa_answer = assert_valid(body(response), SETS[version], "RegulatorFacilitySubmittalQuery.xsd")
    (pa_submittal,) = pa_answer.findall("FacilitySubmittal")
    ust = pa_submittal.find(UST_TAG)
    before = submittal.find("EmergencyResponseTrainingPlans")
    before.addnext(ust)
    return submittal


def _schema_of(tag: str):
    """The element whose container has ``tag``; None for the facility's own values."""
    return next((s for s in all_schemas() if s.in_facility_submittal and s.xml_tag == tag), None)


def _upload_numbers(version: str) -> set[str]:
    """Data-dictionary numbers the version's upload schema has."""
    generator = _generator()
    schema = generator.Schema(Path(generator.SCHEMA_DIR) / SETS[version] / XSD)
    numbers = set()
    for type_name in generator.ELEMENT_TYPES.values():
        rows = {"fields": [], "groups": [], "oddities": []}
        schema.walk(schema.complex_types[type_name], (), "", rows)
        numbers |= {row.get("number") for row in rows["fields"]}
    return numbers


def _drop_fields_the_upload_lacks(submittal: etree._Element, version: str) -> None:
    """A field the query schema has and the version's upload schema does not (1/10 uploads
    have no TotalUSTAtFacility) cannot be sent in that version."""
    numbers = _upload_numbers(version)
    for container in submittal:
        schema = _schema_of(container.tag)
        for f in schema.data_fields if schema else ():
            if f.number and f.number not in numbers and not f.attribute:
                for found in list(container.iterfind(f.key)):
                    found.getparent().remove(found)


def _fit_1_05_upload(submittal: etree._Element) -> None:
    """Tiered permitting as 1/05's upload schema shapes it, narrower than the portal (1/10):
    counts of tanks and containers start at 1, and a financial assurance certification is an
    exemption or a mechanism, not both (the portal fills every field: the mechanism is kept)."""
    for count in submittal.iter("NumberOfTanks", "NumberOfContainers"):
        count.text = "1"
    for certification in submittal.iter("HWCertificationOfFinancialAssurance"):
        for exemption in certification.findall("*"):
            if exemption.tag.startswith("ExemptFromFA"):
                certification.remove(exemption)


def _as_sent(document: bytes, version: str) -> bytes:
    """What a CUPA's system sends beyond what the portal made (see the module docstring)."""
    root = etree.fromstring(document)
    submittal = root.find("FacilitySubmittal")
    cers_id = submittal.find("CERSID")
    local_id = etree.Element("FacilityID")
    local_id.text = LOCAL_ID
    key = etree.Element("FacilityRegulatorKey")
    key.text = FACILITY_KEY
    cers_id.addnext(local_id)
    local_id.addnext(key)
    for tank in list(submittal.iterfind(f"{UST_TAG}/USTTanks/USTTank")):
        second_tank = copy.deepcopy(tank)  # a second tank, with keys of its own
        for element in second_tank.iter():
            if element.tag.endswith("RegulatorKey"):
                element.text = str(uuid.uuid4())
        second_tank.find("TankIDNumber").text = "T-2"
        tank.addnext(second_tank)
    for submitter in submittal.iter("Submitter"):
        for tag, value in zip(
            ("SubmitterFirstName", "SubmitterLastName", "SubmitterEmail"), STRANGER, strict=True
        ):
            submitter.find(tag).text = value
    for index, attachment in enumerate(submittal.iter("Attachment")):
        attachment.find("DateAuthored").text = AUTHORED
        attachment.find("DocumentRegulatorKey").text = str(uuid.UUID(int=index + 1))
    for container in submittal:
        schema = _schema_of(container.tag)
        for f in schema.data_fields if schema else ():
            if f.type == "date" and not f.attribute:
                for found in container.iterfind(f.key):
                    found.text = f"{found.text}-08:00"  # a date with its time zone
    for amount in submittal.iter("Curies", "HC1PercentByWeight", "EstimatedClosureCost"):
        amount.text = "12.50"
    body = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    assert_valid(body, SETS[version], XSD)
    return body


# -- the comparison -------------------------------------------------------------------------

# Instants the service keeps as date and time (the element's SubmittedOn and the regulator's
# action): the same instant in another zone is the same xs:dateTime value.
INSTANTS = {"SubmittedOn", "OccurredOn", "SubmittalActionOn"}


def leaves(element: etree._Element, path: str = "") -> dict[str, str]:
    """path -> text of every leaf (element text and attribute), each step with its position
    among same-named siblings. Texts are compared as they are, but for the instants."""
    here = f"{path}/{element.tag}"
    out = {f"{here}/@{name}": value for name, value in element.attrib.items()}
    children = list(element)
    if not children:
        value = element.text or ""
        if element.tag in INSTANTS and value:
            value = f"instant {datetime.fromisoformat(value).timestamp()}"
        out[here] = value
        return out
    seen: dict[str, int] = {}
    for child in children:
        index = seen[child.tag] = seen.get(child.tag, -1) + 1
        out.update(leaves(child, f"{here}[{index}]" if index else here))
    return out


def _submit_and_query(client, cast, edt_account, pa_edt_account, second, version):
    submit_everything(cast)
    before = exported(client, edt_account, pa_edt_account, cast.facility, version)
    _drop_fields_the_upload_lacks(before, version)
    if version == "1/05":
        _fit_1_05_upload(before)
    sent = _as_sent(to_rfs(before, second.cers_id, version), version)
    root = post(client, edt_account, _zip({"data.xml": sent, "site-plan.pdf": PDF}))
    assert status(root) == "Accepted", texts(root)
    after = exported(client, edt_account, pa_edt_account, second, version)
    back = to_rfs(after, second.cers_id, version)
    return etree.fromstring(sent), etree.fromstring(back), after


@pytest.mark.parametrize("version", SETS)
def test_what_rfs_carries_comes_back_out_of_rfsq(
    client, cast, edt_account, pa_edt_account, second, version
):
    sent, back, answer = _submit_and_query(
        client, cast, edt_account, pa_edt_account, second, version
    )

    containers = [child.tag for child in sent.find("FacilitySubmittal")]
    assert UST_TAG in containers and "OnsiteHazardousWasteTreatmentNotification" in containers
    assert len(sent.findall(f"FacilitySubmittal/{UST_TAG}/USTTanks/USTTank")) == 2
    assert sent.findall(".//HWUnits/HWUnit")
    assert sent.findall(".//Attachment")
    sent_leaves, back_leaves = leaves(sent), leaves(back)
    assert len(sent_leaves) > 600  # every element, filled
    zoned_dates = [v for v in sent_leaves.values() if v.endswith("-08:00") and "T" not in v]
    assert len(zoned_dates) > 5
    assert [v for v in sent_leaves.values() if v == "12.50"]
    missing = {path: value for path, value in sent_leaves.items() if path not in back_leaves}
    changed = {
        path: (value, back_leaves[path])
        for path, value in sent_leaves.items()
        if path in back_leaves and back_leaves[path] != value
    }
    assert missing == {}
    assert changed == {}
    assert set(back_leaves) == set(sent_leaves)

    # The answer itself, beyond the RFS shape: the submitter and the facility as sent.
    header = answer.find("FacilityInformation/SubmittalElementHeader")
    assert header.findtext("SubmittedByEmail") == STRANGER[2]
    assert answer.findtext("FacilityID") == LOCAL_ID
    assert answer.findtext("FacilityRegulatorKey") == FACILITY_KEY
    assert {a.findtext("DateAuthored") for a in answer.iter("Attachment")} == {AUTHORED}
    record = SubmittalElementRecord.objects.filter(facility=second, element=1).get()
    assert record.submitted_by is None  # no account has that e-mail
    assert (record.submitter_first_name, record.submitter_email) == (STRANGER[0], STRANGER[2])
    assert DocumentFile.objects.filter(document__record__facility=second).exists()


def test_rfsq_gives_the_facilitys_location_and_keys_when_the_upload_sent_none(
    client, cast, edt_account, pa_edt_account
):
    """A portal submittal: FacilityID, FacilityRegulatorKey and GeographicInformation are the
    facility's, as RFQ gives them."""
    from decimal import Decimal

    submit_everything(cast)
    Facility.objects.filter(pk=cast.facility.pk).update(
        local_facility_id="SAC-7",
        regulator_key=FACILITY_KEY,
        latitude=Decimal("38.5816"),
        longitude=Decimal("-121.4944"),
        horizontal_accuracy=Decimal("10"),
        horizontal_collection_method=101,
        geographic_reference_point=102,
        horizontal_reference_datum="WGS84",
        location_collected_on="2024-01-02",
    )
    for version in SETS:
        (answer,) = query_submittals(client, edt_account, version, CERSID=cast.facility.cers_id)
        assert answer.findtext("FacilityID") == "SAC-7"
        assert answer.findtext("FacilityRegulatorKey") == FACILITY_KEY
        point = answer.find("FacilityInformation/GeographicInformation/CERSPoint")
        assert point is not None, version
        assert point.findtext("LatitudeMeasure") == "38.5816"
        assert answer.find("FacilityInformation/OwnerOperatorInformation").getnext() is (
            answer.find("FacilityInformation/GeographicInformation")
        )


def test_a_submitter_without_an_account_is_kept_as_sent(client, cast, edt_account, second):
    """Before, the header's submitter was written only for a member of the organization."""
    submit_everything(cast)
    (query,) = query_submittals(client, edt_account, "1/10", CERSID=cast.facility.cers_id)
    document = etree.fromstring(to_rfs(query, second.cers_id))
    for submitter in document.iter("Submitter"):
        submitter.find("SubmitterEmail").text = STRANGER[2]
    body = etree.tostring(document)
    root = post(client, edt_account, _zip({"data.xml": body, "site-plan.pdf": PDF}))
    assert status(root) == "Accepted", texts(root)
    (answer,) = query_submittals(client, edt_account, "1/10", CERSID=second.cers_id)
    emails = {h.findtext("SubmittedByEmail") for h in answer.iter("SubmittalElementHeader")}
    assert emails == {STRANGER[2]}
