"""Two editors saving one draft at once. Each save is applied to the draft as it is once
locked, never to the copy its page read: a part of Facility Information saved by one keeps the
other part another saved a moment before, a row added by one keeps the row another added, and
a save over fields someone else saved while the page was open is refused, not written over
them. A draft discarded meanwhile is answered with a message, never a server error.

``meanwhile`` commits another editor's save between the moment the request read the draft and
the moment its service locks it: what a second request sees when the first commits first.
"""

import copy

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from core.elements import SubmittalElement
from submittals import facility_information, services
from submittals.data import row_fingerprint
from submittals.forms import ElementDataForm
from submittals.models import SubmittalElementRecord
from submittals.views import business

FI = SubmittalElement.FACILITY_INFORMATION
BA = facility_information.BUSINESS_ACTIVITIES
OO = facility_information.OWNER_OPERATOR
UST = SubmittalElement.UST
TANKS = "USTTanks/USTTank"


def element_url(record, part=None):
    url = reverse("business:element", args=[record.pk])
    return f"{url}?part={part.slug}" if part else url


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


@pytest.fixture
def meanwhile(monkeypatch):
    """``meanwhile(record, change)``: another editor saves ``change(data)`` now, while the
    next request still reads the draft as it was before (its page and its view read it
    before that save committed; its service locks it after)."""

    def arrange(record, change):
        before = reload(record)
        services.save_draft_data(actor=record.created_by, record=record, data=change(record.data))
        get_record = business.OrganizationElementsMixin.get_record

        def read_before_the_other_save(view):
            found = get_record(view)
            if found.pk == before.pk:
                found.data = copy.deepcopy(before.data)
            return found

        monkeypatch.setattr(
            business.OrganizationElementsMixin, "get_record", read_before_the_other_save
        )

    return arrange


def posted(record, part, **values) -> dict:
    """The part's form as its page draws it from the draft's data, with ``values`` typed."""
    form = ElementDataForm(element=FI, data=record.data, part=part)
    data = {name: value for name, value in form.initial.items() if value not in (None, "")}
    data.update(values, fingerprint=form.fingerprint())
    return data


def test_two_editors_saving_the_two_parts_at_once_keep_both(cast, client, meanwhile):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    form = posted(record, BA, f_4="Y")
    meanwhile(record, lambda data: {**data, "111": "Owner saved by the other editor"})
    client.force_login(cast.editor)

    assert client.post(element_url(record, BA), form).status_code == 302

    data = reload(record).data
    assert data["4"] == "Y"
    assert data["111"] == "Owner saved by the other editor"


def test_a_save_over_fields_saved_meanwhile_is_refused(cast, client, meanwhile):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    form = posted(record, BA, f_4="Y")
    meanwhile(record, lambda data: {**data, "4": "N"})
    client.force_login(cast.editor)

    response = client.post(element_url(record, BA), form, follow=True)

    assert reload(record).data["4"] == "N"
    page = response.content.decode()
    assert "Someone else saved these fields" in page
    # What they typed is still in the form, the field saved meanwhile marked with its value.
    bound = response.context["form"]
    assert bound["f_4"].value() == "Y"
    assert [str(e) for e in bound.errors["f_4"]] == [
        "Saved meanwhile as “No”; saving again keeps your value."
    ]
    assert page.count("Saved meanwhile as") == 2  # the field's error and the summary's link
    # Saving the form again, drawn over the draft as saved now, keeps their value.
    again = {**form, "fingerprint": bound.fingerprint()}
    assert client.post(element_url(record, BA), again).status_code == 302
    assert reload(record).data["4"] == "Y"


def test_two_rows_added_at_once_are_both_kept(cast, client, meanwhile):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=UST)
    meanwhile(record, lambda data: {**data, TANKS: [{"432": "T-other"}]})
    client.force_login(cast.editor)

    url = reverse("business:element_group_row_add", args=[record.pk, "USTTank"])
    assert client.post(url, {"f_432": "T-mine"}).status_code == 302

    assert reload(record).data[TANKS] == [{"432": "T-other"}, {"432": "T-mine"}]


def test_a_row_removed_while_another_was_removed_stays_removed(cast, client, meanwhile):
    rows = [{"432": "T1"}, {"432": "T2"}, {"432": "T3"}]
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=UST)
    record = services.save_draft_data(actor=cast.editor, record=record, data={TANKS: rows})
    seen = {"fingerprint": row_fingerprint(rows[2])}
    meanwhile(record, lambda data: {**data, TANKS: [rows[0], rows[2]]})  # T2 removed
    client.force_login(cast.editor)

    url = reverse("business:element_group_row_remove", args=[record.pk, "USTTank", 2])
    response = client.post(url, seen, follow=True)

    # T3 moved up to the second row: "Remove T3" no longer names the third row.
    assert reload(record).data[TANKS] == [rows[0], rows[2]]
    assert "has changed since you opened it" in response.content.decode()


def test_a_draft_discarded_meanwhile_is_answered_with_a_message(cast):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    seen = reload(record)
    services.discard_draft(actor=cast.editor, record=record)

    with pytest.raises(ValidationError, match="discarded meanwhile"):
        services.save_draft_data(actor=cast.editor, record=seen, data={"3": "Name"})
    with pytest.raises(ValidationError, match="discarded meanwhile"):
        services.discard_draft(actor=cast.editor, record=seen)


def test_a_material_or_document_for_a_draft_discarded_meanwhile_is_refused(cast):
    from submittals.documents import set_document_answer
    from submittals.inventory import add_material
    from submittals.models import DocumentSource
    from tests.submittals.data import DIESEL

    inventory = services.start_draft(
        actor=cast.editor,
        facility=cast.facility,
        element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
    )
    seen = reload(inventory)
    services.discard_draft(actor=cast.editor, record=inventory)

    with pytest.raises(ValidationError, match="discarded meanwhile"):
        add_material(actor=cast.editor, record=seen, values=DIESEL)
    with pytest.raises(ValidationError, match="discarded meanwhile"):
        set_document_answer(
            actor=cast.editor,
            record=seen,
            slot="HMISiteMap",
            source=DocumentSource.STORED_AT_FACILITY,
        )
