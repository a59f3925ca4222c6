"""Two people editing one CME record: the edit pages carry a digest of the record as drawn,
and a save made from a page drawn before someone else's change is refused, naming the change
and the changed values as they are now, with nothing written; the page keeps the person's own
values in the form, and saving it again applies them knowingly. EDT updates carry no digest."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from cme import services
from cme.models import Enforcement, Inspection, Violation
from core.models import AuditEvent
from tests import factories

from .helpers import DAY, HMBP_TYPE, enforcement, inspection, violation

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
    "scheduled_rtc_on": "2024-05-01",
}


def second_inspector(cast):
    user = factories.make_user("sam@cupa.example", first_name="Sam", last_name="Second")
    factories.add_staff(cast.cupa, user, "reviewer")
    return user


def drawn(client, url) -> str:
    """The digest the edit page carries, as a browser would post it back."""
    response = client.get(url)
    seen = response.context["seen"]
    assert f'name="seen" value="{seen}"' in response.content.decode()
    return seen


def updated_events(kind: str) -> int:
    return AuditEvent.objects.filter(action=f"cme.{kind}.updated").count()


def test_a_second_inspection_edit_from_the_same_page_is_refused(cast, client):
    parent = inspection(cast)
    url = reverse("regulator:cme_inspection_edit", args=[parent.pk])
    other = second_inspector(cast)
    client.force_login(other)
    seen_by_other = drawn(client, url)
    client.force_login(cast.cupa_reviewer)
    seen = drawn(client, url)
    assert seen == seen_by_other
    response = client.post(url, INSPECTION_POST | {"comments": "First.", "seen": seen})
    assert response.status_code == 302
    client.force_login(other)
    response = client.post(
        url, INSPECTION_POST | {"inspection_type": "b", "seen": seen_by_other}, follow=True
    )
    page = response.content.decode()
    assert f"{cast.cupa_reviewer} changed this inspection (Comments, now “First.”) at " in page
    # What they typed is still in the form, not lost; the digest is the record's as it is now.
    assert response.context["form"]["inspection_type"].value() == "b"
    assert response.context["form"].non_field_errors()
    assert response.context["seen"] != seen
    parent.refresh_from_db()
    assert (parent.inspection_type, parent.comments) == ("a", "First.")
    assert updated_events("inspection") == 1
    # Saving the form again applies their values over the change they were told of.
    post = {name: response.context["form"][name].value() for name in INSPECTION_POST}
    response = client.post(url, post | {"seen": response.context["seen"]})
    assert response.status_code == 302
    parent.refresh_from_db()
    assert parent.inspection_type == "b"


def test_the_inspection_page_post_refuses_a_stale_edit_too(cast, client):
    parent = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    seen = drawn(client, reverse("regulator:cme_inspection_edit", args=[parent.pk]))
    services.update_inspection(
        actor=second_inspector(cast), regulator=cast.cupa, inspection=parent, comments="Mine."
    )
    response = client.post(
        reverse("regulator:cme_inspection", args=[parent.pk]),
        INSPECTION_POST | {"seen": seen, "inspector_name": "Typed Name"},
    )
    assert response.status_code == 200
    assert "Comments, now “Mine.”" in response.content.decode()
    assert response.context["form"]["inspector_name"].value() == "Typed Name"
    parent.refresh_from_db()
    assert parent.comments == "Mine."


def test_a_stale_violation_edit_is_refused_and_names_the_change(cast, client):
    found = violation(cast, inspection(cast))
    url = reverse("regulator:cme_violation_edit", args=[found.pk])
    client.force_login(cast.cupa_reviewer)
    seen = drawn(client, url)
    assert client.post(url, VIOLATION_POST | {"violation_class": "2", "seen": seen}).url
    response = client.post(
        url, VIOLATION_POST | {"return_to_compliance_on": "2024-05-03", "seen": seen}, follow=True
    )
    page = response.content.decode()
    assert "changed this violation" in page and "Class, now" in page
    found.refresh_from_db()
    assert (found.violation_class, found.return_to_compliance_on) == (2, None)
    assert updated_events("violation") == 1
    assert response.context["form"]["return_to_compliance_on"].value() == "2024-05-03"


def test_a_stale_enforcement_edit_is_refused_links_included(cast, client):
    first = violation(cast, inspection(cast))
    second = violation(cast, inspection(cast))
    action = enforcement(cast, [first], occurred_on=DAY + datetime.timedelta(days=5))
    url = reverse("regulator:cme_enforcement_edit", args=[action.pk])
    client.force_login(cast.cupa_reviewer)
    seen = drawn(client, url)
    post = {"enforcement_type": "a", "occurred_on": "2024-05-06"}
    response = client.post(url, post | {"violations": [first.pk, second.pk], "seen": seen})
    assert response.status_code == 302
    response = client.post(
        url, post | {"enforcement_type": "b", "violations": [first.pk], "seen": seen}, follow=True
    )
    assert "changed this enforcement action" in response.content.decode()
    action.refresh_from_db()
    assert action.enforcement_type == "a"
    assert set(action.violations.all()) == {first, second}
    assert updated_events("enforcement") == 1


def test_a_stale_enforcement_field_change_in_a_batch_is_refused(cast):
    action = enforcement(cast)
    seen = services.record_seen(action)
    services.update_enforcement(
        actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, comments="Fine."
    )
    with pytest.raises(services.StaleRecord, match=r"\(Comments, now “Fine\.”\)"):
        services.update_enforcement(
            actor=cast.cupa_reviewer,
            regulator=cast.cupa,
            enforcement=action,
            seen=seen,
            enforcement_type="b",
        )
    assert Enforcement.objects.get().enforcement_type == "a"


def test_an_edt_update_meanwhile_refuses_the_page_and_edt_needs_no_digest(cast, client):
    parent = inspection(cast)
    url = reverse("regulator:cme_inspection_edit", args=[parent.pk])
    client.force_login(cast.cupa_reviewer)
    seen = drawn(client, url)
    # The agency's system sends its update (no digest): CalEPA's rule alone decides.
    services.update_cme_batch(
        actor=cast.cupa_reviewer,
        inspections=[
            services.ChangedInspection(
                regulator=cast.cupa,
                inspection=parent,
                changes={"inspector_name": "From the agency's system"},
                regulator_key="INS-1",
                regulator_action_at=timezone.now(),
            )
        ],
    )
    response = client.post(url, INSPECTION_POST | {"seen": seen}, follow=True)
    assert "changed this inspection" in response.content.decode()
    assert Inspection.objects.get().inspector_name == "From the agency's system"
    # A later EDT update after a portal edit still needs no digest.
    client.post(url, INSPECTION_POST | {"seen": response.context["seen"]})
    services.update_cme_batch(
        actor=cast.cupa_reviewer,
        inspections=[
            services.ChangedInspection(
                regulator=cast.cupa, inspection=parent, changes={"comments": "Again."}
            )
        ],
    )
    assert Inspection.objects.get().comments == "Again."


def test_without_a_digest_the_batch_asks_no_more_queries(cast):
    found = violation(cast, inspection(cast))
    item = services.ChangedViolation(
        regulator=cast.cupa, violation=found, changes={"violation_class": 2}
    )
    # The digest is compared with the snapshot the batch takes anyway: same count with it.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        services.update_cme_batch(actor=cast.cupa_reviewer, violations=[item])
    seen = services.record_seen(Violation.objects.get())
    item = services.ChangedViolation(
        regulator=cast.cupa, violation=found, changes={"violation_class": 9}, seen=seen
    )
    with CaptureQueriesContext(connection) as digested:
        services.update_cme_batch(actor=cast.cupa_reviewer, violations=[item])
    assert len(digested) == len(plain)
    assert Violation.objects.get().violation_class == 9


def test_a_stale_digest_tells_an_outsider_nothing_before_the_rule(cast):
    parent = inspection(cast)
    seen = services.record_seen(parent)
    services.update_inspection(
        actor=cast.cupa_reviewer, regulator=cast.cupa, inspection=parent, comments="Mine."
    )
    with pytest.raises(PermissionDenied):  # not StaleRecord, which names who changed what
        services.update_inspection(
            actor=cast.cupa2_reviewer,
            regulator=cast.cupa2,
            inspection=parent,
            seen=seen,
            comments="Theirs.",
        )
    assert Inspection.objects.get().comments == "Mine."


def test_a_refusal_quotes_a_long_value_cut_and_an_emptied_one_as_empty(cast):
    action = enforcement(cast, comments="Started.")
    seen = services.record_seen(action)
    services.update_enforcement(
        actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, comments=""
    )
    with pytest.raises(services.StaleRecord, match=r"\(Comments, now empty\)"):
        services.update_enforcement(
            actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, seen=seen
        )
    seen = services.record_seen(Enforcement.objects.get())
    services.update_enforcement(
        actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, comments="x" * 500
    )
    with pytest.raises(services.StaleRecord) as refused:
        services.update_enforcement(
            actor=cast.cupa_reviewer, regulator=cast.cupa, enforcement=action, seen=seen
        )
    assert "x" * 79 + "…”" in refused.value.messages[0]
    assert "x" * 81 not in refused.value.messages[0]
