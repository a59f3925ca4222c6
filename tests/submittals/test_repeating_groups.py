"""Repeating groups on the element page: each group a table of rows, each row added, edited
and removed on its own page and saved into the element's data as a list of dicts keyed by
field number, under the group's key.

UST (element 4) tanks are the group used here: ``USTTanks/USTTank``, "UST tank" in the
registry, whose field 432 is the tank ID (text, at most 24 characters) and 436 the capacity
in gallons (a positive whole number).
"""

import pytest
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from submittals import services
from submittals.data import row_fingerprint
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord

UST = SubmittalElement.UST
TANKS = "USTTanks/USTTank"
TANK = "USTTank"


def draft(cast, element=UST, data=None):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    return services.save_draft_data(actor=cast.editor, record=record, data=data or {})


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


def element_url(record):
    return reverse("business:element", args=[record.pk])


def add_url(record, group=TANK):
    return reverse("business:element_group_row_add", args=[record.pk, group])


def row_url(record, index, group=TANK):
    return reverse("business:element_group_row", args=[record.pk, group, index])


def remove_url(record, index, group=TANK):
    return reverse("business:element_group_row_remove", args=[record.pk, group, index])


def with_fingerprint(record, index, posted=None):
    row = reload(record).data[TANKS][index]
    return {"fingerprint": row_fingerprint(row), **(posted or {})}


def page_text(response) -> str:
    return response.content.decode()


def test_the_editor_adds_two_tanks_edits_one_and_removes_one(cast, client):
    ust = draft(cast, data={"400": "1", "kept": {"x": 1}})
    client.force_login(cast.editor)

    page = page_text(client.get(add_url(ust)))
    assert "New UST tank" in page
    assert 'name="f_432"' in page

    response = client.post(add_url(ust), {"f_432": "T1", "f_436": "10000"})
    assert response.status_code == 302
    assert response.url == element_url(ust) + "#group-USTTank"
    client.post(add_url(ust), {"f_432": "T2", "f_436": "500"})
    assert reload(ust).data[TANKS] == [{"432": "T1", "436": 10000}, {"432": "T2", "436": 500}]

    page = page_text(client.get(element_url(ust)))
    assert "UST tank 2 added." in page
    assert 'id="group-USTTank"' in page
    assert "Tank ID number (432)" in page  # a column of the table
    assert row_url(ust, 1) in page
    assert remove_url(ust, 0) in page
    assert add_url(ust) in page

    page = page_text(client.get(row_url(ust, 1)))
    assert 'value="T2"' in page
    response = client.post(
        row_url(ust, 1), with_fingerprint(ust, 1, {"f_432": "T2-B", "f_436": "750"})
    )
    assert response.status_code == 302
    assert reload(ust).data[TANKS][1] == {"432": "T2-B", "436": 750}

    response = client.post(remove_url(ust, 0), with_fingerprint(ust, 0))
    assert response.status_code == 302
    data = reload(ust).data
    assert data[TANKS] == [{"432": "T2-B", "436": 750}]
    # The element's other data stays as it was.
    assert (data["400"], data["kept"]) == ("1", {"x": 1})
    assert "UST tank 1 removed." in page_text(client.get(element_url(ust)))


def test_editing_a_row_keeps_its_keys_the_form_does_not_show(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1", "legacy": "keep me"}]})
    client.force_login(cast.editor)
    client.post(row_url(ust, 0), with_fingerprint(ust, 0, {"f_432": "T1", "f_437": "2"}))
    assert reload(ust).data[TANKS] == [{"432": "T1", "437": 2, "legacy": "keep me"}]


def test_a_bad_value_shows_the_fields_message_and_stores_nothing(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1"}]})
    client.force_login(cast.editor)

    response = client.post(add_url(ust), {"f_432": "T2", "f_436": "lots"})
    assert response.status_code == 200
    assert "Tank capacity in gallons: enter a whole number." in page_text(response)
    assert "Nothing was added" in page_text(response)

    response = client.post(
        row_url(ust, 0), with_fingerprint(ust, 0, {"f_432": "T" * 25, "f_436": "0"})
    )
    assert response.status_code == 200
    page = page_text(response)
    assert "Tank ID number: at most 24 characters (now 25)." in page
    assert "Tank capacity in gallons: at least 1." in page
    assert reload(ust).data == {TANKS: [{"432": "T1"}]}


def test_an_empty_new_row_is_refused(cast, client):
    ust = draft(cast)
    client.force_login(cast.editor)
    response = client.post(add_url(ust), {"f_432": "  "})
    assert response.status_code == 200
    assert "Enter at least one value for the new row." in page_text(response)
    assert reload(ust).data == {}


def test_the_rows_required_fields_show_in_the_panel(cast, client):
    ust = draft(cast)
    client.force_login(cast.editor)
    assert "G-USTTank-MIN" in page_text(client.get(element_url(ust)))
    client.post(add_url(ust), {"f_432": "T1"})
    page = page_text(client.get(element_url(ust)))
    assert "G-USTTank-MIN" not in page
    assert "UST tank 1: Tank capacity in gallons (436) is required." in page


def test_a_row_changed_since_it_was_opened_is_not_overwritten_or_removed(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1"}, {"432": "T2"}]})
    seen = with_fingerprint(ust, 0)
    client.force_login(cast.editor)
    client.post(remove_url(ust, 0), with_fingerprint(ust, 0))  # someone removes T1 first
    assert reload(ust).data[TANKS] == [{"432": "T2"}]

    response = client.post(remove_url(ust, 0), seen)  # the stale page's "Remove" of T1
    assert response.status_code == 302
    assert reload(ust).data[TANKS] == [{"432": "T2"}]
    assert "has changed since you opened it" in page_text(client.get(response.url))
    client.post(row_url(ust, 0), {**seen, "f_432": "T1-B"})
    assert reload(ust).data[TANKS] == [{"432": "T2"}]


def test_the_viewer_sees_rows_but_cannot_change_them(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1"}]})
    client.force_login(cast.viewer)
    page = page_text(client.get(element_url(ust)))
    assert "T1" in page
    assert add_url(ust) not in page
    assert remove_url(ust, 0) not in page
    response = client.get(row_url(ust, 0))
    assert response.status_code == 200
    assert 'name="f_432"' not in page_text(response)
    # The label in words, the data-dictionary number apart (issue 16).
    assert 'Tank ID number <span class="field-number">CERS field 432</span>' in page_text(response)

    assert client.get(add_url(ust)).status_code == 403
    assert client.post(add_url(ust), {"f_432": "T2"}).status_code == 403
    assert client.post(row_url(ust, 0), with_fingerprint(ust, 0, {"f_432": "X"})).status_code == 403
    assert client.post(remove_url(ust, 0), with_fingerprint(ust, 0)).status_code == 403
    assert reload(ust).data == {TANKS: [{"432": "T1"}]}


def test_an_outsider_gets_404_on_every_row_page(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1"}]})
    client.force_login(cast.outsider)
    for method, url in [
        ("get", add_url(ust)),
        ("post", add_url(ust)),
        ("get", row_url(ust, 0)),
        ("post", row_url(ust, 0)),
        ("post", remove_url(ust, 0)),
    ]:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert reload(ust).data == {TANKS: [{"432": "T1"}]}


@pytest.mark.parametrize(
    ("element", "group"),
    [
        (UST, "Bogus"),
        (UST, "MonitoringPlan"),  # a group, but not one of rows
        (UST, "Attachment"),  # rows of a document slot: the documents' pages
        (SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY, "Chemical"),  # the inventory's pages
    ],
)
def test_groups_not_edited_here_answer_404(cast, client, element, group):
    record = draft(cast, element)
    client.force_login(cast.editor)
    assert client.get(add_url(record, group)).status_code == 404
    assert client.post(add_url(record, group), {"f_432": "T1"}).status_code == 404


def test_a_row_past_the_last_answers_404(cast, client):
    ust = draft(cast, data={TANKS: [{"432": "T1"}]})
    client.force_login(cast.editor)
    assert client.get(row_url(ust, 1)).status_code == 404
    assert client.post(remove_url(ust, 1), {}).status_code == 404


def test_rows_of_a_submitted_element_never_change(cast, client):
    group = FacilitySubmittal.objects.create(
        facility=cast.facility,
        status=FacilitySubmittal.Status.SUBMITTED,
        submitted_at=timezone.now(),
    )
    ust = SubmittalElementRecord.objects.create(
        facility_submittal=group,
        facility=cast.facility,
        element=UST,
        status=ElementStatus.SUBMITTED,
        regulator=cast.pa,
        submitted_by=cast.approver,
        submitted_at=group.submitted_at,
        data={TANKS: [{"432": "T1"}]},
    )
    client.force_login(cast.editor)
    page = page_text(client.get(element_url(ust)))
    assert "T1" in page
    assert add_url(ust) not in page
    response = client.post(add_url(ust), {"f_432": "T2"})
    assert response.status_code == 302
    assert "can no longer be changed" in page_text(client.get(response.url))
    client.post(row_url(ust, 0), with_fingerprint(ust, 0, {"f_432": "X"}))
    client.post(remove_url(ust, 0), with_fingerprint(ust, 0))
    assert reload(ust).data == {TANKS: [{"432": "T1"}]}


@pytest.mark.parametrize(
    ("element", "tag", "title"),
    [
        (UST, "USTCertificationOfInstallationModification", "UST certification of installation"),
        (SubmittalElement.TIERED_PERMITTING, "HWUnit", "HW units"),
        (SubmittalElement.TIERED_PERMITTING, "HWCertificationOfFinancialAssurance", "HW cert"),
        (SubmittalElement.REMOTE_WASTE_CONSOLIDATION, "RWConsolidationSite", "RW consolidation"),
    ],
)
def test_each_element_with_rows_shows_its_groups(cast, client, element, tag, title):
    record = draft(cast, element)
    client.force_login(cast.editor)
    page = page_text(client.get(element_url(record)))
    assert f'id="group-{tag}"' in page
    assert title in page
    assert add_url(record, tag) in page
    assert client.get(add_url(record, tag)).status_code == 200


def test_the_inventory_page_has_no_chemical_table_here(cast, client):
    inventory = draft(cast, SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
    client.force_login(cast.editor)
    assert 'id="group-Chemical"' not in page_text(client.get(element_url(inventory)))


# --- who gets what on the new routes ---------------------------------------------------------

PERSONAS = (
    "anonymous",
    "lead",
    "approver",
    "editor",
    "viewer",
    "outsider",
    "cupa_reviewer",
    "pa_viewer",
    "state_admin",
)
NO_ORGANIZATION = {"cupa_reviewer": 302, "pa_viewer": 302, "state_admin": 302}


def _expect(editors, viewer):
    return {
        "anonymous": 302,
        "lead": editors,
        "approver": editors,
        "editor": editors,
        "viewer": viewer,
        "outsider": 404,
        **NO_ORGANIZATION,
    }


# (route, method, POST data, status per persona), on a UST draft with one tank; no HX-Request
# header, so the validate endpoint answers 400 to those allowed past its scope and role checks.
ROUTES = [
    ("business:element_validate", "post", {}, _expect(400, 403)),
    ("business:element_group_row_add", "get", None, _expect(200, 403)),
    ("business:element_group_row_add", "post", {"f_432": "T2"}, _expect(302, 403)),
    ("business:element_group_row", "get", None, _expect(200, 200)),
    ("business:element_group_row", "post", "fingerprint", _expect(302, 403)),
    ("business:element_group_row_remove", "post", "fingerprint", _expect(302, 403)),
]


@pytest.mark.parametrize(("name", "method", "data", "expected"), ROUTES)
def test_each_persona_gets_the_declared_status(cast, client, name, method, data, expected):
    failures = []
    for persona in PERSONAS:
        ust = draft(cast, data={TANKS: [{"432": "T1"}]})
        args = {
            "business:element_validate": [ust.pk],
            "business:element_group_row_add": [ust.pk, TANK],
        }.get(name, [ust.pk, TANK, 0])
        client.logout()
        if persona != "anonymous":
            client.force_login(getattr(cast, persona))
        url = reverse(name, args=args)
        if method == "get":
            response = client.get(url)
        else:
            posted = with_fingerprint(ust, 0) if data == "fingerprint" else data
            response = client.post(url, posted)
        if response.status_code != expected[persona]:
            failures.append(f"{persona}: got {response.status_code}, expected {expected[persona]}")
        services.discard_draft(actor=cast.editor, record=ust)
    assert not failures, "; ".join(failures)
