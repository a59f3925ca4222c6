"""Maintaining the libraries: the state administrator only, through the services, with
validation that stores nothing and an audit event for every change."""

import datetime
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from core.models import AuditEvent
from libraries import services
from libraries.models import Chemical, ViolationType
from tests import factories

from .conftest import CITED_TYPE, DAY


def chlorine_entry() -> Chemical:
    """The seeded Chlorine entry (seeded entries carry no CCL ID: named by CAS number)."""
    return Chemical.objects.get(cas_number="7782-50-5")


NEW_TYPE = {
    "type_number": "1019901",
    "name": "Failure to post emergency contacts",
    "description": "Emergency contacts were not posted.",
    "category": "Administration/Documentation",
    "program_element": 1,
    "begin_date": datetime.date(2025, 1, 1),
    "end_date": None,
    "citations": [
        {
            "chapter": "6.95",
            "section": "25505(a)(3)",
            "name": "Emergency response plans",
            "description": "",
            "source": "California Health and Safety Code",
        }
    ],
}
NEW_CHEMICAL = {
    "ccl_id": 9100,
    "cas_number": "7664-41-7",
    "chemical_name": "Ammonia solution",
    "common_name": "Aqua ammonia",
    "synonyms": "Ammonium hydroxide\n\nAmmonia water",
    "ehs": False,
    "physical_state": "b",
    "hm_type": "b",
    "dot_hazard_class": "8",
    "fire_code_hazard_classes": ["12", "30"],
    "federal_hazard_categories": ["216t", "216v"],
    "components": [
        {"name": "Ammonia", "cas_number": "7664-41-7", "percent_by_weight": "29", "ehs": True},
        {"name": "", "cas_number": "", "percent_by_weight": "", "ehs": False},  # empty row
    ],
}


def events(action: str):
    return list(AuditEvent.objects.filter(action=action))


# --- violation types: the services ------------------------------------------------------------


def test_the_state_administrator_adds_a_violation_type_with_an_audit_event(cast):
    created = services.create_violation_type(actor=cast.state_admin, **NEW_TYPE)

    stored = ViolationType.objects.get(type_number="1019901")
    assert stored == created and stored.citations == NEW_TYPE["citations"]
    [event] = events("library.violation_type.created")
    assert (event.actor, event.regulator, event.before) == (cast.state_admin, cast.state, None)
    assert event.after["type_number"] == "1019901" and event.after["begin_date"] == "2025-01-01"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type_number": "2030002"}, "type_number"),  # already in the library
        ({"type_number": "12345"}, "type_number"),  # neither 4 nor 7 digits
        ({"name": ""}, "name"),
        ({"category": ""}, "category"),
        ({"category": "x" * 101}, "category"),
        ({"program_element": 12}, "program_element"),
        ({"begin_date": None}, "begin_date"),
        ({"end_date": datetime.date(2024, 12, 31)}, "end_date"),  # before the begin date
        ({"end_date": datetime.date(2025, 1, 1)}, "end_date"),  # the same day
        ({"citations": [{"chapter": "6.95", "section": "", "source": ""}]}, "citations"),
    ],
)
def test_an_invalid_violation_type_stores_nothing(cast, change, field):
    count = ViolationType.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.create_violation_type(actor=cast.state_admin, **(NEW_TYPE | change))
    assert field in refused.value.message_dict
    assert ViolationType.objects.count() == count
    assert not events("library.violation_type.created")


@pytest.mark.parametrize("persona", ["cupa_reviewer", "pa_viewer", "lead", "cupa_admin"])
def test_only_the_state_administrator_maintains_the_library(cast, cupa_admin, persona):
    actor = cupa_admin if persona == "cupa_admin" else getattr(cast, persona)
    violation_type = ViolationType.objects.get(type_number="7010003")
    with pytest.raises(PermissionDenied):
        services.create_violation_type(actor=actor, **NEW_TYPE)
    with pytest.raises(PermissionDenied):
        services.update_violation_type(actor=actor, violation_type=violation_type, name="X")
    with pytest.raises(PermissionDenied):
        services.delete_violation_type(actor=actor, violation_type=violation_type)
    with pytest.raises(PermissionDenied):
        services.create_chemical(actor=actor, **NEW_CHEMICAL)
    assert ViolationType.objects.filter(type_number="7010003", name__startswith="Fail").exists()
    assert not AuditEvent.objects.filter(action__startswith="library.").exists()


def test_retiring_a_type_sets_its_end_date_and_records_before_and_after(cast):
    violation_type = ViolationType.objects.get(type_number="3010004")
    services.update_violation_type(
        actor=cast.state_admin,
        violation_type=violation_type,
        end_date=datetime.date(2025, 6, 30),
    )
    violation_type.refresh_from_db()
    assert violation_type.end_date == datetime.date(2025, 6, 30)
    assert not violation_type.valid_on(datetime.date(2025, 7, 1))
    [event] = events("library.violation_type.updated")
    assert (event.before["end_date"], event.after["end_date"]) == (None, "2025-06-30")


def test_a_cited_type_cannot_be_deleted_and_is_retired_instead(cast, cited_violation):
    violation_type = cited_violation.violation_type
    with pytest.raises(ValidationError, match="retire it"):
        services.delete_violation_type(actor=cast.state_admin, violation_type=violation_type)
    assert ViolationType.objects.filter(pk=violation_type.pk).exists()
    assert not events("library.violation_type.deleted")

    services.update_violation_type(
        actor=cast.state_admin, violation_type=violation_type, end_date=DAY
    )
    violation_type.refresh_from_db()
    assert violation_type.end_date == DAY and violation_type.valid_on(cited_violation.occurred_on)


def test_a_cited_type_keeps_its_number_and_element_and_covers_its_violations(cast, cited_violation):
    violation_type = cited_violation.violation_type
    before = ViolationType.objects.values().get(pk=violation_type.pk)
    changes = {
        "type_number": "1019902",
        "program_element": 2,
        "begin_date": DAY + datetime.timedelta(days=1),
    }
    with pytest.raises(ValidationError) as refused:
        services.update_violation_type(
            actor=cast.state_admin, violation_type=violation_type, **changes
        )
    assert set(refused.value.message_dict) == {"type_number", "program_element", "begin_date"}
    with pytest.raises(ValidationError) as refused:
        services.update_violation_type(
            actor=cast.state_admin,
            violation_type=violation_type,
            end_date=DAY - datetime.timedelta(days=1),
        )
    assert "retire it on that day or later" in refused.value.message_dict["end_date"][0]
    assert ViolationType.objects.values().get(pk=violation_type.pk) == before
    assert not events("library.violation_type.updated")


def test_an_unused_type_is_deleted_with_an_audit_event(cast):
    violation_type = ViolationType.objects.get(type_number="7010003")
    services.delete_violation_type(actor=cast.state_admin, violation_type=violation_type)
    assert not ViolationType.objects.filter(type_number="7010003").exists()
    [event] = events("library.violation_type.deleted")
    assert event.before["type_number"] == "7010003" and event.after is None


def test_an_unused_type_may_change_its_number(cast):
    violation_type = ViolationType.objects.get(type_number="7010003")
    services.update_violation_type(
        actor=cast.state_admin, violation_type=violation_type, type_number="7019903"
    )
    assert ViolationType.objects.filter(type_number="7019903").exists()


# --- chemicals: the services ------------------------------------------------------------------


def test_the_state_administrator_adds_a_chemical_with_an_audit_event(cast):
    services.create_chemical(actor=cast.state_admin, **NEW_CHEMICAL)

    chemical = Chemical.objects.get(ccl_id=9100)
    assert chemical.synonyms == "Ammonium hydroxide\nAmmonia water"
    assert chemical.fire_code_hazard_classes == [12, 30]
    assert chemical.federal_hazard_categories == ["216t", "216v"]
    assert chemical.components == [
        {"name": "Ammonia", "cas_number": "7664-41-7", "percent_by_weight": "29", "ehs": True}
    ]
    [event] = events("library.chemical.created")
    assert event.regulator == cast.state and event.after["ccl_id"] == 9100


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"ccl_id": 102843}, "ccl_id", "already in the library"),
        ({"ccl_id": 0}, "ccl_id", "positive"),
        ({"cas_number": "7664-41-8"}, "cas_number", "check digit should be 7"),
        ({"cas_number": "7664417"}, "cas_number", "has the form"),
        ({"chemical_name": ""}, "chemical_name", "chemical name"),
        ({"physical_state": "d"}, "physical_state", "codes"),
        ({"dot_hazard_class": "10"}, "dot_hazard_class", "codes"),
        ({"fire_code_hazard_classes": ["40"]}, "fire_code_hazard_classes", "from 1 to 39"),
        ({"federal_hazard_categories": ["217"]}, "federal_hazard_categories", "217"),
        (
            {"components": [{"name": "Ammonia", "cas_number": "7664-41-1"}]},
            "components",
            "Component 1: 7664-41-1 is not a valid CAS number",
        ),
        (
            {"components": [{"ehs": True}]},
            "components",
            "give its name, its CAS number or its percent by weight",
        ),
        (
            {"components": [{"name": "Water", "percent_by_weight": "120"}]},
            "components",
            "up to 100",
        ),
        (
            {"components": [{"name": f"Part {n}"} for n in range(6)]},
            "components",
            "At most 5",
        ),
    ],
)
def test_an_invalid_chemical_stores_nothing(cast, change, field, message):
    Chemical.objects.create(ccl_id=102843, chemical_name="An entry of CalEPA's library")
    count = Chemical.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.create_chemical(actor=cast.state_admin, **(NEW_CHEMICAL | change))
    assert message in " ".join(refused.value.message_dict[field])
    assert Chemical.objects.count() == count
    assert not events("library.chemical.created")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            {"prop65_types": ["Cancer", "Neurotoxic"]},
            "prop65_types",
            "'Neurotoxic' is not a Proposition 65 type: give cancer, developmental, female or male",
        ),
        ({"usepa_srs_number": "1" * 51}, "usepa_srs_number", "at most 50 characters"),
        ({"sta_code": "1234"}, "sta_code", "three digits"),
        ({"radioactive": "maybe"}, "radioactive", "Y (yes) or N (no)"),
        ({"trade_secret": "perhaps"}, "trade_secret", "Y (yes) or N (no)"),
        ({"curies": "a lot"}, "curies", "a number"),
        ({"curies": "-1"}, "curies", "not negative"),
        ({"curies": "NaN"}, "curies", "a number"),
        ({"curies": "12345678901"}, "curies", "below 10000000000"),
        ({"curies": "0.00000000001"}, "curies", "at most 10 decimal places"),
        ({"comments": "x" * 1001}, "comments", "at most 1000 characters"),
        # A control character pasted in: EDT's Chemical Library Query could not write it.
        ({"comments": "Pasted\x0bfrom a document."}, "comments", "control character"),
        ({"usepa_srs_number": "13\x0105"}, "usepa_srs_number", "control character"),
        (
            {"additional_mixture_components": "Wa\x1fter"},
            "additional_mixture_components",
            "control character",
        ),
        (
            {"additional_mixture_components": "x" * 2001},
            "additional_mixture_components",
            "at most 2000 characters",
        ),
    ],
)
def test_an_invalid_library_field_stores_nothing(cast, change, field, message):
    count = Chemical.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.create_chemical(actor=cast.state_admin, **(NEW_CHEMICAL | change))
    assert message in " ".join(refused.value.message_dict[field])
    assert Chemical.objects.count() == count
    assert not events("library.chemical.created")


def test_prop_65_types_are_kept_in_order_once_each_given_as_codes_or_words(cast):
    chemical = services.create_chemical(
        actor=cast.state_admin,
        **NEW_CHEMICAL,
        prop65_types=["male reproductive toxicity", "Cancer", "DEVELOPMENTAL TOXICITY", "male"],
        radioactive="Y",
        curies="1.5E-3",
        trade_secret="N",
    )
    chemical.refresh_from_db()
    assert chemical.prop65_types == ["Cancer", "Developmental", "Male"]
    assert chemical.prop65_summary() == "cancer; reproductive toxicity (developmental, male)"
    assert (chemical.radioactive, chemical.curies, chemical.trade_secret) == (
        True,
        Decimal("0.0015"),
        False,
    )
    [event] = events("library.chemical.created")
    assert event.after["prop65_types"] == ["Cancer", "Developmental", "Male"]
    assert event.after["curies"] == "0.0015"


def test_editing_the_prop_65_types_records_before_and_after(cast):
    chlorine = chlorine_entry()
    services.update_chemical(actor=cast.state_admin, chemical=chlorine, prop65_types=["Female"])
    services.update_chemical(actor=cast.state_admin, chemical=chlorine, prop65_types=[])
    first, second = sorted(events("library.chemical.updated"), key=lambda event: event.pk)
    assert (first.before["prop65_types"], first.after["prop65_types"]) == ([], ["Female"])
    assert (second.before["prop65_types"], second.after["prop65_types"]) == (["Female"], [])
    assert chlorine_entry().prop65_types == []


@pytest.mark.parametrize(
    ("cas", "valid"),
    [("7732-18-5", True), ("50-00-0", True), ("7732-18-4", False), ("1-00-0", False)],
)
def test_the_cas_check_digit_is_checked(cas, valid):
    assert (services.cas_problem(cas) is None) == valid


@pytest.mark.parametrize(
    "component",
    [
        {"cas_number": "7664-41-7"},
        {"percent_by_weight": "29", "ehs": True},  # as CalEPA's library has some
    ],
)
def test_a_component_is_named_by_name_cas_or_percentage(cast, component):
    chemical = services.create_chemical(
        actor=cast.state_admin, **(NEW_CHEMICAL | {"components": [component]})
    )
    assert len(chemical.components) == 1


def test_a_chemical_may_have_no_ccl_id(cast):
    """The CCL ID is CalEPA's: an entry it does not know has none, and several may lack one."""
    first = services.create_chemical(actor=cast.state_admin, **(NEW_CHEMICAL | {"ccl_id": None}))
    second = services.create_chemical(
        actor=cast.state_admin, **(NEW_CHEMICAL | {"ccl_id": "", "chemical_name": "Another"})
    )
    assert (first.ccl_id, second.ccl_id) == (None, None)
    assert first.pk != second.pk


def test_calepas_ccl_ids_are_accepted(cast):
    chemical = services.create_chemical(
        actor=cast.state_admin, **(NEW_CHEMICAL | {"ccl_id": 102843})
    )
    assert Chemical.objects.get(pk=chemical.pk).ccl_id == 102843


def test_editing_a_chemical_records_before_and_after(cast):
    chlorine = chlorine_entry()
    services.update_chemical(
        actor=cast.state_admin, chemical=chlorine, federal_hazard_categories=["216g", "216k"]
    )
    chlorine.refresh_from_db()
    assert chlorine.federal_hazard_categories == ["216g", "216k"]
    assert chlorine.chemical_name == "Chlorine"  # the rest is kept
    [event] = events("library.chemical.updated")
    assert event.before["federal_hazard_categories"] == []
    assert event.after["federal_hazard_categories"] == ["216g", "216k"]


def test_a_chemical_picked_by_an_inventory_keeps_its_ccl_id(cast):
    from submittals import services as submittals
    from submittals.inventory import add_material

    # A seeded entry without a CCL ID may be given CalEPA's.
    chlorine = services.update_chemical(
        actor=cast.state_admin, chemical=chlorine_entry(), ccl_id=102843
    )
    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    values = {"250": "102843", "207": "Chlorine", "208": "Y", "214": "c", "218": "10", "221": "c"}
    add_material(actor=cast.editor, record=record, values=values)

    with pytest.raises(ValidationError, match="CCL ID cannot change"):
        services.update_chemical(actor=cast.state_admin, chemical=chlorine, ccl_id=9014)
    assert Chemical.objects.filter(ccl_id=102843).exists()


# --- the pages --------------------------------------------------------------------------------

MAINTENANCE_PAGES = [
    ("libraries:violation_create", []),
    ("libraries:violation_edit", ["7010003"]),
    ("libraries:chemical_create", []),
    ("libraries:chemical_edit", [1]),  # the first seeded chemical's primary key
    ("libraries:chemical_library_load", []),
]


@pytest.mark.parametrize(("name", "args"), MAINTENANCE_PAGES)
def test_the_maintenance_pages_are_the_state_administrators(cast, cupa_admin, client, name, args):
    url = reverse(name, args=args)
    statuses = {}
    for persona in ("lead", "viewer", "outsider", "cupa_reviewer", "pa_viewer", "state_admin"):
        client.force_login(getattr(cast, persona))
        statuses[persona] = client.get(url).status_code
    client.force_login(cupa_admin)
    statuses["cupa_admin"] = client.get(url).status_code
    assert statuses == {
        "lead": 403,
        "viewer": 403,
        "outsider": 403,
        "cupa_reviewer": 403,
        "pa_viewer": 403,
        "cupa_admin": 403,
        "state_admin": 200,
    }


def test_a_state_reviewer_cannot_maintain_the_libraries(cast, client):
    reviewer = factories.make_user("reviewer@calepa.example")
    factories.add_staff(cast.state, reviewer, "reviewer")
    client.force_login(reviewer)
    assert client.get(reverse("libraries:violation_create")).status_code == 403
    response = client.post(reverse("libraries:violation_delete", args=["7010003"]))
    assert response.status_code == 403
    assert ViolationType.objects.filter(type_number="7010003").exists()


def test_refused_posts_change_nothing(cast, cupa_admin, client):
    client.force_login(cupa_admin)
    response = client.post(reverse("libraries:violation_create"), form_data(NEW_TYPE))
    assert response.status_code == 403
    response = client.post(reverse("libraries:violation_delete", args=["7010003"]))
    assert response.status_code == 403
    assert not ViolationType.objects.filter(type_number="1019901").exists()
    assert ViolationType.objects.filter(type_number="7010003").exists()


def test_editing_an_unknown_entry_answers_404(cast, client):
    client.force_login(cast.state_admin)
    assert client.get(reverse("libraries:violation_edit", args=["9999999"])).status_code == 404
    assert client.get(reverse("libraries:chemical_edit", args=[99999])).status_code == 404


def form_data(values: dict) -> dict:
    """The violation type form's POST data for service ``values``."""
    data = {
        key: ("" if value is None else str(value))
        for key, value in values.items()
        if key != "citations"
    }
    for position, citation in enumerate(values.get("citations", []), start=1):
        for key, value in citation.items():
            data[f"citation_{position}_{key}"] = value
    return data


def test_adding_a_violation_type_through_the_page(cast, client):
    client.force_login(cast.state_admin)
    response = client.post(reverse("libraries:violation_create"), form_data(NEW_TYPE))
    assert response.status_code == 302
    assert response["Location"] == reverse("libraries:violation", args=["1019901"])
    created = ViolationType.objects.get(type_number="1019901")
    assert created.citations == NEW_TYPE["citations"]
    assert len(events("library.violation_type.created")) == 1


def test_a_refused_violation_type_shows_why_and_stores_nothing(cast, client):
    client.force_login(cast.state_admin)
    data = form_data(NEW_TYPE | {"type_number": "2030002", "end_date": "2024-01-01"})
    response = client.post(reverse("libraries:violation_create"), data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Violation type 2030002 is already in the library." in page
    assert "The end date must come after the begin date." in page
    assert ViolationType.objects.filter(type_number="2030002").count() == 1
    assert not events("library.violation_type.created")


def test_the_edit_page_shows_the_stored_citations(cast, client):
    client.force_login(cast.state_admin)
    page = client.get(reverse("libraries:violation_edit", args=["6010001"])).content.decode()
    assert 'value="25270.5"' in page and 'value="112.3"' in page


def test_retiring_a_cited_type_through_the_page(cast, client, cited_violation):
    client.force_login(cast.state_admin)
    violation_type = cited_violation.violation_type
    data = form_data(
        {
            "type_number": violation_type.type_number,
            "name": violation_type.name,
            "description": violation_type.description,
            "category": violation_type.category,
            "program_element": violation_type.program_element,
            "begin_date": violation_type.begin_date,
            "end_date": "2025-12-31",
            "citations": violation_type.citations,
        }
    )
    response = client.post(reverse("libraries:violation_edit", args=[CITED_TYPE]), data)
    assert response.status_code == 302
    violation_type.refresh_from_db()
    assert violation_type.end_date == datetime.date(2025, 12, 31)


def test_deleting_a_cited_type_through_the_page_is_refused_with_a_message(
    cast, client, cited_violation
):
    client.force_login(cast.state_admin)
    detail = reverse("libraries:violation", args=[CITED_TYPE])
    assert "cannot be deleted" in client.get(detail).content.decode()
    response = client.post(reverse("libraries:violation_delete", args=[CITED_TYPE]), follow=True)
    assert response.redirect_chain == [(detail, 302)]
    assert "Violations cite type 1010001, so it cannot be deleted" in response.content.decode()
    assert ViolationType.objects.filter(type_number=CITED_TYPE).exists()


def test_deleting_an_unused_type_through_the_page(cast, client):
    client.force_login(cast.state_admin)
    response = client.post(reverse("libraries:violation_delete", args=["7010003"]))
    assert response["Location"] == reverse("libraries:violations")
    assert not ViolationType.objects.filter(type_number="7010003").exists()


def chemical_form_data(values: dict) -> dict:
    data = {
        key: value
        for key, value in values.items()
        if key not in ("components", "fire_code_hazard_classes", "ehs")
    }
    if values.get("ehs"):
        data["ehs"] = "on"
    data["fire_code_hazard_classes"] = ", ".join(values.get("fire_code_hazard_classes", []))
    for position, component in enumerate(values.get("components", []), start=1):
        for key, value in component.items():
            if key == "ehs":
                if value:
                    data[f"component_{position}_ehs"] = "on"
            else:
                data[f"component_{position}_{key}"] = value
    return data


def test_adding_a_chemical_through_the_page(cast, client):
    client.force_login(cast.state_admin)
    assert client.get(reverse("libraries:chemical_create")).status_code == 200
    response = client.post(reverse("libraries:chemical_create"), chemical_form_data(NEW_CHEMICAL))
    chemical = Chemical.objects.get(ccl_id=9100)
    assert response["Location"] == reverse("libraries:chemical", args=[chemical.pk])
    assert chemical.components[0]["ehs"] is True
    assert chemical.fire_code_hazard_classes == [12, 30]


def test_a_refused_chemical_shows_why_and_stores_nothing(cast, client):
    client.force_login(cast.state_admin)
    data = chemical_form_data(NEW_CHEMICAL | {"cas_number": "7664-41-8"})
    response = client.post(reverse("libraries:chemical_create"), data)
    assert response.status_code == 200
    assert "its check digit should be 7" in response.content.decode()
    assert not Chemical.objects.filter(ccl_id=9100).exists()


def test_the_chemical_edit_page_is_filled_and_saves(cast, client):
    client.force_login(cast.state_admin)
    chlorine = chlorine_entry()
    url = reverse("libraries:chemical_edit", args=[chlorine.pk])
    page = client.get(url).content.decode()
    assert 'value="7782-50-5"' in page and "Chlorine gas" in page
    data = chemical_form_data(
        {
            "ccl_id": "",
            "cas_number": chlorine.cas_number,
            "chemical_name": chlorine.chemical_name,
            "common_name": chlorine.common_name,
            "synonyms": chlorine.synonyms,
            "ehs": True,
            "physical_state": "c",
            "hm_type": "a",
            "dot_hazard_class": "2.3",
            "fire_code_hazard_classes": ["30"],
        }
    ) | {"federal_hazard_categories": ["216g", "216t"]}
    response = client.post(url, data)
    assert response["Location"] == reverse("libraries:chemical", args=[chlorine.pk])
    chlorine.refresh_from_db()
    assert chlorine.federal_hazard_categories == ["216g", "216t"]
    assert chlorine.fire_code_hazard_classes == [30]


def test_the_edit_page_edits_the_prop_65_types_and_the_other_library_fields(cast, client):
    client.force_login(cast.state_admin)
    chlorine = chlorine_entry()
    url = reverse("libraries:chemical_edit", args=[chlorine.pk])
    page = client.get(url).content.decode()
    for label in ("Proposition 65 types", "US EPA SRS number", "State waste code", "Curies"):
        assert label in page, label
    base = chemical_form_data(
        {
            "ccl_id": "",
            "cas_number": chlorine.cas_number,
            "chemical_name": chlorine.chemical_name,
            "physical_state": "c",
            "hm_type": "a",
        }
    )
    extra = {
        "prop65_types": ["Cancer", "Female"],
        "usepa_srs_number": "2733",
        "sta_code": "",
        "radioactive": "N",
        "curies": "",
        "trade_secret": "",
        "comments": "Compressed gas.",
        "additional_mixture_components": "",
    }
    response = client.post(url, base | extra)
    assert response["Location"] == reverse("libraries:chemical", args=[chlorine.pk])
    chlorine.refresh_from_db()
    assert chlorine.prop65_types == ["Cancer", "Female"]
    assert (chlorine.usepa_srs_number, chlorine.radioactive, chlorine.trade_secret) == (
        "2733",
        False,
        None,
    )
    assert chlorine.comments == "Compressed gas."
    page = client.get(url).content.decode()
    assert re.search(r'<input[^>]*value="Cancer"[^>]*checked', page)
    assert not re.search(r'<input[^>]*value="Male"[^>]*checked', page)


def test_the_edit_page_names_a_bad_library_field(cast, client):
    client.force_login(cast.state_admin)
    chlorine = chlorine_entry()
    url = reverse("libraries:chemical_edit", args=[chlorine.pk])
    data = chemical_form_data(
        {"cas_number": chlorine.cas_number, "chemical_name": chlorine.chemical_name}
    ) | {"sta_code": "9z", "curies": "-2"}
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert "three digits" in " ".join(form.errors["sta_code"])
    assert "not negative" in " ".join(form.errors["curies"])
    page = response.content.decode()
    assert 'href="#id_sta_code"' in page and 'href="#id_curies"' in page  # the error summary
    assert chlorine_entry().sta_code == ""


@pytest.mark.parametrize("number", ["9223372036854775808", "99999999999999999999999"])
def test_a_ccl_id_past_what_the_column_holds_is_refused(cast, client, number):
    with pytest.raises(ValidationError) as refused:
        services.create_chemical(actor=cast.state_admin, **(NEW_CHEMICAL | {"ccl_id": number}))
    assert "at most" in refused.value.message_dict["ccl_id"][0]
    client.force_login(cast.state_admin)
    form = {"ccl_id": number, "chemical_name": "Out of range", "cas_number": ""}
    response = client.post(reverse("libraries:chemical_create"), form)
    assert response.status_code == 200
    assert "at most" in response.content.decode()
