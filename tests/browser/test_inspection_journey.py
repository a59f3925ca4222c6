"""An inspector records an inspection with a violation from the CME pages, at both sizes:
the facility found by name among the agency's jurisdiction, the program element chosen from
those the agency regulates there, the violation type picked from the library's suggestions.
Every page passes ``looks_right``."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from cme.models import Inspection, Violation
from libraries.models import ViolationType
from tests import factories
from tests.cme.helpers import HMBP_TYPE

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def library():
    """The example types the migrations seed; a browser test's database is flushed between
    tests, so they are put back when missing."""
    for number, element, name in [
        (HMBP_TYPE, ViolationType.ProgramElement.BUSINESS_PLAN, "Business plan not submitted"),
        ("2030002", ViolationType.ProgramElement.UST, "UST monitoring not maintained"),
    ]:
        ViolationType.objects.get_or_create(
            type_number=number,
            defaults={
                "name": name,
                "category": "Administration/Documentation",
                "program_element": element,
                "begin_date": datetime.date(2000, 1, 1),
            },
        )


def test_inspection_with_a_violation(browsing, cast):
    library()
    page = browsing.page
    facility = cast.facility
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:cme_inspections"))
    browsing.looks_right("CME inspections with the record action")

    with page.expect_navigation():
        page.locator(".card").get_by_role("link", name="Record an inspection").click()
    browsing.looks_right("record an inspection: find the facility")
    page.get_by_label("Facility CERS ID or name").fill("acme")
    with page.expect_navigation():
        page.get_by_role("button", name="Find the facility").click()
    # Only the facility in Sacramento's jurisdiction is offered, not Acme's Davis yard.
    assert page.get_by_text("Acme Davis Yard").count() == 0
    browsing.looks_right("record an inspection: the facilities found")
    with page.expect_navigation():
        page.get_by_role(
            "link", name=f"Record an inspection: {facility.name}, CERS ID {facility.cers_id}"
        ).click()

    program = page.get_by_label("Program element")
    offered = program.locator("option").all_inner_texts()
    assert "Underground Storage Tanks" not in offered  # the PA's element at this facility
    browsing.looks_right("record an inspection: the form")
    program.select_option(label="Hazardous Materials Release Response Plans (business plan)")
    page.get_by_label("Inspection type").select_option(label="Routine")
    page.get_by_label("Inspection date").fill("2024-05-01")
    page.get_by_label("Inspector name").fill("Rita Reviewer")
    with page.expect_navigation():
        page.get_by_role("button", name="Record inspection").click()
    assert page.get_by_role("status").first.inner_text().strip() == "Inspection recorded."
    browsing.looks_right("the inspection recorded")

    field = page.get_by_label("Violation type")
    suggestions = page.locator(f"datalist#{field.get_attribute('list')} option")
    numbers = [option.get_attribute("value") for option in suggestions.all()]
    assert HMBP_TYPE in numbers and "2030002" not in numbers  # no UST type on an HMBP visit
    field.fill(HMBP_TYPE)
    page.get_by_label("Class").select_option(label="Minor")
    page.get_by_label("Scheduled return to compliance").fill("2024-05-20")
    with page.expect_navigation():
        page.get_by_role("button", name="Record violation").click()
    assert page.get_by_role("status").first.inner_text().strip() == "Violation recorded."
    browsing.looks_right("the inspection with its violation")

    inspection = Inspection.objects.get()
    assert (inspection.facility, inspection.program_element) == (facility, "a")
    assert Violation.objects.get().violation_type.type_number == HMBP_TYPE


def test_revoking_an_edt_grant_asks_first(browsing, cast):
    """Revoking stops an agency's system: the grants page's button leads to a confirmation
    page (no script needed), and only its button revokes."""
    from edt.access import services
    from edt.models import TierGrant
    from tests.edt.test_pages import filed_request

    admin = factories.make_user("admin@sac-cupa.example", first_name="Ada")
    factories.add_staff(cast.cupa, admin, "administrator")
    access_request = filed_request(cast.cupa, admin, tiers=(1,))
    services.decide_access_request(
        actor=cast.state_admin,
        access_request=access_request,
        decisions=[services.Decision(g.pk, True) for g in access_request.grants.all()],
    )
    page = browsing.page
    browsing.sign_in(cast.state_admin.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:edt_grants") + "?agency=1001")
    page.get_by_label("Reason for changing tier 1").fill("The agency asked.")
    with page.expect_navigation():
        page.get_by_role("button", name="Revoke tier 1").click()
    assert page.get_by_role("heading", name="Revoke tier 1").is_visible()
    assert TierGrant.objects.get().status == TierGrant.Status.APPROVED
    browsing.looks_right("revoke an EDT grant: confirmation")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, revoke tier 1").click()
    assert TierGrant.objects.get().status == TierGrant.Status.REVOKED
    browsing.looks_right("EDT grants after revoking")
