"""CME: inspections, violations and enforcement actions, their history and their scope."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cme import services
from cme.models import Enforcement, Inspection, Violation
from core.models import AuditEvent
from libraries.models import ViolationType
from tests import factories

DAY = datetime.date(2024, 5, 1)
HMBP_TYPE = "1010001"  # seeded example: business plan
UST_TYPE = "2030002"  # seeded example: UST monitoring


def _inspection(cast, program_element="a", actor=None, regulator=None, **extra):
    return services.record_inspection(
        actor=actor or cast.cupa_reviewer,
        regulator=regulator or cast.cupa,
        facility=extra.pop("facility", cast.facility),
        program_element=program_element,
        inspection_type="a",
        occurred_on=extra.pop("occurred_on", DAY),
        inspector_name="Rita Reviewer",
        **extra,
    )


def _violation(cast, inspection, type_number=HMBP_TYPE, **extra):
    values = {"violation_class": 9, "occurred_on": DAY, "scheduled_rtc_on": DAY} | extra
    return services.add_violation(
        actor=cast.cupa_reviewer,
        regulator=cast.cupa,
        inspection=inspection,
        type_number=type_number,
        **values,
    )


def _pa_reviewer(cast):
    user = factories.make_user("inspector@sac-pa.example", first_name="Pat")
    factories.add_staff(cast.pa, user, "reviewer")
    return user


INSPECTION_POST = {
    "program_element": "a",
    "inspection_type": "a",
    "occurred_on": "2024-05-01",
    "inspector_name": "Rita Reviewer",
}
VIOLATION_POST = {
    "type_number": HMBP_TYPE,
    "violation_class": "9",
    "occurred_on": "2024-05-01",
    "return_to_compliance_on": "2024-05-20",
    "rtc_qualifier": "1",
}


def test_the_example_violation_library_is_seeded(db):
    assert ViolationType.objects.count() >= 20
    elements = set(ViolationType.objects.values_list("program_element", flat=True))
    assert elements >= {1, 2, 3, 6, 7}


def test_it_records_an_inspection_with_a_violation_and_an_enforcement(cast, client):
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    assert client.get(url).status_code == 200
    response = client.post(url, INSPECTION_POST)
    inspection = Inspection.objects.get()
    assert response.url == reverse("regulator:cme_inspection", args=[inspection.pk])
    assert (inspection.regulator, inspection.created_by) == (cast.cupa, cast.cupa_reviewer)

    response = client.post(
        reverse("regulator:cme_violation_create", args=[inspection.pk]), VIOLATION_POST
    )
    assert response.status_code == 302
    violation = Violation.objects.get()
    assert violation.violation_type.type_number == HMBP_TYPE
    assert violation.return_to_compliance_on == datetime.date(2024, 5, 20)

    response = client.post(
        reverse("regulator:cme_enforcement_create", args=[inspection.pk]),
        {
            "enforcement_type": "c",
            "formal_type": "a",
            "occurred_on": "2024-05-10",
            "violations": [violation.pk],
        },
    )
    assert response.status_code == 302
    enforcement = Enforcement.objects.get()
    assert list(enforcement.violations.all()) == [violation]
    assert (enforcement.facility, enforcement.regulator) == (cast.facility, cast.cupa)

    page = client.get(reverse("regulator:cme_inspection", args=[inspection.pk]))
    assert page.status_code == 200
    assert HMBP_TYPE in page.content.decode()
    assert "Administrative" in page.content.decode()
    listing = client.get(reverse("regulator:cme_inspections"), {"cers_id": cast.facility.cers_id})
    assert list(listing.context["page"]) == [inspection]


def test_editing_an_inspection_keeps_its_history(cast, client):
    inspection = _inspection(cast)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspection", args=[inspection.pk])
    response = client.post(url, INSPECTION_POST | {"inspection_type": "b", "comments": "Re-check"})
    assert response.status_code == 302
    inspection.refresh_from_db()
    assert inspection.inspection_type == "b"
    event = AuditEvent.objects.get(action="cme.inspection.updated")
    assert event.before["inspection_type"] == "a"
    assert event.after["inspection_type"] == "b"
    assert event.after["comments"] == "Re-check"
    history = client.get(url).context["history"]
    assert [item["event"].action for item in history] == [
        "cme.inspection.recorded",
        "cme.inspection.updated",
    ]
    # Read as words: the field's verbose name and the codes' labels (issue 15).
    assert ("Inspection type", "Routine", "Other") in history[1]["changes"]


def test_updating_a_violation_records_its_return_to_compliance(cast):
    violation = _violation(cast, _inspection(cast))
    services.update_violation(
        actor=cast.cupa_reviewer,
        regulator=cast.cupa,
        violation=violation,
        return_to_compliance_on=datetime.date(2024, 6, 1),
        rtc_qualifier=2,
    )
    event = AuditEvent.objects.get(action="cme.violation.updated")
    assert event.before["return_to_compliance_on"] is None
    assert event.after["return_to_compliance_on"] == "2024-06-01"


def test_deleting_an_inspection_takes_its_violations_and_their_links(cast, client):
    inspection = _inspection(cast)
    violation = _violation(cast, inspection)
    other = _violation(cast, _inspection(cast))
    enforcement = services.record_enforcement(
        actor=cast.cupa_reviewer,
        regulator=cast.cupa,
        facility=cast.facility,
        enforcement_type="a",
        occurred_on=DAY,
        violations=[violation, other],
    )
    client.force_login(cast.cupa_reviewer)
    response = client.post(reverse("regulator:cme_inspection_delete", args=[inspection.pk]))
    assert response.url == reverse("regulator:cme_inspections")
    assert not Inspection.objects.filter(pk=inspection.pk).exists()
    assert not Violation.objects.filter(pk=violation.pk).exists()
    assert list(enforcement.violations.all()) == [other]
    assert AuditEvent.objects.filter(action="cme.violation.deleted").count() == 1
    assert AuditEvent.objects.get(action="cme.inspection.deleted").before["violations"] == [
        violation.pk
    ]


def _refused_violation(client, cast, data, field, message):
    inspection = _inspection(cast)
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:cme_violation_create", args=[inspection.pk]), VIOLATION_POST | data
    )
    assert response.status_code == 200
    errors = response.context["violation_form"].errors
    assert any(message in error for error in errors[field]), errors
    assert not Violation.objects.exists()


def test_an_unknown_violation_type_is_refused(cast, client):
    _refused_violation(
        client, cast, {"type_number": "9999999"}, "type_number", "No violation type 9999999"
    )


def test_a_violation_type_of_another_program_element_is_refused(cast, client):
    _refused_violation(client, cast, {"type_number": UST_TYPE}, "type_number", "does not fit")


def test_a_missing_return_to_compliance_date_is_refused(cast, client):
    _refused_violation(
        client,
        cast,
        {"return_to_compliance_on": "", "rtc_qualifier": "2"},
        "return_to_compliance_on",
        "Enter the return-to-compliance date",
    )


def test_a_violation_without_any_return_to_compliance_date_is_refused(cast, client):
    _refused_violation(
        client,
        cast,
        {"return_to_compliance_on": "", "rtc_qualifier": ""},
        "return_to_compliance_on",
        "Enter the return-to-compliance date",
    )


def test_a_return_to_compliance_before_the_violation_is_refused(cast, client):
    _refused_violation(
        client,
        cast,
        {"return_to_compliance_on": "2024-04-01"},
        "return_to_compliance_on",
        "cannot be before the violation date",
    )


def test_a_violation_type_not_valid_on_the_violation_date_is_refused(cast):
    ViolationType.objects.filter(type_number=HMBP_TYPE).update(
        end_date=DAY - datetime.timedelta(days=1)
    )
    with pytest.raises(ValidationError) as error:
        _violation(cast, _inspection(cast))
    assert "was not in the library" in error.value.message_dict["violation_type"][0]
    assert not Violation.objects.exists()


def test_a_violation_date_before_1980_is_refused(cast, client):
    _refused_violation(
        client, cast, {"occurred_on": "1980-09-30"}, "occurred_on", "before 1 October 1980"
    )


@pytest.mark.parametrize(
    ("occurred_on", "message"),
    [
        ("1980-09-30", "cannot be before 1 October 1980"),
        ("tomorrow", "in the future"),  # resolved at run time: a run may cross midnight
    ],
)
def test_an_inspection_date_out_of_range_is_refused(cast, client, occurred_on, message):
    if occurred_on == "tomorrow":
        occurred_on = (timezone.localdate() + datetime.timedelta(days=1)).isoformat()
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    response = client.post(url, INSPECTION_POST | {"occurred_on": occurred_on})
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors["occurred_on"])
    assert not Inspection.objects.exists()


def test_the_earliest_date_is_accepted(cast):
    assert _inspection(cast, occurred_on=datetime.date(1980, 10, 1)).pk


def test_ust_operational_compliance_is_for_ust_inspections_only(cast):
    with pytest.raises(ValidationError) as error:
        _inspection(cast, ust_operational_compliance="c")
    assert "ust_operational_compliance" in error.value.message_dict
    assert not Inspection.objects.exists()


def test_an_enforcement_before_its_violation_is_refused(cast):
    violation = _violation(cast, _inspection(cast))
    with pytest.raises(ValidationError) as error:
        services.record_enforcement(
            actor=cast.cupa_reviewer,
            regulator=cast.cupa,
            facility=cast.facility,
            enforcement_type="a",
            occurred_on=DAY - datetime.timedelta(days=1),
            violations=[violation],
        )
    assert "occurred_on" in error.value.message_dict
    assert not Enforcement.objects.exists()


def test_an_enforcement_links_only_violations_of_its_facility(cast):
    violation = _violation(cast, _inspection(cast))
    with pytest.raises(ValidationError) as error:
        services.record_enforcement(
            actor=cast.state_admin,
            regulator=cast.state,
            facility=cast.facility_yolo,
            enforcement_type="a",
            occurred_on=DAY,
            violations=[violation],
        )
    assert "violations" in error.value.message_dict
    assert not Enforcement.objects.exists()


def test_another_cupas_reviewer_gets_404(cast, client):
    inspection = _inspection(cast)
    client.force_login(cast.cupa2_reviewer)
    for name, method in [
        ("regulator:cme_inspection", "get"),
        ("regulator:cme_inspection", "post"),
        ("regulator:cme_violation_create", "post"),
        ("regulator:cme_enforcement_create", "post"),
        ("regulator:cme_inspection_delete", "post"),
    ]:
        response = getattr(client, method)(reverse(name, args=[inspection.pk]))
        assert response.status_code == 404, name
    listing = client.get(reverse("regulator:cme_inspections"))
    assert list(listing.context["page"]) == []
    assert Inspection.objects.for_user(cast.cupa2_reviewer, "view").count() == 0
    assert Inspection.objects.filter(pk=inspection.pk).exists()


def test_a_cupa_cannot_record_the_pas_ust_program_element(cast):
    with pytest.raises(PermissionDenied):
        _inspection(cast, program_element="c")


def test_a_pa_reviewer_records_ust_cme_but_not_hmbp(cast, client):
    reviewer = _pa_reviewer(cast)
    inspection = _inspection(cast, "c", actor=reviewer, regulator=cast.pa)
    violation = services.add_violation(
        actor=reviewer,
        regulator=cast.pa,
        inspection=inspection,
        type_number=UST_TYPE,
        violation_class=1,
        occurred_on=DAY,
        scheduled_rtc_on=DAY + datetime.timedelta(days=30),
    )
    assert violation.inspection.regulator == cast.pa
    with pytest.raises(PermissionDenied):
        _inspection(cast, "a", actor=reviewer, regulator=cast.pa)

    client.force_login(reviewer)
    url = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    # The form offers the PA only UST, so the business plan element is refused on its field
    # (the service would refuse it too: test_a_cupa_cannot_record_the_pas_ust_program_element).
    refused = client.post(url, INSPECTION_POST)
    assert refused.status_code == 200
    assert (
        "does not regulate that program element"
        in refused.context["form"].errors["program_element"][0]
    )
    assert client.post(url, INSPECTION_POST | {"program_element": "c"}).status_code == 302
    assert Inspection.objects.filter(program_element="a").count() == 0
    # The CUPA does not see the PA's UST inspections; the PA does not see the CUPA's HMBP ones.
    hmbp = _inspection(cast)
    assert list(Inspection.objects.for_user(cast.cupa_reviewer, "view")) == [hmbp]
    assert hmbp not in Inspection.objects.for_user(reviewer, "view")
    other = reverse("regulator:cme_inspection", args=[hmbp.pk])
    assert client.get(other).status_code == 404


def test_a_pa_viewer_may_look_but_not_write(cast, client):
    inspection = _inspection(cast, "c", actor=_pa_reviewer(cast), regulator=cast.pa)
    client.force_login(cast.pa_viewer)
    assert client.get(reverse("regulator:cme_inspection", args=[inspection.pk])).status_code == 200
    for name in [
        "regulator:cme_inspection",
        "regulator:cme_violation_create",
        "regulator:cme_enforcement_create",
        "regulator:cme_inspection_delete",
    ]:
        assert client.post(reverse(name, args=[inspection.pk])).status_code == 403, name
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    assert client.post(create, INSPECTION_POST | {"program_element": "c"}).status_code == 403
    assert Inspection.objects.count() == 1


def test_business_users_are_refused(cast, client):
    client.force_login(cast.lead)
    assert client.get(reverse("regulator:cme_inspections")).status_code == 403


def _list_queries(client, cast, count):
    Inspection.objects.all().delete()
    for _ in range(count):
        _violation(cast, _inspection(cast))
    client.force_login(cast.cupa_reviewer)
    client.get(reverse("regulator:cme_inspections"))  # the session settles on the first page
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("regulator:cme_inspections"))
    assert response.status_code == 200
    return len(queries)


def test_the_list_page_query_count_does_not_grow(cast, client):
    assert _list_queries(client, cast, 3) == _list_queries(client, cast, 30)


def test_the_facility_page_offers_recording_an_inspection_to_reviewers_only(cast, client):
    from django.urls import reverse

    page = reverse("regulator:facility", args=[cast.facility.cers_id])
    create = reverse("regulator:cme_inspection_create", args=[cast.facility.cers_id])
    client.force_login(cast.cupa_reviewer)
    assert create in client.get(page).content.decode()
    client.force_login(cast.pa_viewer)
    assert create not in client.get(page).content.decode()
