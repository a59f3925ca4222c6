"""RCMES over HTTP: CME records added, changed and deleted from an agency's system, stored as
the portal stores them, every rule with its guidance code, all or nothing, scope and tier."""

from __future__ import annotations

import datetime
import json

import pytest
from django.urls import reverse
from django.utils import timezone

from cme import services
from cme.models import Enforcement, EnforcementViolation, Inspection, Violation
from core.models import AuditEvent
from edt.models import EdtTransaction
from edt.processors.cme import EDT_INSPECTOR
from tests import factories
from tests.cme.helpers import inspection as portal_inspection

from .conftest import assert_valid, content, legacy_header

NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorCMESubmit/1/05/"
URL = "/EDT/Regulator/CME/Submit?regulatorCode=1001"
AT = "2024-05-02T09:00:00"
LATER = "2024-05-03T09:00:00"


def header(tag: str, regulator: str, status: int, at: str) -> str:
    return (
        f"<{tag}><RegulatorCode>{regulator}</RegulatorCode>"
        f"<RegulatorActionDateTime>{at}</RegulatorActionDateTime>"
        f"<CMEDataStatus>{status}</CMEDataStatus></{tag}>"
    )


def fields(*pairs) -> str:
    """``<Tag>value</Tag>`` for each pair whose value is not None, in the order given."""
    return "".join(f"<{tag}>{value}</{tag}>" for tag, value in pairs if value is not None)


def inspection(key, cers_id, *, regulator="1001", status=2, at=AT, **values) -> str:
    v = {"ProgramElement": "a", "OccurredOn": "2024-05-01", "Type": "a"} | values
    return (
        "<Inspection>"
        + header("InspectionHeader", regulator, status, at)
        + fields(("CERSID", cers_id), ("InspectionRegulatorKey", key))
        + fields(
            *(
                (tag, v.get(tag))
                for tag in (
                    "ProgramElement",
                    "OccurredOn",
                    "Type",
                    "SOCDetermination",
                    "ViolationsRTCOn",
                    "Comment",
                )
            )
        )
        + "</Inspection>"
    )


def violation(key, inspection_key, *, regulator="1001", status=2, at=AT, **values) -> str:
    v = {
        "TypeID": "1010001",
        "Class": "9",
        "OccurredOn": "2024-05-01",
        "ScheduledRTCOn": "2024-06-01",
    } | values
    tags = ("TypeID", "Class", "OccurredOn", "ScheduledRTCOn", "ActualRTCOn")
    tags += ("ActualRTCQualifier", "Comment")
    return (
        "<Violation>"
        + header("ViolationHeader", regulator, status, at)
        + fields(("InspectionRegulatorKey", inspection_key), ("ViolationRegulatorKey", key))
        + fields(*((tag, v.get(tag)) for tag in tags))
        + "</Violation>"
    )


ENFORCEMENT_TAGS = (
    "RedTagIssued",
    "RedTagNumber",
    "ViolationsCausingRedTag",
    "RedTagAffixedOn",
    "RedTagRemovedOn",
    "Type",
    "OccurredOn",
    "FormalType",
    "CaseSettledDroppedOn",
    "DocketNumber",
    "FineAssessedAmount",
    "SEPAmount",
    "Comment",
)


def enforcement(key, cers_id, *, regulator="1001", status=2, at=AT, **values) -> str:
    v = {"Type": "a", "OccurredOn": "2024-05-10"} | values
    return (
        "<Enforcement>"
        + header("EnforcementHeader", regulator, status, at)
        + fields(("CERSID", cers_id), ("EnforcementRegulatorKey", key))
        + fields(*((tag, v.get(tag)) for tag in ENFORCEMENT_TAGS))
        + "</Enforcement>"
    )


def link(key, enforcement_key, violation_key, *, regulator="1001", status=2, at=AT) -> str:
    return (
        "<EnforcementViolation>"
        + header("EnforcementViolationHeader", regulator, status, at)
        + fields(
            ("EnforcementRegulatorKey", enforcement_key),
            ("ViolationRegulatorKey", violation_key),
            ("EnforcementViolationRegulatorKey", key),
        )
        + "</EnforcementViolation>"
    )


def document(inspections=(), enforcements=(), violations=(), links=(), client_key="") -> bytes:
    parts = (
        [f"<RegulatorTransactionKey>{client_key}</RegulatorTransactionKey>"] if client_key else []
    )
    for tag, records in (
        ("Inspections", inspections),
        ("Enforcements", enforcements),
        ("Violations", violations),
        ("EnforcementViolations", links),
    ):
        if records:
            parts.append(f"<{tag}>{''.join(records)}</{tag}>")
    return (
        f'<?xml version="1.0"?><cers:CMESubmittals xmlns:cers="{NS}">{"".join(parts)}'
        "</cers:CMESubmittals>"
    ).encode()


def post(client, account, body: bytes, url: str = URL, **extra):
    response = client.post(url, body, content_type="text/xml", **legacy_header(account), **extra)
    assert response.status_code == 200, content(response)
    return response


def answer(response):
    """The response envelope, valid against both schema sets."""
    assert_valid(content(response), "1.05", "RegulatorCMESubmitResponse.xsd")
    return assert_valid(content(response), "cers3", "RegulatorCMESubmitResponse.xsd")


def status(root) -> str:
    return root.findtext("Transaction/TransactionStatus")


def guidance(root) -> list[tuple[int, str, str]]:
    return [
        (int(m.get("guidanceCode")), m.get("level"), m.get("regulatorKey"))
        for m in root.iterfind("GuidanceMessages/GuidanceMessage")
    ]


def worded(root) -> list[tuple[int, str, str]]:
    """Each guidance message's code, regulator key and text, in order."""
    return [
        (int(m.get("guidanceCode")), m.get("regulatorKey"), m.text)
        for m in root.iterfind("GuidanceMessages/GuidanceMessage")
    ]


def entity_keys(root) -> dict[tuple[str, str], str]:
    return {
        (k.findtext("EntityResource"), k.findtext("RegulatorKey")): k.findtext("CERSUniqueKey")
        for k in root.iterfind("EntityKeys/EntityKey")
    }


def nothing_stored() -> bool:
    return not (
        Inspection.objects.exists()
        or Violation.objects.exists()
        or Enforcement.objects.exists()
        or AuditEvent.objects.filter(action__startswith="cme.").exists()
    )


def full_document(cast) -> bytes:
    """One of each record with every optional field, for the CUPA's business plan program."""
    cers_id = cast.facility.cers_id
    return document(
        inspections=[
            inspection(
                "I-1",
                cers_id,
                ViolationsRTCOn="2024-05-20",
                Comment="Annual routine inspection.",
            )
        ],
        enforcements=[
            enforcement(
                "E-1",
                cers_id,
                RedTagIssued="Y",
                RedTagNumber="123",
                ViolationsCausingRedTag="1",
                RedTagAffixedOn="2024-05-10",
                RedTagRemovedOn="2024-05-15",
                Type="c",
                FormalType="a",
                CaseSettledDroppedOn="2024-06-30",
                DocketNumber="AEO-2024-7",
                FineAssessedAmount="12500",
                SEPAmount="3000",
                Comment="Order issued.",
            )
        ],
        violations=[
            violation(
                "V-1",
                "I-1",
                TypeID="1010002",
                Class="2",
                ScheduledRTCOn="2024-05-15",
                ActualRTCOn="2024-05-20",
                ActualRTCQualifier="1",
                Comment="Inventory missing.",
            )
        ],
        links=[link("EV-1", "E-1", "V-1")],
    )


# --- storing -----------------------------------------------------------------------------


def test_it_stores_every_record_as_sent_and_answers_their_keys(client, cast, edt_account):
    root = answer(post(client, edt_account, full_document(cast)))
    assert status(root) == "Accepted", guidance(root)

    stored = Inspection.objects.get()
    assert (stored.facility, stored.regulator) == (cast.facility, cast.cupa)
    assert (stored.program_element, stored.inspection_type) == ("a", "a")
    assert stored.occurred_on == datetime.date(2024, 5, 1)
    assert stored.violations_rtc_on == datetime.date(2024, 5, 20)
    assert stored.comments == "Annual routine inspection."
    assert stored.inspector_name == EDT_INSPECTOR
    assert stored.regulator_key == "I-1"
    assert timezone.localtime(stored.regulator_action_at).isoformat() == AT + "-07:00"

    found = Violation.objects.get()
    assert (found.inspection, found.violation_type.type_number) == (stored, "1010002")
    assert (found.violation_class, found.rtc_qualifier, found.regulator_key) == (2, 1, "V-1")
    assert found.scheduled_rtc_on == datetime.date(2024, 5, 15)
    assert found.return_to_compliance_on == datetime.date(2024, 5, 20)
    assert found.comments == "Inventory missing."

    action = Enforcement.objects.get()
    assert (action.enforcement_type, action.formal_type, action.regulator_key) == ("c", "a", "E-1")
    assert (action.red_tag_issued, action.red_tag_number, action.red_tag_reason) == (
        "Y",
        "00123",
        1,
    )
    assert (action.red_tag_affixed_on, action.red_tag_removed_on) == (
        datetime.date(2024, 5, 10),
        datetime.date(2024, 5, 15),
    )
    assert (action.docket_number, action.fine_amount, action.sep_amount) == (
        "AEO-2024-7",
        12500,
        3000,
    )
    assert action.case_settled_on == datetime.date(2024, 6, 30)
    assert list(action.violations.all()) == [found]
    pair = EnforcementViolation.objects.get()
    assert pair.regulator_key == "EV-1"

    assert entity_keys(root) == {
        ("CMEI", "I-1"): str(stored.cers_key),
        ("CMEV", "V-1"): str(found.cers_key),
        ("CMEE", "E-1"): str(action.cers_key),
        ("CMEEV", "EV-1"): str(pair.cers_key),
    }
    events = AuditEvent.objects.filter(action__startswith="cme.")
    assert sorted(events.values_list("action", flat=True)) == [
        "cme.enforcement.recorded",
        "cme.enforcement.updated",  # the link, added as the portal adds one
        "cme.inspection.recorded",
        "cme.violation.recorded",
    ]
    assert {(e.actor, e.regulator) for e in events} == {(edt_account.user, cast.cupa)}


def test_the_records_show_in_the_regulator_portal(client, cast, edt_account):
    answer(post(client, edt_account, full_document(cast)))
    stored = Inspection.objects.get()
    client.force_login(cast.cupa_reviewer)
    page = client.get(reverse("regulator:cme_inspection", args=[stored.pk]))
    assert page.status_code == 200
    assert "1010002" in page.content.decode()
    action = Enforcement.objects.get()
    page = client.get(reverse("regulator:cme_enforcement", args=[action.pk])).content.decode()
    assert "00123" in page and "AEO-2024-7" in page


def test_a_cupa_submits_for_its_pa_on_the_program_elements_the_pa_handles(
    client, cast, edt_account
):
    body = document(
        inspections=[
            inspection(
                "UST-1",
                cast.facility.cers_id,
                regulator="1101",
                ProgramElement="c",
                SOCDetermination="c",
            )
        ],
        violations=[violation("UST-V1", "UST-1", regulator="1101", TypeID="2030002", Class="1")],
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted", guidance(root)
    stored = Inspection.objects.get()
    assert (stored.regulator, stored.ust_operational_compliance) == (cast.pa, "c")
    client.force_login(cast.pa_viewer)
    assert client.get(reverse("regulator:cme_inspection", args=[stored.pk])).status_code == 200


def test_the_cupa_cannot_record_a_program_element_its_pa_handles(client, cast, edt_account):
    body = document(inspections=[inspection("UST-1", cast.facility.cers_id, ProgramElement="c")])
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected"
    assert guidance(root) == [(1053, "Required", "UST-1")]
    assert nothing_stored()


def test_another_agencys_facility_and_agency_are_refused(client, cast, edt_account):
    body = document(
        inspections=[
            inspection("YOLO-1", cast.facility_yolo.cers_id),  # CUPA 1002's facility
            inspection("AS-YOLO", cast.facility_yolo.cers_id, regulator="1002"),
        ]
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected"
    assert guidance(root) == [(1053, "Required", "YOLO-1"), (1068, "Required", "AS-YOLO")]
    assert nothing_stored()


# --- every rule, every message, nothing stored --------------------------------------------


def test_every_bad_record_is_listed_with_its_code_and_nothing_is_stored(client, cast, edt_account):
    cers_id = cast.facility.cers_id
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    body = document(
        inspections=[
            inspection("GOOD", cers_id),
            inspection("NO-AGENCY", cers_id, regulator="9999"),
            inspection("NO-FACILITY", 99999999),
            inspection("TOO-EARLY", cers_id, OccurredOn="1979-01-01"),
            inspection("FUTURE", cers_id, OccurredOn=tomorrow),
        ],
        enforcements=[enforcement("BAD-TAG", cers_id, RedTagIssued="Y", RedTagNumber="12A")],
        violations=[
            violation("NO-TYPE", "GOOD", TypeID="1234567"),
            violation("WRONG-PROGRAM", "GOOD", TypeID="2030002"),
            violation("NO-RTC", "GOOD", ScheduledRTCOn=None),
            violation("SCHEDULED-EARLY", "GOOD", ScheduledRTCOn="2024-04-01"),
            violation("ACTUAL-EARLY", "GOOD", ActualRTCOn="2024-04-01", ActualRTCQualifier="2"),
            violation("NO-QUALIFIER", "GOOD", ActualRTCOn="2024-05-02"),
            violation("NO-DATE", "GOOD", ScheduledRTCOn="2024-06-01", ActualRTCQualifier="2"),
            violation("NO-PARENT", "MISSING"),
        ],
        links=[link("NO-ENFORCEMENT", "MISSING", "NO-TYPE")],
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected"
    assert set(guidance(root)) == {
        (1049, "Required", "NO-AGENCY"),
        (1054, "Required", "NO-FACILITY"),
        (1055, "Required", "TOO-EARLY"),
        (1056, "Required", "FUTURE"),
        (1017, "Required", "BAD-TAG"),
        (1050, "Required", "NO-TYPE"),
        (1079, "Required", "WRONG-PROGRAM"),
        (1057, "Required", "NO-RTC"),
        (1058, "Required", "SCHEDULED-EARLY"),
        (1059, "Required", "ACTUAL-EARLY"),
        (1060, "Required", "NO-QUALIFIER"),
        (1061, "Required", "NO-DATE"),
        (1051, "Required", "NO-PARENT"),
        (1051, "Required", "NO-ENFORCEMENT"),
    }
    message = root.find("GuidanceMessages/GuidanceMessage[@regulatorKey='NO-FACILITY']")
    assert "99999999" in message.text and "line " in message.text
    assert message.get("entityResource") == "CMEI"
    assert nothing_stored()
    assert EdtTransaction.objects.get(endpoint="RCMES").status == EdtTransaction.Status.REJECTED


def test_rules_across_records_are_checked_when_they_are_written(client, cast, edt_account):
    cers_id = cast.facility.cers_id
    body = document(
        inspections=[inspection("I-1", cers_id, OccurredOn="2024-05-01")],
        enforcements=[enforcement("EARLY", cers_id, OccurredOn="2024-04-20")],
        violations=[violation("V-1", "I-1", OccurredOn="2024-05-01")],
        links=[link("EV-1", "EARLY", "V-1")],
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected"
    assert guidance(root) == [(1062, "Required", "EV-1")]
    assert nothing_stored()


def test_a_link_across_facilities_is_refused(client, cast, edt_account):
    depot = factories.make_facility(cast.org, name="Acme Second Depot", zip_code="95814")
    body = document(
        inspections=[inspection("I-1", cast.facility.cers_id)],
        enforcements=[enforcement("E-ELSEWHERE", depot.cers_id)],
        violations=[violation("V-1", "I-1")],
        links=[link("EV-1", "E-ELSEWHERE", "V-1")],
    )
    root = answer(post(client, edt_account, body))
    assert guidance(root) == [(1064, "Required", "EV-1")]
    assert nothing_stored()


# --- updates and deletes -------------------------------------------------------------------


def test_an_update_replaces_the_whole_record_with_a_later_action_time(client, cast, edt_account):
    cers_id = cast.facility.cers_id
    first = document(inspections=[inspection("I-1", cers_id, Comment="First visit.")])
    answer(post(client, edt_account, first))
    changed = document(
        inspections=[inspection("I-1", cers_id, at=LATER, OccurredOn="2024-05-02", Type="b")]
    )
    root = answer(post(client, edt_account, changed))
    assert status(root) == "Accepted", guidance(root)
    stored = Inspection.objects.get()
    assert (stored.occurred_on, stored.inspection_type) == (datetime.date(2024, 5, 2), "b")
    assert stored.comments == ""  # left out: cleared
    assert stored.inspector_name == EDT_INSPECTOR
    assert timezone.localtime(stored.regulator_action_at).isoformat() == LATER + "-07:00"
    event = AuditEvent.objects.get(action="cme.inspection.updated")
    assert event.before["comments"] == "First visit." and event.after["comments"] == ""
    assert entity_keys(root) == {("CMEI", "I-1"): str(stored.cers_key)}

    same_time = document(inspections=[inspection("I-1", cers_id, at=LATER, Comment="Again")])
    root = answer(post(client, edt_account, same_time))
    assert guidance(root) == [(1052, "Required", "I-1")]
    assert Inspection.objects.get().comments == ""


def test_only_the_latest_of_a_records_copies_is_processed(client, cast, edt_account):
    cers_id = cast.facility.cers_id
    body = document(
        inspections=[
            inspection("I-1", cers_id, at=LATER, Comment="latest"),
            inspection("I-1", cers_id, at=AT, Comment="older"),
            inspection("I-2", cers_id, Comment="first of a tie"),
            inspection("I-2", cers_id, Comment="last of a tie"),
        ]
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted", guidance(root)
    comments = dict(Inspection.objects.values_list("regulator_key", "comments"))
    assert comments == {"I-1": "latest", "I-2": "last of a tie"}


def test_a_record_entered_in_the_portal_is_not_changed_by_edt(client, cast, edt_account):
    portal = portal_inspection(cast)
    body = document(inspections=[inspection("I-1", cast.facility.cers_id)])
    answer(post(client, edt_account, body))
    assert Inspection.objects.count() == 2
    portal.refresh_from_db()
    assert portal.regulator_key == "" and portal.inspector_name == "Rita Reviewer"


def test_an_update_cannot_move_a_record_to_another_facility(client, cast, edt_account):
    depot = factories.make_facility(cast.org, name="Acme Second Depot", zip_code="95814")
    answer(
        post(client, edt_account, document(inspections=[inspection("I-1", cast.facility.cers_id)]))
    )
    moved = document(inspections=[inspection("I-1", depot.cers_id, at=LATER)])
    root = answer(post(client, edt_account, moved))
    assert guidance(root) == [(1013, "Required", "I-1")]
    assert Inspection.objects.get().facility == cast.facility


def test_deletes_remove_records_children_first_with_their_history(client, cast, edt_account):
    answer(post(client, edt_account, full_document(cast)))
    cers_id = cast.facility.cers_id
    extra = document(violations=[violation("V-2", "I-1")])
    answer(post(client, edt_account, extra))

    unlink = document(links=[link("EV-1", "E-1", "V-1", status=3, at=LATER)])
    root = answer(post(client, edt_account, unlink))
    assert status(root) == "Accepted", guidance(root)
    assert not EnforcementViolation.objects.exists()
    assert Enforcement.objects.get().violations.count() == 0

    body = document(
        inspections=[inspection("I-1", cers_id, status=3, at=LATER)],
        enforcements=[enforcement("E-1", cers_id, status=3, at=LATER)],
        violations=[violation("V-1", "I-1", status=3, at=LATER)],
        links=[link("GONE", "E-1", "V-1", status=3)],
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted", guidance(root)
    assert nothing_left()
    messages = guidance(root)
    assert (1051, "Warning", "GONE") in messages  # nothing to delete: not an error
    assert (1063, "Warning", "I-1") in messages  # V-2 went with its inspection
    deleted = AuditEvent.objects.filter(action__endswith=".deleted", actor=edt_account.user)
    assert sorted(deleted.values_list("action", flat=True)) == [
        "cme.enforcement.deleted",
        "cme.inspection.deleted",
        "cme.violation.deleted",  # V-1, deleted on its own
        "cme.violation.deleted",  # V-2, with its inspection
    ]


def nothing_left() -> bool:
    return not (
        Inspection.objects.exists()
        or Violation.objects.exists()
        or Enforcement.objects.exists()
        or EnforcementViolation.objects.exists()
    )


def test_an_approved_child_of_a_deleted_parent_is_refused(client, cast, edt_account):
    answer(post(client, edt_account, full_document(cast)))
    body = document(
        inspections=[inspection("I-1", cast.facility.cers_id, status=3, at=LATER)],
        violations=[violation("V-9", "I-1", at=LATER)],
    )
    root = answer(post(client, edt_account, body))
    assert guidance(root) == [(1063, "Required", "V-9")]
    assert Inspection.objects.count() == 1 and Violation.objects.count() == 1


def test_a_link_adopts_the_same_link_made_in_the_portal(client, cast, edt_account):
    cers_id = cast.facility.cers_id
    body = document(
        inspections=[inspection("I-1", cers_id)],
        enforcements=[enforcement("E-1", cers_id)],
        violations=[violation("V-1", "I-1")],
    )
    answer(post(client, edt_account, body))
    action, found = Enforcement.objects.get(), Violation.objects.get()
    services.update_enforcement(
        actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, violations=[found]
    )
    root = answer(post(client, edt_account, document(links=[link("EV-1", "E-1", "V-1")])))
    assert status(root) == "Accepted", guidance(root)
    pair = EnforcementViolation.objects.get()
    assert pair.regulator_key == "EV-1"
    assert entity_keys(root) == {("CMEEV", "EV-1"): str(pair.cers_key)}


def test_a_link_deleted_and_added_again_under_a_new_key_in_one_document(client, cast, edt_account):
    answer(post(client, edt_account, full_document(cast)))
    body = document(
        links=[link("EV-1", "E-1", "V-1", status=3, at=LATER), link("EV-2", "E-1", "V-1")]
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted", guidance(root)
    pair = EnforcementViolation.objects.get()
    assert pair.regulator_key == "EV-2"
    assert entity_keys(root)[("CMEEV", "EV-2")] == str(pair.cers_key)
    updates = AuditEvent.objects.filter(action="cme.enforcement.updated").order_by("pk")
    assert [(len(e.before["violations"]), len(e.after["violations"])) for e in updates] == [
        (0, 1),  # the first document's link
        (1, 0),  # EV-1 deleted
        (0, 1),  # EV-2 added
    ]


def test_a_link_sent_again_beside_a_new_key_for_its_pair_refuses_the_new_key(
    client, cast, edt_account
):
    """A document sends a stored link again and the same pair under a new key: the new key is
    refused, as the pair is linked under the first; the upload is not an error of CERS."""
    answer(post(client, edt_account, full_document(cast)))
    keyed = EnforcementViolation.objects.get().regulator_action_at
    body = document(
        links=[link("EV-1", "E-1", "V-1", at=LATER), link("EV-2", "E-1", "V-1", at=LATER)]
    )
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected", worded(root)
    assert worded(root) == [
        (
            1013,
            "EV-2",
            "Enforcement-violation link EV-2: Enforcement E-1 already links violation V-1 under "
            "the key EV-1. [line 1 (/CMESubmittals/EnforcementViolations/EnforcementViolation)]",
        )
    ]
    pair = EnforcementViolation.objects.get()
    assert (pair.regulator_key, pair.regulator_action_at) == ("EV-1", keyed)


def test_a_pas_link_sent_again_under_the_cupas_code_is_refused(client, cast, edt_account):
    """The CUPA may not delete its PA's UST link under its own code, nor write its keys: the
    link sent again is refused as the delete is (1053), and its keys stay as they were."""
    cers_id = cast.facility.cers_id
    pa = {"regulator": "1101"}
    body = document(
        inspections=[inspection("UST-1", cers_id, ProgramElement="c", SOCDetermination="c", **pa)],
        enforcements=[enforcement("UST-E", cers_id, **pa)],
        violations=[violation("UST-V1", "UST-1", TypeID="2030002", Class="1", **pa)],
        links=[link("UST-L", "UST-E", "UST-V1", **pa)],
    )
    assert status(answer(post(client, edt_account, body))) == "Accepted"
    keyed = EnforcementViolation.objects.get().regulator_action_at
    for sent in (3, 2):
        again = document(links=[link("UST-L", "UST-E", "UST-V1", status=sent, at=LATER)])
        root = answer(post(client, edt_account, again))
        assert guidance(root) == [(1053, "Required", "UST-L")], sent
    assert EnforcementViolation.objects.get().regulator_action_at == keyed
    assert not AuditEvent.objects.filter(action="cme.link.keyed").exists()


# --- environments, formats, tiers ----------------------------------------------------------


def test_the_testing_environment_answers_and_keeps_nothing(client, cast, edt_account):
    url = "/Staging/Regulator/CME/Submit?regulatorCode=1001"
    root = answer(post(client, edt_account, full_document(cast), url=url))
    assert status(root) == "Accepted", guidance(root)
    assert len(entity_keys(root)) == 4
    assert nothing_left()
    assert not AuditEvent.objects.filter(action__startswith="cme.").exists()


def test_the_answer_comes_as_json_on_request(client, cast, edt_account):
    response = post(client, edt_account, full_document(cast), HTTP_ACCEPT="application/json")
    data = json.loads(content(response))
    assert data["CMESubmittalResponse"]["Transaction"]["TransactionStatus"] == "Accepted"
    resources = {key["EntityResource"] for key in data["CMESubmittalResponse"]["EntityKeys"]}
    assert resources == {"CMEI", "CMEV", "CMEE", "CMEEV"}


def test_a_pa_account_cannot_submit(client, cast, pa_edt_account):
    response = client.post(
        "/EDT/Regulator/CME/Submit?regulatorCode=1101",
        full_document(cast),
        content_type="text/xml",
        **legacy_header(pa_edt_account),
    )
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"
    assert nothing_left()


@pytest.mark.parametrize("schema_set", ["1.05", "cers3"])
def test_a_document_valid_in_both_schema_sets_is_accepted(client, cast, edt_account, schema_set):
    body = full_document(cast)
    assert_valid(body, schema_set, "RegulatorCMESubmit.xsd")
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted"


# --- cost ----------------------------------------------------------------------------------


def test_the_queries_do_not_grow_with_the_records_added(client, cast, edt_account):
    """The check asks the rule for every record of a chunk at once and the chunk's added
    records are written together (``cme.services.record_cme_batch``): as many queries for 3
    inspections, each with a violation, an enforcement action and a link, at 3 facilities as
    for 30 at 6 (both one chunk)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sites = [cast.facility] + [factories.make_facility(cast.org) for _ in range(5)]

    def queries(count: int, run: str, facilities) -> int:
        keys = [(f"{run}-{n}", facilities[n % len(facilities)].cers_id) for n in range(count)]
        body = document(
            inspections=[inspection(f"I-{k}", cers_id) for k, cers_id in keys],
            violations=[violation(f"V-{k}", f"I-{k}") for k, _ in keys],
            enforcements=[enforcement(f"E-{k}", cers_id) for k, cers_id in keys],
            links=[link(f"EV-{k}", f"E-{k}", f"V-{k}") for k, _ in keys],
        )
        with CaptureQueriesContext(connection) as captured:
            root = answer(post(client, edt_account, body))
        assert status(root) == "Accepted", guidance(root)
        assert len(entity_keys(root)) == 4 * count
        return len(captured)

    post(client, edt_account, document())  # the first call's one-time reads
    assert queries(3, "few", sites[:3]) == queries(30, "many", sites)
    assert EnforcementViolation.objects.count() == 33
    assert AuditEvent.objects.filter(action="cme.violation.recorded").count() == 33


def test_the_queries_grow_with_the_chunks_not_the_records(client, cast, edt_account, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from edt.processors import cme as processor

    monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", 4)
    sites = [cast.facility] + [factories.make_facility(cast.org) for _ in range(3)]

    def queries(count: int, run: str) -> int:
        body = document(
            inspections=[
                inspection(f"I-{run}-{n}", sites[n % len(sites)].cers_id) for n in range(count)
            ]
        )
        with CaptureQueriesContext(connection) as captured:
            root = answer(post(client, edt_account, body))
        assert status(root) == "Accepted", guidance(root)
        return len(captured)

    post(client, edt_account, document())  # the first call's one-time reads
    two_chunks = queries(5, "a")
    assert queries(8, "b") == two_chunks
    assert queries(9, "c") > two_chunks  # a third chunk
    assert Inspection.objects.count() == 22


# --- reading: streaming, a chunk at a time -------------------------------------------------


def test_an_upload_never_builds_the_documents_tree(client, cast, edt_account, monkeypatch):
    """The document is read streaming (an index, then each chunk's values): a whole tree would
    hold the largest document allowed at once."""
    from core import xmlsafe

    def whole_tree(*args, **kwargs):
        raise AssertionError("the whole tree was parsed")

    monkeypatch.setattr(xmlsafe, "parse_document", whole_tree)
    root = answer(post(client, edt_account, full_document(cast)))
    assert status(root) == "Accepted", guidance(root)
    assert len(entity_keys(root)) == 4
    changed = document(
        inspections=[inspection("I-1", cast.facility.cers_id, at=LATER, OccurredOn="1979-01-01")],
        violations=[violation("V-1", "I-1", status=3, at=LATER)],
    )
    root = answer(post(client, edt_account, changed))
    assert guidance(root) == [(1055, "Required", "I-1")]


def chunked_document(cers_id, *, inspections=(), enforcements=(), violations=(), links=()) -> bytes:
    """Five inspections, three enforcement actions, five violations and four links: in chunks
    of three, every violation's inspection and every link's action and violation are in an
    earlier chunk than the child. The records given are added to the end of their lists."""
    return document(
        inspections=[inspection(f"I-{n}", cers_id) for n in range(5)] + list(inspections),
        enforcements=[enforcement(f"E-{n}", cers_id) for n in range(3)] + list(enforcements),
        violations=[violation(f"V-{n}", f"I-{n}") for n in range(5)] + list(violations),
        links=[link(f"EV-{n}", f"E-{n % 3}", f"V-{n}") for n in range(4)] + list(links),
    )


def test_an_upload_larger_than_a_chunk_is_written_a_chunk_at_a_time(
    client, cast, edt_account, monkeypatch
):
    from edt.processors import cme as processor

    monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", 3)
    batches = []
    record_cme_batch = services.record_cme_batch

    def counted(**kinds):
        batches.append(
            sum(len(kinds[k]) for k in ("inspections", "violations", "enforcements", "links"))
        )
        return record_cme_batch(**kinds)

    monkeypatch.setattr(services, "record_cme_batch", counted)
    root = answer(post(client, edt_account, chunked_document(cast.facility.cers_id)))
    assert status(root) == "Accepted", guidance(root)
    assert batches == [3, 3, 3, 3, 3, 2]  # 17 records, never more than a chunk at once
    for n in range(5):  # each violation found its inspection, written by an earlier chunk
        found = Violation.objects.get(regulator_key=f"V-{n}")
        assert found.inspection.regulator_key == f"I-{n}"
    links = EnforcementViolation.objects.values_list(
        "regulator_key", "enforcement__regulator_key", "violation__regulator_key"
    )
    assert sorted(links) == [(f"EV-{n}", f"E-{n % 3}", f"V-{n}") for n in range(4)]
    keys = entity_keys(root)
    assert len(keys) == 17
    assert keys[("CMEV", "V-4")] == str(Violation.objects.get(regulator_key="V-4").cers_key)
    # The links to one action are its list growing one violation at a time, across chunks.
    action = Enforcement.objects.get(regulator_key="E-0")
    updates = AuditEvent.objects.filter(
        action="cme.enforcement.updated", object_id=str(action.pk)
    ).order_by("pk")
    assert [(len(e.before["violations"]), len(e.after["violations"])) for e in updates] == [
        (0, 1),
        (1, 2),
    ]


def test_a_large_uploads_progress_is_reported_chunk_by_chunk(
    client, cast, edt_account, monkeypatch
):
    """The transaction log shows how far a long CME upload has come: a report after each
    chunk of added records is written, and one when all are."""
    from edt.processors import cme as processor
    from edt.uploads import UploadContext

    monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", 3)
    reports: list[tuple[int, int]] = []
    monkeypatch.setattr(
        UploadContext, "progress", lambda context, done, total: reports.append((done, total))
    )
    root = answer(post(client, edt_account, chunked_document(cast.facility.cers_id)))
    assert status(root) == "Accepted", guidance(root)
    assert reports == [(3, 17), (6, 17), (9, 17), (12, 17), (15, 17), (17, 17), (17, 17)]


def test_a_bad_record_in_a_later_chunk_stores_nothing_and_every_message_is_reported(
    client, cast, edt_account, monkeypatch
):
    """A refusal in the last chunks rolls back the chunks written before them, and each
    record's messages are those of the whole document read as one chunk: its own checks, a
    parent that is missing, a violation of a refused inspection checked all the same, and the
    rules across records; a link to a refused violation is not written, and says nothing
    more."""
    from edt.processors import cme as processor

    cers_id = cast.facility.cers_id
    body = chunked_document(
        cers_id,
        inspections=[inspection("I-BAD", cers_id, OccurredOn="1979-01-01")],
        enforcements=[enforcement("E-EARLY", cers_id, OccurredOn="2024-04-20")],
        violations=[
            violation("V-BAD", "I-1", ScheduledRTCOn=None),
            violation("V-NO-PARENT", "MISSING"),
            violation("V-OF-BAD", "I-BAD", ScheduledRTCOn=None),
        ],
        links=[link("EV-BAD", "E-0", "V-BAD"), link("EV-LATE", "E-EARLY", "V-4")],
    )

    def messages(chunk: int):
        monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", chunk)
        root = answer(post(client, edt_account, body))
        assert status(root) == "Rejected"
        assert nothing_stored()
        return worded(root)

    in_chunks = messages(3)
    assert [(code, key) for code, key, _text in in_chunks] == [
        (1055, "I-BAD"),
        (1057, "V-BAD"),
        (1051, "V-NO-PARENT"),
        (1057, "V-OF-BAD"),
        (1062, "EV-LATE"),
    ]
    assert in_chunks == messages(1000)
    assert "(/CMESubmittals/Violations/Violation)" in in_chunks[1][2]


def _added_then_changed(cast, keys, **changes) -> tuple[bytes, bytes]:
    """An upload adding an inspection, a violation, an enforcement action and a link for each
    ``(key, cers_id)`` of ``keys``, and one sending the three records again later, changed
    (``changes``: the record keys to send with other values, by key)."""
    added = document(
        inspections=[inspection(f"I-{k}", cers_id) for k, cers_id in keys],
        violations=[violation(f"V-{k}", f"I-{k}") for k, _ in keys],
        enforcements=[enforcement(f"E-{k}", cers_id) for k, cers_id in keys],
        links=[link(f"EV-{k}", f"E-{k}", f"V-{k}") for k, _ in keys],
    )
    later = document(
        inspections=[
            inspection(f"I-{k}", cers_id, at=LATER, **{"Type": "b"} | changes.get(f"I-{k}", {}))
            for k, cers_id in keys
        ],
        violations=[
            violation(f"V-{k}", f"I-{k}", at=LATER, **{"Class": "2"} | changes.get(f"V-{k}", {}))
            for k, _ in keys
        ],
        enforcements=[
            enforcement(
                f"E-{k}", cers_id, at=LATER, **{"Comment": "Again."} | changes.get(f"E-{k}", {})
            )
            for k, cers_id in keys
        ],
    )
    return added, later


def test_the_queries_do_not_grow_with_the_records_changed(client, cast, edt_account):
    """A chunk of changes is checked at once and written together
    (``cme.services.update_cme_batch``), their EDT keys with them: as many queries to change
    3 inspections, violations and enforcement actions at 3 facilities as 12 of each at 6."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sites = [cast.facility] + [factories.make_facility(cast.org) for _ in range(5)]

    def queries(count: int, run: str, facilities) -> int:
        keys = [(f"{run}-{n}", facilities[n % len(facilities)].cers_id) for n in range(count)]
        added, later = _added_then_changed(cast, keys)
        assert status(answer(post(client, edt_account, added))) == "Accepted"
        with CaptureQueriesContext(connection) as captured:
            root = answer(post(client, edt_account, later))
        assert status(root) == "Accepted", guidance(root)
        assert len(entity_keys(root)) == 3 * count
        return len(captured)

    post(client, edt_account, document())  # the first call's one-time reads
    assert queries(3, "few", sites[:3]) == queries(12, "many", sites)
    assert set(Inspection.objects.values_list("inspection_type", flat=True)) == {"b"}
    assert set(Violation.objects.values_list("violation_class", flat=True)) == {2}
    changed = Enforcement.objects.filter(comments="Again.", regulator_key="E-many-11").get()
    assert timezone.localtime(changed.regulator_action_at).isoformat() == LATER + "-07:00"
    assert AuditEvent.objects.filter(action="cme.enforcement.updated").count() == 15 + 15


def test_a_bad_change_in_a_later_chunk_stores_nothing_and_every_message_is_reported(
    client, cast, edt_account, monkeypatch
):
    """Changes refused by the rules checked when they are written (an inspection with
    violations moved to another program element, an action dated before its violation) and
    by their values, in chunks of two or all at once: the same messages, in the document's
    order, and nothing of the changes kept."""
    from edt.processors import cme as processor

    cers_id = cast.facility.cers_id
    keys = [(str(n), cers_id) for n in range(5)]
    added, later = _added_then_changed(
        cast,
        keys,
        **{
            "I-3": {"ProgramElement": "e"},
            "V-4": {"ScheduledRTCOn": None},
            "E-1": {"OccurredOn": "2024-04-20"},
        },
    )
    assert status(answer(post(client, edt_account, added))) == "Accepted"
    events = AuditEvent.objects.count()

    def messages(chunk: int):
        monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", chunk)
        root = answer(post(client, edt_account, later))
        assert status(root) == "Rejected"
        assert set(Inspection.objects.values_list("inspection_type", "program_element")) == {
            ("a", "a")
        }
        assert set(Violation.objects.values_list("violation_class", flat=True)) == {9}
        assert AuditEvent.objects.count() == events
        return worded(root)

    in_chunks = messages(2)
    assert [(code, key) for code, key, _text in in_chunks] == [
        (1013, "I-3"),
        (1062, "E-1"),
        (1079, "V-3"),
        (1057, "V-4"),
    ]
    assert "Remove the violations before changing the program element." in in_chunks[0][2]
    assert in_chunks == messages(1000)


def _added_then_deleted(keys) -> tuple[bytes, bytes]:
    """An upload adding, for each ``(key, cers_id)`` of ``keys``, an inspection with two
    violations, an enforcement action and a link to the first violation; and one deleting
    the inspection, the first violation and the action later (the second violation goes with
    its inspection)."""
    added = document(
        inspections=[inspection(f"I-{k}", cers_id) for k, cers_id in keys],
        violations=[violation(f"{v}-{k}", f"I-{k}") for k, _ in keys for v in ("V", "W")],
        enforcements=[enforcement(f"E-{k}", cers_id) for k, cers_id in keys],
        links=[link(f"EV-{k}", f"E-{k}", f"V-{k}") for k, _ in keys],
    )
    deleted = document(
        inspections=[inspection(f"I-{k}", cers_id, status=3, at=LATER) for k, cers_id in keys],
        violations=[violation(f"V-{k}", f"I-{k}", status=3, at=LATER) for k, _ in keys],
        enforcements=[enforcement(f"E-{k}", cers_id, status=3, at=LATER) for k, cers_id in keys],
    )
    return added, deleted


def test_the_queries_do_not_grow_with_the_records_deleted(client, cast, edt_account):
    """A chunk of deletes of one entity is checked at once and deleted together
    (``cme.services.delete_cme_batch``): as many queries to delete 3 inspections (each with a
    violation of its own), violations and enforcement actions at 3 facilities as 12 of each at
    6, with the same events and the same Warning (1063) for each inspection."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sites = [cast.facility] + [factories.make_facility(cast.org) for _ in range(5)]

    def queries(count: int, run: str, facilities) -> int:
        keys = [(f"{run}-{n}", facilities[n % len(facilities)].cers_id) for n in range(count)]
        added, deleted = _added_then_deleted(keys)
        assert status(answer(post(client, edt_account, added))) == "Accepted"
        with CaptureQueriesContext(connection) as captured:
            root = answer(post(client, edt_account, deleted))
        assert status(root) == "Accepted", guidance(root)
        assert len(entity_keys(root)) == 3 * count
        notes = [  # each message without its location
            (code, key, text.split(" [line ")[0]) for code, key, text in worded(root)
        ]
        assert notes == [
            (
                1063,
                f"I-{k}",
                f"Inspection I-{k}: deleting it deleted its 1 other violation(s) and their "
                "enforcement links too.",
            )
            for k, _ in keys
        ]
        assert nothing_left()
        return len(captured)

    post(client, edt_account, document())  # the first call's one-time reads
    assert queries(3, "few", sites[:3]) == queries(12, "many", sites)
    deleted = AuditEvent.objects.filter(action__endswith=".deleted", actor=edt_account.user)
    assert deleted.filter(action="cme.violation.deleted").count() == 2 * 15
    assert deleted.filter(action="cme.inspection.deleted").count() == 15
    assert deleted.filter(action="cme.enforcement.deleted").count() == 15
    # The violation deleted on its own still named its action; the one deleted with its
    # inspection, none.
    found = deleted.filter(action="cme.violation.deleted")
    assert sorted(len(e.before["enforcements"]) for e in found) == [0] * 15 + [1] * 15


def test_a_refused_delete_in_a_later_chunk_deletes_nothing_and_every_message_is_reported(
    client, cast, edt_account, monkeypatch
):
    """The CUPA deleting its PA's UST inspection and violation (a program element it does not
    handle there), at the end of the document: in chunks of two or all at once, the same
    messages, and nothing deleted by the chunks before."""
    from edt.processors import cme as processor

    cers_id = cast.facility.cers_id
    keys = [(str(n), cers_id) for n in range(5)]
    added, _deleted = _added_then_deleted(keys)
    ust = document(
        inspections=[inspection("UST-1", cers_id, regulator="1101", ProgramElement="c")],
        violations=[violation("UST-V1", "UST-1", regulator="1101", TypeID="2030002")],
    )
    for body in (added, ust):
        assert status(answer(post(client, edt_account, body))) == "Accepted"
    deletes = document(
        inspections=[inspection(f"I-{k}", cers_id, status=3, at=LATER) for k, _ in keys]
        + [inspection("UST-1", cers_id, status=3, at=LATER, ProgramElement="c")],
        violations=[violation(f"V-{k}", f"I-{k}", status=3, at=LATER) for k, _ in keys]
        + [violation("UST-V1", "UST-1", status=3, at=LATER)],
        enforcements=[enforcement(f"E-{k}", cers_id, status=3, at=LATER) for k, _ in keys],
    )
    counts = [m.objects.count() for m in (Inspection, Violation, Enforcement, EnforcementViolation)]
    events = AuditEvent.objects.count()

    batches = []
    delete_cme_batch = services.delete_cme_batch

    def counted(**kinds):
        kinds_named = ("inspections", "violations", "enforcements")
        batches.append(sum(len(kinds.get(k, ())) for k in kinds_named))
        return delete_cme_batch(**kinds)

    monkeypatch.setattr(services, "delete_cme_batch", counted)

    def messages(chunk: int):
        monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", chunk)
        batches.clear()
        root = answer(post(client, edt_account, deletes))
        assert status(root) == "Rejected"
        assert [
            m.objects.count() for m in (Inspection, Violation, Enforcement, EnforcementViolation)
        ] == counts
        assert AuditEvent.objects.count() == events
        return worded(root)

    in_chunks = messages(2)
    assert [(code, key) for code, key, _text in in_chunks] == [
        (1053, "UST-1"),
        (1053, "UST-V1"),
    ]
    assert "does not regulate the Underground Storage Tanks" in in_chunks[0][2]
    # Violations, then actions, then inspections, a chunk at a time: the last chunk of
    # violations and of inspections refused, each then deleted one by one (the single
    # services are batches of one).
    assert batches == [2, 2, 2, 1, 1, 2, 2, 1, 2, 2, 2, 1, 1]
    assert in_chunks == messages(1000)
    assert batches == [6, *[1] * 6, 5, 6, *[1] * 6]


def _links_sent_again_taken_over_and_deleted(client, cast, edt_account, keys):
    """The queries of three uploads on the records ``_added_then_changed`` adds for ``keys``:
    their links sent again later; then, their keys cleared as the portal leaves a link,
    taken over under new keys; then those deleted."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    added, _later = _added_then_changed(cast, keys)
    assert status(answer(post(client, edt_account, added))) == "Accepted"
    ours = EnforcementViolation.objects.filter(regulator_key__in=[f"EV-{k}" for k, _ in keys])
    pks = list(ours.values_list("pk", flat=True))
    again = document(links=[link(f"EV-{k}", f"E-{k}", f"V-{k}", at=LATER) for k, _ in keys])
    taken = document(links=[link(f"EVB-{k}", f"E-{k}", f"V-{k}") for k, _ in keys])
    deleted = document(
        links=[link(f"EVB-{k}", f"E-{k}", f"V-{k}", status=3, at=LATER) for k, _ in keys]
    )
    counts = []
    for body in (again, taken, deleted):
        if body is taken:
            EnforcementViolation.objects.filter(pk__in=pks).update(
                regulator_key="", regulator_action_at=None
            )
        with CaptureQueriesContext(connection) as captured:
            root = answer(post(client, edt_account, body))
        assert status(root) == "Accepted", guidance(root)
        assert len(entity_keys(root)) == len(keys)
        counts.append(len(captured))
        if body is again:
            assert {
                timezone.localtime(at).isoformat()
                for at in EnforcementViolation.objects.filter(pk__in=pks).values_list(
                    "regulator_action_at", flat=True
                )
            } == {LATER + "-07:00"}
        if body is taken:
            assert sorted(
                EnforcementViolation.objects.filter(pk__in=pks).values_list(
                    "regulator_key", flat=True
                )
            ) == sorted(f"EVB-{k}" for k, _ in keys)
    assert not EnforcementViolation.objects.filter(pk__in=pks).exists()
    return counts


def test_the_queries_do_not_grow_with_the_links_sent_again_taken_over_or_deleted(
    client, cast, edt_account
):
    """Links sent again, taken over from the portal and deleted go a chunk at a time
    (``update_cme_batch``, ``delete_cme_batch``): as many queries for 3 links at 3
    facilities as for 12 at 6, and each deleted link audited as its action's change."""
    sites = [cast.facility] + [factories.make_facility(cast.org) for _ in range(5)]
    post(client, edt_account, document())  # the first call's one-time reads

    def keys(count, run, facilities):
        return [(f"{run}-{n}", facilities[n % len(facilities)].cers_id) for n in range(count)]

    few = _links_sent_again_taken_over_and_deleted(
        client, cast, edt_account, keys(3, "few", sites[:3])
    )
    many = _links_sent_again_taken_over_and_deleted(
        client, cast, edt_account, keys(12, "many", sites)
    )
    assert few == many
    unlinked = AuditEvent.objects.filter(
        action="cme.enforcement.updated", actor=edt_account.user, after__violations=[]
    )
    assert unlinked.count() == 15


def test_a_refused_link_in_a_later_chunk_changes_nothing_and_every_message_is_reported(
    client, cast, edt_account, monkeypatch
):
    """Links deleted, sent again and taken over, two of them refused at the end of the
    document (the CUPA taking its PA's UST violation off the PA's action: a program element
    it does not handle there; a pair already linked under another key): in chunks of two or
    all at once, the same messages, and nothing written by the chunks before."""
    from edt.processors import cme as processor

    cers_id = cast.facility.cers_id
    keys = [(str(n), cers_id) for n in range(6)]
    added, _later = _added_then_changed(cast, keys)
    ust = document(
        inspections=[inspection("UST-1", cers_id, regulator="1101", ProgramElement="c")],
        enforcements=[enforcement("UST-E1", cers_id, regulator="1101")],
        violations=[violation("UST-V1", "UST-1", regulator="1101", TypeID="2030002")],
        links=[link("UST-EV1", "UST-E1", "UST-V1", regulator="1101")],
    )
    for body in (added, ust):
        assert status(answer(post(client, edt_account, body))) == "Accepted"
    body = document(
        links=[link(f"EV-{k}", f"E-{k}", f"V-{k}", status=3, at=LATER) for k in "0123"]
        + [
            link("EV-5", "E-5", "V-5", at=LATER),
            link("UST-EV1", "UST-E1", "UST-V1", status=3, at=LATER),
            link("EVX-4", "E-4", "V-4", at=LATER),
        ]
    )
    stored = sorted(
        EnforcementViolation.objects.values_list("pk", "regulator_key", "regulator_action_at")
    )
    events = AuditEvent.objects.count()
    batches = []
    delete_cme_batch = services.delete_cme_batch

    def counted(**kinds):
        batches.append(len(kinds.get("links", ())))
        return delete_cme_batch(**kinds)

    monkeypatch.setattr(services, "delete_cme_batch", counted)

    def messages(chunk: int):
        monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", chunk)
        batches.clear()
        root = answer(post(client, edt_account, body))
        assert status(root) == "Rejected"
        assert (
            sorted(
                EnforcementViolation.objects.values_list(
                    "pk", "regulator_key", "regulator_action_at"
                )
            )
            == stored
        )
        assert AuditEvent.objects.count() == events
        return worded(root)

    in_chunks = messages(2)
    assert [(code, key) for code, key, _text in in_chunks] == [
        (1053, "UST-EV1"),
        (1013, "EVX-4"),
    ]
    assert "does not regulate the Underground Storage Tanks" in in_chunks[0][2]
    assert in_chunks[1][2].startswith(
        "Enforcement-violation link EVX-4: Enforcement E-4 already links violation V-4 under "
        "the key EV-4."
    )
    # The deletes two at a time, the last chunk's refused and then deleted one by one (the
    # single service is a batch of one).
    assert batches == [2, 2, 1, 1]
    assert in_chunks == messages(1000)
    assert batches == [5, 1, 1, 1, 1, 1]


def test_the_stored_records_are_held_a_chunk_at_a_time(client, cast, edt_account, monkeypatch):
    """What the whole document needs of the stored records it names is kept from the start
    as keys and a few values (``Stored``), never as model instances; the rows the checks read
    are those of the chunk (``prepare``): with chunks of two, no more than a few CME rows are
    alive at any time while 8 records and 4 links are changed."""
    import gc

    from edt.processors import cme as processor

    cers_id = cast.facility.cers_id
    keys = [(str(n), cers_id) for n in range(4)]
    added, later = _added_then_changed(cast, keys)
    links = "".join(link(f"EV-{k}", f"E-{k}", f"V-{k}", at=LATER) for k, _ in keys)
    later = later.replace(
        b"</cers:CMESubmittals>",
        f"<EnforcementViolations>{links}</EnforcementViolations></cers:CMESubmittals>".encode(),
    )
    assert status(answer(post(client, edt_account, added))) == "Accepted"
    monkeypatch.setattr(processor, "RECORDS_PER_CHUNK", 2)
    models = (Inspection, Violation, Enforcement, EnforcementViolation)
    held, alive = [], []
    load, prepare = processor.Submission.load, processor.Submission.prepare

    def loaded(self):
        load(self)
        held.extend(
            stored
            for found in self.stored.values()
            for stored in found.values()
            if isinstance(stored, models)
        )

    def prepared(self, chunk):
        prepare(self, chunk)
        gc.collect()
        alive.append(sum(isinstance(o, models) for o in gc.get_objects()))

    monkeypatch.setattr(processor.Submission, "load", loaded)
    monkeypatch.setattr(processor.Submission, "prepare", prepared)
    root = answer(post(client, edt_account, later))
    assert status(root) == "Accepted", guidance(root)
    assert len(entity_keys(root)) == 16
    assert held == []
    assert len(alive) == 6  # inspections and violations, then enforcement actions
    assert max(alive) <= 2 * 2  # a chunk's rows and its violations' inspections


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59-12:00", "9999-12-31T23:59:59", "0001-01-01T00:00:00+14:00"]
)
def test_an_action_time_no_moment_can_hold_is_refused_with_its_record(
    client, cast, edt_account, at
):
    """xs:dateTime reaches past the moments the database holds (in UTC): a
    RegulatorActionDateTime there is the record's problem, told with its key, never an error
    of CERS (ErrorProcessing)."""
    body = document(inspections=[inspection("FAR", cast.facility.cers_id, at=at)])
    root = answer(post(client, edt_account, body))
    assert status(root) == "Rejected"
    [(code, key, text)] = worded(root)
    assert key == "FAR" and "RegulatorActionDateTime" in text
    assert nothing_stored()


def test_an_action_time_ahead_of_the_clock_is_accepted_with_a_warning(client, cast, edt_account):
    """A RegulatorActionDateTime ahead of the server's clock (a system sending UTC times without
    their zone, read as Pacific, is 7 or 8 hours ahead) is stored, as CalEPA stores it, but told:
    until that time comes, every correction of the record carrying a true time is refused
    (1052)."""
    ahead = timezone.localtime() + datetime.timedelta(hours=8)
    at = ahead.replace(tzinfo=None, microsecond=0).isoformat()
    cers_id = cast.facility.cers_id
    root = answer(
        post(client, edt_account, document(inspections=[inspection("I-1", cers_id, at=at)]))
    )
    assert status(root) == "Accepted"
    [(code, key, text)] = worded(root)
    assert (code, key) == (1056, "I-1")
    assert "ahead of" in text and at[:16].replace("T", " ") in text
    # A time within a few minutes of the clock (clocks drift) is not told.
    near = (timezone.localtime() + datetime.timedelta(minutes=2)).replace(
        tzinfo=None, microsecond=0
    )
    body = document(inspections=[inspection("I-2", cers_id, at=near.isoformat())])
    root = answer(post(client, edt_account, body))
    assert status(root) == "Accepted" and worded(root) == []
