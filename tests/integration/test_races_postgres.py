"""Two requests really at once on PostgreSQL, each in its own connection: a double click on a
form that creates a row guarded by a unique constraint (an invitation, a request to join)
makes one row and answers both, never a server error on the constraint.

Each request is held, between its checks and its insert, until the other has reached the same
point or a moment has passed: without a lock both pass their checks, as two requests arriving
together do; with the lock the second waits for the first to commit.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from facilities import services as facilities
from facilities.models import Facility
from organizations import services
from organizations.models import Invitation, JoinRequest
from organizations.roles import Role
from tests import factories

pytestmark = pytest.mark.integration

MEET_TIMEOUT = 2.0


def meeting_point(parties: int = 2):
    """A place where each thread waits for the others, a moment at most (a thread that waits
    behind the other's lock never comes)."""
    barrier = threading.Barrier(parties)

    def meet() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(MEET_TIMEOUT)

    return meet


def together(*calls) -> list:
    """Run each call in its own thread (its own connection); each call's result or error."""
    outcomes: list = [None] * len(calls)

    def run(index: int) -> None:
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # noqa: BLE001 - the test reads it
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return outcomes


def test_an_invitation_sent_twice_at_once_leaves_one_pending(transactional_db, cast, monkeypatch):
    assert connection.vendor == "postgresql"
    meet = meeting_point()
    token_urlsafe = secrets.token_urlsafe

    def token_after_both_checked(nbytes=None):
        meet()  # both have revoked what was pending; each is about to insert its own
        return token_urlsafe(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", token_after_both_checked)

    def invite():
        return services.invite(
            actor=cast.lead, organization=cast.org, email="new@acme.example", role=Role.EDITOR
        )

    outcomes = together(invite, invite)

    assert all(isinstance(outcome, Invitation) for outcome in outcomes), outcomes
    sent = Invitation.objects.filter(email="new@acme.example")
    assert sorted(sent.values_list("status", flat=True)) == ["pending", "revoked"]


def test_a_request_to_join_sent_twice_at_once_is_made_once(transactional_db, cast, monkeypatch):
    assert connection.vendor == "postgresql"
    newcomer = factories.make_user("nina@newco.example")
    meet = meeting_point()
    lead_user_emails = services.lead_user_emails

    def emails_after_both_checked(organization):
        meet()  # both found no request waiting; each is about to make its own
        return lead_user_emails(organization)

    monkeypatch.setattr(services, "lead_user_emails", emails_after_both_checked)

    def ask():
        return services.request_to_join(user=newcomer, code=cast.org.code)

    outcomes = together(ask, ask)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(o is None for o in outcomes) == [False, True]  # made, and told it waits
    assert JoinRequest.objects.filter(user=newcomer, organization=cast.org).count() == 1


def test_one_address_added_by_two_businesses_at_once_is_one_facility(
    transactional_db, cast, monkeypatch
):
    assert connection.vendor == "postgresql"
    meet = meeting_point()
    next_value = facilities.next_value

    def number_after_both_checked(name, start):
        meet()  # both found no facility at the address; each is about to add its own
        return next_value(name, start)

    monkeypatch.setattr(facilities, "next_value", number_after_both_checked)

    def add(actor, organization):
        return lambda: facilities.create_facility(
            actor=actor,
            organization=organization,
            name="Corner Station",
            street="1 Race Street",
            city="Sacramento",
            zip_code="95814",
        )

    outcomes = together(add(cast.lead, cast.org), add(cast.outsider, cast.other_org))

    assert sorted(type(o).__name__ for o in outcomes) == ["Facility", "ValidationError"], outcomes
    refused = next(o for o in outcomes if isinstance(o, ValidationError))
    assert "already reported in CERS" in refused.messages[0]
    assert Facility.objects.filter(street="1 Race Street").count() == 1


# --- Submittals: two tabs, two reviewers --------------------------------------------------


def _drafts(cast):
    from submittals import services as submittals
    from tests.submittals.data import answer_required_documents, complete_facility_information

    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    record = submittals.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )
    answer_required_documents(cast.editor, record)
    return [record]


def test_the_same_drafts_submitted_from_two_tabs_at_once_are_submitted_once(transactional_db, cast):
    from submittals import services as submittals
    from submittals.models import FacilitySubmittal

    drafts = _drafts(cast)

    def submit():
        return submittals.submit(
            actor=cast.approver,
            facility=cast.facility,
            elements=drafts,
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )

    outcomes = together(submit, submit)

    assert sorted(type(o).__name__ for o in outcomes) == [
        "FacilitySubmittal",
        "ValidationError",
    ], outcomes
    assert FacilitySubmittal.objects.filter(status=FacilitySubmittal.Status.SUBMITTED).count() == 1


def test_no_changes_certified_from_two_tabs_at_once_are_certified_once(transactional_db, cast):
    from submittals import services as submittals
    from submittals.models import SubmittalElementRecord

    [record] = _drafts(cast)
    submittals.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    submittals.review(actor=cast.cupa_reviewer, record=record, status=4)

    def certify():
        return submittals.certify_no_changes(
            actor=cast.approver,
            facilities=[cast.facility],
            certifier_name="Bob Approver",
            certifier_title="Manager",
        )

    outcomes = together(certify, certify)

    assert sorted(type(o).__name__ for o in outcomes) == ["ValidationError", "list"], outcomes
    assert SubmittalElementRecord.objects.filter(based_on=record).count() == 1


def test_two_reviewers_acting_on_one_element_at_once_record_one_review(transactional_db, cast):
    from core.models import AuditEvent
    from submittals import services as submittals

    [record] = _drafts(cast)
    submittals.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=[record],
        certifier_name="Bob Approver",
        certifier_title="Manager",
    )
    record.refresh_from_db()
    seen = submittals.review_seen(record)
    second = factories.make_user("reviewer2@sac-cupa.example")
    factories.add_staff(cast.cupa, second, "reviewer")

    def review(actor, status, comments=""):
        return lambda: submittals.review(
            actor=actor, record=record, status=status, comments=comments, seen=seen
        )

    outcomes = together(
        review(cast.cupa_reviewer, 4), review(second, 5, "The site map is missing.")
    )

    assert sorted(type(o).__name__ for o in outcomes) == [
        "SubmittalElementRecord",
        "ValidationError",
    ], outcomes
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 1


# --- Transfers: a move and an organization merge at once ----------------------------------


def test_a_move_and_an_organization_merge_at_once_do_not_deadlock(
    transactional_db, cast, cupa_admin, monkeypatch
):
    """The move locks the facility, then the organizations; the merge used to lock the
    organizations, then the facilities it moves: each held what the other waited for."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    third = factories.make_organization(factories.make_user("third@example.com"), "Third Co")
    meet = meeting_point()
    lock_organizations = facilities._lock_organizations

    def lock_after_both_started(*organizations):
        meet()  # the move holds its facility; the merge is about to lock the organizations
        if third in organizations:
            time.sleep(0.5)  # the move asks for the organizations' locks second
        return lock_organizations(*organizations)

    monkeypatch.setattr(facilities, "_lock_organizations", lock_after_both_started)
    letter = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

    def move():
        return facilities.move_facility(
            actor=cupa_admin,
            facility=cast.facility,
            to_organization=third,
            reason="Sold",
            letter=SimpleUploadedFile("request.pdf", letter, content_type="application/pdf"),
        )

    def merge():
        return facilities.merge_organizations(
            actor=cast.state_admin, source=cast.org, target=cast.other_org, reason="Acquired"
        )

    outcomes = together(move, merge)

    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(o, ValidationError) for o in errors), outcomes


# --- Accounts: a sign-up sent twice -------------------------------------------------------


def test_a_sign_up_sent_twice_at_once_makes_one_account(transactional_db, monkeypatch):
    from accounts import services as accounts
    from accounts.models import User
    from core.models import OutboundEmail

    assert connection.vendor == "postgresql"
    meet = meeting_point()
    validate_password = accounts.validate_password

    def checked_after_both_looked(password, user=None):
        meet()  # both found no account with the address; each is about to make its own
        return validate_password(password, user)

    monkeypatch.setattr(accounts, "validate_password", checked_after_both_looked)

    def sign_up():
        return accounts.register_user(
            email="twice@new.example",
            password="a long enough passphrase 2026",
            first_name="Tess",
            last_name="Twice",
        )

    outcomes = together(sign_up, sign_up)

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert User.objects.filter(email__iexact="twice@new.example").count() == 1
    # Each click sent the activation link once: the account's own, and again to its owner.
    assert OutboundEmail.objects.filter(to__contains=["twice@new.example"]).count() == 2


def test_a_vendor_registered_twice_at_once_is_registered_once(transactional_db, cast, monkeypatch):
    from edt.access import services as access
    from edt.models import Vendor

    assert connection.vendor == "postgresql"
    meet = meeting_point()
    full_clean = Vendor.full_clean

    def cleaned_then_wait(vendor, *args, **kwargs):
        full_clean(vendor, *args, **kwargs)  # no vendor has the name yet
        meet()

    monkeypatch.setattr(Vendor, "full_clean", cleaned_then_wait)

    def register():
        return access.register_vendor(actor=cast.state_admin, name="Delta Data Systems")

    outcomes = together(register, register)

    assert sorted(type(o).__name__ for o in outcomes) == ["ValidationError", "Vendor"], outcomes
    assert Vendor.objects.filter(name="Delta Data Systems").count() == 1


# --- Numbers -----------------------------------------------------------------------------


def test_numbers_handed_out_at_once_are_each_handed_out_once(transactional_db, cast):
    """Organization codes and CERS IDs from their sequences."""
    users = [factories.make_user(f"founder{i}@new.example") for i in range(4)]

    def found(user, index):
        def create():
            organization = services.create_organization(actor=user, name=f"New Co {index}")
            facility = facilities.create_facility(
                actor=user,
                organization=organization,
                name=f"Site {index}",
                street=f"{index} Sequence Way",
                city="Sacramento",
                zip_code="95814",
            )
            return organization.code, facility.cers_id

        return create

    outcomes = together(*(found(user, i) for i, user in enumerate(users)))

    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert len({code for code, _ in outcomes}) == len({cers for _, cers in outcomes}) == 4


def test_two_lead_users_leaving_at_once_leave_one_behind(transactional_db, cast):
    from organizations.models import Membership

    second = factories.make_user("lead2@acme.example")
    factories.add_member(cast.org, second, "lead")
    leads = list(Membership.objects.filter(organization=cast.org, role=Role.LEAD))
    assert len(leads) == 2

    def leave(membership):
        return lambda: services.remove_member(actor=membership.user, membership=membership)

    outcomes = together(*(leave(m) for m in leads))

    assert [type(o).__name__ for o in outcomes].count("ValidationError") == 1, outcomes
    assert Membership.objects.filter(organization=cast.org, role=Role.LEAD).count() == 1
