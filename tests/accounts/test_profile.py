"""Each signed-in person's account page: their details, their password, their previous
sign-in."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from accounts import services
from accounts.models import User
from core.models import AuditEvent, OutboundEmail

PROFILE = reverse("accounts:profile")
PASSWORD = reverse("accounts:password_change")
NEW_PASSWORD = "a-brand-new-passphrase-42"

pytestmark = pytest.mark.django_db


def test_the_page_shows_the_address_and_offers_the_details(client, user):
    client.force_login(user)

    response = client.get(PROFILE)

    assertContains(response, "alice@example.com")
    assert response.context["form"].initial["first_name"] == "Alice"
    assert response.context["form"].initial["last_name"] == "Able"


def test_every_page_links_the_signed_in_person_to_their_account(client, user):
    client.force_login(user)

    assertContains(client.get(reverse("business:start")), f'href="{PROFILE}"')


def test_a_person_corrects_their_name_phone_and_title(client, user):
    client.force_login(user)

    response = client.post(
        PROFILE,
        {"first_name": " Alicia ", "last_name": "Able", "phone": "916-555-0100", "title": "EHS"},
    )

    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.first_name, user.phone, user.title) == ("Alicia", "916-555-0100", "EHS")
    event = AuditEvent.objects.get(action="account.profile_changed")
    assert event.actor_id == user.pk
    assert event.before["first_name"] == "Alice"
    assert event.after == {
        "first_name": "Alicia",
        "last_name": "Able",
        "phone": "916-555-0100",
        "title": "EHS",
    }


def test_saving_unchanged_details_records_nothing(client, user):
    client.force_login(user)

    client.post(PROFILE, {"first_name": "Alice", "last_name": "Able", "phone": "", "title": ""})

    assert not AuditEvent.objects.filter(action="account.profile_changed").exists()


def test_a_blank_name_is_refused_beside_its_field(client, user):
    client.force_login(user)

    response = client.post(PROFILE, {"first_name": "  ", "last_name": "Able"})

    assert response.status_code == 200
    assert response.context["form"].errors["first_name"]
    user.refresh_from_db()
    assert user.first_name == "Alice"


def test_the_service_refuses_a_blank_name_whoever_calls_it(user):
    with pytest.raises(Exception) as refused:
        services.update_profile(actor=user, first_name="Alice", last_name=" ")

    assert refused.value.message_dict == {"last_name": ["Enter your last name."]}


def test_a_person_changes_their_password_stays_signed_in_and_is_told_by_email(
    client, django_capture_on_commit_callbacks, user, password
):
    client.force_login(user)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            PASSWORD,
            {
                "current_password": password,
                "new_password1": NEW_PASSWORD,
                "new_password2": NEW_PASSWORD,
            },
        )

    assert response.status_code == 302
    assert response.url == PROFILE
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The session that changed it stays signed in.
    assert client.get(PROFILE).status_code == 200
    assert AuditEvent.objects.filter(action="account.password_changed", actor=user).exists()
    assert OutboundEmail.objects.get().to == [user.email]
    assert mail.outbox[0].subject == "Your CERS password was changed"
    assert reverse("accounts:password_reset") in mail.outbox[0].body


def test_other_sessions_are_signed_out_by_a_password_change(client, user, password):
    other = type(client)()
    other.force_login(user)
    client.force_login(user)

    client.post(
        PASSWORD,
        {
            "current_password": password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert other.get(PROFILE).status_code == 302


def test_a_wrong_current_password_changes_nothing(client, user, password):
    client.force_login(user)

    response = client.post(
        PASSWORD,
        {
            "current_password": "not-it",
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    )

    assert response.status_code == 200
    assert "not your current password" in response.context["form"].errors["current_password"][0]
    user.refresh_from_db()
    assert user.check_password(password)
    assert not OutboundEmail.objects.exists()


def test_a_weak_or_mismatched_new_password_is_refused(client, user, password):
    client.force_login(user)

    weak = client.post(
        PASSWORD, {"current_password": password, "new_password1": "123", "new_password2": "123"}
    )
    mismatched = client.post(
        PASSWORD,
        {"current_password": password, "new_password1": NEW_PASSWORD, "new_password2": "other"},
    )
    same = client.post(
        PASSWORD,
        {"current_password": password, "new_password1": password, "new_password2": password},
    )

    assert weak.context["form"].errors["new_password1"]
    assert mismatched.context["form"].errors["new_password2"]
    assert "same as the current one" in same.context["form"].errors["new_password1"][0]
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_changes_are_limited_per_user(client, user, settings):
    settings.CERS_RATE_LIMITS = {**settings.CERS_RATE_LIMITS, "password_change": "2/hour"}
    client.force_login(user)
    data = {"current_password": "guess", "new_password1": NEW_PASSWORD, "new_password2": "x"}

    statuses = [client.post(PASSWORD, data).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]


def test_signing_in_keeps_the_previous_sign_in_and_the_page_shows_it(client, user, password):
    earlier = timezone.now() - datetime.timedelta(days=3)
    User.objects.filter(pk=user.pk).update(last_login=earlier)

    client.post(reverse("accounts:login"), {"username": user.email, "password": password})

    user.refresh_from_db()
    assert user.previous_login == earlier
    assert user.last_login > earlier
    response = client.get(PROFILE)
    assertContains(response, "Previous sign-in")
    assertNotContains(response, "None before this one")


def test_a_first_sign_in_has_no_previous_one(client, user, password):
    client.post(reverse("accounts:login"), {"username": user.email, "password": password})

    user.refresh_from_db()
    assert user.previous_login is None
    assert user.last_login is not None
    assertContains(client.get(PROFILE), "None before this one")
