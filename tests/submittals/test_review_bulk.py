"""The review queue's bulk action: many elements marked Accepted or Under Review at once,
through ``services.review_selected`` and ``apply_reviews``: all or nothing.

The cast's facility is in ZIP 95814: the Sacramento County CUPA (cupa_reviewer) handles every
element except element 4 (UST), which the City PA handles.
"""

import re

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import escape

from core.models import AuditEvent
from submittals import services
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.factories import add_staff, make_user
from tests.submittals.test_review_pages import FI, HMI, UST, draft, submit

BULK_URL = reverse("regulator:review_queue_bulk")
QUEUE_URL = reverse("regulator:review_queue")


def selection(*records):
    return [f"{r.pk}:{services.review_seen(r)}" for r in records]


def statuses(*records):
    return [SubmittalElementRecord.objects.get(pk=r.pk).status for r in records]


def test_reviewer_accepts_many_elements_at_once(cast, client):
    fi, hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        f"{BULK_URL}?element=&status=awaiting",
        {
            "status": int(ElementStatus.ACCEPTED),
            "comments": "Fine.",
            "elements": selection(fi, hmi),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{QUEUE_URL}?element=&status=awaiting"
    assert statuses(fi, hmi) == [ElementStatus.ACCEPTED, ElementStatus.ACCEPTED]
    record = SubmittalElementRecord.objects.get(pk=fi.pk)
    assert record.action_by == cast.cupa_reviewer
    assert record.action_comments == "Fine."
    # Each element's review history has its own event.
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 2


def test_mark_under_review(cast, client):
    (fi,) = submit(cast, draft(cast, FI))
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        BULK_URL, {"status": int(ElementStatus.UNDER_REVIEW), "elements": selection(fi)}
    )
    assert response.status_code == 302
    assert statuses(fi) == [ElementStatus.UNDER_REVIEW]


def test_a_stale_row_refuses_the_whole_action(cast, client):
    fi, hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    drawn = selection(fi, hmi)
    # Someone else reviews the inventory after the queue was drawn.
    services.review(
        actor=cast.state_admin, record=hmi, status=ElementStatus.UNDER_REVIEW, comments=""
    )
    client.force_login(cast.cupa_reviewer)
    response = client.post(BULK_URL, {"status": int(ElementStatus.ACCEPTED), "elements": drawn})
    assert response.status_code == 200
    errors = response.context["bulk_form"].non_field_errors()
    assert len(errors) == 1
    assert f"CERS ID {cast.facility.cers_id}" in errors[0]
    assert "while you had it open" in errors[0]
    # Nothing applied: the Facility Information is still waiting.
    assert statuses(fi, hmi) == [ElementStatus.SUBMITTED, ElementStatus.UNDER_REVIEW]
    # The rows stay ticked on the page drawn again.
    assert response.context["selected"] == {fi.pk, hmi.pk}


def test_each_problem_is_listed_by_row(cast, client):
    fi, hmi = submit(cast, draft(cast, FI), draft(cast, HMI))
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        BULK_URL,
        {
            "status": int(ElementStatus.ACCEPTED),
            "elements": [f"{fi.pk}:1@", f"{hmi.pk}:2@old"],
        },
    )
    errors = response.context["bulk_form"].non_field_errors()
    assert len(errors) == 2
    assert any("Facility Information" in e for e in errors)
    assert any("Inventory" in e for e in errors)
    assert statuses(fi, hmi) == [ElementStatus.SUBMITTED, ElementStatus.SUBMITTED]


def test_another_agencys_element_is_refused_with_nothing_applied(cast, client):
    """The CUPA's reviewer cannot act on the PA's UST element, even picked by hand: it is not
    in the CUPA's queue, so nothing is applied (nor said about it)."""
    fi, ust = submit(cast, draft(cast, FI), draft(cast, UST))
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        BULK_URL, {"status": int(ElementStatus.ACCEPTED), "elements": selection(fi, ust)}
    )
    assert response.status_code == 200
    assert response.context["bulk_form"].errors["elements"] == [
        "1 of the selected elements are not in this agency's queue; reload the queue and "
        "select again."
    ]
    assert statuses(fi, ust) == [ElementStatus.SUBMITTED, ElementStatus.SUBMITTED]


def test_pa_reviewer_reviews_only_its_elements(cast, client):
    fi, ust = submit(cast, draft(cast, FI), draft(cast, UST))
    pa_reviewer = make_user("reviewer@sac-pa.example")
    add_staff(cast.pa, pa_reviewer, "reviewer")
    client.force_login(pa_reviewer)
    # Its queue offers its own element only.
    queue = client.get(QUEUE_URL)
    assert [r.pk for r in queue.context["page"]] == [ust.pk]
    refused = client.post(
        BULK_URL, {"status": int(ElementStatus.ACCEPTED), "elements": selection(fi, ust)}
    )
    assert refused.status_code == 200
    assert statuses(fi, ust) == [ElementStatus.SUBMITTED, ElementStatus.SUBMITTED]
    accepted = client.post(
        BULK_URL, {"status": int(ElementStatus.ACCEPTED), "elements": selection(ust)}
    )
    assert accepted.status_code == 302
    assert statuses(fi, ust) == [ElementStatus.SUBMITTED, ElementStatus.ACCEPTED]


def test_a_viewer_may_not_act(cast, client):
    (fi,) = submit(cast, draft(cast, FI))
    viewer = make_user("viewer@sac-cupa.example")
    add_staff(cast.cupa, viewer, "viewer")
    client.force_login(viewer)
    queue = client.get(QUEUE_URL)
    assert queue.context["bulk_form"] is None
    assert b'name="elements"' not in queue.content
    response = client.post(
        BULK_URL, {"status": int(ElementStatus.ACCEPTED), "elements": selection(fi)}
    )
    assert response.status_code == 403
    assert statuses(fi) == [ElementStatus.SUBMITTED]


def test_the_queue_offers_checkboxes_with_the_rows_state(cast, client):
    (fi,) = submit(cast, draft(cast, FI))
    client.force_login(cast.cupa_reviewer)
    response = client.get(QUEUE_URL)
    assert f'value="{fi.pk}:{services.review_seen(fi)}"'.encode() in response.content
    # Each row's checkbox sits in a label naming the row: a 44 px tap target on phones.
    html = response.content.decode()
    label = re.search(
        r'<label class="row-select"[^>]*>\s*<input type="checkbox" name="elements".*?</label>',
        html,
        re.S,
    )
    assert label, "no label around the row's checkbox"
    assert f"of CERS ID {cast.facility.cers_id}, submitted" in label.group(0)
    assert "aria-label" not in label.group(0)  # named by the label, as the eye reads it
    assert b'data-select-all="elements"' in response.content
    # The filters' status and the action's status each have their own id.
    assert response.content.count(b'id="id_status"') == 1
    assert response.content.count(b'id="bulk_status"') == 1


def test_nothing_selected_or_not_accepted_is_refused(cast, client):
    (fi,) = submit(cast, draft(cast, FI))
    client.force_login(cast.cupa_reviewer)
    empty = client.post(BULK_URL, {"status": int(ElementStatus.ACCEPTED)})
    assert empty.status_code == 200
    assert "Select the elements" in empty.context["bulk_form"].errors["elements"][0]
    # Not Accepted needs a reason per element: not offered in bulk.
    refused = client.post(
        BULK_URL, {"status": int(ElementStatus.NOT_ACCEPTED), "elements": selection(fi)}
    )
    assert refused.context["bulk_form"].errors["status"] == [
        "Not Accepted is given element by element, with its reason, on each element's review "
        "page; here choose Accepted or Under Review."
    ]
    unchosen = client.post(BULK_URL, {"elements": selection(fi)})
    assert unchosen.context["bulk_form"].errors["status"] == [
        "Choose what to mark the selected elements: Accepted or Under Review."
    ]
    assert statuses(fi) == [ElementStatus.SUBMITTED]


def test_review_selected_asks_the_rule_for_each_element(cast):
    """The service itself refuses an element the actor may not review (the PA's), all or
    nothing."""
    fi, ust = submit(cast, draft(cast, FI), draft(cast, UST))
    with pytest.raises(PermissionDenied):
        services.review_selected(
            actor=cast.cupa_reviewer,
            seen={r.key: services.review_seen(r) for r in (fi, ust)},
            status=ElementStatus.ACCEPTED,
        )
    assert statuses(fi, ust) == [ElementStatus.SUBMITTED, ElementStatus.SUBMITTED]


def test_an_action_refused_after_the_queue_emptied_still_shows_its_errors(cast, client):
    """The only element selected was accepted by someone else meanwhile: the queue drawn again
    lists nothing, but the refusal is still summarized, and its links lead nowhere missing."""
    from tests.core.test_site_layout import unresolved_references

    (fi,) = submit(cast, draft(cast, FI))
    drawn = selection(fi)
    services.review(actor=cast.state_admin, record=fi, status=ElementStatus.ACCEPTED, comments="")
    client.force_login(cast.cupa_reviewer)
    for data in (
        {"status": int(ElementStatus.ACCEPTED), "elements": drawn},  # refused by the service
        {"elements": drawn},  # no action chosen: a field's error, no field on the page
    ):
        response = client.post(BULK_URL, data)
        assert response.status_code == 200
        assert not response.context["page"].paginator.count
        html = response.content.decode()
        assert html.count('class="error-summary"') == 1
        summary = html[html.index('<div class="error-summary"') :]
        summary = summary[: summary.index("</div>")]
        assert "There is a problem" in summary
        for error in response.context["bulk_form"].non_field_errors():
            assert str(error) in summary or escape(str(error)) in summary
        assert not unresolved_references(html)
    assert "Mark the selected elements" in summary
    assert "No submitted element is awaiting action." in html
