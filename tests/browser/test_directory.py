"""The regulator directory, open to everyone, searched by ZIP code."""

from __future__ import annotations

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_a_visitor_finds_the_agencies_serving_a_zip_code(browsing, cast):
    page = browsing.page
    browsing.goto("/")
    with page.expect_navigation():
        page.get_by_role("link", name="Find your regulator").click()
    browsing.looks_right("regulator directory")

    page.get_by_label("ZIP code").fill("95616")
    with page.expect_navigation():
        page.get_by_role("button", name="Find the agencies").click()

    assert page.get_by_role("heading", name="Agencies serving 95616").is_visible()
    assert page.get_by_role("cell", name="Yolo County CUPA").is_visible()
    assert page.get_by_role("cell", name="Sacramento County CUPA").count() == 0
    page.get_by_label("ZIP code").fill("nope")
    with page.expect_navigation():
        page.get_by_role("button", name="Find the agencies").click()
    assert page.get_by_role("alert").is_visible()
    browsing.looks_right("regulator directory refused zip")


def test_a_visitor_reads_the_violation_library(browsing, cast):
    browsing.goto("/libraries/violations/")
    assert browsing.page.get_by_role("heading", level=1, name="Violation library").is_visible()
    browsing.looks_right("violation library signed out")


def test_an_administrator_keeps_the_agencys_public_contact(browsing, cast):
    from tests import factories

    page = browsing.page
    admin = factories.make_user("admin@sac-cupa.example")
    factories.add_staff(cast.cupa, admin, "administrator")
    browsing.sign_in(admin.email, factories.PASSWORD)
    browsing.goto("/regulator/contact/")
    page.get_by_label("Public phone (optional)").fill("916-875-8550")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the contact").click()
    assert page.get_by_role("status").first.is_visible()
    browsing.looks_right("agency contact")
