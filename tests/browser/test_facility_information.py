"""Facility Information's two parts in a browser, at both sizes: Business Activities as
questions, Owner/Operator Identification in sections with an index; nothing marked wrong on
opening, the error summary after a save (issue 16)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.browser.test_sign_in import focused_id

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_business_activities_and_owner_operator_pages(browsing, cast):
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    page = browsing.page
    browsing.sign_in(cast.editor.email, factories.PASSWORD)
    url = reverse("business:element", args=[record.pk])

    browsing.goto(url + "?part=business-activities")
    assert page.locator(".error-summary").count() == 0  # nothing is wrong before a save
    assert page.locator("[aria-invalid=true]").count() == 0
    question = page.get_by_role("group", name="Are hazardous materials on site", exact=False)
    assert question.get_by_role("radio", name="Yes").count() == 1
    browsing.looks_right("business activities")

    question.get_by_role("radio", name="Yes").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Save Business Activities").click()
    summary = page.locator(".error-summary")
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    link = summary.get_by_role("link").first
    target = link.get_attribute("href").lstrip("#")
    link.click()
    assert focused_id(page) == target
    assert page.locator(f"#{target}").get_attribute("aria-invalid") == "true"
    browsing.looks_right("business activities after a save")

    with page.expect_navigation():
        page.get_by_role("link", name="Owner/Operator Identification").first.click()
    index = page.get_by_role("navigation", name="Sections of Owner/Operator Identification")
    index.get_by_role("link", name="Emergency contacts").click()
    assert page.url.endswith("#section-emergency-contacts")
    assert page.get_by_label("Owner name", exact=False).first.input_value() == ""
    browsing.looks_right("owner operator identification")
