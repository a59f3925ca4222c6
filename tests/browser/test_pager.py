"""The pager of a list longer than the count's cap, at both sizes: checked by axe-core and for
sideways scrolling (``looks_right``), its links named for a screen reader, and the last page
and back reached with the keyboard alone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.facilities.bulk import bulk_facilities

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def tab_to_link(page, name: str, limit: int = 60) -> None:
    """Press Tab until the link named ``name`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "document.activeElement && document.activeElement.tagName === 'A'"
            " ? document.activeElement.textContent.trim() : ''"
        )
        if focused == name:
            return
    raise AssertionError(f"the link {name!r} is not reachable with Tab within {limit} presses")


def test_the_pager_past_the_cap_by_keyboard(browsing, cast, settings):
    settings.CERS_LIST_COUNT_CAP = 6
    settings.CERS_PAGE_SIZE = 3
    bulk_facilities([cast.org], 9, cast.cupa)  # 10 with the cast's facility
    page = browsing.page
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:facilities") + "?page=4000")
    pager = page.get_by_role("navigation", name="Pages")
    assert "Page 2 of more than 2 (more than 6 in all)" in pager.inner_text()
    # Named by their words (the arrows are hidden from screen readers); page 1 is "Previous"
    # and, in the numbered window, "Page 1" (the page shown is not a link there).
    assert pager.get_by_role("link").count() == 4
    for name in ("Previous page", "Page 1", "Next page", "Last page"):
        assert pager.get_by_role("link", name=name, exact=True).count() == 1, name
    if browsing.size == "phone":  # tap targets at least 44 px high (and wide, for a number)
        for i in range(4):
            assert pager.get_by_role("link").nth(i).bounding_box()["height"] >= 44
        assert pager.get_by_role("link", name="Page 1").bounding_box()["width"] >= 44
    browsing.looks_right("list past the cap")

    tab_to_link(page, "Last page")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    pager = page.get_by_role("navigation", name="Pages")
    assert pager.locator("[aria-current=page]").inner_text() == "Last page (more than 6 in all)"
    assert pager.get_by_role("link", name="Next page", exact=True).count() == 0
    for name in ("First page", "Previous page"):
        assert pager.get_by_role("link", name=name, exact=True).count() == 1, name
    browsing.looks_right("last page")

    tab_to_link(page, "← Previous page")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    current = page.get_by_role("navigation", name="Pages").locator("[aria-current=page]")
    assert current.inner_text() == "Page 2 from the end (more than 6 in all)"
