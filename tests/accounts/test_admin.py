"""The admin's user pages for the e-mail-keyed user."""

from django.urls import reverse

from accounts.models import User


def test_admin_adds_a_user_by_email(admin_client, password):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "New.Staff@Example.com",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="new.staff@example.com")
    assert user.check_password(password)


def test_admin_refuses_a_duplicate_email(admin_client, user, password):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "email": "ALICE@example.com",
            "usable_password": "true",
            "password1": password,
            "password2": password,
        },
    )

    assert response.status_code == 200
    assert User.objects.filter(email__iexact="alice@example.com").count() == 1


def test_admin_lists_and_shows_users(admin_client, user):
    assert admin_client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))
    assert response.status_code == 200


def test_admin_shows_the_agreements_a_user_accepted_without_changing_them(admin_client, user):
    from django.conf import settings

    response = admin_client.get(reverse("admin:accounts_user_change", args=[user.pk]))

    assert response.status_code == 200
    body = response.content.decode()
    assert settings.CERS_REGULATOR_AGREEMENT_VERSION in body
    assert "Regulator portal" in body
    assert 'name="agreement_acceptances-0-version"' not in body
