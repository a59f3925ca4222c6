"""RFS over HTTP: a CUPA's system submits a facility submittal; it is stored exactly as the
portal stores one, or rejected whole with every message.

The documents are made the way a CUPA's system would re-send what CERS exported: a facility
submittal built in the portal comes out of RFSQ and is turned into an RFS document for another
facility of the same CUPA (``to_rfs``). The cast's facility and ``second`` are in ZIP 95814:
their Underground Storage Tanks go to the City PA (1101), every other element to the
Sacramento County CUPA (1001).
"""

from __future__ import annotations

import copy
import io
import uuid
import zipfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lxml import etree

from core.models import AuditEvent, OutboundEmail
from core.registry import all_schemas
from edt.codecs.submittal import RENAMED, SLOT_WRAPPERS
from facilities.models import FacilityRegulator
from submittals import documents
from submittals.models import (
    DocumentFile,
    ElementStatus,
    FacilitySubmittal,
    HazardousMaterial,
    SubmittalElementRecord,
    SubmittalType,
)
from tests import factories
from tests.submittals.data import submit

from .conftest import assert_valid, content, legacy_header
from .test_rfs_slots import document_paths
from .test_rfsq import PDF, body, get, submit_everything

URL = "/EDT/Regulator/FacilitySubmittal/Submit?regulatorCode=1001"
XSD = "RegulatorFacilitySubmittal.xsd"
RESPONSE_XSD = "RegulatorFacilitySubmittalResponse.xsd"
SETS = {"1/05": "1.05", "1/10": "cers3"}
RFS_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittal/{}/"
QUERY_ONLY = ("DataSetDateTime", "TransactionKey", "TransactionStatus")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def second(cast):
    """Another facility of the CUPA, with the same name (Facility Information's business name
    must match its facility's)."""
    return factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")


# --- the transformation: an RFSQ FacilitySubmittal -> an RFS document --------------------------


def _header(query_header: etree._Element, version: str, submittal_type: int) -> etree._Element:
    """The RFS header of ``version`` for an element RFSQ answered."""

    def value(tag):
        return query_header.findtext(tag) or ""

    header = etree.Element("SubmittalElementHeader")
    if version == "1/10":
        etree.SubElement(header, "SubmittalType").text = str(submittal_type)
    submitter = etree.SubElement(header, "Submitter")
    for query_tag, tag in (
        ("SubmittedOn", "SubmittedOn"),
        ("SubmittedByFirstName", "SubmitterFirstName"),
        ("SubmittedByLastName", "SubmitterLastName"),
        ("SubmittedByEmail", "SubmitterEmail"),
        ("SubmittedByComments", "SubmitterComments"),
    ):
        if value(query_tag) or version == "1/05":  # 1/05 requires each, even empty
            etree.SubElement(submitter, tag).text = value(query_tag)
    key = value("SubmittalElementRegulatorKey") or str(uuid.uuid4())
    action = query_header.find("SubmittalActionDetails")
    if version == "1/10":
        etree.SubElement(header, "RegulatorCode").text = value("RegulatorCode")
        etree.SubElement(header, "SubmittalElementRegulatorKey").text = key
        if action is not None:
            done = etree.SubElement(header, "RegulatorSubmittalAction")
            etree.SubElement(done, "Status").text = value("SubmittalStatus")
            for query_tag, tag in (
                ("SubmittalActionOn", "OccurredOn"),
                ("SubmittalActionAgentName", "AgentName"),
                ("SubmittalActionAgentEmail", "AgentEmail"),
                ("SubmittalActionComments", "Comments"),
            ):
                if action.findtext(query_tag):
                    etree.SubElement(done, tag).text = action.findtext(query_tag)
        if value("NextDueDate"):
            etree.SubElement(header, "NextDueDate").text = value("NextDueDate")
    else:
        regulator = etree.SubElement(header, "Regulator")
        etree.SubElement(regulator, "RegulatorCode").text = value("RegulatorCode")
        etree.SubElement(regulator, "SubmittalAction").text = value("SubmittalStatus")
        etree.SubElement(regulator, "SubmittalActionOn").text = (
            action.findtext("SubmittalActionOn") if action is not None else value("SubmittedOn")
        )
        etree.SubElement(regulator, "SubmittalActionAgentName").text = (
            action.findtext("SubmittalActionAgentName") if action is not None else "EDT"
        )
        etree.SubElement(regulator, "SubmittalActionAgentEmail").text = (
            action.findtext("SubmittalActionAgentEmail") if action is not None else "edt@x.org"
        )
        etree.SubElement(regulator, "SubmittalActionComments").text = (
            action.findtext("SubmittalActionComments") if action is not None else ""
        )
        if value("NextDueDate"):
            etree.SubElement(regulator, "NextDueDate").text = value("NextDueDate")
        etree.SubElement(regulator, "SubmittalElementRegulatorKey").text = key
    return header


def _unwrap_slots(container: etree._Element, version: str) -> None:
    """The query schema's wrapped document slots, where the version's upload schema has them
    (``test_rfs_slots.document_paths``): 1/10 holds each document under the slot's own tag;
    1/05 keeps the site maps', UST and tiered permitting documents wrapped as the query does."""
    schema = next(s for s in all_schemas() if s.xml_tag == container.tag)
    targets = document_paths(version)[int(schema.element)]
    for slot, target in zip(schema.document_slots, targets, strict=True):
        tags = SLOT_WRAPPERS.get(slot.tag, (slot.tag,))
        prefix = slot.path[:-1]
        if target[len(prefix) :] == tags:
            continue
        assert target[len(prefix) :] == (slot.tag,), target
        parents = container.iterfind("/".join(prefix)) if prefix else [container]
        for parent in list(parents):
            for outer in list(parent.findall(tags[0])):
                inner = outer.find("/".join(tags[1:])) if len(tags) > 1 else outer
                replacement = etree.Element(slot.tag)
                replacement.extend(list(inner))
                outer.getparent().replace(outer, replacement)
    for plot_plan in list(container.iter("HWPlotPlanDocuments")):
        parent = plot_plan.getparent()
        before = [c for c in parent if c.tag in ("HWUnits", "HWCertificationOfFinancialAssurances")]
        if before:
            parent.remove(plot_plan)
            before[-1].addnext(plot_plan)


def _add_required_keys(container: etree._Element) -> None:
    """A regulator's system has its own key for each resource; RFS requires some that RFSQ
    leaves out when CERS has none: give them, in their place in the schema's sequence."""
    schema = next(s for s in all_schemas() if s.xml_tag == container.tag)
    position = {f.key: index for index, f in enumerate(schema.fields)}
    for index, f in enumerate(schema.fields):
        if f.xsd_type != "RegulatorEntityKeyType" or not f.required or not f.number:
            continue
        for parent in container.iterfind("/".join(f.path[:-1])):
            if parent.find(f.tag) is not None:
                continue
            key = etree.Element(f.tag)
            key.text = str(uuid.uuid4())
            later = [
                child
                for child in parent
                if min(
                    (
                        i
                        for k, i in position.items()
                        if k.startswith("/".join((*f.path[:-1], child.tag)))
                    ),
                    default=-1,
                )
                > index
            ]
            if later:
                later[0].addprevious(key)
            else:
                parent.append(key)


def to_rfs(
    query_submittal: etree._Element,
    cers_id: int,
    version: str = "1/10",
    *,
    submittal_type: int = SubmittalType.PASS_THROUGH,
) -> bytes:
    """An RFS document of ``version`` for the facility ``cers_id`` carrying what RFSQ answered
    in ``query_submittal``: the root's namespace and the header changed, the CERSID replaced,
    the query-only parts (status, organization, CERS unique keys, the facility's location)
    dropped."""
    submittal = copy.deepcopy(query_submittal)
    submittal.find("CERSID").text = str(cers_id)
    submittal.remove(submittal.find("CERSOrganization"))
    for container in submittal[1:]:
        query_header = container.find("SubmittalElementHeader")
        if query_header is None:  # FacilityID and FacilityRegulatorKey: the same in RFS
            continue
        container.replace(query_header, _header(query_header, version, submittal_type))
        for key in list(container.iter("CERSUniqueKey")):
            key.getparent().remove(key)
        for stored in container.iter("StoredAtFacility"):
            stored.find("CERSID").text = str(cers_id)
        for element in container.iter():
            for query_name, name in ((q, n) for n, q in RENAMED.items()):
                if query_name in element.attrib:
                    element.set(name, element.attrib.pop(query_name))
        for location in container.findall("GeographicInformation"):  # the facility's
            container.remove(location)
        _unwrap_slots(container, version)
        _add_required_keys(container)
        if version == "1/05":  # 1/05 has the chemical's key last, the query has it earlier
            for key in list(container.iterfind("Chemicals/Chemical/ChemicalRegulatorKey")):
                key.getparent().append(key)
    namespace = RFS_NS.format(version)
    root = etree.Element(f"{{{namespace}}}RegulatorFacilitySubmittals", nsmap={"cers": namespace})
    root.append(submittal)
    document = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    assert_valid(document, SETS[version], XSD)
    return document


def query_submittals(client, account, version="1/10", **params) -> list[etree._Element]:
    response = get(client, account, schemaVersion=version, **params)
    assert response.status_code == 200
    root = assert_valid(body(response), SETS[version], "RegulatorFacilitySubmittalQuery.xsd")
    return root.findall("FacilitySubmittal")


def exported(client, account, facility, version="1/10") -> etree._Element:
    (found,) = query_submittals(client, account, version, CERSID=facility.cers_id)
    return found


def post(client, account, document: bytes, url=URL, content_type="text/xml"):
    response = client.post(url, document, content_type=content_type, **legacy_header(account))
    assert response.status_code == 200, content(response)
    version = "1.05" if b"/1/05/" in document or b"1/05" in content(response) else "cers3"
    return assert_valid(content(response), version, RESPONSE_XSD)


def document_key(document: bytes, tag: str) -> str:
    return next(etree.fromstring(document).iter(tag)).text


def status(root) -> str:
    return root.findtext("Transaction/TransactionStatus")


def codes(root) -> list[str]:
    return [m.get("guidanceCode") for m in root.findall("GuidanceMessages/GuidanceMessage")]


def texts(root) -> list[str]:
    return [m.text for m in root.findall("GuidanceMessages/GuidanceMessage")]


@pytest.fixture
def portal(cast):
    """Facility Information and an inventory submitted in the portal for cast.facility."""
    return submit(cast, 2, comments="From the portal")


def without_keys(data: dict) -> dict:
    """Element data less the regulator's keys (the element's and its resources')."""
    keys = {"20.0004"} | {
        f.number for s in all_schemas() for f in s.fields if f.xsd_type == "RegulatorEntityKeyType"
    }
    return {k: v for k, v in data.items() if k not in keys}


def stored_for(facility):
    return SubmittalElementRecord.objects.filter(facility=facility).exclude(
        status=ElementStatus.DRAFT
    )


# --- a good upload -----------------------------------------------------------------------------


def test_it_stores_the_submittal_as_the_portal_would(client, cast, edt_account, portal, second):
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    root = post(client, edt_account, document)

    assert status(root) == "Accepted", texts(root)
    group = FacilitySubmittal.objects.get(facility=second)
    assert group.status == FacilitySubmittal.Status.SUBMITTED
    assert group.submitted_by == cast.approver  # the header's submitter, by e-mail
    assert group.submitter_comments == "From the portal"
    fi, inventory = group.elements.order_by("element")
    for record, original in ((fi, portal[1]), (inventory, portal[2])):
        assert record.status == ElementStatus.SUBMITTED
        assert record.submittal_type == SubmittalType.PASS_THROUGH
        assert record.regulator == cast.cupa
        assert record.submitted_at == original.submitted_at.replace(microsecond=0)
        assert len(record.data["20.0004"]) == 36
        assert without_keys(record.data) == original.data
    assert fi.data["20.0050"] == document_key(document, "BizActivitiesRegulatorKey")
    assert fi.owner_operator.owner_name == portal[1].owner_operator.owner_name
    (material,) = inventory.materials.all()
    original = portal[2].materials.get()
    assert (material.common_name, material.maximum_daily_amount, material.units) == (
        original.common_name,
        original.maximum_daily_amount,
        original.units,
    )
    assert material.data == original.data
    assert inventory.documents.get().slot == portal[2].documents.get().slot

    events = AuditEvent.objects.filter(action="submittal.element_submitted", actor=edt_account.user)
    assert sorted(events.values_list("object_id", flat=True)) == sorted(
        [str(fi.pk), str(inventory.pk)]
    )
    assert AuditEvent.objects.filter(action="submittal.submitted", object_id=str(group.pk)).exists()
    assert AuditEvent.objects.filter(
        action="inventory.material_added", actor=edt_account.user
    ).exists()
    receipt = OutboundEmail.objects.filter(subject__icontains=str(second.cers_id)).get()
    assert cast.approver.email in receipt.to

    keys = root.findall("SubmittalElementKeys/SubmittalElementKey")
    assert {k.findtext("CERSUniqueKey") for k in keys} == {str(fi.key), str(inventory.key)}
    assert {k.findtext("SubmittalElementRegulatorKey") for k in keys} == {
        fi.data["20.0004"],
        inventory.data["20.0004"],
    }
    resources = [k.findtext("EntityResource") for k in root.findall("EntityKeys/EntityKey")]
    assert "HMI" in resources


def test_the_portal_pages_show_what_edt_stored(client, cast, edt_account, portal, second):
    post(client, edt_account, to_rfs(exported(client, edt_account, cast.facility), second.cers_id))
    fi = stored_for(second).get(element=1)

    client.force_login(cast.cupa_reviewer)
    queue = client.get(reverse("regulator:review_queue")).content.decode()
    assert reverse("regulator:review", args=[fi.pk]) in queue
    page = client.get(reverse("regulator:review", args=[fi.pk])).content.decode()
    assert fi.data["111"] in page
    client.force_login(cast.lead)
    assert client.get(reverse("business:element", args=[fi.pk])).status_code == 200


def test_a_proxy_submittal_with_an_action_is_reviewed_as_rfsan_would(
    client, cast, edt_account, portal, second
):
    query = exported(client, edt_account, cast.facility)
    header = query.find("FacilityInformation/SubmittalElementHeader")
    details = etree.Element("SubmittalActionDetails")
    acted = timezone.localtime()
    etree.SubElement(details, "SubmittalActionOn").text = acted.replace(
        microsecond=0, tzinfo=None
    ).isoformat()
    etree.SubElement(details, "SubmittalActionAgentName").text = "Rita Reviewer"
    etree.SubElement(details, "SubmittalActionAgentEmail").text = "rita@sac-cupa.example"
    header.find("SubmittalStatus").text = "4"
    header.find("SubmittalStatus").addnext(details)
    due = (timezone.localdate() + timedelta(days=365)).isoformat()
    etree.SubElement(header, "NextDueDate").text = due
    document = to_rfs(query, second.cers_id, submittal_type=SubmittalType.PROXY)

    root = post(client, edt_account, document)
    assert status(root) == "Accepted", texts(root)
    fi = stored_for(second).get(element=1)
    assert (fi.status, fi.submittal_type) == (ElementStatus.ACCEPTED, SubmittalType.PROXY)
    assert fi.action_agent_name == "Rita Reviewer"
    assert fi.data["20.0087"] == due
    assert (
        FacilityRegulator.objects.get(facility=second, element=1).next_due_date.isoformat() == due
    )
    assert AuditEvent.objects.get(action="submittal.reviewed").actor == edt_account.user


def test_a_next_due_date_is_audited(client, cast, edt_account, portal, second):
    query = exported(client, edt_account, cast.facility)
    header = query.find("FacilityInformation/SubmittalElementHeader")
    due = (timezone.localdate() + timedelta(days=365)).isoformat()
    etree.SubElement(header, "NextDueDate").text = due
    root = post(client, edt_account, to_rfs(query, second.cers_id))
    assert status(root) == "Accepted", texts(root)

    event = AuditEvent.objects.get(action="facility.elements_changed", object_id=str(second.pk))
    assert event.actor == edt_account.user
    assert event.before == {"1": {"next_due_date": None}}
    assert event.after == {"1": {"next_due_date": due}}
    assert event.organization == second.organization


# --- rejections ----------------------------------------------------------------------------------


def _set_in_order(row: etree._Element, tag: str, value: str) -> None:
    """Give ``row`` (a Chemical) the child ``tag`` with ``value``, in the schema's order."""
    from submittals.inventory import row_fields

    order = [f.tag for f in row_fields()]
    found = row.find(tag)
    if found is None:
        found = etree.Element(tag)
        later = [c for c in row if c.tag in order and order.index(c.tag) > order.index(tag)]
        if later:
            later[0].addprevious(found)
        else:
            row.append(found)
    found.text = value


def test_every_required_problem_is_listed_and_nothing_is_stored(
    client, cast, edt_account, portal, second
):
    """Two chemicals whose amounts are too large to store: each is Required, both listed."""
    query = exported(client, edt_account, cast.facility)
    query.find("FacilityInformation/BusinessActivities/BusinessName").text = "Another Name"
    document = etree.fromstring(to_rfs(query, second.cers_id))
    chemical = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical")
    _set_in_order(chemical, "MaximumDailyAmount", "9999999999999")
    twin = copy.deepcopy(chemical)
    twin.find("ChemicalRegulatorKey").text = str(uuid.uuid4())
    chemical.addnext(twin)
    body = etree.tostring(document)
    assert_valid(body, "cers3", XSD)

    root = post(client, edt_account, body)
    assert status(root) == "Rejected"
    required = root.xpath("GuidanceMessages/GuidanceMessage[@level='Required']")
    assert [m.get("guidanceCode") for m in required] == ["1012", "1012"]
    assert required[0].text.startswith("Chemical 1: Maximum daily amount")
    assert required[1].text.startswith("Chemical 2: Maximum daily amount")
    assert root.xpath("GuidanceMessages/GuidanceMessage[@level='Advisory']")  # listed too
    assert not stored_for(second).exists()
    assert not FacilitySubmittal.objects.filter(facility=second).exists()
    assert not HazardousMaterial.objects.filter(record__facility=second).exists()
    assert not AuditEvent.objects.filter(actor=edt_account.user).exists()


def test_what_cers_accepts_is_stored_with_warnings(client, cast, edt_account, portal, second):
    """An ending date before the beginning date, a mixture component with a percentage and
    an EHS flag but no name or CAS number, and a CalEPA CCL ID the loaded library lacks:
    CERS accepts all three, so the upload is accepted and each is a Warning."""
    query = exported(client, edt_account, cast.facility)
    document = etree.fromstring(to_rfs(query, second.cers_id))
    owner = document.find("FacilitySubmittal/FacilityInformation/OwnerOperatorInformation")
    dates = {"BeginningDate": "2024-05-01", "EndingDate": "2024-01-01"}
    for tag in dates:
        for old in owner.findall(tag):
            owner.remove(old)
    for position, (tag, value) in enumerate(dates.items()):  # the form's first fields
        owner.insert(position, etree.Element(tag))
        owner[position].text = value
    chemical = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical")
    _set_in_order(chemical, "CCLID", "102843")
    _set_in_order(chemical, "HC1PercentByWeight", "12.5")
    _set_in_order(chemical, "HC1EHS", "Y")
    body = etree.tostring(document)
    assert_valid(body, "cers3", XSD)

    root = post(client, edt_account, body)
    assert status(root) == "Accepted", texts(root)
    warnings = root.xpath("GuidanceMessages/GuidanceMessage[@level='Warning']")
    text = " ".join(m.text for m in warnings)
    assert "Date the business ended at this site" in text
    assert "hazardous component 1 has no name and no CAS number" in text
    assert "CCL ID (250) 102843 is not in the chemical library" in text
    assert not root.xpath("GuidanceMessages/GuidanceMessage[@level='Required']")
    material = HazardousMaterial.objects.get(record__facility=second)
    assert (material.data["250"], material.chemical) == (102843, None)
    component = material.components.get()
    assert (component.name, component.cas_number, component.ehs) == ("", "", "Y")
    assert str(component.percent_by_weight) == "12.5000"


def test_an_inventory_without_chemicals_is_accepted_with_a_warning(
    client, cast, edt_account, portal, second
):
    query = exported(client, edt_account, cast.facility)
    document = etree.fromstring(to_rfs(query, second.cers_id))
    chemicals = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals")
    for row in list(chemicals):
        chemicals.remove(row)
    body = etree.tostring(document)
    assert_valid(body, "cers3", XSD)
    root = post(client, edt_account, body)
    assert status(root) == "Accepted", texts(root)
    warnings = root.xpath("GuidanceMessages/GuidanceMessage[@level='Warning']")
    assert any("lists no hazardous materials" in m.text for m in warnings)


def _with_chemicals(query: etree._Element, cers_id: int, count: int) -> bytes:
    """An RFS document of ``query`` for ``cers_id`` whose inventory lists its one chemical
    ``count`` times, each with a regulator key of its own."""
    document = etree.fromstring(to_rfs(query, cers_id))
    chemical = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical")
    for _ in range(count - 1):
        twin = copy.deepcopy(chemical)
        twin.find("ChemicalRegulatorKey").text = str(uuid.uuid4())
        chemical.addnext(twin)
    return etree.tostring(document)


def test_the_queries_do_not_grow_with_the_chemicals(client, cast, edt_account, portal, second):
    """The inventory is read, checked, stored (its rows, their audit events) and reported back
    in as many queries whatever the number of its chemicals."""
    third = factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")
    query = exported(client, edt_account, cast.facility)
    counts = {}
    for facility, chemicals in ((second, 2), (third, 10)):
        with CaptureQueriesContext(connection) as queries:
            root = post(client, edt_account, _with_chemicals(query, facility.cers_id, chemicals))
        assert status(root) == "Accepted", texts(root)
        inventory = stored_for(facility).get(element=2)
        assert inventory.materials.count() == chemicals
        added = AuditEvent.objects.filter(
            action="inventory.material_added", organization=cast.org, actor=edt_account.user
        )
        assert added.filter(after__record=inventory.pk).count() == chemicals
        assert root.xpath("count(EntityKeys/EntityKey[EntityResource='HMI'])") == chemicals
        counts[chemicals] = len(queries)
    assert counts[2] == counts[10]


def test_warnings_and_advisories_are_listed_with_an_accepted_upload(
    client, cast, edt_account, portal, second
):
    query = exported(client, edt_account, cast.facility)
    query.find("FacilityInformation/BusinessActivities/BusinessName").text = "Another Name"
    root = post(client, edt_account, to_rfs(query, second.cers_id))
    assert status(root) == "Accepted"
    (advisory,) = root.findall("GuidanceMessages/GuidanceMessage")
    assert advisory.get("level") == "Advisory"
    assert "differs from the facility's name" in advisory.text


def test_the_same_submitted_on_twice_is_a_duplicate(client, cast, edt_account, portal, second):
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    assert status(post(client, edt_account, document)) == "Accepted"

    root = post(client, edt_account, document)
    assert status(root) == "Rejected"
    assert codes(root) == ["1013", "1013"]
    assert all(m.startswith("Submittal already exists for") for m in texts(root))
    assert stored_for(second).count() == 2


def test_another_agencys_facility_is_refused(client, cast, edt_account, portal):
    document = to_rfs(exported(client, edt_account, cast.facility), cast.facility_yolo.cers_id)
    root = post(client, edt_account, document)
    assert status(root) == "Rejected"
    assert codes(root) == ["1054"]
    assert not stored_for(cast.facility_yolo).exists()


def test_a_wrong_regulator_code_and_a_future_date_are_refused(
    client, cast, edt_account, portal, second
):
    query = exported(client, edt_account, cast.facility)
    query.find("FacilityInformation/SubmittalElementHeader/RegulatorCode").text = "1002"
    future = timezone.localtime() + timedelta(days=2)
    query.find(
        "HazardousMaterialsInventory/SubmittalElementHeader/SubmittedOn"
    ).text = future.replace(microsecond=0).isoformat()
    root = post(client, edt_account, to_rfs(query, second.cers_id))
    assert status(root) == "Rejected"
    assert codes(root) == ["1049", "1056"]
    assert not stored_for(second).exists()


def test_a_pa_account_cannot_submit(client, cast, pa_edt_account, edt_account, portal, second):
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    response = client.post(
        URL.replace("1001", "1101"),
        document,
        content_type="text/xml",
        **legacy_header(pa_edt_account),
    )
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"
    assert not stored_for(second).exists()


def test_staging_checks_then_rolls_back(client, cast, edt_account, portal, second):
    document = to_rfs(exported(client, edt_account, cast.facility), second.cers_id)
    root = post(client, edt_account, document, url=URL.replace("/EDT/", "/Staging/"))
    assert status(root) == "Accepted", texts(root)
    assert not stored_for(second).exists()
    assert not AuditEvent.objects.filter(actor=edt_account.user).exists()


# --- versions and ZIP packages -----------------------------------------------------------------


def test_a_1_05_document_is_stored_the_same(client, cast, edt_account, second):
    portal = submit_everything(cast)  # in 2024, a date 1/05 can carry
    query = exported(client, edt_account, cast.facility, version="1/05")
    # Tiered permitting is left out: 1/05's upload schema shapes it unlike its query schema
    # (other list wrappers, other facets), which this test's transformation does not redo.
    query.remove(query.find("OnsiteHazardousWasteTreatmentNotification"))
    package = _zip({"data.xml": to_rfs(query, second.cers_id, "1/05"), "site-plan.pdf": PDF})
    root = post(client, edt_account, package)
    assert status(root) == "Accepted", texts(root)
    assert root.find("SubmittalElementKeys") is None  # not in the 1/05 response
    stored = {record.element: record for record in stored_for(second)}
    assert sorted(stored) == [1, 2, 3, 6, 7, 8, 9]  # the UST element is the PA's
    assert stored[1].submittal_type == SubmittalType.PASS_THROUGH
    assert without_keys(stored[1].data) == without_keys(portal[1].data)
    original = portal[2].materials.get().data
    ghs = {
        k
        for k in original
        if k.startswith("216") and k not in ("216a", "216b", "216c", "216d", "216e")
    }
    assert ghs  # the GHS hazard categories, which 1/05 cannot carry
    assert stored[2].materials.get().data == {k: v for k, v in original.items() if k not in ghs}
    assert _comparable(exported(client, edt_account, second, "1/05")) == _comparable(query)


def _zip(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_a_zip_package_stores_its_documents_in_their_slots(client, cast, edt_account, second):
    # The inventory's site map uploaded in the portal, then re-sent in a ZIP package.
    record = services_draft_with_upload(cast)
    query = exported(client, edt_account, cast.facility)
    assert query.find(".//AttachmentFileName").text == "site-plan.pdf"
    document = to_rfs(query, second.cers_id)

    root = post(client, edt_account, _zip({"data.xml": document, "site-plan.pdf": PDF}))
    assert status(root) == "Accepted", texts(root)
    (upload,) = DocumentFile.objects.filter(document__record__facility=second)
    original = DocumentFile.objects.get(document__record=record)
    assert upload.file.read() == PDF
    assert (upload.document.slot, upload.title, upload.date_authored) == (
        original.document.slot,
        original.title,
        original.date_authored,
    )
    assert upload.uploaded_by == edt_account.user


def services_draft_with_upload(cast):
    """Submit Facility Information and an inventory whose site map is an uploaded PDF."""
    from submittals import services
    from submittals.inventory import add_material
    from tests.submittals.data import DIESEL, complete_facility_information

    fi = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    services.save_draft_data(
        actor=cast.editor, record=fi, data=complete_facility_information(f3=cast.facility.name)
    )
    hmi = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    add_material(actor=cast.editor, record=hmi, values=DIESEL)
    documents.add_document_file(
        actor=cast.editor,
        record=hmi,
        slot="SiteMapDocuments",
        uploaded_file=SimpleUploadedFile("site-plan.pdf", PDF),
        title="Site plan",
        date_authored="2024-02-01",
    )
    services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[fi, hmi],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    return hmi


# --- the round trip -------------------------------------------------------------------------------


def _comparable(submittal: etree._Element) -> bytes:
    """A FacilitySubmittal without what differs by nature: keys, dates, the CERSID."""
    submittal = copy.deepcopy(submittal)
    for tag in (
        "CERSID",
        "CERSUniqueKey",
        "SubmittalElementRegulatorKey",
        "SubmittedOn",
        "SubmittalActionOn",
        "DocumentRegulatorKey",
    ):
        for element in list(submittal.iter(tag)):
            element.getparent().remove(element)
    for key in ("BizActivitiesRegulatorKey", "OwnerOperatorRegulatorKey"):
        for element in list(submittal.iter(key)):
            element.getparent().remove(element)
    for element in list(submittal.iter()):
        if element.tag.endswith("RegulatorKey"):
            element.getparent().remove(element)
    return etree.tostring(submittal, method="c14n")


def test_the_round_trip_gives_back_the_same_submittal(client, cast, edt_account, second):
    """Every element the CUPA regulates (1-3, 5-9; the UST element is its PA's), every field
    and document slot filled, out through RFSQ, in again through RFS, out again."""
    submit_everything(cast)
    before = exported(client, edt_account, cast.facility)
    package = _zip({"data.xml": to_rfs(before, second.cers_id), "site-plan.pdf": PDF})

    root = post(client, edt_account, package)
    assert status(root) == "Accepted", texts(root)
    after = exported(client, edt_account, second)

    assert [child.tag for child in after] == [child.tag for child in before]
    assert _comparable(after) == _comparable(before)


def _stored_files(root) -> list:
    """The stored documents (the transaction log keeps each upload's payload elsewhere)."""
    return sorted(path for path in (root / "documents").rglob("*") if path.is_file())


def test_no_file_is_kept_when_staging_or_rejected(client, cast, edt_account, second, tmp_path):
    services_draft_with_upload(cast)
    before = _stored_files(tmp_path)
    query = exported(client, edt_account, cast.facility)
    package = _zip({"data.xml": to_rfs(query, second.cers_id), "site-plan.pdf": PDF})
    staging = URL.replace("/EDT/", "/Staging/")
    assert status(post(client, edt_account, package, url=staging)) == "Accepted"
    assert _stored_files(tmp_path) == before

    query.find("FacilityInformation/SubmittalElementHeader/RegulatorCode").text = "1002"
    package = _zip({"data.xml": to_rfs(query, second.cers_id), "site-plan.pdf": PDF})
    assert status(post(client, edt_account, package)) == "Rejected"
    assert _stored_files(tmp_path) == before
    assert not DocumentFile.objects.filter(document__record__facility=second).exists()
