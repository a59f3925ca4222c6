"""Guidance messages: the registry's field checks, the element rules and the cross-element
rules; Required blocks a submit, Warnings and Advisories do not; the element page's live
validation endpoint; the owner/operator columns following Facility Information's data.

The cast's facility "Acme Sacramento Depot" is in ZIP 95814, handled by the Sacramento County
CUPA for every element but UST (element 4), which goes to the City PA.
"""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from submittals import services
from submittals.models import (
    ElementStatus,
    FacilitySubmittal,
    HazardousMaterial,
    OwnerOperator,
    SubmittalElementRecord,
)
from submittals.validation import (
    ADVISORY,
    REQUIRED,
    WARNING,
    required,
    validate_element,
    validate_submittal,
)
from tests.submittals.data import (
    answer_required_documents,
    complete_data,
    complete_facility_information,
)

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
ERTP = SubmittalElement.EMERGENCY_RESPONSE
UST = SubmittalElement.UST
APSA = SubmittalElement.APSA
TANKS = "USTTanks/USTTank"


def draft(cast, element, data=None):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=element)
    return services.save_draft_data(actor=cast.editor, record=record, data=data or {})


def accepted(cast, element):
    """An accepted element of the cast's facility, as the CUPA left it (made directly: the
    rule under test only asks whether one exists)."""
    group = FacilitySubmittal.objects.create(
        facility=cast.facility,
        status=FacilitySubmittal.Status.SUBMITTED,
        submitted_at=timezone.now() - timedelta(days=30),
    )
    return SubmittalElementRecord.objects.create(
        facility_submittal=group,
        facility=cast.facility,
        element=element,
        status=ElementStatus.ACCEPTED,
        regulator=cast.cupa,
        submitted_at=group.submitted_at,
    )


def codes(messages) -> set[str]:
    return {message.code for message in messages}


def by_code(messages, code):
    [message] = [m for m in messages if m.code == code]
    return message


def submit(cast, records):
    return services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=records,
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


# --- field checks driven by the registry -----------------------------------------------------


def test_complete_facility_information_has_no_message(cast):
    record = draft(cast, FI, complete_facility_information())
    assert validate_element(record) == []
    assert validate_submittal(cast.facility, [record]) == []


@pytest.mark.parametrize("element", list(SubmittalElement))
def test_complete_data_of_every_element_passes_the_required_checks(cast, element):
    record = draft(cast, element, complete_data(element, cast.facility))
    answer_required_documents(cast.editor, record)
    blocking = [m.code for m in required(validate_element(record)) if m.code != "inventory_empty"]
    assert blocking == []
    if element == FI:
        assert validate_submittal(cast.facility, [record]) == []


def test_a_blank_required_field_of_a_mandatory_group_is_required(cast):
    record = draft(cast, FI, complete_facility_information(f111=None))
    message = by_code(validate_element(record), "F-111-REQ")
    assert message.level == REQUIRED
    assert (message.element, message.field, message.label) == (FI, "111", "Owner name (111)")
    assert str(message) == (
        "Facility Information: Owner operator information: Owner name (111) is required. "
        "Enter it before submitting."
    )


def test_an_empty_facility_information_asks_for_both_mandatory_forms(cast):
    found = codes(validate_element(draft(cast, FI)))
    assert {"F-3-REQ", "F-4-REQ", "F-14b-REQ", "F-111-REQ", "F-144-REQ"} <= found
    # Optional fields, and the keys CERS assigns, are never asked for.
    assert not {"F-2-REQ", "F-128-REQ", "F-20.0050-REQ", "F-20.0051-REQ"} & found


def test_a_stored_value_the_registry_rejects_is_required(cast):
    record = draft(cast, FI, complete_facility_information(f3="x" * 71, f105a=59))
    messages = validate_element(record)
    name = by_code(messages, "F-3-VAL")
    assert name.level == REQUIRED
    assert name.label == "Business name at this facility (3)"
    assert "at most 70 characters (now 71)" in name.message
    assert "at most 58" in by_code(messages, "F-105a-VAL").message
    # The boundary: 70 characters and county 58 are fine.
    record = draft_again(cast, record, complete_facility_information(f3="x" * 70, f105a=58))
    assert not {"F-3-VAL", "F-105a-VAL"} & codes(validate_element(record))


def draft_again(cast, record, data):
    return services.save_draft_data(actor=cast.editor, record=record, data=data)


def test_a_mandatory_repeating_group_needs_a_row(cast):
    record = draft(cast, UST)
    message = by_code(validate_element(record), "G-USTTank-MIN")
    assert (message.level, message.element, message.group) == (REQUIRED, UST, TANKS)
    # An optional group of rows (installation certificates) may stay empty.
    assert "G-USTCertificationOfInstallationModification-MIN" not in codes(validate_element(record))
    record = draft_again(cast, record, {TANKS: [{"432": "T1"}]})
    assert "G-USTTank-MIN" not in codes(validate_element(record))


def test_a_rows_required_fields_count_once_the_row_exists(cast):
    record = draft(cast, UST, {TANKS: [{"432": "T1"}, {"430": "1"}]})
    messages = validate_element(record)
    first = [m for m in messages if m.group == TANKS and m.row == 0]
    second = [m for m in messages if m.group == TANKS and m.row == 1]
    assert "F-430-REQ" in codes(first)
    assert "F-432-REQ" not in codes(first)
    assert "F-432-REQ" in codes(second)
    message = by_code(first, "F-430-REQ")
    assert message.label == "Type of action (430)"
    assert str(message).startswith("Underground Storage Tanks: UST tank 1: Type of action (430)")


def test_a_group_inside_a_row_counts_once_started(cast):
    record = draft(cast, UST, {TANKS: [{"432": "T1"}]})
    assert "F-490-46-REQ" not in codes(validate_element(record))
    record = draft_again(cast, record, {TANKS: [{"432": "T1", "490-47": "5 years"}]})
    assert "F-490-46-REQ" in codes(validate_element(record))


def test_a_bad_value_in_a_row_is_required(cast):
    record = draft(cast, UST, {TANKS: [{"432": "T1", "436": "lots"}]})
    message = by_code(validate_element(record), "F-436-VAL")
    assert (message.level, message.row) == (REQUIRED, 0)
    assert "enter a whole number" in message.message


def test_rows_that_are_not_a_list_are_required(cast):
    record = draft(cast, UST, {TANKS: {"432": "T1"}})
    assert by_code(validate_element(record), "G-USTTank-ROWS").level == REQUIRED


# --- rules of Facility Information -----------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("4", [HMI, ERTP]), ("5", [UST]), ("8", [APSA]), ("11", [5]), ("13", [7])],
)
def test_a_yes_calls_for_its_element(cast, answer, expected):
    facility_info = draft(cast, FI, complete_facility_information(**{f"f{answer}": "Y"}))
    messages = validate_submittal(cast.facility, [facility_info])
    for element in expected:
        message = by_code(messages, f"FI-{answer}-E{int(element)}")
        assert (message.level, message.element, message.field) == (WARNING, FI, answer)
        assert SubmittalElement(element).label in message.message
    assert not required(messages)


@pytest.mark.parametrize("answer", ["N", None])
def test_a_no_or_no_answer_calls_for_nothing(cast, answer):
    facility_info = draft(cast, FI, complete_facility_information(f5=answer))
    found = codes(validate_submittal(cast.facility, [facility_info]))
    assert "FI-5-E4" not in found
    assert found == (set() if answer else {"F-5-REQ"})


def test_the_element_called_for_may_be_in_the_submittal_or_accepted_before(cast):
    facility_info = draft(cast, FI, complete_facility_information(f5="Y", f8="Y"))
    ust = draft(cast, UST)
    found = codes(validate_submittal(cast.facility, [facility_info, ust]))
    assert "FI-5-E4" not in found
    assert "FI-8-E9" in found
    accepted(cast, APSA)
    assert "FI-8-E9" not in codes(validate_submittal(cast.facility, [facility_info]))


def test_an_element_only_submitted_before_is_still_called_for(cast):
    old = accepted(cast, UST)
    old.status = ElementStatus.NOT_ACCEPTED
    old.save()
    facility_info = draft(cast, FI, complete_facility_information(f5="Y"))
    assert "FI-5-E4" in codes(validate_submittal(cast.facility, [facility_info]))


@pytest.mark.parametrize(
    ("beginning", "ending", "fires"),
    [
        ("2024-05-02", "2024-05-01", True),
        ("2024-05-02", "2024-05-02", False),
        ("2024-05-02", "2024-05-03", False),
        (None, "2024-05-01", False),
    ],
)
def test_the_ending_date_is_not_before_the_beginning_date(cast, beginning, ending, fires):
    data = complete_facility_information(f100=beginning, f101=ending)
    messages = validate_element(draft(cast, FI, data))
    assert ("FI-101-BEFORE-100" in codes(messages)) is fires
    if fires:
        message = by_code(messages, "FI-101-BEFORE-100")
        assert (message.level, message.field, message.label) == (
            WARNING,
            "101",
            "Date the business ended at this site (101)",
        )
        assert "Date the business began at this site (100)" in message.message


def test_the_primary_emergency_contact_needs_a_24_hour_phone(cast):
    messages = validate_element(draft(cast, FI, complete_facility_information(f126="  ")))
    message = by_code(messages, "FI-126-REQ")
    assert (message.level, message.label) == (
        REQUIRED,
        "Primary emergency contact 24-hour phone (126)",
    )
    assert "F-126-REQ" not in codes(messages)  # one message for one blank field
    given = draft_again(cast, reload_fi(cast), complete_facility_information())
    assert "FI-126-REQ" not in codes(validate_element(given))


def reload_fi(cast):
    return SubmittalElementRecord.objects.get(
        facility=cast.facility, element=FI, status=ElementStatus.DRAFT
    )


@pytest.mark.parametrize(
    ("state", "fires"), [("ca", True), ("C", True), ("C1", True), ("CA", False), (None, False)]
)
def test_state_codes_are_two_capital_letters(cast, state, fires):
    messages = validate_element(draft(cast, FI, complete_facility_information(f108c=state)))
    assert ("F-108c-STATE" in codes(messages)) is fires
    if fires:
        message = by_code(messages, "F-108c-STATE")
        assert (message.level, message.label) == (WARNING, "Mailing state (108c)")


def test_a_state_too_long_gets_one_message(cast):
    messages = validate_element(draft(cast, FI, complete_facility_information(f115="CAL")))
    assert "F-115-VAL" in codes(messages)
    assert "F-115-STATE" not in codes(messages)


def test_state_codes_are_checked_in_other_elements_too(cast):
    record = draft(cast, UST, {"411": "Ca"})
    assert by_code(validate_element(record), "F-411-STATE").element == UST


def test_a_missing_naics_code_is_an_advisory(cast):
    messages = validate_element(draft(cast, FI, complete_facility_information(f107a=None)))
    message = by_code(messages, "FI-107a-ADV")
    assert (message.level, message.field, message.label) == (ADVISORY, "107a", "NAICS code (107a)")
    assert not required(messages)


@pytest.mark.parametrize(("name", "fires"), [("Acme  sacramento DEPOT ", False), ("Acme", True)])
def test_the_business_name_should_match_the_facility_name(cast, name, fires):
    facility_info = draft(cast, FI, complete_facility_information(f3=name))
    messages = validate_submittal(cast.facility, [facility_info])
    assert ("FI-3-NAME" in codes(messages)) is fires
    if fires:
        message = by_code(messages, "FI-3-NAME")
        assert (message.level, message.element, message.label) == (
            ADVISORY,
            FI,
            "Business name at this facility (3)",
        )
        assert cast.facility.name in message.message


# --- rules of the inventory ------------------------------------------------------------------


@pytest.mark.parametrize(("maximum", "fires"), [("499.9", True), ("500", False), ("501", False)])
def test_the_maximum_daily_amount_is_not_below_the_average(cast, maximum, fires):
    inventory = draft(cast, HMI)
    HazardousMaterial.objects.create(
        record=inventory,
        position=1,
        common_name="Diesel",
        data={"207": "Diesel", "217": "500", "218": maximum},
    )
    messages = validate_element(inventory)
    assert ("HMI-218-BELOW-217" in codes(messages)) is fires
    if fires:
        message = by_code(messages, "HMI-218-BELOW-217")
        assert (message.level, message.label) == (ADVISORY, "Maximum daily amount (218)")
        assert "Diesel (row 1)" in message.message


def test_inventory_amounts_kept_in_the_elements_data_are_checked_too(cast):
    inventory = draft(cast, HMI, {"Chemicals/Chemical": [{"207": "Acetone", "217": 9, "218": 3}]})
    assert "HMI-218-BELOW-217" in codes(validate_element(inventory))


# --- submitting --------------------------------------------------------------------------------


def test_a_required_message_blocks_the_submit(cast):
    facility_info = draft(cast, FI, complete_facility_information(f111=None))
    with pytest.raises(ValidationError) as refused:
        submit(cast, [facility_info])
    assert [error.code for error in refused.value.error_list] == ["F-111-REQ"]
    assert "Owner name (111) is required" in refused.value.messages[0]
    assert reload(facility_info).is_draft


def test_warnings_and_advisories_do_not_block_the_submit(cast):
    facility_info = draft(cast, FI, complete_facility_information(f5="Y", f107a=None, f3="Acme"))
    levels = {m.level for m in validate_submittal(cast.facility, [facility_info])}
    assert levels == {WARNING, ADVISORY}
    submit(cast, [facility_info])
    assert reload(facility_info).status == ElementStatus.SUBMITTED


def test_downgraded_facility_information_rules_warn_and_do_not_block_the_submit(cast):
    """A lower-case state and an ending date before the beginning date: CERS enforces
    neither, so both are Warnings and the element is submitted."""
    facility_info = draft(
        cast,
        FI,
        complete_facility_information(f108c="ca", f100="2024-05-02", f101="2024-05-01"),
    )
    levels = {m.code: m.level for m in validate_submittal(cast.facility, [facility_info])}
    assert levels["F-108c-STATE"] == WARNING
    assert levels["FI-101-BEFORE-100"] == WARNING
    assert REQUIRED not in levels.values()
    submit(cast, [facility_info])
    assert reload(facility_info).status == ElementStatus.SUBMITTED


def test_an_empty_inventory_is_a_warning(cast):
    """The schema lets an inventory list no Chemical (minOccurs 0)."""
    inventory = draft(cast, HMI)
    assert by_code(validate_element(inventory), "inventory_empty").level == WARNING


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ({"f126": None}, "FI-126-REQ"),  # PEC24HrPhone: minOccurs 1
        ({"f111": None}, "F-111-REQ"),  # OwnerName: minOccurs 1
        ({"f100": "not a date"}, "F-100-VAL"),  # outside the field's type
    ],
)
def test_rules_the_schema_backs_stay_required_and_block(cast, data, code):
    facility_info = draft(cast, FI, complete_facility_information(**data))
    assert by_code(validate_element(facility_info), code).level == REQUIRED
    with pytest.raises(ValidationError) as refused:
        submit(cast, [facility_info])
    assert code in [error.code for error in refused.value.error_list]
    assert reload(facility_info).is_draft


def certified(*records):
    return {
        "elements": [record.pk for record in records],
        "certifier_name": "Bob Approver",
        "certifier_title": "Site Manager",
        "certify": "on",
    }


def test_the_submit_page_refuses_a_required_message_and_lets_warnings_through(cast, client):
    facility_info = draft(cast, FI, complete_facility_information(f126=None, f5="Y"))
    client.force_login(cast.approver)
    url = reverse("business:submit", args=[cast.facility.cers_id])
    response = client.post(url, certified(facility_info))
    assert response.status_code == 200
    assert "Primary emergency contact 24-hour phone (126) is required" in response.content.decode()
    assert reload(facility_info).is_draft

    draft_again(cast, facility_info, complete_facility_information(f5="Y"))
    response = client.post(url, certified(facility_info))
    assert response.status_code == 302
    assert reload(facility_info).status == ElementStatus.SUBMITTED


# --- the element page and its live validation --------------------------------------------------


def element_url(record):
    return reverse("business:element", args=[record.pk])


def validate_url(record):
    return reverse("business:element_validate", args=[record.pk])


def form_of(data) -> dict:
    """The element form's POST data for Facility Information data."""
    return {f"f_{key}": value for key, value in data.items()}


HTMX = {"HTTP_HX_REQUEST": "true"}


def test_the_page_shows_the_messages_and_a_save_refreshes_them(cast, client):
    facility_info = draft(cast, FI, complete_facility_information(f111=None))
    client.force_login(cast.editor)
    page = client.get(element_url(facility_info)).content.decode()
    assert 'id="validation-panel"' in page
    assert "F-111-REQ" in page
    # The page shows one part of Facility Information, and validates that part (issue 16).
    assert f'hx-post="{validate_url(facility_info)}?part=business-activities"' in page

    response = client.post(element_url(facility_info), form_of(complete_facility_information()))
    assert response.status_code == 302
    page = client.get(element_url(facility_info)).content.decode()
    assert "F-111-REQ" not in page
    assert "No guidance messages." in page


def test_a_changed_field_is_validated_without_saving(cast, client):
    saved = complete_facility_information(f111=None)
    facility_info = draft(cast, FI, saved)
    client.force_login(cast.editor)
    posted = form_of(complete_facility_information(f111="New Owner", f3="x" * 71))
    response = client.post(validate_url(facility_info), posted, HTTP_HX_TRIGGER_NAME="f_3", **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div class="card" id="validation-panel"')
    assert "<html" not in html
    assert "F-111-REQ" not in html  # the unsaved owner name counts
    assert "F-3-VAL" in html
    # The changed field's own message, swapped in beside it.
    assert 'id="errors-f_3" class="field-errors" hx-swap-oob="true"' in html
    assert "Business name: at most 70 characters (now 71)." in html
    assert reload(facility_info).data == saved


def test_a_valid_change_clears_the_fields_message(cast, client):
    facility_info = draft(cast, FI, complete_facility_information())
    client.force_login(cast.editor)
    response = client.post(
        validate_url(facility_info),
        form_of(complete_facility_information(f107a=None)),
        HTTP_HX_TRIGGER_NAME="f_107a",
        **HTMX,
    )
    html = response.content.decode()
    assert "FI-107a-ADV" in html
    assert '<span id="errors-f_107a" class="field-errors" hx-swap-oob="true"></span>' in html


def test_the_validate_endpoint_answers_htmx_only(cast, client):
    facility_info = draft(cast, FI)
    client.force_login(cast.editor)
    assert client.post(validate_url(facility_info), {}).status_code == 400
    assert client.get(validate_url(facility_info), **HTMX).status_code == 405


def test_the_validate_endpoint_is_scoped_like_the_element_page(cast, client):
    facility_info = draft(cast, FI)
    client.force_login(cast.outsider)
    assert client.post(validate_url(facility_info), {}, **HTMX).status_code == 404
    client.force_login(cast.viewer)
    assert client.post(validate_url(facility_info), {}, **HTMX).status_code == 403
    client.force_login(cast.lead)
    assert client.post(validate_url(facility_info), {}, **HTMX).status_code == 200


def test_a_submitted_element_is_not_validated_live(cast, client):
    facility_info = draft(cast, FI, complete_facility_information())
    submit(cast, [facility_info])
    client.force_login(cast.editor)
    assert client.post(validate_url(facility_info), {}, **HTMX).status_code == 400


# --- owner/operator columns ------------------------------------------------------------------


def test_the_owner_operator_row_follows_facility_information(cast, client):
    facility_info = draft(cast, FI, complete_facility_information())
    row = OwnerOperator.objects.get(record=facility_info)
    assert (row.owner_name, row.operator_name, row.primary_contact_phone) == (
        "Acme Fuels LLC",
        "Acme Fuels",
        "916-555-0199",
    )
    assert row.secondary_contact_name == ""

    client.force_login(cast.editor)
    changed = complete_facility_information(f111="Acme Holdings", f128="Sam Second")
    assert client.post(element_url(facility_info), form_of(changed)).status_code == 302
    row.refresh_from_db()
    assert (row.owner_name, row.secondary_contact_name) == ("Acme Holdings", "Sam Second")
    assert OwnerOperator.objects.filter(record=facility_info).count() == 1

    draft_again(cast, facility_info, complete_facility_information(f111=None))
    row.refresh_from_db()
    assert row.owner_name == ""


def test_other_elements_have_no_owner_operator_row(cast):
    ust = draft(cast, UST, {"111": "Not an owner"})
    assert not OwnerOperator.objects.filter(record=ust).exists()


def test_a_required_document_slot_must_be_answered(cast):
    record = draft(cast, HMI)
    codes_before = {m.code for m in required(validate_element(record))}
    assert "DOC-SiteMapDocuments-REQ" in codes_before
    assert "DOC-HMILocallyCollectedDocuments-REQ" not in codes_before  # an optional slot

    answer_required_documents(cast.editor, record)

    assert "DOC-SiteMapDocuments-REQ" not in {m.code for m in validate_element(record)}
