"""The migration that records when each account was first active: an account active now, one
that has signed in, and one whose activation is in the audit log count as activated (disabled,
if inactive now); only an account never active still waits for its link."""

from __future__ import annotations

import datetime

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("accounts", "0001_initial"), ("core", "0006_outbox_published_at")]
AFTER = [("accounts", "0002_user_activated_at")]
JOINED = datetime.datetime(2026, 1, 5, 9, 0, tzinfo=datetime.UTC)
SIGNED_IN = datetime.datetime(2026, 2, 6, 10, 0, tzinfo=datetime.UTC)


@pytest.mark.django_db(transaction=True)
def test_accounts_once_active_are_stamped_and_the_rest_still_wait():
    old = migrate(BEFORE)
    User = old.get_model("accounts", "User")
    AuditEvent = old.get_model("core", "AuditEvent")

    def user(email, **fields):
        return User.objects.create(email=email, date_joined=JOINED, **fields).pk

    active = user("active@example.com", is_active=True)
    signed_in = user("signed-in@example.com", is_active=False, last_login=SIGNED_IN)
    activated = user("activated@example.com", is_active=False)
    waiting = user("waiting@example.com", is_active=False)
    event = AuditEvent.objects.create(
        action="account.activated", object_type="accounts.user", object_id=str(activated)
    )
    try:
        new = migrate(AFTER)
        stamped = dict(new.get_model("accounts", "User").objects.values_list("pk", "activated_at"))
        assert stamped == {
            active: JOINED,
            signed_in: SIGNED_IN,
            activated: event.created_at,
            waiting: None,
        }
        migrate(BEFORE)  # and back
    finally:
        migrate_to_latest()
