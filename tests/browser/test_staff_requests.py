"""A person asks to join an agency's staff from the regulator directory, by keyboard and
mouse, and its administrator approves on the staff page: at both sizes, every page passes
``looks_right`` (axe-core, no sideways scrolling, nothing refused by the content security
policy)."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_person_asks_to_join_and_the_administrator_approves(browsing, cast):
    from regulators.models import StaffMembership
    from tests import factories

    page = browsing.page
    admin = factories.make_user("admin@sac-cupa.example", first_name="Ada")
    factories.add_staff(cast.cupa, admin, "administrator")
    rita = factories.make_user("rita@sac-cupa.example", first_name="Rita", last_name="Reyes")

    browsing.sign_in(rita.email, factories.PASSWORD)
    browsing.goto("/agencies/")
    with page.expect_navigation():
        page.get_by_role(
            "link", name="Ask to join this agency's staff (Sacramento County CUPA)"
        ).click()
    assert page.get_by_role(
        "heading", level=1, name="Ask to join the staff of Sacramento County CUPA"
    ).is_visible()
    browsing.looks_right("staff request form")
    page.get_by_label("Message to the agency's administrators (optional)").fill("Unit 3.")
    page.get_by_label("Reviewer / inspector", exact=False).check()
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()
    assert page.get_by_role("button", name="Withdraw the request").is_visible()
    browsing.looks_right("staff request waiting")

    # Yolo's CUPA has no administrator to answer: the page says so above the form.
    browsing.goto("/agencies/1002/join/")
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()
    assert page.get_by_role("alert").is_visible()
    browsing.looks_right("staff request refused")

    page.context.clear_cookies()  # signed out
    browsing.sign_in(admin.email, factories.PASSWORD)
    browsing.goto("/regulator/staff/")
    assert page.get_by_role("heading", name="Requests to join the staff").is_visible()
    browsing.looks_right("staff page with a request")
    page.get_by_label("Role if approved").select_option("viewer")
    with page.expect_navigation():
        page.get_by_role("button", name="Approve rita@sac-cupa.example").click()
    assert page.get_by_role("status").first.is_visible()
    assert StaffMembership.objects.get(user=rita, regulator=cast.cupa).role == "viewer"
