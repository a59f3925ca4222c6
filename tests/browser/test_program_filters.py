"""The regulator's facility list by program, at both sizes: the filters chosen from their
labelled lists with the keyboard, and an unknown value shown as an error linked to its field;
checked by axe-core and for sideways scrolling (``looks_right``)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.elements import SubmittalElement as E
from facilities.models import FacilityRegulator, ReportingRequirement
from tests import factories

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_program_filters_by_label_and_an_unknown_value(browsing, cast):
    FacilityRegulator.objects.filter(facility=cast.facility, element=E.UST).update(
        reporting_requirement=ReportingRequirement.APPLICABLE
    )
    page = browsing.page
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:facilities"))
    page.get_by_label("Must report").select_option(label="Underground Storage Tanks")
    page.get_by_role("button", name="Find facilities").press("Enter")
    page.wait_for_url("**must_report=4**")
    assert "1 facility that must report Underground Storage Tanks" in page.inner_text("main")
    browsing.looks_right("facilities by program")
    browsing.goto(reverse("regulator:facilities") + "?must_report=99")
    summary = page.get_by_role("alert")
    assert "“99” is not a submittal element" in summary.inner_text()
    summary.get_by_role("link").first.click()
    assert page.evaluate("document.activeElement.id") == "id_must_report"
    browsing.looks_right("facilities by program, unknown element")
