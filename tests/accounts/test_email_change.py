"""A person changes their own e-mail address (the account's name): asked on the account page
with the current password, done only from the link e-mailed to the new address."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services
from accounts.models import User
from accounts.tokens import email_change_tokens
from core.models import AuditEvent, OutboundEmail
from tests import factories

PROFILE = reverse("accounts:profile")
CHANGE = reverse("accounts:email_change")
NEW = "alice.new@example.org"

pytestmark = pytest.mark.django_db


def confirm_path(body: str) -> str:
    """The path of the confirmation link in an e-mail body (the only link that changes
    anything)."""
    found = re.findall(rf"{re.escape(settings.SITE_URL)}(/accounts/email/confirm/[^\s]+/)", body)
    assert len(found) == 1, body
    return found[0]


def mails_to(email: str) -> list[OutboundEmail]:
    return [m for m in OutboundEmail.objects.order_by("pk") if m.to == [email]]


def ask(user, new_email=NEW, password=factories.PASSWORD):
    return services.request_email_change(actor=user, new_email=new_email, current_password=password)


def link_parts(user, new_email=NEW) -> tuple[str, str, str]:
    return (
        urlsafe_base64_encode(force_bytes(user.pk)),
        urlsafe_base64_encode(force_bytes(new_email)),
        email_change_tokens.make_token(user, new_email),
    )


# The token.


def test_the_token_is_bound_to_the_user_the_new_address_and_the_current_one(user):
    other = factories.make_user("bob@example.com")
    token = email_change_tokens.make_token(user, NEW)

    assert email_change_tokens.check_token(user, token, NEW)
    assert email_change_tokens.check_token(user, token, NEW.upper())
    assert not email_change_tokens.check_token(user, token, "someone.else@example.org")
    assert not email_change_tokens.check_token(other, token, NEW)
    user.email = "alice.elsewhere@example.com"
    assert not email_change_tokens.check_token(user, token, NEW)


def test_the_token_dies_with_a_new_password_but_not_with_a_new_sign_in(user):
    token = email_change_tokens.make_token(user, NEW)

    User.objects.filter(pk=user.pk).update(last_login="2030-01-01T00:00:00Z")
    user.refresh_from_db()
    assert email_change_tokens.check_token(user, token, NEW)

    user.set_password("another-long-passphrase-7")
    assert not email_change_tokens.check_token(user, token, NEW)


def test_the_token_expires(user, settings):
    token = email_change_tokens.make_token(user, NEW)
    later = email_change_tokens._now() + timedelta(seconds=settings.CERS_EMAIL_CHANGE_TIMEOUT + 1)

    with mock.patch.object(type(email_change_tokens), "_now", return_value=later):
        assert not email_change_tokens.check_token(user, token, NEW)


def test_the_token_is_of_its_own_kind(user):
    from accounts.tokens import activation_tokens, password_reset_tokens

    token = email_change_tokens.make_token(user, NEW)

    assert not password_reset_tokens.check_token(user, token)
    assert not activation_tokens.check_token(user, token)
    assert not email_change_tokens.check_token(user, password_reset_tokens.make_token(user), NEW)
    assert not email_change_tokens.check_token(user, token[:-1] + "x", NEW)
    assert not email_change_tokens.check_token(user, "not-a-token", NEW)


# Asking for the change.


def test_asking_changes_nothing_and_emails_both_addresses(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(user, new_email="  Alice.New@Example.ORG ")

    user.refresh_from_db()
    assert user.email == "alice@example.com"
    [to_new] = mails_to(NEW)
    assert to_new.subject == "Confirm your new CERS e-mail address"
    [sent] = [m for m in mail.outbox if m.to == [NEW]]
    confirm_path(sent.body)
    [to_old] = mails_to("alice@example.com")
    assert to_old.subject == "A change of your CERS e-mail address was asked"
    assert NEW in to_old.body
    # The notice to the old address carries no link that changes anything.
    assert "/accounts/email/confirm/" not in to_old.body
    assert {m.to[0] for m in mail.outbox} == {NEW, "alice@example.com"}
    event = AuditEvent.objects.get(action="account.email_change_requested")
    assert event.actor_id == user.pk
    assert event.after == {"email": NEW}


def test_the_outbox_keeps_no_live_confirmation_link(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        ask(user)

    [to_new] = mails_to(NEW)
    assert to_new.status == OutboundEmail.Status.SENT
    assert "/accounts/email/confirm/" not in to_new.body


@pytest.mark.parametrize(
    ("new_email", "password", "field", "words"),
    [
        (NEW, "not-it", "current_password", "not your current password"),
        ("ALICE@example.com", factories.PASSWORD, "email", "already your e-mail address"),
        ("not-an-address", factories.PASSWORD, "email", "Enter a valid e-mail address"),
    ],
)
def test_the_service_refuses_and_sends_nothing(user, new_email, password, field, words):
    with pytest.raises(ValidationError) as refused:
        ask(user, new_email=new_email, password=password)

    assert words in refused.value.message_dict[field][0]
    assert not OutboundEmail.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="account.email_change").exists()


def test_the_service_refuses_an_edt_service_account(service_account):
    with pytest.raises(ValidationError):
        ask(service_account)

    assert not OutboundEmail.objects.exists()


def test_an_address_another_account_uses_is_told_to_that_address_only(
    user, django_capture_on_commit_callbacks
):
    factories.make_user("Bob@Example.com")

    with django_capture_on_commit_callbacks(execute=True):
        ask(user, new_email="bob@EXAMPLE.com")

    # The same work as for a free address: a notice to the old address, one message to the
    # new one; but the new one holds no link and says the address already has an account.
    [to_new] = mails_to("bob@example.com")
    assert to_new.subject == "Your CERS e-mail address was not changed"
    assert "already has a CERS account" in to_new.body
    assert "/accounts/email/confirm/" not in to_new.body
    assert len(mails_to("alice@example.com")) == 1
    event = AuditEvent.objects.get(action="account.email_change_requested")
    assert event.after == {"email": "bob@example.com", "address_in_use": True}


# Following the link.


def test_following_the_link_changes_the_address_once(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        changed = services.confirm_email_change(actor=None, link=link_parts(user))

    user.refresh_from_db()
    assert changed == user
    assert user.email == NEW
    event = AuditEvent.objects.get(action="account.email_changed")
    assert event.actor_id == user.pk
    assert (event.before, event.after) == ({"email": "alice@example.com"}, {"email": NEW})
    [notice] = mails_to("alice@example.com")
    assert notice.subject == "Your CERS e-mail address was changed"
    assert NEW in notice.body
    # Signing in now takes the new address.
    assert User.objects.get_by_natural_key(NEW.upper()) == user


def test_a_link_stops_working_once_the_address_changed(user):
    first = link_parts(user)
    second = link_parts(user, "alice.other@example.org")
    services.confirm_email_change(actor=None, link=first)

    for link in (first, second):
        with pytest.raises(ValidationError) as refused:
            services.confirm_email_change(actor=None, link=link)
        assert "not valid" in refused.value.messages[0]
    user.refresh_from_db()
    assert user.email == NEW


def test_a_tampered_link_changes_nothing(user):
    uid, _, token = link_parts(user)
    other_address = urlsafe_base64_encode(force_bytes("mallory@example.org"))

    for link in [(uid, other_address, token), (uid, "%%%", token), ("MA", "eA", token)]:
        with pytest.raises(ValidationError):
            services.confirm_email_change(actor=None, link=link)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_the_link_refuses_another_signed_in_person(user):
    other = factories.make_user("bob@example.com")

    with pytest.raises(PermissionDenied):
        services.confirm_email_change(actor=other, link=link_parts(user))
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_an_address_taken_meanwhile_is_refused_with_a_message(user):
    link = link_parts(user)
    factories.make_user("ALICE.NEW@example.org")

    with pytest.raises(ValidationError) as refused:
        services.confirm_email_change(actor=user, link=link)

    assert "now has a CERS account" in refused.value.messages[0]
    user.refresh_from_db()
    assert user.email == "alice@example.com"
    assert not AuditEvent.objects.filter(action="account.email_changed").exists()


def test_an_address_taken_at_the_same_moment_is_a_message_not_an_error(user):
    """The other account is written after the check (another transaction): the database's
    unique constraint refuses the change, and the person reads the same message."""
    link = link_parts(user)
    factories.make_user("Alice.New@example.org")

    with (
        mock.patch.object(services, "address_in_use", return_value=False),
        pytest.raises(ValidationError) as refused,
    ):
        services.confirm_email_change(actor=None, link=link)

    assert "now has a CERS account" in refused.value.messages[0]
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_a_disabled_account_is_not_changed(user):
    link = link_parts(user)
    User.objects.filter(pk=user.pk).update(is_active=False)

    with pytest.raises(ValidationError):
        services.confirm_email_change(actor=None, link=link)


def test_a_pending_invitation_to_the_new_address_is_left_for_its_link(
    user, django_capture_on_commit_callbacks
):
    from organizations.services import accept_invitation, invite

    lead = factories.make_user("lead@acme.example")
    organization = factories.make_organization(lead)
    invitation = invite(actor=lead, organization=organization, email=NEW, role="viewer")

    services.confirm_email_change(actor=None, link=link_parts(user))
    user.refresh_from_db()

    assert not organization.memberships.filter(user=user).exists()
    membership = accept_invitation(user=user, token=invitation.token)
    assert membership.user == user


# The pages.


def test_the_account_page_links_to_the_change(client, user):
    client.force_login(user)

    response = client.get(PROFILE)

    assertContains(response, f'href="{CHANGE}"')
    assertContains(response, "Change your e-mail address")
    assertNotContains(response, "it cannot be changed here")


def test_the_form_labels_its_fields_and_links_errors_to_them(client, user):
    client.force_login(user)

    page = client.get(CHANGE)
    assertContains(page, '<label for="id_email">New e-mail address')
    assertContains(page, '<label for="id_current_password">Current password')
    assertContains(page, 'autocomplete="email"')
    assertContains(page, 'autocomplete="current-password"')

    response = client.post(CHANGE, {"email": NEW, "current_password": "not-it"})

    assert response.status_code == 200
    assertContains(response, 'aria-invalid="true"')
    assertContains(response, 'aria-describedby="id_current_password_error"')
    assertContains(response, 'href="#id_current_password"')
    assert not OutboundEmail.objects.exists()


def test_the_form_asks_then_the_link_changes_the_address(
    client, user, password, django_capture_on_commit_callbacks
):
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(CHANGE, {"email": NEW, "current_password": password})

    assert response.status_code == 302
    assert response.url == PROFILE
    page = client.get(PROFILE)
    assertContains(page, f"We e-mailed a link to {NEW}")
    path = confirm_path(mail.outbox[[m.to for m in mail.outbox].index([NEW])].body)

    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    assertContains(confirm_page, NEW)
    assertContains(confirm_page, "<button")
    user.refresh_from_db()
    assert user.email == "alice@example.com"  # opening the link alone changes nothing

    done = client.post(path)

    assert done.status_code == 302
    assert done.url == PROFILE
    user.refresh_from_db()
    assert user.email == NEW
    # Still signed in, as the same account.
    assertContains(client.get(PROFILE), NEW)
    again = client.get(path)
    assert again.status_code == 400
    assertContains(again, "not valid", status_code=400)
    assertContains(again, f'href="{CHANGE}"', status_code=400)


def test_the_link_works_signed_out_and_leads_to_sign_in(client, user):
    path = reverse("accounts:email_change_confirm", args=link_parts(user))

    assert client.get(path).status_code == 200
    response = client.post(path)

    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))
    assert "email=alice.new%40example.org" in response.url
    user.refresh_from_db()
    assert user.email == NEW


def test_the_link_refuses_another_signed_in_person_clearly(client, user):
    other = factories.make_user("bob@example.com")
    client.force_login(other)
    path = reverse("accounts:email_change_confirm", args=link_parts(user))

    for response in (client.get(path), client.post(path)):
        assert response.status_code == 403
        assertContains(response, "another account", status_code=403)
        assertContains(response, "bob@example.com", status_code=403)
        assertNotContains(response, "alice@example.com", status_code=403)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_an_expired_or_tampered_link_says_so_and_offers_to_ask_again(client, user, settings):
    uid, address, token = link_parts(user)
    settings.CERS_EMAIL_CHANGE_TIMEOUT = -1

    for args in ([uid, address, token], [uid, address, "x-y"]):
        response = client.post(reverse("accounts:email_change_confirm", args=args))
        assert response.status_code == 400
        assertContains(response, "not valid", status_code=400)
        assertContains(response, f'href="{CHANGE}"', status_code=400)
    user.refresh_from_db()
    assert user.email == "alice@example.com"


def test_an_address_taken_meanwhile_is_a_page_not_a_server_error(client, user):
    path = reverse("accounts:email_change_confirm", args=link_parts(user))
    factories.make_user(NEW)
    client.force_login(user)

    response = client.post(path)

    assert response.status_code == 409
    assertContains(response, "now has a CERS account", status_code=409)


def test_asking_is_limited_with_the_password_change(client, user, settings):
    settings.CERS_RATE_LIMITS = {**settings.CERS_RATE_LIMITS, "password_change": "2/hour"}
    client.force_login(user)
    client.post(reverse("accounts:password_change"), {"current_password": "guess"})

    statuses = [
        client.post(CHANGE, {"email": NEW, "current_password": "guess"}).status_code
        for _ in range(2)
    ]

    assert statuses == [200, 429]


def test_asking_is_limited_per_new_address(client, user, password, settings):
    settings.CERS_RATE_LIMITS = {**settings.CERS_RATE_LIMITS, "email": "1/hour"}
    client.force_login(user)

    first = client.post(CHANGE, {"email": NEW, "current_password": password})
    second = client.post(CHANGE, {"email": NEW.upper(), "current_password": password})

    assert (first.status_code, second.status_code) == (302, 429)


def test_the_pages_need_a_signed_in_person_except_the_link(client, user):
    assert client.get(CHANGE).status_code == 302
    assert client.post(CHANGE, {"email": NEW}).status_code == 302
    assert not OutboundEmail.objects.exists()
