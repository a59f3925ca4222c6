"""RCMEQ over HTTP with the legacy header: the CME records of the agency's jurisdiction (a CUPA
with its PAs', a PA its own program elements), every filter, CalEPA's schema in both sets,
JSON, the ceiling, constant queries, the tier; and the round trip from RCMES."""

from __future__ import annotations

import copy
import datetime
import json
import math
import re
import uuid
from urllib.parse import urlencode

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core.models import AuditEvent
from edt.api import base, cme_query
from edt.models import EdtTransaction
from facilities.models import Facility
from tests.cme.helpers import DAY, UST_TYPE, enforcement, inspection, pa_reviewer, violation
from tests.edt.pins import assert_pinned

from . import test_rcmes as rcmes
from .conftest import assert_valid, legacy_header, make_edt_account

PATH = "Regulator/CME/Query"
QUERY_NS = "{http://cersservices.calepa.ca.gov/Schemas/RegulatorCMEQuery/1/05/}"


def get(client, account, accept: str = "", environment: str = "EDT", **params):
    query = urlencode({"regulatorCode": account.regulator.code, **params})
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    return client.get(f"/{environment}/{PATH}?{query}", **legacy_header(account), **extra)


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def answer(response):
    """The answer, valid against the CME query schema of both sets."""
    content = body(response)
    assert_valid(content, "1.05", "CMESubmittalQuery.xsd")
    return assert_valid(content, "cers3", "CMESubmittalQuery.xsd")


def keys(root, entity: str, tag: str) -> list[str]:
    return [r.findtext(tag) for r in root.iterfind(f"{entity}s/{entity}")]


def unique_keys(root) -> dict[str, list[str]]:
    return {
        entity: keys(root, entity, f"{entity}CERSUniqueKey")
        for entity in ("Inspection", "Enforcement", "Violation", "EnforcementViolation")
    }


@pytest.fixture
def world(cast):
    """At Acme's Sacramento depot: the CUPA's business plan inspection with a violation, linked
    to an enforcement action with every field; the PA's UST inspection with a violation. At
    the Davis yard, CUPA 1002's inspection, violation and enforcement action."""
    cast.hmbp = inspection(cast, violations_rtc_on=datetime.date(2024, 5, 20), comments="Yearly.")
    cast.hmbp_violation = violation(
        cast,
        cast.hmbp,
        violation_class=2,
        return_to_compliance_on=datetime.date(2024, 5, 20),
        rtc_qualifier=1,
        comments="Inventory missing.",
    )
    cast.action = enforcement(
        cast,
        [cast.hmbp_violation],
        enforcement_type="c",
        formal_type="a",
        occurred_on=datetime.date(2024, 5, 10),
        red_tag_issued="Y",
        red_tag_number="42",
        red_tag_reason=2,
        red_tag_affixed_on=datetime.date(2024, 5, 10),
        red_tag_removed_on=datetime.date(2024, 5, 15),
        case_settled_on=datetime.date(2024, 6, 30),
        docket_number="AEO-2024-7",
        fine_amount=12500,
        sep_amount=3000,
        comments="Order issued.",
    )
    inspector = pa_reviewer(cast)
    cast.ust = inspection(
        cast,
        "c",
        actor=inspector,
        regulator=cast.pa,
        occurred_on=datetime.date(2024, 3, 1),
        ust_operational_compliance="c",
    )
    cast.ust_violation = violation(
        cast,
        cast.ust,
        UST_TYPE,
        actor=inspector,
        regulator=cast.pa,
        violation_class=1,
        occurred_on=datetime.date(2024, 3, 1),
        scheduled_rtc_on=datetime.date(2024, 4, 1),
    )
    yolo = {"actor": cast.cupa2_reviewer, "regulator": cast.cupa2}
    cast.yolo = inspection(cast, facility=cast.facility_yolo, **yolo)
    cast.yolo_violation = violation(cast, cast.yolo, **yolo)
    cast.yolo_action = enforcement(cast, [cast.yolo_violation], facility=cast.facility_yolo, **yolo)
    return cast


# --- scope and content ---------------------------------------------------------------------


def test_a_cupa_gets_its_own_and_its_pas_records_and_no_other_agencys(client, edt_account, world):
    root = answer(get(client, edt_account))
    pair = EnforcementViolation.objects.get(enforcement=world.action)
    assert unique_keys(root) == {
        "Inspection": [str(world.hmbp.cers_key), str(world.ust.cers_key)],
        "Enforcement": [str(world.action.cers_key)],
        "Violation": [str(world.hmbp_violation.cers_key), str(world.ust_violation.cers_key)],
        "EnforcementViolation": [str(pair.cers_key)],
    }
    assert root.findtext("TransactionKey") == str(EdtTransaction.objects.get().key)
    headers = root.iterfind("Inspections/Inspection/InspectionHeader")
    assert [h.findtext("RegulatorCode") for h in headers] == ["1001", "1101"]
    row = EdtTransaction.objects.get()
    assert (row.status, row.result_count) == (EdtTransaction.Status.ACCEPTED, 6)


def test_a_pa_gets_only_the_program_elements_it_handles(client, cast, pa_edt_account, world):
    root = answer(get(client, pa_edt_account))
    assert unique_keys(root) == {
        "Inspection": [str(world.ust.cers_key)],
        "Enforcement": [],
        "Violation": [str(world.ust_violation.cers_key)],
        "EnforcementViolation": [],
    }


def test_every_field_is_written_in_the_schemas_order(client, edt_account, world):
    root = answer(get(client, edt_account, CERSID=str(world.facility.cers_id)))
    first = root.find("Inspections/Inspection")
    assert [child.tag for child in first] == [
        "InspectionHeader",
        "CERSID",
        "InspectionCERSUniqueKey",  # entered in the portal: no regulator key
        "ProgramElement",
        "OccurredOn",
        "Type",
        "ClassIViolationCount",
        "ClassIIViolationCount",
        "MinorViolationCount",
        "ViolationsRTCOn",
        "Comment",
    ]
    assert first.findtext("InspectionHeader/CMEDataStatus") == "2"
    recorded = AuditEvent.objects.get(action="cme.inspection.recorded", object_id=world.hmbp.pk)
    action_at = first.findtext("InspectionHeader/RegulatorActionDateTime")
    action_at = datetime.datetime.fromisoformat(action_at)
    assert action_at == recorded.created_at.replace(microsecond=0)
    counts = ("ClassIViolationCount", "ClassIIViolationCount", "MinorViolationCount")
    assert [first.findtext(tag) for tag in counts] == ["0", "1", "0"]
    ust = root.findall("Inspections/Inspection")[1]
    assert (ust.findtext("SOCDetermination"), ust.findtext("ClassIViolationCount")) == ("c", "1")

    action = root.find("Enforcements/Enforcement")
    assert {child.tag: child.text for child in action if child.tag != "EnforcementHeader"} == {
        "CERSID": str(world.facility.cers_id),
        "EnforcementCERSUniqueKey": str(world.action.cers_key),
        "RedTagIssued": "Y",
        "RedTagNumber": "00042",
        "ViolationsCausingRedTag": "2",
        "RedTagAffixedOn": "2024-05-10",
        "RedTagRemovedOn": "2024-05-15",
        "Type": "c",
        "OccurredOn": "2024-05-10",
        "FormalType": "a",
        "CaseSettledDroppedOn": "2024-06-30",
        "DocketNumber": "AEO-2024-7",
        "FineAssessedAmount": "12500",
        "SEPAmount": "3000",
        "Comment": "Order issued.",
    }
    found = root.find("Violations/Violation")
    assert {child.tag: child.text for child in found if child.tag != "ViolationHeader"} == {
        "InspectionCERSUniqueKey": str(world.hmbp.cers_key),
        "ViolationCERSUniqueKey": str(world.hmbp_violation.cers_key),
        "TypeID": "1010001",
        "Class": "2",
        "OccurredOn": DAY.isoformat(),
        "ScheduledRTCOn": DAY.isoformat(),
        "ActualRTCOn": "2024-05-20",
        "ActualRTCQualifier": "1",
        "Comment": "Inventory missing.",
    }
    pair = root.find("EnforcementViolations/EnforcementViolation")
    assert pair.findtext("EnforcementViolationHeader/RegulatorCode") == "1001"
    assert pair.findtext("ViolationCERSUniqueKey") == str(world.hmbp_violation.cers_key)


def test_an_empty_answer_is_still_valid(client, edt_account, world):
    root = answer(get(client, edt_account, CERSID=str(world.facility_yolo.cers_id)))
    assert [child.tag for child in root] == ["DataSetDateTime", "TransactionKey", "Inspections"]
    assert root.find("Inspections").get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"


# --- filters -------------------------------------------------------------------------------


def test_each_filter_narrows_every_entity(client, edt_account, world):
    def found(**params) -> dict[str, int]:
        response = get(client, edt_account, **params)
        root = answer(response)
        listed = {entity: len(keys) for entity, keys in unique_keys(root).items()}
        # The count stated before the body (the ceiling's) is exactly what was written.
        counted = EdtTransaction.objects.get(key=response["X-CERS-Transaction-Key"]).result_count
        assert counted == sum(listed.values())
        return listed

    everything = {"Inspection": 2, "Enforcement": 1, "Violation": 2, "EnforcementViolation": 1}
    nothing = dict.fromkeys(everything, 0)
    assert found(CERSID=str(world.facility.cers_id)) == everything
    assert found(CERSID="99999999") == nothing
    assert found(startDate="05-01-2024") == {
        "Inspection": 1,
        "Enforcement": 1,
        "Violation": 1,
        "EnforcementViolation": 1,
    }
    assert found(endDate="03-01-2024") == {
        "Inspection": 1,
        "Enforcement": 0,
        "Violation": 1,
        "EnforcementViolation": 0,
    }
    assert found(startDate="05-02-2024", endDate="05-31-2024") == {
        "Inspection": 0,
        "Enforcement": 1,
        "Violation": 0,
        "EnforcementViolation": 1,
    }
    assert found(status="2") == everything
    assert found(status="2,3") == everything
    assert found(status="3") == nothing  # deletes remove records: none is kept as Deleted
    assert found(schemaVersion="1.05") == everything


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"status": "1"}, b"Exporting Draft (status 1) CME data is not supported"),
        ({"status": "2,7"}, b"7 is not one"),
        ({"status": "approved"}, b"comma-separated list of numbers"),
        ({"CERSID": "abc"}, b"CERSID must be a whole number"),
        ({"startDate": "2024-13-45"}, b"startDate must be a date like"),
        ({"startDate": "06-01-2024", "endDate": "05-01-2024"}, b"startDate is after endDate"),
        ({"schemaVersion": "1/06"}, b"schemaVersion=1/06 is not one of them"),
    ],
)
def test_bad_parameters_are_refused_with_a_message(client, edt_account, params, message):
    response = get(client, edt_account, **params)
    assert response.status_code == 400
    assert message in response.content
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED


# --- formats, limits, tiers ----------------------------------------------------------------


def test_json_answers_the_same_records(client, edt_account, world):
    xml_keys = unique_keys(answer(get(client, edt_account)))
    data = json.loads(body(get(client, edt_account, accept="application/json")))
    assert (data["schema"], data["version"]) == ("CMESubmittalQuery", "1/05")
    assert data["TransactionKey"] == str(EdtTransaction.objects.order_by("-id").first().key)
    json_keys = {
        entity: [record[f"{entity}CERSUniqueKey"] for record in data[f"{entity}s"]]
        for entity in ("Inspection", "Enforcement", "Violation", "EnforcementViolation")
    }
    assert json_keys == xml_keys
    assert data["Enforcements"][0]["RedTagNumber"] == "00042"
    assert data["Inspections"][0]["InspectionHeader"]["RegulatorCode"] == "1001"


def test_a_query_over_the_ceiling_is_413_and_says_how_to_narrow(
    client, edt_account, world, settings
):
    settings.EDT_QUERY_MAX_RESULTS = 5
    response = get(client, edt_account)
    assert response.status_code == 413
    assert b"6 CME records" in response.content and b"CERSID" in response.content
    assert get(client, edt_account, endDate="03-31-2024").status_code == 200


@pytest.mark.parametrize("agency", ["cupa", "pa", "cupa2", "state"])
def test_each_collection_is_the_union_of_its_agencies_jurisdictions(cast, world, agency):
    """The scope drawn once gives what each agency's ``in_jurisdiction`` gives, joined over
    the agencies it answers for (the state agency, which has no EDT account, too)."""
    regulator = getattr(cast, agency)
    agencies = cme_query.answering_for(regulator)
    filters = {"cers_id": None, "since": None, "until": None}
    collections = cme_query.matching_records(regulator, filters)

    def union(queryset):
        return {
            pk for a in agencies for pk in queryset.in_jurisdiction(a).values_list("pk", flat=True)
        }

    inspections = union(Inspection.objects)
    enforcements = union(Enforcement.objects)
    violations = union(Violation.objects)
    assert set(collections["Inspections"].values_list("pk", flat=True)) == inspections
    assert set(collections["Enforcements"].values_list("pk", flat=True)) == enforcements
    assert set(collections["Violations"].values_list("pk", flat=True)) == violations
    assert set(collections["EnforcementViolations"].values_list("pk", flat=True)) == set(
        EnforcementViolation.objects.filter(
            enforcement__in=enforcements, violation__in=violations
        ).values_list("pk", flat=True)
    )
    assert inspections and cme_query.counted(regulator, collections) == sum(
        queryset.count() for queryset in collections.values()
    )
    cme_query.forget_scope()


# --- the scope, drawn once -----------------------------------------------------------------


def scope_table_exists() -> bool:
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"SELECT 1 FROM {cme_query._scope_table()}")  # noqa: S608
    except DatabaseError:
        return False
    return True


def test_the_drawn_scope_is_dropped_after_the_last_record(client, edt_account, world):
    for accept in ("", "application/json"):
        response = get(client, edt_account, accept=accept)
        assert scope_table_exists()  # drawn for the counts, read by every collection
        body(response)
        assert not scope_table_exists()


def test_a_scope_left_by_an_answer_cut_off_is_drawn_again(
    client, edt_account, pa_edt_account, world
):
    """An answer cut off mid-way leaves its scope on the connection: the next answer draws its
    own, for its own agency."""
    next(iter(get(client, edt_account).streaming_content))
    assert scope_table_exists()
    root = answer(get(client, pa_edt_account))
    assert unique_keys(root)["Inspection"] == [str(world.ust.cers_key)]
    assert unique_keys(root)["Violation"] == [str(world.ust_violation.cers_key)]
    assert not scope_table_exists()


# --- the answer, byte for byte ---------------------------------------------------------------

MOMENT = datetime.datetime(2024, 7, 1, 18, 0, tzinfo=datetime.UTC)


def _pinned(client, account, accept: str = "") -> bytes:
    """The answer with what changes from call to call (its time, the transaction's key)
    named instead."""
    raw = body(get(client, account, accept=accept)).decode()
    raw = re.sub(r"<DataSetDateTime>[^<]*<", "<DataSetDateTime>(now)<", raw)
    raw = re.sub(r"<TransactionKey>[^<]*<", "<TransactionKey>(transaction)<", raw)
    raw = re.sub(r'"DataSetDateTime": "[^"]*"', '"DataSetDateTime": "(now)"', raw)
    raw = re.sub(r'"TransactionKey": "[^"]*"', '"TransactionKey": "(transaction)"', raw)
    return raw.encode()


@pytest.mark.parametrize(("accept", "suffix"), [("", "xml"), ("application/json", "json")])
def test_the_whole_answer_is_written_byte_for_byte_as_pinned(
    client, edt_account, pa_edt_account, world, accept, suffix
):
    """Every entity, every field, each action time from its own source (the agency's, the
    latest audit event, the creation time), as the CUPA and as the PA get them, in XML and in
    JSON: a change to how the answer is read or written must not change one byte of it (the
    files are written again with RCMEQ_PIN=write, on purpose only)."""
    for n, model in enumerate((Inspection, Violation, Enforcement, EnforcementViolation)):
        for m, pk in enumerate(model.objects.order_by("pk").values_list("pk", flat=True)):
            model.objects.filter(pk=pk).update(cers_key=uuid.UUID(int=100 * n + m))
    Inspection.objects.update(created_at=MOMENT)
    Enforcement.objects.update(created_at=MOMENT)
    events = AuditEvent.objects.filter(object_type__startswith="cme.").order_by("pk")
    for n, pk in enumerate(events.values_list("pk", flat=True)):
        AuditEvent.objects.filter(pk=pk).update(created_at=MOMENT + datetime.timedelta(hours=n))
    # The PA's UST violation as RCMES leaves it; its inspection's own events gone, so that its
    # action time is its creation time.
    Violation.objects.filter(pk=world.ust_violation.pk).update(
        regulator_key="V-UST-1", regulator_action_at=MOMENT - datetime.timedelta(days=2)
    )
    AuditEvent.objects.filter(object_type="cme.inspection", object_id=str(world.ust.pk)).delete()
    Facility.objects.filter(pk=world.facility.pk).update(cers_id=10_123_456)
    Facility.objects.filter(pk=world.facility_yolo.pk).update(cers_id=10_123_457)
    answer = _pinned(client, edt_account, accept) + _pinned(client, pa_edt_account, accept)
    assert_pinned(answer, f"rcmeq_world.{suffix}", "RCMEQ_PIN")


# Authentication (account, grant), the transaction row, the CUPA's PAs, the scope drawn (an
# earlier one dropped, the table written and analysed), the four counts in one statement, the
# accepted mark, the four entities' records (one cursor each), per batch of each entity its
# records' latest audit events (the inspections' violation counts besides), the scope dropped.
RCMEQ_QUERIES = 19


def test_it_runs_the_same_queries_for_one_record_or_many(
    client, cast, edt_account, django_assert_num_queries
):
    parent = inspection(cast)
    linked = violation(cast, parent)
    enforcement(cast, [linked])
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(RCMEQ_QUERIES):
        assert len(keys(answer(get(client, edt_account)), "Inspection", "CERSID")) == 1
    for _number in range(3):
        more = inspection(cast)
        enforcement(cast, [violation(cast, more), violation(cast, more)])
    with django_assert_num_queries(RCMEQ_QUERIES):
        root = answer(get(client, edt_account))
    assert len(keys(root, "Violation", "TypeID")) == 7
    assert len(keys(root, "EnforcementViolation", "EnforcementViolationCERSUniqueKey")) == 7


def many_records(cast, inspections: int) -> None:
    """``inspections`` more inspections at the depot, each with a violation and every other
    one with an enforcement action linked to it, cloned with bulk_create from records made
    through the services; each clone with one audit event of its own, as the services write,
    an hour apart, so that each record's action time tells whose event was read for it."""
    parent = inspection(cast)
    found = violation(cast, parent, violation_class=1)
    action = enforcement(cast, [found])
    link = EnforcementViolation.objects.get(enforcement=action)

    def clones(template, count, **per_clone):
        made = []
        for n in range(count):
            clone = copy.copy(template)
            clone.pk, clone.cers_key = None, uuid.uuid4()
            for name, value in per_clone.items():
                setattr(clone, name, value[n])
            made.append(clone)
        return type(template).objects.bulk_create(made)

    inspections_made = clones(parent, inspections)
    violations_made = clones(found, inspections, inspection=inspections_made)
    actions_made = clones(action, inspections // 2)
    clones(link, inspections // 2, enforcement=actions_made, violation=violations_made)
    moment = timezone.now() - datetime.timedelta(days=400)
    events = []
    for records in (inspections_made, violations_made, actions_made):
        for record in records:
            moment += datetime.timedelta(hours=1)
            events.append(
                AuditEvent(
                    action="bulk.recorded",
                    object_type=record._meta.label_lower,
                    object_id=str(record.pk),
                    created_at=moment,
                )
            )
    created = AuditEvent.objects.bulk_create(events)
    # ``created_at`` is set on save (auto_now_add): give each event its own moment again.
    for event, record_event in zip(created, events, strict=True):
        event.created_at = record_event.created_at
    AuditEvent.objects.bulk_update(created, ["created_at"])


def test_a_whole_agency_answer_spans_batches_with_the_same_queries_per_batch(
    client, cast, edt_account, monkeypatch, django_assert_num_queries
):
    monkeypatch.setattr(base, "BATCH_SIZE", 30)
    many_records(cast, inspections=150)
    expected = {
        "Inspection": Inspection.objects.count(),
        "Enforcement": Enforcement.objects.count(),
        "Violation": Violation.objects.count(),
        "EnforcementViolation": EnforcementViolation.objects.count(),
    }
    assert sum(expected.values()) > 400 and min(expected.values()) > 2 * base.BATCH_SIZE
    batches = {entity: math.ceil(count / base.BATCH_SIZE) for entity, count in expected.items()}
    # What any answer runs once (RCMEQ_QUERIES less one batch of each entity), then per batch
    # its records' latest audit events, and the inspections' violation counts.
    once = RCMEQ_QUERIES - 5
    per_batch = {"Inspection": 2, "Enforcement": 1, "Violation": 1, "EnforcementViolation": 1}
    queries = once + sum(per_batch[entity] * batches[entity] for entity in expected)
    assert edt_account.regulator.code == "1001"  # loaded here, not in the counted calls
    with django_assert_num_queries(queries):
        root = answer(get(client, edt_account))

    # Every record, once, in order; each with the action time of its own latest audit event.
    latest = {}
    for event in AuditEvent.objects.filter(object_type__startswith="cme."):
        key = (event.object_type, int(event.object_id))
        latest[key] = max(latest.get(key, event.created_at), event.created_at)
    for entity, count in expected.items():
        records = root.findall(f"{entity}s/{entity}")
        assert len(records) == count
        cers_keys = [record.findtext(f"{entity}CERSUniqueKey") for record in records]
        assert len(set(cers_keys)) == count
        dated_by = {  # each record's CERS key: the record whose audit events date it
            key: (label, pk)
            for label, model, pk_field in DATED_BY[entity]
            for key, pk in model.objects.values_list("cers_key", pk_field)
        }
        for record, key in zip(records, cers_keys, strict=True):
            action_at = record.findtext(f"{entity}Header/RegulatorActionDateTime")
            moment = latest[dated_by[uuid.UUID(key)]].replace(microsecond=0)
            assert datetime.datetime.fromisoformat(action_at) == moment, (entity, key)


DATED_BY = {
    "Inspection": [("cme.inspection", Inspection, "pk")],
    "Enforcement": [("cme.enforcement", Enforcement, "pk")],
    "Violation": [("cme.violation", Violation, "pk")],
    "EnforcementViolation": [("cme.enforcement", EnforcementViolation, "enforcement_id")],
}


def test_an_account_without_tier_2_gets_401_code_8(client, cast):
    library_only = make_edt_account("1001", "sac_library", "1", "both")
    response = get(client, library_only)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"


def test_the_staging_environment_answers_too(client, edt_account, world):
    root = answer(get(client, edt_account, environment="Staging"))
    assert len(keys(root, "Inspection", "CERSID")) == 2


# --- the round trip ------------------------------------------------------------------------


def test_records_submitted_with_rcmes_come_back_with_the_same_values(client, cast, edt_account):
    sent = rcmes.full_document(cast)
    rcmes.answer(rcmes.post(client, edt_account, sent))
    root = answer(get(client, edt_account))
    submitted = assert_valid(sent, "cers3", "RegulatorCMESubmit.xsd")

    def values(record, leave_out=()) -> dict:
        result = {}
        for child in record:
            if child.tag.endswith("Header"):
                moment = datetime.datetime.fromisoformat(child.findtext("RegulatorActionDateTime"))
                result["at"] = moment if moment.tzinfo else timezone.make_aware(moment)
                result["code"] = child.findtext("RegulatorCode")
                result["status"] = child.findtext("CMEDataStatus")
            elif child.tag not in leave_out:
                result[child.tag] = child.text
        return result

    computed = {"ClassIViolationCount", "ClassIIViolationCount", "MinorViolationCount"}
    for entity in ("Inspection", "Enforcement", "Violation", "EnforcementViolation"):
        (out,) = root.findall(f"{entity}s/{entity}")
        (into,) = submitted.findall(f"{entity}s/{entity}")
        unique = {tag for tag in (c.tag for c in out) if tag.endswith("CERSUniqueKey")}
        expected = values(into)
        if entity == "Enforcement":
            expected["RedTagNumber"] = "00123"  # stored zero-padded to five digits (913c)
        assert values(out, leave_out=computed | unique) == expected, entity
    inspection_out = root.find("Inspections/Inspection")
    assert inspection_out.findtext("ClassIIViolationCount") == "1"
    for entity, model, key in (
        ("Inspection", Inspection, "I-1"),
        ("Enforcement", Enforcement, "E-1"),
        ("Violation", Violation, "V-1"),
        ("EnforcementViolation", EnforcementViolation, "EV-1"),
    ):
        assert unique_keys(root)[entity] == [str(model.objects.get(regulator_key=key).cers_key)]
