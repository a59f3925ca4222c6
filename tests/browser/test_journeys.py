"""The pages of both portals, at both sizes: each checked by axe-core and for sideways
scrolling (``looks_right``), the error summary focused and linked, a form completed by
keyboard alone, the menu button of phones, the skip link, and no content security policy
refusal anywhere (the browser reports each one on the console)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.browser.test_sign_in import focused_id, tab_to
from tests.cme.helpers import inspection

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def active_class(page) -> str:
    return page.evaluate("document.activeElement ? document.activeElement.className : ''")


def test_business_pages_and_a_draft_form_with_errors(browsing, cast):
    from submittals import services

    services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    page = browsing.page
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    browsing.goto(reverse("business:home"))
    browsing.looks_right("business home")
    browsing.goto(reverse("business:facilities"))
    browsing.looks_right("facility list")
    browsing.goto(reverse("business:facility", args=[cast.facility.cers_id]))
    browsing.looks_right("facility page")
    browsing.goto(reverse("business:submittals", args=[cast.facility.cers_id]))
    button = page.get_by_role("button", name="Start draft: Underground Storage Tanks")
    assert button.count() == 1
    browsing.looks_right("submittals and drafts")

    browsing.goto(reverse("business:submit", args=[cast.facility.cers_id]))
    with page.expect_navigation():
        page.get_by_role("button", name="Certify and submit").click()
    summary = page.locator(".error-summary")
    assert summary.get_attribute("role") == "alert"
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert active_class(page) == "error-summary"  # the focus went to the summary
    browsing.looks_right("submit with errors")
    link = summary.get_by_role("link", name="Tick the certification statement to submit")
    target = link.get_attribute("href").lstrip("#")
    link.click()
    assert focused_id(page) == target  # the link takes the focus to the field
    field = page.locator(f"#{target}")
    assert field.get_attribute("aria-invalid") == "true"
    described = field.get_attribute("aria-describedby").split()
    assert any(page.locator(f"#{i}").inner_text().startswith("Tick") for i in described)


def test_a_facility_added_with_the_keyboard_alone(browsing, cast):
    page = browsing.page
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    browsing.goto(reverse("business:facility_create"))
    browsing.looks_right("add a facility")
    if browsing.size == "phone":  # tap targets: inputs and buttons at least 44 px high
        for target in (page.locator("#id_name"), page.get_by_role("button", name="Add facility")):
            assert target.bounding_box()["height"] >= 44
    for field, text in [
        ("id_name", "Keyboard Yard"),
        ("id_street", "1 Tab Street"),
        ("id_city", "Sacramento"),
        ("id_zip_code", "95814"),
    ]:
        tab_to(page, field)
        page.keyboard.type(text)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_role("heading", name="Keyboard Yard").first.is_visible()
    assert page.get_by_role("status").first.is_visible()  # the success message, announced
    browsing.looks_right("facility added")


def test_the_skip_link_is_the_first_stop_and_moves_to_the_content(browsing, cast):
    page = browsing.page
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    assert page.locator(".skip-link").is_visible()  # visible once focused
    page.keyboard.press("Enter")
    assert focused_id(page) == "main"


def test_regulator_pages(browsing, cast):
    from tests.submittals.test_review_pages import FI, draft, submit

    record = inspection(cast)
    submit(cast, draft(cast, FI))
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:home"))
    browsing.looks_right("regulator home")
    browsing.goto(reverse("regulator:review_queue"))
    browsing.looks_right("review queue")
    # The queue's "select all" (shown by the script) ticks every row for the bulk action.
    browsing.page.get_by_label("Select every element on this page").check()
    assert browsing.page.locator('input[name="elements"]:checked').count() == 1
    if browsing.size == "phone":  # each row's checkbox: a 44 px target filling its own cell
        row = browsing.page.locator('label:has(input[name="elements"])').first
        target, cell = row.bounding_box(), row.locator("xpath=..").bounding_box()
        assert target["width"] >= 44 and target["height"] >= 44
        assert cell["width"] <= target["width"] + 1  # no wider a column than the target
        row.click(position={"x": 2, "y": 2})  # its corner, away from the box, ticks it
        assert browsing.page.locator('input[name="elements"]:checked').count() == 0
    browsing.goto(reverse("regulator:status_report"))
    browsing.looks_right("element status report")
    browsing.goto(reverse("regulator:cme_inspection", args=[record.pk]))
    browsing.looks_right("CME inspection")
    # The enforcement date has its own label now (the two forms share field names).
    assert browsing.page.get_by_label("Enforcement date").count() == 1


def test_edt_access_pages(browsing, cast):
    from tests.test_access_matrix import _edt_request

    request_pk = _edt_request(cast)[0]
    browsing.sign_in(cast.state_admin.email, factories.PASSWORD)
    for name, args in [
        ("regulator:edt_home", []),
        ("regulator:edt_requests", []),
        ("regulator:edt_request", [request_pk]),
        ("regulator:edt_grants", []),
    ]:
        browsing.goto(reverse(name, args=args))
        browsing.looks_right(name.replace("regulator:", ""))
    html = browsing.page.content()
    assert "edt.access_requested" not in html


def test_error_pages(browsing, cast):
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    response = browsing.goto("/business/facilities/999999999/")
    assert response.status == 404
    browsing.looks_right("404")
    response = browsing.goto(reverse("regulator:staff"))
    assert response.status == 403
    browsing.looks_right("403")
    assert browsing.page.get_by_role("link", name="Go to your home page").is_visible()


def test_the_menu_button_opens_the_navigation_on_phones(browsing, cast):
    page = browsing.page
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    browsing.goto(reverse("business:home"))
    nav = page.get_by_role("navigation", name="Main")
    button = page.get_by_role("button", name="Menu")
    sign_out = page.get_by_role("button", name="Sign out")
    if browsing.size == "desktop":
        assert not button.is_visible()
        assert nav.is_visible() and sign_out.is_visible()
        return
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible() and not sign_out.is_visible()
    button.click()
    assert button.get_attribute("aria-expanded") == "true"
    assert nav.is_visible() and sign_out.is_visible()
    facilities = nav.get_by_role("link", name="Facilities")
    assert facilities.bounding_box()["height"] >= 44  # a tap target
    assert sign_out.bounding_box()["height"] >= 44
    browsing.looks_right("menu open")
    button.click()
    assert button.get_attribute("aria-expanded") == "false"
    assert not nav.is_visible()


def test_a_draft_is_validated_as_it_is_typed_under_the_content_security_policy(browsing, cast):
    """htmx posts the draft when a field changes and swaps the guidance messages in: it must
    work without inline scripts or styles."""
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    # What is missing shows from the first save on (issue 16), on the part holding field 111.
    services.save_draft_data(actor=cast.editor, record=record, data=record.data)
    page = browsing.page
    browsing.sign_in(cast.editor.email, factories.PASSWORD)
    browsing.goto(reverse("business:element", args=[record.pk]) + "?part=owner-operator")
    browsing.looks_right("draft element")
    missing = page.locator('#validation-panel [data-rule="F-111-REQ"]')
    assert missing.count() == 1
    field = page.locator("#id_f_111")
    with page.expect_response(lambda response: "validate" in response.url):
        field.fill("Acme Sacramento Depot")
        field.press("Tab")
    missing.wait_for(state="detached")
    browsing.looks_right("draft element validated")


def test_a_tour_of_the_other_pages(browsing, cast):
    """The rest of each portal's everyday pages pass the same checks."""
    from submittals import services
    from submittals.inventory import add_material
    from tests.test_access_matrix import DIESEL

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    add_material(actor=cast.editor, record=record, values=DIESEL)
    browsing.sign_in(cast.lead.email, factories.PASSWORD)
    for name, args in [
        ("business:people", []),
        ("business:inventory", [record.pk]),
        ("business:material_add", [record.pk]),
        ("business:inventory_import", [record.pk]),
        ("libraries:index", []),
        ("libraries:chemicals", []),
        ("libraries:violations", []),
    ]:
        browsing.goto(reverse(name, args=args))
        browsing.looks_right(name.replace(":", " "))
    browsing.page.context.clear_cookies()  # signed out
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    for name in [
        "regulator:facilities",
        "regulator:organizations",
        "regulator:staff",
        "regulator:cme_inspections",
        "regulator:cme_enforcements",
        "regulator:cme_upload",
    ]:
        browsing.goto(reverse(name))
        browsing.looks_right(name.replace(":", " "))


def test_a_submitted_element_reviewed_and_the_public_edt_pages(browsing, cast):
    from tests.test_access_matrix import _submit

    element = _submit(cast, 2)
    browsing.sign_in(cast.cupa_reviewer.email, factories.PASSWORD)
    browsing.goto(reverse("regulator:review", args=[element.pk]))
    browsing.looks_right("review an inventory")
    browsing.goto(reverse("regulator:facility", args=[cast.facility.cers_id]))
    browsing.looks_right("regulator facility page")
    for name in ["edt_program:vendors", "edt_program:terms", "edt_program:implementers"]:
        browsing.goto(reverse(name))
        browsing.looks_right(name.replace(":", " "))


def test_switching_organization_from_the_menu(browsing, cast):
    factories.add_member(cast.other_org, cast.editor, "viewer")
    page = browsing.page
    browsing.sign_in(cast.editor.email, factories.PASSWORD)
    browsing.goto(reverse("business:home"))
    browsing.open_menu()
    posted: list[str] = []
    page.on("request", lambda request: request.method == "POST" and posted.append(request.url))
    # By keyboard: an arrow key on a closed list changes its choice at once (and fires its
    # change event), so choosing must not switch; the Switch button does (WCAG 3.2.2).
    switcher = page.get_by_label("Organization")
    switcher.focus()
    first = switcher.evaluate("select => select.selectedIndex === 0")
    page.keyboard.press("ArrowDown" if first else "ArrowUp")
    chosen = switcher.evaluate("select => select.options[select.selectedIndex].text")
    assert chosen == "Other Co"
    with page.expect_navigation():
        page.get_by_role("button", name="Switch").click()
    assert page.get_by_role("heading", name="Other Co", level=1).is_visible()
    assert len(posted) == 1  # the button's post only
    browsing.looks_right("switched organization")


def test_the_prop_65_mark_on_the_library_and_its_edit_form(browsing, cast):
    """A chemical listed under Proposition 65 is marked in words on the library's list and
    page, and the state administrator's form edits its types: each page passes the checks."""
    from libraries.models import Chemical

    Chemical.objects.filter(cas_number="7439-92-1").update(
        prop65_types=["Cancer", "Developmental", "Female", "Male"], sta_code="181"
    )
    lead = Chemical.objects.get(cas_number="7439-92-1")
    browsing.sign_in(cast.state_admin.email, factories.PASSWORD)
    browsing.goto(reverse("libraries:chemicals") + "?q=lead")
    words = " ".join(browsing.page.locator(".prop65-mark").first.text_content().split())
    assert words == (
        "Prop 65 (Proposition 65) listed for: cancer; "
        "reproductive toxicity (developmental, female, male)"
    )
    browsing.looks_right("chemical library with a prop 65 mark")
    browsing.goto(reverse("libraries:chemical", args=[lead.pk]))
    browsing.looks_right("chemical listed under prop 65")
    browsing.goto(reverse("libraries:chemical_edit", args=[lead.pk]))
    assert browsing.page.get_by_label("Cancer", exact=True).is_checked()
    browsing.looks_right("chemical edit form with prop 65 types")
