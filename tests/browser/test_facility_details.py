"""The facility's CUPA sets its facility ID and location from the facility page."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_reviewer_sets_the_facility_id_from_the_facility_page(browsing, cast):
    page = browsing.page
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(f"/regulator/facilities/{cast.facility.cers_id}/")
    with page.expect_navigation():
        page.get_by_role("link", name="Set the facility ID and location").click()
    browsing.looks_right("facility details")

    page.get_by_label("Facility ID (the agency's)").fill("SAC-000123")
    page.get_by_label("Latitude").fill("38.5816")
    page.get_by_label("Longitude").fill("-121.4944")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the ID and location").click()

    assert page.get_by_text("SAC-000123").is_visible()
    assert page.get_by_text("38.58160000, -121.49440000").is_visible()
