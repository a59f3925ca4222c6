"""CME fields 913b-920, and the edit pages of inspections, violations and enforcement
actions: each edit keeps its history; bad input stores nothing; scope and role boundaries."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cme import services
from cme.models import Enforcement, Inspection, Violation
from core.models import AuditEvent

from .helpers import DAY, HMBP_TYPE, UST_TYPE, enforcement, inspection, pa_reviewer, violation

ENFORCEMENT_POST = {
    "enforcement_type": "c",
    "formal_type": "a",
    "occurred_on": "2024-05-10",
    "red_tag_issued": "Y",
    "red_tag_number": "42",
    "red_tag_reason": "2",
    "red_tag_affixed_on": "2024-05-10",
    "red_tag_removed_on": "2024-05-20",
    "case_settled_on": "2024-07-01",
    "docket_number": "AEO-2024-17",
    "fine_amount": "12500",
    "sep_amount": "3000",
}


def test_it_records_the_red_tag_case_and_amounts_of_an_enforcement(cast, client):
    parent = inspection(cast)
    found = violation(cast, parent)
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_enforcement_create", args=[parent.pk]),
        ENFORCEMENT_POST | {"violations": [found.pk]},
    )
    assert response.status_code == 302
    stored = Enforcement.objects.get()
    assert stored.red_tag_number == "00042"  # zero-padded to five digits (913c)
    assert (stored.red_tag_reason, stored.fine_amount, stored.sep_amount) == (2, 12500, 3000)
    assert stored.case_settled_on == datetime.date(2024, 7, 1)
    assert AuditEvent.objects.get(action="cme.enforcement.recorded").after["docket_number"] == (
        "AEO-2024-17"
    )
    page = client.get(reverse("regulator:cme_enforcement", args=[stored.pk])).content.decode()
    for shown in ("00042", "Impairing leak detection", "AEO-2024-17", "$12500", "2024-07-01"):
        assert shown in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"red_tag_issued": "N"}, "red_tag_issued", "Set “red tag issued” to Yes"),
        ({"red_tag_number": "12A"}, "red_tag_number", "at most five digits"),
        ({"red_tag_number": "123456"}, "red_tag_number", "at most five digits"),
        ({"red_tag_removed_on": "2024-05-09"}, "red_tag_removed_on", "cannot be before the day"),
        ({"red_tag_affixed_on": ""}, "red_tag_affixed_on", "Enter the date the red tag"),
        ({"formal_type": ""}, "formal_type", "needs a formal type"),
        ({"case_settled_on": "2024-05-09"}, "case_settled_on", "before the enforcement date"),
        ({"fine_amount": "100000000"}, "fine_amount", "0 to 99,999,999"),
        ({"sep_amount": "-1"}, "sep_amount", "0 to 99,999,999"),
        ({"occurred_on": "1980-09-30"}, "occurred_on", "before 1 October 1980"),
        ({"docket_number": "D" * 21}, "docket_number", "at most 20 characters"),
    ],
)
def test_bad_enforcement_input_is_refused_and_stores_nothing(cast, client, changes, field, message):
    parent = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_enforcement_create", args=[parent.pk]), ENFORCEMENT_POST | changes
    )
    assert response.status_code == 200
    errors = response.context["enforcement_form"].errors
    assert any(message in error for error in errors[field]), errors
    assert not Enforcement.objects.exists()


def test_an_enforcement_in_the_future_is_refused(cast):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as error:
        enforcement(cast, occurred_on=tomorrow)
    assert "in the future" in error.value.message_dict["occurred_on"][0]
    assert not Enforcement.objects.exists()


def test_the_date_all_violations_returned_cannot_precede_the_inspection(cast):
    with pytest.raises(ValidationError) as error:
        inspection(cast, violations_rtc_on=DAY - datetime.timedelta(days=1))
    assert "before the inspection" in error.value.message_dict["violations_rtc_on"][0]
    assert not Inspection.objects.exists()


def test_editing_an_inspection_on_its_edit_page_keeps_its_history(cast, client):
    parent = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspection_edit", args=[parent.pk])
    form = client.get(url).context["form"]
    assert form.initial["inspector_name"] == "Rita Reviewer"
    response = client.post(
        url,
        {
            "program_element": "a",
            "inspection_type": "a",
            "occurred_on": "2024-05-01",
            "inspector_name": "Rita Reviewer",
            "violations_rtc_on": "2024-05-15",
        },
    )
    assert response.url == reverse("regulator:cme_inspection", args=[parent.pk])
    parent.refresh_from_db()
    assert parent.violations_rtc_on == datetime.date(2024, 5, 15)
    event = AuditEvent.objects.get(action="cme.inspection.updated")
    assert (event.before["violations_rtc_on"], event.after["violations_rtc_on"]) == (
        None,
        "2024-05-15",
    )
    history = client.get(reverse("regulator:cme_inspection", args=[parent.pk])).context["history"]
    assert ("Violations returned to compliance", None, "2024-05-15") in history[-1]["changes"]


def test_a_bad_inspection_edit_shows_the_error_and_changes_nothing(cast, client):
    parent = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    tomorrow = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    response = client.post(
        reverse("regulator:cme_inspection_edit", args=[parent.pk]),
        {
            "program_element": "a",
            "inspection_type": "b",
            "occurred_on": tomorrow,
            "inspector_name": "Rita Reviewer",
        },
    )
    assert response.status_code == 200
    assert "in the future" in response.context["form"].errors["occurred_on"][0]
    parent.refresh_from_db()
    assert (parent.inspection_type, parent.occurred_on) == ("a", DAY)
    assert not AuditEvent.objects.filter(action="cme.inspection.updated").exists()


def test_editing_a_violation_records_its_return_to_compliance_in_its_history(cast, client):
    parent = inspection(cast)
    found = violation(cast, parent)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_violation_edit", args=[found.pk])
    assert client.get(url).context["form"].initial["type_number"] == HMBP_TYPE
    response = client.post(
        url,
        {
            "type_number": HMBP_TYPE,
            "violation_class": "2",
            "occurred_on": "2024-05-01",
            "return_to_compliance_on": "2024-05-20",
            "rtc_qualifier": "1",
        },
    )
    assert response.url == reverse("regulator:cme_inspection", args=[parent.pk])
    found.refresh_from_db()
    assert (found.violation_class, found.rtc_qualifier) == (2, 1)
    event = AuditEvent.objects.get(action="cme.violation.updated")
    assert (event.before["violation_class"], event.after["violation_class"]) == (9, 2)
    assert event.after["return_to_compliance_on"] == "2024-05-20"
    actions = [item["event"].action for item in client.get(url).context["history"]]
    assert actions == ["cme.violation.recorded", "cme.violation.updated"]
    page = client.get(reverse("regulator:cme_inspection", args=[parent.pk]))
    assert "cme.violation.updated" in [item["event"].action for item in page.context["history"]]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"type_number": "9999999"}, "type_number", "No violation type 9999999"),
        ({"type_number": UST_TYPE}, "type_number", "does not fit"),
        ({"scheduled_rtc_on": ""}, "return_to_compliance_on", "Enter the return-to-compliance"),
        ({"occurred_on": "1979-01-01"}, "occurred_on", "before 1 October 1980"),
    ],
)
def test_a_bad_violation_edit_is_refused_and_changes_nothing(cast, client, changes, field, message):
    found = violation(cast, inspection(cast))
    client.force_login(cast.cupa_reviewer)
    data = {
        "type_number": HMBP_TYPE,
        "violation_class": "9",
        "occurred_on": "2024-05-01",
        "scheduled_rtc_on": "2024-05-01",
    }
    response = client.post(reverse("regulator:cme_violation_edit", args=[found.pk]), data | changes)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    found.refresh_from_db()
    assert (found.violation_type.type_number, found.scheduled_rtc_on) == (HMBP_TYPE, DAY)
    assert not AuditEvent.objects.filter(action="cme.violation.updated").exists()


def test_editing_an_enforcement_changes_its_links_and_keeps_them_in_history(cast, client):
    first = violation(cast, inspection(cast))
    later = DAY + datetime.timedelta(days=2)
    second = violation(cast, inspection(cast), occurred_on=later, scheduled_rtc_on=later)
    action = enforcement(cast, [first], occurred_on=DAY + datetime.timedelta(days=5))
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_enforcement_edit", args=[action.pk])
    assert client.get(url).context["form"].initial["violations"] == [first]
    response = client.post(
        url,
        {
            "enforcement_type": "b",
            "occurred_on": "2024-05-06",
            "violations": [second.pk],
            "red_tag_issued": "N",
        },
    )
    assert response.url == reverse("regulator:cme_enforcement", args=[action.pk])
    action.refresh_from_db()
    assert (action.enforcement_type, action.red_tag_issued) == ("b", "N")
    assert list(action.violations.all()) == [second]
    event = AuditEvent.objects.get(action="cme.enforcement.updated")
    assert (event.before["violations"], event.after["violations"]) == ([first.pk], [second.pk])
    history = client.get(reverse("regulator:cme_enforcement", args=[action.pk])).context["history"]
    assert [item["event"].action for item in history] == [
        "cme.enforcement.recorded",
        "cme.enforcement.updated",
    ]
    assert (
        "Type",
        "Notice of Violation only",
        "Administrative Enforcement Order: local ordinance",
    ) in history[1]["changes"]


def test_an_enforcement_edit_before_a_linked_violation_is_refused(cast, client):
    later = DAY + datetime.timedelta(days=3)
    late = violation(cast, inspection(cast), occurred_on=later, scheduled_rtc_on=later)
    action = enforcement(cast, occurred_on=DAY + datetime.timedelta(days=5))
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_enforcement_edit", args=[action.pk]),
        {"enforcement_type": "a", "occurred_on": "2024-05-01", "violations": [late.pk]},
    )
    assert response.status_code == 200
    assert "before a linked violation" in response.context["form"].errors["occurred_on"][0]
    assert not action.violations.exists()
    assert not AuditEvent.objects.filter(action="cme.enforcement.updated").exists()


def test_another_cupas_reviewer_gets_404_on_every_edit_page(cast, client):
    parent = inspection(cast)
    found = violation(cast, parent)
    action = enforcement(cast, [found])
    client.force_login(cast.cupa2_reviewer)
    for name, pk in [
        ("regulator:cme_inspection_edit", parent.pk),
        ("regulator:cme_violation_edit", found.pk),
        ("regulator:cme_enforcement", action.pk),
        ("regulator:cme_enforcement_edit", action.pk),
    ]:
        url = reverse(name, args=[pk])
        assert client.get(url).status_code == 404, name
        if name.endswith("_edit"):
            assert client.post(url, {"enforcement_type": "b"}).status_code == 404, name
    action.refresh_from_db()
    assert action.enforcement_type == "a"


def test_a_pa_viewer_may_not_open_the_edit_pages_of_its_records(cast, client):
    reviewer = pa_reviewer(cast)
    parent = inspection(cast, "c", actor=reviewer, regulator=cast.pa)
    found = violation(cast, parent, UST_TYPE, actor=reviewer, regulator=cast.pa)
    action = enforcement(cast, [found], actor=reviewer, regulator=cast.pa)
    client.force_login(cast.pa_viewer)
    assert client.get(reverse("regulator:cme_enforcement", args=[action.pk])).status_code == 200
    for name, pk in [
        ("regulator:cme_inspection_edit", parent.pk),
        ("regulator:cme_violation_edit", found.pk),
        ("regulator:cme_enforcement_edit", action.pk),
    ]:
        assert client.get(reverse(name, args=[pk])).status_code == 403, name


def test_a_pa_cannot_edit_the_cupas_records(cast, client):
    hmbp = violation(cast, inspection(cast))
    action = enforcement(cast, [hmbp])
    reviewer = pa_reviewer(cast)
    client.force_login(reviewer)
    assert client.get(reverse("regulator:cme_violation_edit", args=[hmbp.pk])).status_code == 404
    assert client.get(reverse("regulator:cme_enforcement", args=[action.pk])).status_code == 404
    with pytest.raises(PermissionDenied):
        services.update_enforcement(
            actor=reviewer, regulator=cast.pa, enforcement=action, enforcement_type="b"
        )
    with pytest.raises(PermissionDenied):
        services.update_violation(actor=reviewer, regulator=cast.pa, violation=hmbp, comments="x")
    assert Violation.objects.get().comments == ""
    assert not AuditEvent.objects.filter(action__endswith=".updated").exists()
