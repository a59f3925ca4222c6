"""Two reviewers on one element at once (issue 17): a review carries the element's state the
reviewer saw, and one made from a stale state is refused with who reviewed it and when."""

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from submittals import services
from submittals.models import ElementStatus, SubmittalElementRecord
from tests.factories import add_staff, make_user

from .test_review_pages import FI, draft, review_url, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(cast):
    """A Facility Information element submitted, routed to the CUPA."""
    return submit(cast, draft(cast, FI))


@pytest.fixture
def second_reviewer(cast):
    user = make_user("second-reviewer@sac-cupa.example", first_name="Sam")
    add_staff(cast.cupa, user, "reviewer")
    return user


def reviews(record) -> int:
    return AuditEvent.objects.filter(action="submittal.reviewed", object_id=str(record.pk)).count()


def test_a_review_from_a_stale_page_is_refused_and_names_the_first_review(
    cast,
    submitted,
    second_reviewer,
):
    record = submitted[0]
    seen = services.review_seen(record)  # both reviewers open the element
    services.review(
        actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED, seen=seen
    )

    with pytest.raises(ValidationError) as refused:
        services.review(
            actor=second_reviewer,
            record=record,
            status=ElementStatus.NOT_ACCEPTED,
            comments="Wrong address.",
            seen=seen,
        )

    [message] = refused.value.messages
    first = cast.cupa_reviewer.get_full_name() or cast.cupa_reviewer.email
    assert f"reviewed by {first} at " in message
    assert "while you had it open; reload" in message
    record.refresh_from_db()
    assert record.status == ElementStatus.ACCEPTED
    assert record.action_by == cast.cupa_reviewer
    assert reviews(record) == 1


def test_a_review_from_the_current_state_is_applied(cast, submitted, second_reviewer):
    record = submitted[0]
    services.review(actor=cast.cupa_reviewer, record=record, status=ElementStatus.UNDER_REVIEW)
    record.refresh_from_db()

    services.review(
        actor=second_reviewer,
        record=record,
        status=ElementStatus.ACCEPTED,
        seen=services.review_seen(record),
    )

    record.refresh_from_db()
    assert (record.status, record.action_by) == (ElementStatus.ACCEPTED, second_reviewer)


def test_the_review_page_carries_the_state_and_refuses_a_stale_post(
    cast,
    client,
    submitted,
    second_reviewer,
):
    record = submitted[0]
    client.force_login(second_reviewer)
    page = client.get(review_url(record))
    seen = page.context["form"]["seen"].value()
    assert seen == services.review_seen(record)
    assert f'name="seen" value="{seen}"' in page.content.decode()

    # Meanwhile the first reviewer accepts it.
    services.review(actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED)

    response = client.post(
        review_url(record),
        {"status": int(ElementStatus.NOT_ACCEPTED), "comments": "Wrong address.", "seen": seen},
    )
    assert response.status_code == 200
    assert "while you had it open; reload" in response.content.decode()
    record = SubmittalElementRecord.objects.get(pk=record.pk)
    assert record.status == ElementStatus.ACCEPTED
    assert reviews(record) == 1

    # Reloaded, the page carries the new state and the review is applied.
    seen = client.get(review_url(record)).context["form"]["seen"].value()
    response = client.post(
        review_url(record),
        {"status": int(ElementStatus.NOT_ACCEPTED), "comments": "Wrong address.", "seen": seen},
    )
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.status == ElementStatus.NOT_ACCEPTED
