"""An agency's local requirements: written on their page, read on a draft's element page."""

from __future__ import annotations

import pytest

from core.elements import SubmittalElement
from submittals import services as submittals
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_administrator_writes_them_and_the_business_reads_them(browsing, cast):
    page = browsing.page
    admin = factories.make_user("admin@sac-cupa.example", first_name="Ada")
    factories.add_staff(cast.cupa, admin, "administrator")
    record = submittals.start_draft(
        actor=cast.editor, facility=cast.facility, element=SubmittalElement.FACILITY_INFORMATION
    )

    browsing.sign_in(admin.email, factories.PASSWORD)
    browsing.goto("/regulator/local-requirements/")
    page.get_by_label("Facility Information").fill("Attach the county's Form 12.")
    with page.expect_navigation():
        page.get_by_role("button", name="Save the local requirements").click()
    assert page.get_by_role("status").first.is_visible()
    browsing.looks_right("local requirements")

    page.context.clear_cookies()  # signed out: the business user signs in next
    browsing.sign_in(cast.editor.email, factories.PASSWORD)
    browsing.goto(f"/business/submittals/elements/{record.pk}/")
    region = page.get_by_role("region", name="Local requirements of Sacramento County CUPA")
    assert region.get_by_text("Attach the county's Form 12.").is_visible()
    browsing.looks_right("element with local requirements")
