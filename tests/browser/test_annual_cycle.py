"""The yearly cycle in a browser, at both sizes (issue 16): a Lead User answers Business
Activities, sees what the facility must report, drafts Facility Information (prefilled) and the
inventory, submits and certifies; the CUPA accepts; a year on the reminders go out, once per
threshold however often the task runs; "certify no changes" resubmits and a new receipt shows.
"""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.submittals.data import answer_required_documents, complete_facility_information

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

MATERIAL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a", "201": "Tank farm"}


class Clock:
    """``timezone.now`` pinned to noon of ``today`` (the live server runs in this process, so
    its pages, the grid and the reminder service read it too)."""

    def __init__(self):
        self.today = datetime.date.today()

    def now(self):
        return datetime.datetime.combine(self.today, datetime.time(12), tzinfo=datetime.UTC)


def fill(page, number: str, value: str) -> None:
    """Give the form field of data dictionary ``number`` the value, whatever its widget."""
    name = "f_" + "".join(c if c.isalnum() else "_" for c in number)
    field = page.locator(f"[name={name}]")
    kind = field.first.evaluate("e => e.tagName + ':' + (e.type || '')")
    if kind.startswith("SELECT"):
        field.select_option(value)
    elif kind.endswith(("radio", "checkbox")):
        page.locator(f"[name={name}][value='{value}']").check()
    else:
        field.fill(value)


def settle(page) -> None:
    """Let the page's live checks (htmx requests sent as fields change) finish before a form is
    sent: the test database, SQLite in memory, takes one writer at a time."""
    page.wait_for_load_state("networkidle")


def test_a_year_of_reporting(browsing, cast, monkeypatch):
    from core.models import OutboundEmail
    from facilities import tasks
    from facilities.models import DueReminder, FacilityRegulator
    from submittals import services
    from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord

    clock = Clock()
    monkeypatch.setattr(timezone, "now", clock.now)
    page, facility = browsing.page, cast.facility
    # The organization's other facility reported before: its accepted Facility Information is
    # what a new one's owner, operator and contacts are filled in from.
    davis = services.start_draft(actor=cast.editor, facility=cast.facility_yolo, element=1)
    services.save_draft_data(
        actor=cast.editor,
        record=davis,
        data=complete_facility_information(**{"3": cast.facility_yolo.name}),
    )
    services.submit(
        actor=cast.approver,
        facility=cast.facility_yolo,
        elements=[davis],
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )
    davis.refresh_from_db()
    services.review(actor=cast.cupa2_reviewer, record=davis, status=ElementStatus.ACCEPTED)
    browsing.sign_in(cast.lead.email, factories.PASSWORD)

    # Business Activities: hazardous materials on site, nothing else.
    browsing.goto(reverse("business:submittals", args=[facility.cers_id]))
    settle(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Start draft: Facility Information").click()
    information = SubmittalElementRecord.objects.get(facility=facility, element=1)
    url = reverse("business:element", args=[information.pk])
    browsing.goto(url + "?part=business-activities")
    for radio in page.locator("input[type=radio][value=N]").all():
        radio.check()
    question = page.get_by_role("group", name="Are hazardous materials on site", exact=False)
    question.get_by_role("radio", name="Yes").check()
    fill(page, "105a", "34")  # Sacramento County
    settle(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Save Business Activities").click()
    assert page.locator(".error-summary").count() == 0
    browsing.looks_right("cycle business activities answered")

    # The status grid now asks for the inventory and the emergency response plan.
    browsing.goto(reverse("business:facility", args=[facility.cers_id]))
    grid = page.locator("table", has_text="Hazardous Materials Inventory").first
    row = grid.locator("tr", has_text="Hazardous Materials Inventory").first
    assert "Required" in row.inner_text()
    assert "Not required" in grid.locator("tr", has_text="Underground Storage Tanks").inner_text()
    browsing.looks_right("cycle status grid")

    # Owner/Operator Identification opens with what the facility already says.
    browsing.goto(url + "?part=owner-operator")
    assert page.locator("[name=f_111]").input_value() == "Acme Fuels LLC"  # the owner
    browsing.looks_right("cycle owner operator prefilled")
    # The rest of its answers are typed in by the service (the form's own tests type them).
    information.refresh_from_db()
    services.save_draft_data(
        actor=cast.lead,
        record=information,
        data={**information.data, **complete_facility_information(**{"4": "Y"})},
    )

    # The inventory: one material, added through its form; the site map kept at the facility.
    browsing.goto(reverse("business:submittals", args=[facility.cers_id]))
    settle(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Start draft: Hazardous Materials Inventory").click()
    inventory = SubmittalElementRecord.objects.get(facility=facility, element=2)
    browsing.goto(reverse("business:material_add", args=[inventory.pk]))
    for number, value in MATERIAL.items():
        fill(page, number, value)
    browsing.looks_right("cycle material form")
    settle(page)
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    assert inventory.materials.get().common_name == "Diesel"
    answer_required_documents(cast.lead, inventory)

    # Submit and certify.
    browsing.goto(reverse("business:submit", args=[facility.cers_id]))
    page.get_by_label("Name", exact=False).first.fill("Alice Lead")
    page.get_by_label("Title", exact=False).first.fill("Owner")
    page.locator("[name=certify]").check()
    settle(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Certify and submit").click()
    assert "receipt" in page.url
    browsing.looks_right("cycle first receipt")
    first = FacilitySubmittal.objects.get(facility=facility)

    # The CUPA accepts both, a few days later.
    clock.today += datetime.timedelta(days=3)
    for record in SubmittalElementRecord.objects.filter(facility=facility):
        services.review(actor=cast.cupa_reviewer, record=record, status=ElementStatus.ACCEPTED)
    due = FacilityRegulator.objects.get(facility=facility, element=1).next_due_date
    assert due == clock.today.replace(year=clock.today.year + 1)

    # A year on: each threshold's reminder goes out once, however often the task runs.
    sent = []
    for days_before in (60, 30, 7):
        clock.today = due - datetime.timedelta(days=days_before)
        for _ in range(2):
            tasks.send_due_reminders.apply().get()
        reminders = DueReminder.objects.filter(kind=str(days_before))
        # Facility Information and the inventory, once each (and Davis's information).
        assert reminders.filter(facility_element__facility=facility).count() == 2
        assert reminders.count() == 3
        sent.append(OutboundEmail.objects.filter(subject__icontains="due").count())
    # Each reminder is e-mailed to the Lead User and the Approver: 3 elements x 2 people more
    # per threshold, never repeated.
    assert sent[1] - sent[0] == sent[2] - sent[1] == 6

    # A year on the session has long expired: the Lead User signs in again.
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    browsing.goto(reverse("business:facility", args=[facility.cers_id]))
    assert page.get_by_text("due soon", exact=False).first.is_visible()
    browsing.looks_right("cycle due soon")

    # Certify no changes: a new submittal of the accepted elements, with its own receipt.
    browsing.goto(reverse("business:certify_no_changes") + f"?facility={facility.cers_id}")
    browsing.looks_right("cycle certify no changes")
    settle(page)
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    browsing.looks_right("cycle certify no changes review")
    page.get_by_label("Name", exact=False).first.fill("Alice Lead")
    page.get_by_label("Title", exact=False).first.fill("Owner")
    page.locator("[name=certify]").check()
    settle(page)
    with page.expect_navigation():
        page.locator("form button[type=submit]").last.click()
    again = FacilitySubmittal.objects.filter(facility=facility).exclude(pk=first.pk).get()
    assert page.url.endswith(reverse("business:submittal_receipt", args=[again.pk]))
    assert again.elements.filter(based_on__isnull=False).count() == 2
    browsing.looks_right("cycle second receipt")
