"""The account page, reached from the address at the top of every page, at both sizes."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_account_page_is_reached_from_the_header_and_saves_the_details(browsing, cast):
    page = browsing.page
    browsing.sign_in(cast.editor.email, factories.PASSWORD)
    browsing.open_menu()  # on a phone, who is signed in is behind the Menu button
    with page.expect_navigation():
        page.get_by_role("link", name=f"Your account: {cast.editor.email}").click()
    assert page.get_by_role("heading", level=1, name="Your account").is_visible()
    browsing.looks_right("account")

    page.get_by_label("Job title (optional)").fill("Environmental manager")
    with page.expect_navigation():
        page.get_by_role("button", name="Save your details").click()
    assert page.get_by_role("status").first.is_visible()
    assert page.get_by_label("Job title (optional)").input_value() == "Environmental manager"

    with page.expect_navigation():
        page.get_by_role("link", name="Change your password").last.click()
    browsing.looks_right("password change")
