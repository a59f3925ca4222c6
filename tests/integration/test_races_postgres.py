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
