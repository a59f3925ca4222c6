"""Facility Information as two parts (Business Activities, Owner/Operator Identification),
prefilled, in words, with what is missing shown only from the first save on (issue 16)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.elements import SubmittalElement
from core.registry import schema_for
from submittals import facility_information, services
from submittals.data import single_valued_fields, user_entered
from submittals.forms import ElementDataForm, form_name, mandatory
from submittals.models import ElementStatus, SubmittalElementRecord
from tests import factories
from tests.submittals.data import complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
BA = facility_information.BUSINESS_ACTIVITIES
OO = facility_information.OWNER_OPERATOR

pytestmark = pytest.mark.django_db


def element_url(record, part=None):
    url = reverse("business:element", args=[record.pk])
    return f"{url}?part={part.slug}" if part else url


def validate_url(record, part=None):
    url = reverse("business:element_validate", args=[record.pk])
    return f"{url}?part={part.slug}" if part else url


def new_draft(cast, facility=None):
    return services.start_draft(actor=cast.editor, facility=facility or cast.facility, element=FI)


def accepted_fi(cast, facility, data):
    """An accepted Facility Information of ``facility`` holding ``data``."""
    record = services.start_draft(actor=cast.editor, facility=facility, element=FI)
    services.save_draft_data(actor=cast.editor, record=record, data=data)
    SubmittalElementRecord.objects.filter(pk=record.pk).update(
        status=ElementStatus.ACCEPTED, submitted_at=timezone.now(), regulator=cast.cupa
    )
    record.refresh_from_db()
    return record


# --- the two parts ---------------------------------------------------------------------------


def test_every_field_a_business_fills_in_is_in_exactly_one_part_with_words():
    schema = schema_for(FI)
    numbers = [f.number for f in user_entered(single_valued_fields(schema))]
    in_parts = list(BA.numbers) + list(OO.numbers)
    assert sorted(in_parts) == sorted(numbers)  # each once, none left out
    for number in numbers:
        assert facility_information.WORDS[number].label


def test_business_activities_are_questions_with_what_they_mean():
    form = ElementDataForm(element=FI, part=BA)
    for number in facility_information.YES_NO:
        field = form.fields[form_name(schema_for(FI).get(number))]
        assert field.label.endswith("?"), number
        assert len(field.help_text) > 20, number  # "what this means"
        assert [label for _value, label in field.choices] == ["Yes", "No"]
    assert all(form_name(schema_for(FI).get(n)) in form.fields for n in BA.numbers)
    assert "f_111" not in form.fields  # Owner/Operator fields are on the other part


def test_labels_are_words_without_data_dictionary_numbers():
    schema = schema_for(FI)
    for part in facility_information.PARTS:
        form = ElementDataForm(element=FI, part=part)
        for number in part.numbers:
            label = form.fields[form_name(schema.get(number))].label
            assert f"({number})" not in label
            assert not re.fullmatch(r"[\d\s.()a-z]*", label), label
            assert re.search(r"[A-Za-z]{3}", label), label
    # The abbreviations of the schema's labels are spelled out.
    labels = {n: ElementDataForm(element=FI, part=BA).fields[f"f_{n}"].label for n in ("4", "8")}
    assert "HM" not in labels["4"] and "hazardous materials" in labels["4"]
    assert "APST" not in labels["8"] and "petroleum" in labels["8"]


def test_code_choices_are_labelled():
    form = ElementDataForm(element=FI, part=BA)
    county = form.fields["f_105a"]
    assert ("34", "Sacramento") in county.choices
    assert all(not label.isdigit() for _value, label in county.choices)
    # Any element's coded field shows the code's label alone, never "Y – Yes".
    for element in SubmittalElement:
        for name, field in ElementDataForm(element=element).fields.items():
            for _value, label in getattr(field, "choices", ()):
                assert " – " not in str(label), (element, name, label)


def test_county_answers_are_stored_as_the_schema_number():
    form = ElementDataForm({"f_105a": "34"}, element=FI, part=BA)
    assert form.is_valid(), form.errors
    assert form.merged_data()["105a"] == 34
    assert not ElementDataForm({"f_105a": "59"}, element=FI, part=BA).is_valid()


def test_required_fields_are_the_schemas_in_mandatory_groups():
    schema = schema_for(FI)
    assert mandatory(schema, schema.get("111"))
    assert mandatory(schema, schema.get("4"))
    assert not mandatory(schema, schema.get("103a"))  # optional in the schema
    # A field the schema requires in a group that is itself optional (the UST monitoring
    # plan's weekly manual tank gauging, inside a tank row) is not marked.
    ust = schema_for(SubmittalElement.UST)
    period = ust.get("490-22")
    assert period.required and not ust.group_at(period.path[:-1]).required
    assert not mandatory(ust, period)


# --- prefill ---------------------------------------------------------------------------------


def test_a_new_draft_is_prefilled_from_the_facility(cast):
    facility = factories.make_facility(
        cast.facility.organization, name="Acme Elk Grove", city="Elk Grove", county="Sacramento"
    )
    record = new_draft(cast, facility)
    assert record.data["3"] == "Acme Elk Grove"
    assert record.data["103"] == facility.street
    assert record.data["104"] == "Elk Grove"
    assert record.data["105"] == facility.zip_code
    assert record.data["105a"] == 34
    assert "111" not in record.data  # nothing accepted yet to take the people from
    assert record.notice is None


def test_a_new_draft_takes_the_people_from_the_organizations_last_accepted_one(cast, client):
    accepted_fi(
        cast,
        cast.facility_yolo,
        complete_facility_information(**{"3": "Acme Davis Yard", "100": "2020-01-01", "4": "Y"}),
    )
    record = new_draft(cast)
    # The business's people come from the accepted one ...
    assert record.data["111"] == "Acme Fuels LLC"
    assert record.data["123"] == "Pat Responder"
    assert record.data["140"] == "Billing Office"
    # ... the site from this facility, and nothing that belongs to the other site.
    assert record.data["3"] == cast.facility.name
    assert record.data["103"] == cast.facility.street
    assert "100" not in record.data and "4" not in record.data and "102" not in record.data
    assert "Acme Davis Yard" in record.notice

    client.force_login(cast.editor)
    page = client.get(element_url(record, OO)).content.decode()
    assert 'value="Acme Fuels LLC"' in page


def test_another_organizations_accepted_facility_information_is_never_used(cast):
    other_lead = cast.other_facility.organization.memberships.get(role="lead").user
    record = services.start_draft(actor=other_lead, facility=cast.other_facility, element=FI)
    services.save_draft_data(
        actor=other_lead, record=record, data=complete_facility_information(f111="Other Co")
    )
    SubmittalElementRecord.objects.filter(pk=record.pk).update(
        status=ElementStatus.ACCEPTED, submitted_at=timezone.now(), regulator=cast.cupa
    )
    assert "111" not in new_draft(cast).data


def test_a_draft_from_the_facilitys_last_accepted_one_is_a_copy_not_a_prefill(cast):
    accepted = accepted_fi(cast, cast.facility, complete_facility_information(f100="2020-01-01"))
    record = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=FI, from_last_accepted=True
    )
    assert record.based_on == accepted
    assert record.data == accepted.data


# --- what is missing: not on opening, from the first save ------------------------------------


def test_a_new_draft_opens_with_no_error_messages(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    for part in (None, BA, OO):
        page = client.get(element_url(record, part)).content.decode()
        assert "error-summary" not in page
        assert "errorlist" not in page
        assert 'aria-invalid="true"' not in page
        assert "data-rule=" not in page  # the guidance panel lists nothing yet
        assert "once you save the draft" in page


def test_after_a_save_the_missing_fields_show_with_a_summary_linking_to_them(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    response = client.post(element_url(record, BA), {"f_3": "Acme Depot", "f_103": "1 Main St"})
    assert response.status_code == 302
    assert response.url == element_url(record, BA)

    page = client.get(response.url).content.decode()
    summary = page[
        page.index('class="error-summary"') : page.index("</div>", page.index("error-summary"))
    ]
    assert "There is a problem" in summary
    # Each missing answer is a link to its field (a question: to its first button).
    assert 'href="#id_f_4_0"' in summary
    assert 'href="#id_f_104"' in summary
    assert 'href="#id_f_3"' not in summary  # given
    assert 'href="#id_f_103a"' not in summary  # optional
    assert re.search(r'name="f_104"[^>]*aria-invalid="true"', page)
    assert "Required: answer this before you submit." in page
    # The other part says how much is left there.
    assert re.search(r"Owner/Operator Identification</a> <span class=\"badge\">\d+ to answer", page)

    page = client.get(element_url(record, OO)).content.decode()
    assert 'href="#id_f_111"' in page
    assert 'href="#id_f_4_0"' not in page  # only this part's fields


def test_a_value_typed_wrong_shows_its_own_error_not_the_missing_one(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    response = client.post(element_url(record, OO), {"f_108c": "California"})
    assert response.status_code == 200  # not saved
    page = response.content.decode()
    assert "error-summary" in page
    assert "at most 2 characters" in page


def test_before_the_first_save_live_validation_checks_the_touched_field_only(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    response = client.post(
        validate_url(record, OO),
        {"f_108c": "California"},
        headers={"HX-Request": "true", "HX-Trigger-Name": "f_108c"},
    )
    html = response.content.decode()
    assert "data-rule=" not in html  # no wall of missing fields
    assert 'id="errors-f_108c"' in html and "at most 2 characters" in html


# --- the pages -------------------------------------------------------------------------------


def test_the_owner_operator_part_has_sections_an_index_and_required_marks(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    page = client.get(element_url(record, OO)).content.decode()
    for slug in ("facility-details", "owner", "operator", "environmental-contact"):
        assert f'href="#section-{slug}"' in page
        assert f'id="section-{slug}"' in page
    for slug in ("emergency-contacts", "billing"):
        assert f'id="section-{slug}"' in page
    assert 'name="f_4"' not in page
    label = re.search(r'<label for="id_f_111">(.*?)</label>', page).group(1)
    assert label.startswith("Owner name") and "(required)" in label
    optional = re.search(r'<label for="id_f_116a">(.*?)</label>', page).group(1)
    assert "(required)" not in optional
    assert 'aria-current="page">Owner/Operator Identification' in page


def test_saving_one_part_keeps_the_other(cast, client):
    record = new_draft(cast)
    client.force_login(cast.editor)
    client.post(element_url(record, BA), {"f_3": "Acme Depot", "f_4": "Y"})
    client.post(element_url(record, OO), {"f_111": "Acme Fuels LLC"})
    record.refresh_from_db()
    assert record.data["4"] == "Y"
    assert record.data["111"] == "Acme Fuels LLC"
    assert record.saved_at is not None


def test_the_parts_are_the_business_elements_page_only_for_its_scope(cast, client):
    record = new_draft(cast)
    client.force_login(cast.outsider)
    assert client.get(element_url(record, OO)).status_code == 404
    client.force_login(cast.viewer)
    page = client.get(element_url(record, OO)).content.decode()
    assert '<form method="post" novalidate>' not in page  # read only
    assert client.post(element_url(record, OO), {"f_111": "X"}).status_code == 403


def test_the_inventory_material_form_is_in_words_too(cast, client):
    record = services.start_draft(
        actor=cast.editor,
        facility=cast.facility,
        element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
    )
    client.force_login(cast.editor)
    page = client.get(reverse("business:material_add", args=[record.pk])).content.decode()
    label = re.search(r'<label for="id_f_214">(.*?)</label>', page).group(1)
    assert label.startswith("Physical state") and "(214)" not in label
    assert "(required)" in label
    assert "CERS field 214<" in page
    select = page[page.index('name="f_214"') : page.index("</select>", page.index('name="f_214"'))]
    assert re.search(r'<option value="a">[A-Z][a-z]', select)  # the code's label, alone
    assert " – " not in select


def test_the_read_only_page_shows_labels_in_words_and_the_county_by_name(cast, client):
    record = new_draft(cast)
    services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information(f105a=34)
    )
    client.force_login(cast.viewer)
    page = client.get(element_url(record)).content.decode()
    assert re.search(r"<dt>Business name at this facility <span class=\"field-number\">", page)
    assert "Business name (3)" not in page
    assert re.search(r"<dt>County <span[^>]*>CERS field 105a</span></dt><dd>Sacramento</dd>", page)


def test_the_read_only_page_has_the_forms_two_parts_and_sections(cast, client):
    from tests.submittals.data import submit

    data = complete_facility_information(f4="Y", f5="N", f111="Ada Owner")
    submitted = submit(cast, data={1: data})[1]
    record = new_draft(cast)
    services.save_draft_data(actor=cast.editor, record=record, data=data)
    # What a Viewer of a draft and everyone after the submit sees: no form, the same parts.
    for user, shown in ((cast.viewer, record), (cast.editor, submitted)):
        client.force_login(user)
        page = client.get(element_url(shown)).content.decode()
        assert '<form method="post" novalidate>' not in page
        assert 'aria-label="Parts of Facility Information"' in page
        assert '<h3 class="part-title">Business Activities</h3>' in page
        # The questions in plain language, each with its answer and its number small.
        assert re.search(
            r"<dt>Are hazardous materials on site at or above the reporting amounts\? "
            r'<span class="field-number">CERS field 4</span></dt><dd>Yes</dd>',
            page,
        )
        assert re.search(
            r"<dt>Does the business own or operate underground storage tanks "
            r'here\? <span class="field-number">CERS field 5</span></dt><dd>No</dd>',
            page,
        )
        assert "<h4>Hazardous waste</h4>" in page
        assert "Ada Owner" not in page  # the owner is in the other part

        page = client.get(element_url(shown, OO)).content.decode()
        assert '<h3 class="part-title">Owner/Operator Identification</h3>' in page
        assert 'aria-current="page">Owner/Operator Identification</a>' in page
        headings = re.findall(r"<h4>([^<]+)</h4>", page)
        assert headings == [section.heading for section in OO.sections]
        assert 'href="#section-billing"' in page  # the section index
        owner = page[page.index("<h4>Owner</h4>") : page.index("<h4>Operator</h4>")]
        assert "Ada Owner" in owner


@pytest.mark.parametrize("live", [True, False], ids=["live validation", "no live validation"])
def test_each_field_names_its_own_help_text_and_errors(live):
    """A field's ``aria-describedby`` names its help text and its error list by the ids the
    field template gives them, whether the form validates as it is typed (the draft page) or
    not (a form sent back): a screen reader reads the help with the field either way."""
    from django.template.loader import render_to_string

    from tests.core.test_site_layout import unresolved_references

    form = ElementDataForm({"f_108c": "California"}, element=FI, data={})
    if live:
        form.enable_live_validation("/validate")
    form.is_valid()
    helped = [bound for bound in form if bound.help_text]
    assert helped and any(bound.field.widget.input_type == "radio" for bound in helped)
    html = "".join(
        render_to_string("submittals/_registry_field.html", {"bound": bound, "form": form})
        for bound in form
    )
    assert 'class="helptext"' in html and "errorlist" in html
    assert not unresolved_references(html)
    for bound in helped:
        if bound.field.widget.input_type != "radio":
            described = re.search(rf'<[^>]* id="{bound.auto_id}"[^>]*>', html).group(0)
            assert "aria-describedby=" in described, bound.name
