"""Signing in, by keyboard alone, at both sizes, and the first pages each portal shows."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def focused_id(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.id : ''")


def tab_to(page, element_id: str, limit: int = 30) -> None:
    """Press Tab until the element has the focus, as a keyboard user moves through a page."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused_id(page) == element_id:
            return
    raise AssertionError(f"#{element_id} is not reachable with Tab within {limit} presses")


def test_sign_in_with_the_keyboard_alone(browsing, cast):
    page = browsing.page
    browsing.goto("/accounts/login/")
    browsing.looks_right("sign in")

    tab_to(page, "id_username")
    page.keyboard.type(cast.lead.email)
    tab_to(page, "id_password")
    page.keyboard.type(factories.PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert "/accounts/login/" not in page.url
    browsing.open_menu()  # on a phone, who is signed in is behind the Menu button
    assert page.get_by_text(cast.lead.email).first.is_visible()
    browsing.looks_right("business home")


def test_a_wrong_password_is_announced_and_keeps_the_address(browsing, cast):
    page = browsing.page
    browsing.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(cast.lead.email)
    page.get_by_label("Password").fill("not the password")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    alert = page.get_by_role("alert")
    assert alert.first.is_visible()
    assert page.get_by_label("E-mail address").input_value() == cast.lead.email
    browsing.looks_right("sign in refused")


def test_the_regulator_portal_opens_for_staff(browsing, cast):
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto("/regulator/")
    assert browsing.page.get_by_role("heading", level=1).first.is_visible()
    browsing.looks_right("regulator home")


def test_a_person_accepts_the_portals_agreement_on_the_way_in(browsing, cast):
    """Signing in to a page of a portal whose agreement the person has not accepted: its
    text, a refusal without the box ticked, then the page they asked for."""
    from accounts.models import AgreementAcceptance

    AgreementAcceptance.objects.filter(user=cast.editor).delete()
    page = browsing.page
    browsing.goto("/business/facilities/")
    page.get_by_label("E-mail address").fill(cast.editor.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    assert "/accounts/agreements/business/accept/" in page.url
    browsing.looks_right("business agreement")
    with page.expect_navigation():
        page.get_by_role("button", name="Accept and continue").click()
    assert page.get_by_role("alert").first.is_visible()
    browsing.looks_right("business agreement refused")

    page.get_by_label("I have read the business portal user agreement").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Accept and continue").click()
    assert page.url.endswith("/business/facilities/")
    assert AgreementAcceptance.objects.filter(user=cast.editor, portal="business").exists()


def test_declining_the_regulator_agreement_leaves_the_account_page(browsing, cast):
    from accounts.models import AgreementAcceptance

    AgreementAcceptance.objects.filter(user=cast.cupa_reviewer).delete()
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    page = browsing.page
    browsing.goto("/regulator/")
    assert "/accounts/agreements/regulator/accept/" in page.url

    with page.expect_navigation():
        page.get_by_role("button", name="Decline").click()

    assert page.url.endswith("/accounts/profile/")
    assert page.get_by_text("You did not accept the regulator portal user agreement").is_visible()
    browsing.looks_right("account after declining an agreement")
    browsing.goto("/accounts/agreements/regulator/")
    browsing.looks_right("regulator agreement")
