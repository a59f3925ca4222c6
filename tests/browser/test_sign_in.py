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
