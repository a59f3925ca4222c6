"""Many review actions at once (``services.apply_reviews``, what EDT action notifications use):
the same element fields, audit events and e-mail as one review each, written together.

The cast's facility is in ZIP 95814: the Sacramento County CUPA handles every element except
element 4 (UST), which the City PA handles.
"""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from core import services as core_services
from core.elements import SubmittalElement
from core.models import AuditEvent, OutboundEmail
from submittals import services
from submittals.models import ElementStatus, SubmittalElementRecord
from submittals.services import ReviewAction
from tests import factories
from tests.edt.conftest import make_edt_account
from tests.submittals.data import submit

FI = SubmittalElement.FACILITY_INFORMATION
UST = SubmittalElement.UST


def review_all(actor, *actions):
    """Apply ``(record, status[, comments])`` actions in one transaction, as EDT does."""
    with transaction.atomic():
        locked = services.lock_for_review(record.key for record, *_ in actions)
        return services.apply_reviews(
            actor=actor,
            actions=[ReviewAction(locked[record.key], *rest) for record, *rest in actions],
        )


def reviewed_events(record):
    return AuditEvent.objects.filter(
        action="submittal.reviewed", object_id=str(record.pk)
    ).order_by("created_at", "id")


@pytest.fixture
def two_facilities(cast):
    """Facility Information of two Acme facilities in the CUPA's area, each submitted by a
    different approver (the Lead User is told of both, each approver of their own)."""
    second_approver = factories.make_user("erin@acme.example", first_name="Erin")
    factories.add_member(cast.org, second_approver, "approver")
    plant = factories.make_facility(cast.org, name="Acme Midtown Plant", zip_code="95814")
    return (
        submit(cast)[FI],
        submit(cast, facility=plant, approver=second_approver)[FI],
    )


def test_each_element_changes_and_is_audited_as_one_review_would(cast, two_facilities):
    depot, plant = two_facilities
    review_all(
        cast.cupa_reviewer,
        (depot, ElementStatus.ACCEPTED),
        (plant, ElementStatus.NOT_ACCEPTED, "  The site map is missing. "),
    )

    depot.refresh_from_db()
    plant.refresh_from_db()
    assert depot.status == ElementStatus.ACCEPTED
    assert (plant.status, plant.action_comments) == (
        ElementStatus.NOT_ACCEPTED,
        "The site map is missing.",
    )
    for record in (depot, plant):
        assert record.action_by == cast.cupa_reviewer
        assert record.action_agent_name == cast.cupa_reviewer.get_full_name()
        assert record.action_agent_email == "reviewer@sac-cupa.example"
        assert record.action_at is not None
        [event] = reviewed_events(record)
        assert event.actor == cast.cupa_reviewer
        assert (event.organization, event.regulator) == (cast.org, cast.cupa)
        assert event.before == {"status": int(ElementStatus.SUBMITTED), "comments": ""}
        assert event.after == {"status": int(record.status), "comments": record.action_comments}
        assert event.object_repr == str(record)


def test_locked_elements_hold_what_a_review_reads_and_read_the_rest_when_used(
    cast, two_facilities, django_assert_num_queries
):
    """``lock_for_review`` makes its objects from values: each holds what the database holds,
    a review reads nothing more, and a field not read comes when used, as after ``only()``."""
    depot, plant = two_facilities
    with transaction.atomic():
        locked = services.lock_for_review([depot.key, plant.key])
        assert set(locked) == {depot.key, plant.key}
        for record in (depot, plant):
            got = locked[record.key]
            fresh = SubmittalElementRecord.objects.select_related("facility", "submitted_by").get(
                pk=record.pk
            )
            with django_assert_num_queries(0):
                assert [getattr(got, name) for name in services._RECORD_READS] == [
                    getattr(fresh, name) for name in services._RECORD_READS
                ]
                assert [getattr(got.facility, name) for name in services._FACILITY_READS] == [
                    getattr(fresh.facility, name) for name in services._FACILITY_READS
                ]
                assert (str(got), got.facility.address) == (str(fresh), fresh.facility.address)
                assert got.facility.organization.name == cast.org.name
                assert (got.regulator, got.submitted_by) == (cast.cupa, fresh.submitted_by)
                assert (got._state.adding, got._state.db) == (False, "default")
            with django_assert_num_queries(1):
                assert got.data == fresh.data  # not read by a review: read when used


def test_locked_elements_organizations_and_submitters_hold_what_a_review_tells(
    cast, two_facilities, django_assert_num_queries
):
    """The organization and the submitter of a locked element hold what the review tells
    of them (the name, the address), shared by the elements; the rest comes when used."""
    depot, plant = two_facilities
    with transaction.atomic():
        locked = services.lock_for_review([depot.key, plant.key])
        got_depot, got_plant = locked[depot.key], locked[plant.key]
        assert got_depot.facility.organization is got_plant.facility.organization
        for record in (depot, plant):
            got = locked[record.key]
            fresh = SubmittalElementRecord.objects.select_related(
                "facility__organization", "submitted_by"
            ).get(pk=record.pk)
            organization, submitter = got.facility.organization, got.submitted_by
            with django_assert_num_queries(0):
                assert (organization.pk, organization.name) == (cast.org.pk, cast.org.name)
                assert (submitter.pk, submitter.email) == (
                    fresh.submitted_by.pk,
                    fresh.submitted_by.email,
                )
                assert got.regulator.code == cast.cupa.code
            with django_assert_num_queries(1):
                assert submitter.first_name == fresh.submitted_by.first_name
            assert str(submitter) == str(fresh.submitted_by)
        with django_assert_num_queries(1):
            assert got_depot.facility.organization.created_at == cast.org.created_at


def test_one_bad_action_refuses_them_all_and_lists_every_problem(cast, two_facilities):
    depot, plant = two_facilities
    with pytest.raises(ValidationError) as refused:
        review_all(
            cast.cupa_reviewer,
            (depot, ElementStatus.NOT_ACCEPTED),  # no comments
            (plant, ElementStatus.SUBMITTED),  # not a status a regulator sets
        )
    assert len(refused.value.messages) == 2
    assert f"CERS ID {depot.facility.cers_id}: Say why" in refused.value.messages[0]
    assert f"CERS ID {plant.facility.cers_id}: Choose" in refused.value.messages[1]
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[depot.pk, plant.pk]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.SUBMITTED}
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()
    assert not OutboundEmail.objects.filter(subject__icontains="status").exists()


def test_an_element_acted_on_twice_ends_with_the_second_and_keeps_both(cast, two_facilities):
    depot, _plant = two_facilities
    review_all(
        cast.cupa_reviewer,
        (depot, ElementStatus.UNDER_REVIEW),
        (depot, ElementStatus.ACCEPTED),
    )
    depot.refresh_from_db()
    assert depot.status == ElementStatus.ACCEPTED
    history = [(event.before["status"], event.after["status"]) for event in reviewed_events(depot)]
    assert history == [(2, 3), (3, 4)]


def test_each_event_keeps_its_own_states_when_actions_share_some(cast, two_facilities, monkeypatch):
    """Actions alike and not in one batch: each event keeps the states of its own element,
    written as many events are (COPY on PostgreSQL)."""
    monkeypatch.setattr(core_services, "COPY_FROM", 1)
    depot, plant = two_facilities
    review_all(
        cast.cupa_reviewer,
        (depot, ElementStatus.UNDER_REVIEW),
        (plant, ElementStatus.UNDER_REVIEW),
        (depot, ElementStatus.NOT_ACCEPTED, "The site map is missing."),
        (plant, ElementStatus.NOT_ACCEPTED, "The owner is not named."),
    )
    submitted = {"status": int(ElementStatus.SUBMITTED), "comments": ""}
    under_review = {"status": int(ElementStatus.UNDER_REVIEW), "comments": ""}
    for record, comments in (
        (depot, "The site map is missing."),
        (plant, "The owner is not named."),
    ):
        not_accepted = {"status": int(ElementStatus.NOT_ACCEPTED), "comments": comments}
        history = [(event.before, event.after) for event in reviewed_events(record)]
        assert history == [(submitted, under_review), (under_review, not_accepted)]
        record.refresh_from_db()
        assert (record.action_by, record.action_comments) == (cast.cupa_reviewer, comments)


def test_each_address_is_told_of_its_elements_in_one_email_per_organization(
    cast, two_facilities, django_capture_on_commit_callbacks, mailoutbox
):
    depot, plant = two_facilities
    other = factories.make_facility(cast.other_org, name="Other Co Depot", zip_code="95814")
    others = submit(cast, facility=other, editor=cast.outsider, approver=cast.outsider)[FI]

    with django_capture_on_commit_callbacks(execute=True):
        review_all(
            cast.cupa_reviewer,
            (depot, ElementStatus.ACCEPTED),
            (plant, ElementStatus.NOT_ACCEPTED, "The site map is missing."),
            (others, ElementStatus.UNDER_REVIEW),
        )

    told = {tuple(sorted(mail.to)): mail for mail in mailoutbox}
    assert set(told) == {
        ("lead@acme.example",),
        ("approver@acme.example",),
        ("erin@acme.example",),
        ("outsider@other.example",),
    }
    summary = told["lead@acme.example",]
    assert "2 submittal elements of Acme Fuels" in summary.subject
    assert "Accepted: 1" in summary.body and "Not Accepted: 1" in summary.body
    # Not Accepted first: the business has work to do on it.
    assert summary.body.index("Acme Midtown Plant") < summary.body.index("Acme Sacramento Depot")
    assert "The site map is missing." in summary.body
    assert "Other Co" not in summary.body
    # Told of one element, each submitter gets the portal's own review e-mail.
    assert told["approver@acme.example",].subject == (
        f"CERS: Facility Information for Acme Sacramento Depot (CERS ID "
        f"{depot.facility.cers_id}) is Accepted"
    )
    assert "Not Accepted" in told["erin@acme.example",].subject
    assert "Under Review" in told["outsider@other.example",].subject


def test_one_action_is_told_exactly_as_the_portal_tells_it(
    cast, two_facilities, django_capture_on_commit_callbacks, mailoutbox
):
    depot, _plant = two_facilities
    with django_capture_on_commit_callbacks(execute=True):
        review_all(cast.cupa_reviewer, (depot, ElementStatus.ACCEPTED))
    [batch] = mailoutbox
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.review(actor=cast.cupa_reviewer, record=depot, status=ElementStatus.ACCEPTED)
    [portal] = mailoutbox
    assert (batch.to, batch.subject) == (portal.to, portal.subject)
    assert batch.to == ["lead@acme.example", "approver@acme.example"]
    assert batch.body.split("Reviewed by")[0] == portal.body.split("Reviewed by")[0]


def test_the_email_of_one_action_links_to_the_facilitys_submittals(
    cast, two_facilities, django_capture_on_commit_callbacks, mailoutbox, settings
):
    """The business told its element was not accepted follows the e-mail's link to the
    facility's submittals, where it starts the corrected draft (in whichever of the reader's
    organizations the facility is)."""
    from django.urls import reverse

    depot, _plant = two_facilities
    with django_capture_on_commit_callbacks(execute=True):
        services.review(
            actor=cast.cupa_reviewer,
            record=depot,
            status=ElementStatus.NOT_ACCEPTED,
            comments="The site map is missing.",
        )
    [mail] = mailoutbox
    link = settings.SITE_URL + reverse("business:submittals", args=[cast.facility.cers_id])
    assert link in mail.body


def test_a_long_summary_lists_the_first_actions_and_counts_them_all(
    cast, two_facilities, monkeypatch
):
    depot, plant = two_facilities
    monkeypatch.setattr(services, "SUMMARY_MAX_LINES", 1)
    review_all(cast.cupa_reviewer, (depot, ElementStatus.ACCEPTED), (plant, 6))
    summary = OutboundEmail.objects.get(to=["lead@acme.example"])
    assert "Accepted: 1" in summary.body and "Not Applicable: 1" in summary.body
    assert "And 1 more element:" in summary.body


def test_many_audit_events_are_written_at_once_with_every_field(cast, two_facilities, monkeypatch):
    """On PostgreSQL many events go through COPY: from two on here."""
    depot, plant = two_facilities
    monkeypatch.setattr(core_services, "COPY_FROM", 2)
    review_all(cast.cupa_reviewer, (depot, ElementStatus.ACCEPTED), (plant, 6))
    for record, status in ((depot, 4), (plant, 6)):
        [event] = reviewed_events(record)
        assert (event.actor, event.organization, event.regulator) == (
            cast.cupa_reviewer,
            cast.org,
            cast.cupa,
        )
        assert event.object_type == "submittals.submittalelementrecord"
        assert event.after == {"status": status, "comments": ""}
        assert event.created_at is not None


def test_elements_of_the_pa_keep_their_agency_in_the_audit_trail(cast):
    # The CUPA's system acts for its PA's elements too (the CUPA's staff may not).
    account = make_edt_account("1001", "sac_edt", "1-6", "both")
    submitted = submit(cast, UST)
    depot, ust = submitted[FI], submitted[UST]
    review_all(account.user, (depot, ElementStatus.ACCEPTED), (ust, 3))
    assert reviewed_events(ust).get().regulator == cast.pa
    assert reviewed_events(depot).get().regulator == cast.cupa


def test_reviews_given_in_batches_tell_each_address_as_one_call_would(
    cast, two_facilities, monkeypatch
):
    """``Reviews`` takes the actions a batch at a time and tells the businesses once, after
    the last: the e-mails are those of ``apply_reviews`` given every action at once."""
    depot, plant = two_facilities
    other = factories.make_facility(cast.other_org, name="Other Co Depot", zip_code="95814")
    others = submit(cast, facility=other, editor=cast.outsider, approver=cast.outsider)[FI]
    monkeypatch.setattr(services, "HELD_LINES", 1)  # on PostgreSQL, through its table
    OutboundEmail.objects.all().delete()  # those of the submissions
    batches = [
        [(plant, ElementStatus.NOT_ACCEPTED, "The site map is missing.")],
        [(others, ElementStatus.UNDER_REVIEW), (depot, ElementStatus.UNDER_REVIEW)],
        [(depot, ElementStatus.ACCEPTED)],
    ]
    with transaction.atomic():
        reviews = services.Reviews(actor=cast.cupa_reviewer)
        for batch in batches:
            locked = services.lock_for_review(record.key for record, *_ in batch)
            reviews.apply([ReviewAction(locked[record.key], *rest) for record, *rest in batch])
        assert not OutboundEmail.objects.exists()
        reviews.tell_businesses()

    told = {tuple(sorted(mail.to)): mail for mail in OutboundEmail.objects.all()}
    assert set(told) == {
        ("lead@acme.example",),
        ("approver@acme.example",),
        ("erin@acme.example",),
        ("outsider@other.example",),
    }
    summary = told["lead@acme.example",]
    assert "3 submittal elements of Acme Fuels" in summary.subject
    counts = ("Under Review: 1", "Accepted: 1", "Not Accepted: 1")
    assert all(count in summary.body for count in counts)
    # Not Accepted first, then by facility: the depot's two actions in their order.
    midtown = summary.body.index("Acme Midtown Plant")
    under_review = summary.body.index("Status: Under Review")
    assert midtown < under_review < summary.body.index("Status: Accepted")
    approver = told["approver@acme.example",]
    assert "2 submittal elements of Acme Fuels" in approver.subject
    assert "Acme Midtown Plant" not in approver.body
    assert "Not Accepted" in told["erin@acme.example",].subject
    assert "Under Review" in told["outsider@other.example",].subject


def test_a_refused_batch_is_neither_written_nor_told(cast, two_facilities):
    depot, plant = two_facilities
    OutboundEmail.objects.all().delete()  # those of the submissions
    with transaction.atomic():
        reviews = services.Reviews(actor=cast.cupa_reviewer)
        locked = services.lock_for_review([depot.key, plant.key])
        reviews.apply([ReviewAction(locked[depot.key], ElementStatus.ACCEPTED)])
        with pytest.raises(ValidationError):
            reviews.apply([ReviewAction(locked[plant.key], ElementStatus.NOT_ACCEPTED)])
        reviews.tell_businesses()
    plant.refresh_from_db()
    assert plant.status == ElementStatus.SUBMITTED
    assert not reviewed_events(plant).exists()
    [told] = OutboundEmail.objects.all()
    assert told.to == ["lead@acme.example", "approver@acme.example"]
    assert "Acme Sacramento Depot" in told.subject and "Accepted" in told.subject
