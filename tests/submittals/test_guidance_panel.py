"""The guidance messages panel of the business element page: at the top, with a heading and
a status line, each message a link to the place its field is corrected."""

import re

from django.urls import reverse

from core.elements import SubmittalElement
from core.registry import schema_for
from submittals import guidance, services
from submittals.data import data_key
from submittals.validation import ADVISORY, REQUIRED, WARNING, Message
from tests.submittals.data import complete_data, complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
UST = SubmittalElement.UST
HTMX = {"HTTP_HX_REQUEST": "true"}


def draft(cast, element, data):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    return services.save_draft_data(actor=cast.editor, record=record, data=data)


def page_of(client, record, part=None) -> str:
    url = reverse("business:element", args=[record.pk])
    return client.get(f"{url}?part={part}" if part else url).content.decode()


def link_of(page: str, rule: str) -> str:
    item = re.search(rf'<li data-rule="{re.escape(rule)}">(.*?)</li>', page, re.S)
    assert item, rule
    href = re.search(r'<a href="([^"]*)">', item.group(1))
    return href.group(1) if href else ""


def test_the_panel_is_at_the_top_with_a_heading_and_a_status(cast, client):
    record = draft(cast, FI, complete_facility_information(f111=None, f107a=None))
    client.force_login(cast.editor)
    page = page_of(client, record)
    panel = page.index('<h2 id="validation-heading">Guidance messages</h2>')
    assert 'aria-labelledby="validation-heading"' in page
    assert panel < page.index("<h2>Data</h2>")
    status = re.search(r'<p id="validation-status" role="status"[^>]*>(.*?)</p>', page)
    assert status.group(1) == "1 to correct before you submit, 1 advisory."


def test_each_message_links_to_its_field_on_this_part_or_the_other(cast, client):
    # 111 (owner name) is in Owner/Operator Identification, 4 (a question) and 107a (NAICS)
    # in Business Activities.
    record = draft(cast, FI, complete_facility_information(f111=None, f4=None))
    client.force_login(cast.editor)
    page = page_of(client, record, "business-activities")
    element = reverse("business:element", args=[record.pk])
    assert link_of(page, "F-111-REQ") == f"{element}?part=owner-operator#id_f_111"
    assert link_of(page, "F-4-REQ") == "#id_f_4_0"  # a Yes / No question: its first button
    assert 'id="id_f_4_0"' in page

    page = page_of(client, record, "owner-operator")
    assert link_of(page, "F-111-REQ") == "#id_f_111"
    assert 'id="id_f_111"' in page
    assert link_of(page, "F-4-REQ") == f"{element}?part=business-activities#id_f_4_0"


def test_rows_documents_and_the_inventory_have_their_own_places(cast, client):
    schema = schema_for(UST)
    data = complete_data(UST, cast.facility)
    tank = schema.get("432")  # the tank's ID number, required in each tank
    del data["USTTanks/USTTank"][0][data_key(tank)]
    record = draft(cast, UST, data)
    client.force_login(cast.editor)
    page = page_of(client, record)
    row = reverse("business:element_group_row", args=[record.pk, "USTTank", 0])
    assert link_of(page, "F-432-REQ") == f"{row}#id_f_432"
    assert 'id="id_f_432"' in client.get(row).content.decode()
    slot = next(s for s in schema.document_slots if s.required and not s.choice)
    assert link_of(page, f"DOC-{slot.tag}-REQ") == f"#doc-{slot.tag}"
    assert f'id="doc-{slot.tag}"' in page

    inventory = draft(cast, HMI, {})
    page = page_of(client, inventory)
    assert link_of(page, "inventory_empty") == "#inventory"
    assert 'id="inventory"' in page


def test_the_row_page_links_back_to_the_element_page(cast, client):
    data = complete_data(UST, cast.facility)
    data.pop("400", None)  # Type of action, on the element page
    record = draft(cast, UST, data)
    client.force_login(cast.editor)
    row = reverse("business:element_group_row", args=[record.pk, "USTTank", 0])
    page = client.get(row).content.decode()
    element = reverse("business:element", args=[record.pk])
    assert link_of(page, "F-400-REQ") == f"{element}#id_f_400"


def test_a_reader_who_cannot_edit_sees_the_messages_without_links(cast, client):
    record = draft(cast, FI, complete_facility_information(f111=None))
    client.force_login(cast.viewer)
    page = page_of(client, record)
    assert 'data-rule="F-111-REQ"' in page
    assert link_of(page, "F-111-REQ") == ""


def test_the_live_validation_updates_the_status_line_alone(cast, client):
    record = draft(cast, FI, complete_facility_information())
    client.force_login(cast.editor)
    posted = {f"f_{k}": v for k, v in complete_facility_information(f111=None).items()}
    response = client.post(
        reverse("business:element_validate", args=[record.pk]) + "?part=owner-operator",
        posted,
        HTTP_HX_TRIGGER_NAME="f_111",
        **HTMX,
    )
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="card" id="validation-panel"')
    assert link_of(html, "F-111-REQ") == "#id_f_111"
    assert (
        '<p id="validation-status" hx-swap-oob="innerHTML">1 to correct before you submit.</p>'
        in html
    )


def test_the_summary_counts_each_level_in_words():
    def message(level):
        return Message(level, "X", "x")

    assert guidance.summary([]) == "No guidance messages."
    assert guidance.summary([message(WARNING)]) == "1 warning."
    assert (
        guidance.summary([message(REQUIRED)] * 2 + [message(ADVISORY)] * 2 + [message(WARNING)])
        == "2 to correct before you submit, 1 warning, 2 advisories."
    )


def test_a_message_about_another_element_has_no_link(cast):
    record = draft(cast, FI, complete_facility_information())
    other = Message(REQUIRED, "F-400-REQ", "x", element=UST, field="400")
    assert guidance.message_href(record, other) == ""
