"""What every page of the site guarantees (docs/accessibility.md): the skip link, the current
page in the navigation, unique ids, the error summary of a form, messages announced, error
pages in the site's layout, one date format, the content security policy and no-store."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

import pytest
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults

from cme.models import EnforcementType
from core import events
from core.models import AuditEvent
from tests.cme.helpers import inspection

FOCUSABLE = re.compile(r"<(a|button|input|select|textarea)\b(?![^>]*type=\"hidden\")", re.I)


class Elements(HTMLParser):
    """Every start tag of a page, with its attributes, in order."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = Elements()
    parser.feed(html)
    return parser.tags


def body(response) -> str:
    html = response.content.decode()
    return html[html.index("<body") :]


def nav_current(html: str) -> dict[str, str]:
    """aria-current of each link of the main navigation, by its text."""
    nav = html[html.index('<nav class="mainnav"') : html.index("</nav>")]
    return {
        text: current
        for current, text in re.findall(
            r'<a href="[^"]*"(?: aria-current="(\w+)")?>([^<]*)</a>', nav
        )
    }


# The skip link ------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["lead", "cupa_reviewer", None])
def test_the_skip_link_is_the_first_thing_to_focus_and_leads_to_main(cast, client, persona):
    if persona:
        client.force_login(getattr(cast, persona))
    url = {"lead": "/business/", "cupa_reviewer": "/regulator/", None: "/accounts/login/"}[persona]
    html = body(client.get(url))
    first = FOCUSABLE.search(html)
    assert html[first.start() :].startswith(
        '<a class="skip-link" href="#main">Skip to main content</a>'
    )
    assert [attrs for tag, attrs in elements(html) if attrs.get("id") == "main"] == [
        {"class": "content", "id": "main", "tabindex": "-1"}
    ]
    assert '<main class="content" id="main"' in html


# The current page in the navigation ---------------------------------------------------------


def test_the_navigation_marks_the_current_page_and_its_section(cast, client):
    client.force_login(cast.lead)
    home = nav_current(client.get(reverse("business:home")).content.decode())
    assert home == {
        "Home": "page",
        "Facilities": "",
        "People": "",
        "Notifications": "",
        "Libraries": "",
    }
    listing = nav_current(client.get(reverse("business:facilities")).content.decode())
    assert listing == {
        "Home": "",
        "Facilities": "page",
        "People": "",
        "Notifications": "",
        "Libraries": "",
    }
    notifications = nav_current(client.get(reverse("business:notifications")).content.decode())
    assert notifications["Notifications"] == "page"
    detail = client.get(reverse("business:facility", args=[cast.facility.cers_id]))
    # Below the Facilities page: its section, not the page itself; Home is never a section.
    assert nav_current(detail.content.decode())["Facilities"] == "true"
    assert nav_current(detail.content.decode())["Home"] == ""


def test_the_regulator_navigation_marks_the_review_queue(cast, client):
    client.force_login(cast.cupa_reviewer)
    html = client.get(reverse("regulator:review_queue")).content.decode()
    current = {text: value for text, value in nav_current(html).items() if value}
    assert current == {"Review queue": "page"}


# Unique ids, and each label naming its own field --------------------------------------------


def test_every_id_on_the_inspection_page_is_unique_and_every_field_has_its_label(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    html = client.get(reverse("regulator:cme_inspection", args=[record.pk])).content.decode()
    tags = elements(html)
    ids = Counter(attrs["id"] for _tag, attrs in tags if attrs.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    labelled = {attrs["for"] for tag, attrs in tags if tag == "label" and attrs.get("for")}
    fields = {
        attrs["id"]
        for tag, attrs in tags
        if tag in {"input", "select", "textarea"}
        and attrs.get("type") not in {"hidden", "submit", "checkbox", "radio"}
    }
    assert fields - labelled == set()
    # The two forms' same-named fields: both present, each with its own id.
    for field_id in ("violation_occurred_on", "enforcement_occurred_on", "violation_comments"):
        assert field_id in fields


def test_the_inspection_forms_post_the_same_names_as_before(cast, client):
    """Only the ids got a prefix: the forms post what they always posted."""
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    html = client.get(reverse("regulator:cme_inspection", args=[record.pk])).content.decode()
    assert re.search(r'<input[^>]*name="occurred_on"[^>]*id="violation_occurred_on"', html)
    assert re.search(r'<input[^>]*name="occurred_on"[^>]*id="enforcement_occurred_on"', html)


# The error summary --------------------------------------------------------------------------


def test_a_form_with_errors_gets_a_summary_linking_each_field(cast, client):
    client.force_login(cast.lead)
    response = client.post(
        reverse("business:facility_create"), {"name": "", "street": "1 Main", "zip_code": ""}
    )
    assert response.status_code == 200
    html = response.content.decode()
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert "<h2>There is a problem</h2>" in summary
    assert re.findall(r'<a href="#(id_\w+)">', summary) == ["id_name", "id_city", "id_zip_code"]
    # Each invalid field: marked invalid and described by its own error list.
    for name in ("name", "city", "zip_code"):
        widget = re.search(rf'<input[^>]*id="id_{name}"[^>]*>', html).group(0)
        assert 'aria-invalid="true"' in widget
        described = re.search(r'aria-describedby="([^"]*)"', widget).group(1).split()
        assert f"id_{name}_error" in described
        assert f'<ul class="errorlist" id="id_{name}_error">' in html
    # A valid field is not marked.
    street = re.search(r'<input[^>]*id="id_street"[^>]*>', html).group(0)
    assert "aria-invalid" not in street


def test_a_form_without_errors_has_no_summary(cast, client):
    client.force_login(cast.lead)
    html = client.get(reverse("business:facility_create")).content.decode()
    assert "error-summary" not in html
    assert "There is a problem" not in html


def test_the_summary_names_a_field_once(cast, client):
    """An error that already starts with its field's label (the inventory's: "Common name:
    required.") is not prefixed with the label again: a screen reader would say it twice."""
    from tests.test_access_matrix import _inventory_draft

    client.force_login(cast.editor)
    response = client.post(reverse("business:material_add", args=_inventory_draft(cast)), {})
    html = response.content.decode()
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert '<a href="#id_f_207">Common name: required.</a>' in summary
    assert "Common name: Common name" not in summary


def test_a_non_field_error_is_in_the_summary_without_a_link(cast, client):
    response = client.post(
        reverse("accounts:login"), {"username": cast.lead.email, "password": "wrong one!"}
    )
    html = response.content.decode()
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert "There is a problem" in summary
    assert "<li>" in summary and "<a href" not in summary


def unresolved_references(html: str) -> list[str]:
    """Every reference on a page to an element by its id (a label's ``for``, the ids named by
    ``aria-describedby``, ``aria-labelledby`` and ``aria-controls``, a link within the page)
    that names no element of the page: a screen reader then reads nothing, and a link goes
    nowhere."""
    tags = elements(html)
    ids = {attrs["id"] for _tag, attrs in tags if attrs.get("id")}
    missing = []
    for tag, attrs in tags:
        named = [("for", attrs.get("for"))] if tag == "label" and "for" in attrs else []
        for attribute in ("aria-describedby", "aria-labelledby", "aria-controls"):
            named += [(attribute, ref) for ref in (attrs.get(attribute) or "").split()]
        href = attrs.get("href") or ""
        if tag == "a" and href.startswith("#"):
            named.append(("href", href[1:]))
        missing += [f"<{tag} {attribute}={ref!r}>" for attribute, ref in named if ref not in ids]
    return missing


def test_the_summary_links_a_group_of_radio_buttons_to_its_first_button(cast, client):
    """A field of radio buttons (or checkboxes) has no single input for ``#id_field``: its link
    leads to the first button, which the browser focuses."""
    from tests.submittals.test_review_pages import FI, draft, submit

    (record,) = submit(cast, draft(cast, FI))
    client.force_login(cast.cupa_reviewer)
    response = client.post(reverse("regulator:review", args=[record.pk]), {"comments": ""})
    assert response.status_code == 200
    html = response.content.decode()
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert re.findall(r'<a href="#([^"]*)">', summary) == ["id_status_0"]
    assert not unresolved_references(html)


def test_the_submit_page_ties_each_error_to_its_field(cast, client):
    """The submit page lays out its fields itself: the drafts' checkboxes, a group, are
    described by their error list as a group (their fieldset), and the summary leads to the
    first of them."""
    from submittals import services
    from submittals.models import SubmittalElement

    services.start_draft(
        actor=cast.editor, facility=cast.facility, element=SubmittalElement.FACILITY_INFORMATION
    )
    client.force_login(cast.approver)
    response = client.post(reverse("business:submit", args=[cast.facility.cers_id]), {})
    assert response.status_code == 200
    html = response.content.decode()
    assert not unresolved_references(html)
    fieldset = re.search(r"<fieldset[^>]*>\s*<legend[^>]*>Drafts to submit:?</legend>", html).group(
        0
    )
    assert 'aria-describedby="id_elements_error"' in fieldset
    assert '<ul class="errorlist" id="id_elements_error">' in html


def test_help_texts_of_fields_laid_out_by_hand_are_read_with_their_field(cast, client):
    """Django names a field's help text in its ``aria-describedby`` (``id_..._helptext``): a
    template that places the field itself gives the help text that id (the document slots of
    a draft, the inventory import)."""
    from submittals import services
    from submittals.models import SubmittalElement

    record = services.start_draft(
        actor=cast.editor,
        facility=cast.facility,
        element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
    )
    client.force_login(cast.editor)
    for url in (
        reverse("business:element", args=[record.pk]),
        reverse("business:inventory_import", args=[record.pk]),
    ):
        html = client.get(url).content.decode()
        assert "_helptext" in html, url
        assert not unresolved_references(html), url


def test_no_template_renders_a_form_whole():
    """``{{ form }}`` or ``form.as_p`` lays a form out without the error summary (nothing is
    announced, the focus stays at the top of the page): every form goes through
    ``_form_fields.html``."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    whole = re.compile(r"{{\s*\w*form(\.as_(p|div|table|ul))?\s*}}")
    found = [
        f"{path.relative_to(root)}: {match.group(0)}"
        for path in root.rglob("*.html")
        for match in whole.finditer(path.read_text())
    ]
    assert found == []


@pytest.mark.parametrize(
    ("persona", "url_name", "data", "field"),
    [
        ("lead", "business:organization_create", {"name": ""}, "id_name"),
        ("lead", "business:join_request_create", {"kind": "organization"}, "id_code"),
        ("lead", "business:people", {"email": "", "role": "viewer"}, "id_email"),
    ],
)
def test_forms_that_were_laid_out_whole_summarize_their_errors(
    cast, client, persona, url_name, data, field
):
    client.force_login(getattr(cast, persona))
    response = client.post(reverse(url_name), data)
    assert response.status_code == 200
    html = response.content.decode()
    summary = html[html.index('<div class="error-summary"') :]
    summary = summary[: summary.index("</div>")]
    assert f'<a href="#{field}">' in summary
    assert html.count('class="error-summary"') == 1
    assert not unresolved_references(html)


def test_a_repeating_group_row_sent_back_gets_the_error_summary(cast, client):
    """A row of a repeating group (a UST tank) lays out its fields itself: it shows the error
    summary too, the row's own error in it and each field's linked to the field."""
    from tests.test_access_matrix import _ust_draft_with_tank

    url = reverse("business:element_group_row_add", args=_ust_draft_with_tank(cast))
    client.force_login(cast.editor)
    for data, links in [({}, []), ({"f_430_a": "not a date"}, ["id_f_430_a"])]:
        html = client.post(url, data).content.decode()
        summary = html[html.index('<div class="error-summary"') :]
        summary = summary[: summary.index("</div>")]
        assert re.findall(r'<a href="#([^"]*)">', summary) == links
        assert not unresolved_references(html)
    assert "Enter at least one value for the new row." in client.post(url, {}).content.decode()


def test_the_error_summary_is_focused_by_the_static_script():
    from django.contrib.staticfiles import finders

    with open(finders.find("js/cers.js")) as file:
        script = file.read()
    assert 'document.querySelector(".error-summary")' in script
    assert "summary.focus()" in script


# Messages announced -------------------------------------------------------------------------


def test_messages_are_announced_errors_as_alerts():
    html = render_to_string(
        "base.html",
        {
            "messages": [
                Message(constants.SUCCESS, "Facility added."),
                Message(constants.INFO, "Nothing to do."),
                Message(constants.ERROR, "Nothing was saved."),
            ]
        },
    )
    assert '<div class="message success" role="status">Facility added.</div>' in html
    assert '<div class="message info" role="status">Nothing to do.</div>' in html
    assert '<div class="message error" role="alert">Nothing was saved.</div>' in html


# Repeated buttons say which row they act on -------------------------------------------------


def test_start_draft_buttons_name_their_element(cast, client):
    client.force_login(cast.lead)
    html = client.get(reverse("business:submittals", args=[cast.facility.cers_id])).content
    html = html.decode()
    assert (
        '<button type="submit" class="secondary" aria-label="Start draft: Underground Storage '
        'Tanks">Start draft</button>' in html
    )


def test_the_document_forms_buttons_name_their_document(cast, client):
    """Each document slot of a draft has its own Save and Upload: in a screen reader's list of
    buttons each says which document it is for."""
    from submittals import services
    from submittals.models import SubmittalElement

    record = services.start_draft(
        actor=cast.editor,
        facility=cast.facility,
        element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
    )
    client.force_login(cast.editor)
    html = client.get(reverse("business:element", args=[record.pk])).content.decode()
    names = [
        attrs.get("aria-label") or ""
        for tag, attrs in elements(html[html.index('id="documents"') :])
        if tag == "button"
    ]
    saves = [name for name in names if name.startswith("Save: ")]
    uploads = [name for name in names if name.startswith("Upload: ")]
    assert len(saves) >= 2 and len(uploads) == len(saves)
    assert len(set(saves)) == len(saves) and len(set(uploads)) == len(uploads)
    assert "Save: Site map documents" in names


# Error pages --------------------------------------------------------------------------------


def test_the_404_page_is_in_the_site_layout_with_a_way_back(cast, client):
    client.force_login(cast.lead)
    response = client.get("/business/facilities/999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "<h1>Page not found</h1>" in html
    assert 'class="skip-link"' in html and cast.lead.email in html
    assert f'<a href="{reverse("home")}">Go to your home page</a>' in html


def test_the_403_page_says_why(cast, client):
    client.force_login(cast.lead)
    response = client.get(reverse("regulator:staff"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "<h1>You cannot do that</h1>" in html
    assert 'class="skip-link"' in html


def test_the_400_page_renders_in_the_layout(rf):
    response = defaults.bad_request(rf.get("/"), Exception("bad"))
    assert response.status_code == 400
    assert b"The request could not be understood" in response.content
    assert b'class="skip-link"' in response.content


def test_the_500_page_renders_without_context_processors_or_database():
    """No ``db`` fixture: any query would fail this test."""
    response = defaults.server_error(RequestFactory().get("/"))
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert 'href="/"' in html and 'class="skip-link"' in html


# The favicon --------------------------------------------------------------------------------


def test_the_favicon_is_linked_and_favicon_ico_is_answered(client, db):
    from django.contrib.staticfiles import finders

    html = client.get(reverse("accounts:login")).content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html
    assert finders.find("favicon.svg")
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"] == "/static/favicon.svg"


# One date and time format, with the time zone -----------------------------------------------


def test_dates_and_times_have_one_format_with_pst_or_pdt():
    pacific = ZoneInfo("America/Los_Angeles")
    template = Template('{{ when|date:"DATETIME_FORMAT" }}|{{ when }}|{{ day }}')
    winter = datetime.datetime(2026, 1, 15, 18, 30, tzinfo=datetime.UTC)
    summer = datetime.datetime(2026, 7, 15, 18, 30, tzinfo=datetime.UTC)
    day = datetime.date(2026, 3, 2)
    assert template.render(Context({"when": winter, "day": day})) == (
        "2026-01-15 10:30 PST|2026-01-15 10:30 PST|2026-03-02"
    )
    assert template.render(Context({"when": summer, "day": day})).startswith("2026-07-15 11:30 PDT")
    assert winter.astimezone(pacific).hour == 10


def test_every_table_has_header_cells():
    """A table without header cells reads as a grid of values: a screen reader moving through
    it says no column or row a value belongs to (WCAG 1.3.1)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    headless = [
        f"{path.relative_to(root)}: line {path.read_text()[: table.start()].count(chr(10)) + 1}"
        for path in root.rglob("*.html")
        for table in re.finditer(r"<table\b.*?</table>", path.read_text(), re.S)
        if "<th" not in table.group(0) and "{% include" not in table.group(0)
    ]
    assert headless == []


def test_no_checkbox_of_a_table_is_a_bare_box():
    """A list's bulk selection ticks rows: each row's checkbox sits in a label
    (``.row-select`` in the CSS) that names the row and makes the tap target 44 px on phones,
    where the bare box is 24 px (docs/accessibility.md). A checkbox of a table outside any
    label is such a bare box."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    bare = []
    for path in root.rglob("*.html"):
        text = path.read_text()
        for table in re.finditer(r"<table\b.*?</table>", text, re.S):
            for box in re.finditer(r'<input type="checkbox"', table.group(0)):
                before = table.group(0)[: box.start()]
                if before.rfind("<label") <= before.rfind("</label>"):
                    line = text[: table.start() + box.start()].count("\n") + 1
                    bare.append(f"{path.relative_to(root)}: line {line}")
    assert bare == []
    css = (root.parent / "static" / "css" / "cers.css").read_text()
    phones = css[css.index("@media (max-width: 800px) {\n  .topbar") :]
    phones = phones[: phones.index("\n}")]
    rule = re.search(r"\.row-select \{([^}]*)\}", phones)
    assert rule and "min-width:44px" in rule.group(1) and "min-height:44px" in rule.group(1)


def test_a_box_ticked_by_its_text_is_a_44_px_target_on_phones():
    """A checkbox laid out inline with its text (``.inline-label``: a draft's "start from the
    last accepted", an inventory's yes/no boxes, a filter) is tapped through its label, which
    is 44 px tall on phones (docs/accessibility.md)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    uses = [
        path
        for path in (root / "templates").rglob("*.html")
        if 'class="inline-label"' in path.read_text()
    ]
    assert uses  # the rule below is for something
    css = (root / "static" / "css" / "cers.css").read_text()
    phones = css[css.index("@media (max-width: 800px) {\n  .topbar") :]
    phones = phones[: phones.index("\n}")]
    rule = re.search(r"\.inline-label \{([^}]*)\}", phones)
    assert rule and "min-height:44px" in rule.group(1) and "inline-flex" in rule.group(1)


def test_no_template_formats_a_date_its_own_way():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    own = []
    for path in root.rglob("*"):
        if path.suffix in {".html", ".txt"}:
            for found in re.findall(r"\|date:['\"]([^'\"]+)['\"]", path.read_text()):
                if found not in {"DATE_FORMAT", "DATETIME_FORMAT"}:
                    own.append(f"{path.relative_to(root)}: {found}")
    assert own == []


# No internal strings ------------------------------------------------------------------------


def test_audit_events_read_as_words():
    assert events.event_label("edt.access_requested") == "Access requested"
    assert events.event_label("cme.inspection.updated") == "Inspection updated"
    event = AuditEvent(
        action="cme.enforcement.updated",
        object_type="cme.enforcement",
        object_id="1",
        before={"enforcement_type": "a", "tiers": ["production"], "fine": None},
        after={"enforcement_type": "b", "tiers": ["production", "testing"], "fine": True},
    )
    assert events.changes(event) == [
        ("Type", EnforcementType.NOV.label, EnforcementType.AEO_LOCAL.label),
        ("Tiers", "production", "production, testing"),
        ("Fine", None, "Yes"),
    ]


def test_the_cme_history_shows_labels_not_codes(cast, client):
    record = inspection(cast)
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_inspection", args=[record.pk])
    client.post(
        url,
        {
            "program_element": "a",
            "inspection_type": "b",
            "occurred_on": "2024-05-01",
            "inspector_name": "Rita Reviewer",
        },
    )
    html = client.get(url).content.decode()
    history = html[html.index('id="history"') :]
    assert "Inspection updated" in history and "cme.inspection" not in history
    assert "Inspection type: Routine &rarr; Other" in history
    assert "program element: a" not in history.lower()


# The content security policy and no-store ---------------------------------------------------


def test_every_page_carries_the_content_security_policy(client, db):
    response = client.get(reverse("accounts:login"))
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"
    assert policy["style-src"] == "'self'"
    # Scripts: this site's files and the response's nonce, never 'unsafe-inline'.
    assert policy["script-src"].split()[0] == "'self'"
    assert all(part.startswith("'nonce-") for part in policy["script-src"].split()[1:])
    assert "unsafe" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("lead", "/business/"),
        ("lead", "/business/facilities/"),
        ("cupa_reviewer", "/regulator/"),
        ("cupa_reviewer", "/regulator/submittals/"),
        (None, "/accounts/login/"),
        (None, "/accounts/signup/"),
    ],
)
def test_pages_have_no_inline_script_handler_or_style(cast, client, persona, url):
    if persona:
        client.force_login(getattr(cast, persona))
    response = client.get(url, follow=True)
    html = response.content.decode()
    assert re.findall(r"\son[a-z]+\s*=", html) == []
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    assert re.findall(r"\sstyle\s*=", html) == []
    assert "<style" not in html


def test_signed_in_pages_are_never_stored(cast, client):
    client.force_login(cast.lead)
    response = client.get(reverse("business:home"))
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    # Their errors too: a 404 for a signed-in person names what they asked for.
    assert "no-store" in client.get("/business/facilities/999999999/")["Cache-Control"]


def test_answers_to_requests_with_credentials_are_never_stored(client, db):
    response = client.get(
        "/EDT/Regulator/Authenticate?regulatorCode=1001",
        HTTP_AUTHORIZATION="user nobody:bm90IGEgc2VjcmV0",
    )
    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_signed_out_pages_may_be_cached(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_validation_messages_read_as_words_without_their_rule_codes(cast, client):
    from submittals import services

    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=1)
    # The messages show from the first save on (issue 16).
    services.save_draft_data(actor=cast.editor, record=record, data={})
    client.force_login(cast.editor)
    html = client.get(reverse("business:element", args=[record.pk])).content.decode()
    panel = html[html.index('id="validation-panel"') :]
    assert 'data-rule="F-' in panel  # the rule stays in the markup, for support
    shown = re.sub(r'\sdata-rule="[^"]*"', "", panel)
    assert re.findall(r"F-\d+\w*-REQ", shown) == []


def test_the_organization_switcher_switches_by_its_button_without_an_inline_handler(cast, client):
    from tests import factories

    factories.add_member(cast.other_org, cast.editor, "viewer")
    client.force_login(cast.editor)
    html = client.get(reverse("business:home")).content.decode()
    select = re.search(r'<select id="switch-org"[^>]*>', html).group(0)
    assert "onchange" not in select
    # Choosing does not switch (an arrow key on a closed list changes its choice, and would
    # leave the page at the first press): the Switch button does, with or without scripts.
    assert "data-submit-on-change" not in select
    assert '<button type="submit" class="secondary">Switch</button>' in html


@pytest.mark.parametrize("typed", ["1/1/26", "12/31/68", "01/01/69", "10/25/06 14:30"])
def test_a_typed_date_names_its_year_in_full(typed):
    """A date typed where a browser offers no date picker is read as YYYY-MM-DD or
    MM/DD/YYYY (or with the month's name): a two-digit year (1/1/26, 12/31/68) is refused
    with the field's message, never turned into a year the person did not write (2068,
    1969)."""
    from django import forms

    field = forms.DateField()
    with pytest.raises(forms.ValidationError, match="Enter a valid date"):
        field.clean(typed)
    assert field.clean("2026-01-01") == field.clean("01/01/2026") == datetime.date(2026, 1, 1)
    with pytest.raises(forms.ValidationError, match="Enter a valid date/time"):
        forms.DateTimeField().clean("10/25/06 14:30")
