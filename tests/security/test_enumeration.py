"""Issue 12, item 5: sign-up, password reset and join requests answer the same way whether
the account, the CERS ID or the organization exists; what happened goes by e-mail."""

import pytest
from django.contrib.auth import base_user
from django.urls import reverse

from accounts.models import User
from organizations.models import JoinRequest
from tests import factories

from .conftest import audit_count, observe

EMAIL = "someone@example.com"


def signup_form(password):
    return {
        "email": EMAIL,
        "first_name": "Sam",
        "last_name": "Someone",
        "password1": password,
        "password2": password,
    }


@pytest.fixture
def hashing(monkeypatch):
    """Counts the password hashes computed: the same work on every path."""
    calls = []
    original = base_user.make_password

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(base_user, "make_password", counting)
    return calls


def test_signup_answers_the_same_for_a_new_and_an_existing_address(
    client, db, django_capture_on_commit_callbacks, rolled_back, password, hashing
):
    answers = {}
    for exists in (False, True):
        with rolled_back():
            if exists:
                factories.make_user(EMAIL)
            hashing.clear()
            events = audit_count()
            answers[exists] = observe(
                client,
                django_capture_on_commit_callbacks,
                "post",
                reverse("accounts:signup"),
                signup_form(password),
            )
            answers[exists].hashes = len(hashing)
            answers[exists].events = audit_count() - events
            answers[exists].users = User.objects.filter(email=EMAIL).count()
        client.logout()

    new, existing = answers[False], answers[True]
    assert existing.status == new.status == 302
    assert existing.location == new.location == reverse("accounts:signup_done")
    assert existing.page_status == new.page_status == 200
    assert existing.templates == new.templates
    assert existing.page == new.page
    assert existing.outbox_rows == new.outbox_rows == 1
    assert [m.to for m in existing.emails] == [m.to for m in new.emails] == [[EMAIL]]
    assert existing.hashes == new.hashes == 1
    assert existing.events == new.events == 1
    assert existing.users == new.users == 1
    # What differs is said only to the address: a new account's link, or a notice.
    assert "/accounts/activate/" in new.emails[0].body
    assert "already has an account" in existing.emails[0].body
    assert "/accounts/activate/" not in existing.emails[0].body


def test_signup_with_an_address_never_activated_sends_its_activation_link_again(
    client, db, django_capture_on_commit_callbacks, password
):
    factories.make_user(EMAIL, is_active=False)

    answer = observe(
        client,
        django_capture_on_commit_callbacks,
        "post",
        reverse("accounts:signup"),
        signup_form(password),
    )

    assert answer.location == reverse("accounts:signup_done")
    [message] = answer.emails
    assert "/accounts/activate/" in message.body
    assert User.objects.filter(email=EMAIL).count() == 1


@pytest.mark.parametrize("who", ["nobody", "inactive", "service_account"])
def test_password_reset_answers_the_same_for_an_account_and_for_none(
    client, db, django_capture_on_commit_callbacks, rolled_back, who
):
    answers = {}
    for exists in (True, False):
        with rolled_back():
            if exists:
                factories.make_user(EMAIL)
            elif who == "inactive":
                factories.make_user(EMAIL, is_active=False)
            elif who == "service_account":
                factories.make_user(EMAIL, is_service_account=True)
            answers[exists] = observe(
                client,
                django_capture_on_commit_callbacks,
                "post",
                reverse("accounts:password_reset"),
                {"email": EMAIL},
            )

    account, none = answers[True], answers[False]
    assert account.status == none.status == 302
    assert account.location == none.location == reverse("accounts:password_reset_done")
    assert account.templates == none.templates
    assert account.page == none.page
    assert account.outbox_rows == none.outbox_rows == 1
    assert [m.to for m in account.emails] == [m.to for m in none.emails] == [[EMAIL]]
    assert "/accounts/reset/" in account.emails[0].body
    assert "/accounts/reset/" not in none.emails[0].body


@pytest.mark.parametrize(
    ("kind", "known", "unknown"),
    [
        ("organization", lambda c: c.org.code, lambda c: 99999999),
        ("facility", lambda c: c.facility.cers_id, lambda c: 99999999),
    ],
)
def test_a_join_request_answers_the_same_for_a_known_and_an_unknown_code(
    client, cast, django_capture_on_commit_callbacks, rolled_back, kind, known, unknown
):
    newcomer = factories.make_user("nina@newco.example", first_name="Nina")
    client.force_login(newcomer)
    answers = {}
    for exists, code in ((True, known(cast)), (False, unknown(cast))):
        with rolled_back():
            events = audit_count()
            answers[exists] = observe(
                client,
                django_capture_on_commit_callbacks,
                "post",
                reverse("business:join_request_create"),
                {"code": str(code), "kind": kind, "message": "Hello"},
            )
            answers[exists].events = audit_count() - events
            answers[exists].requests = JoinRequest.objects.filter(user=newcomer).count()

    found, missing = answers[True], answers[False]
    assert found.status == missing.status == 302
    assert found.location == missing.location == reverse("business:start")
    assert found.page_status == missing.page_status == 200
    assert found.templates == missing.templates
    assert found.page == missing.page
    assert cast.org.name.encode() not in found.page
    assert found.outbox_rows == missing.outbox_rows == 1
    assert len(found.emails) == len(missing.emails) == 1
    assert found.events == missing.events == 1
    # The request went to the Lead Users, or the requester was told why it did not.
    assert (found.requests, missing.requests) == (1, 0)
    assert found.emails[0].to == [cast.lead.email]
    assert missing.emails[0].to == [newcomer.email]
    assert str(unknown(cast)) in missing.emails[0].body


def test_a_member_asking_to_join_gets_the_same_page(
    client, cast, django_capture_on_commit_callbacks, rolled_back
):
    client.force_login(cast.viewer)
    answers = []
    for code in (cast.org.code, 99999999):
        with rolled_back():
            answers.append(
                observe(
                    client,
                    django_capture_on_commit_callbacks,
                    "post",
                    reverse("business:join_request_create"),
                    {"code": str(code)},
                )
            )
    member, unknown = answers
    assert (member.status, member.location, member.page) == (
        unknown.status,
        unknown.location,
        unknown.page,
    )
    assert member.outbox_rows == unknown.outbox_rows == 1
    assert "already a member" in member.emails[0].body
