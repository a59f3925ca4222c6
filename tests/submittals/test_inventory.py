"""Hazardous Materials Inventory materials: the services, the business pages, the import, the
chemical library picker, copying into a new draft, and the regulator's view.

A material's values are keyed by data-dictionary number: 207 common name, 208 EHS (Y/N), 214
physical state (a Solid, b Liquid, c Gas), 218 maximum daily amount, 221 units (a Gallons,
b Cubic feet, c Pounds, d Tons) are required; the form names them ``f_207``... and the
components ``hc1_name``... The seeded chemical library uses small CCL IDs, so the tests' own
library entries use CCL IDs from 990001.
"""

import csv
import io
import re
import struct
import zlib

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core import services as core_services
from core.elements import SubmittalElement
from core.models import AuditEvent
from libraries.models import Chemical
from submittals import inventory, services, validation
from submittals.forms_inventory import MaterialForm, component_name, field_name
from submittals.models import (
    ElementStatus,
    FacilitySubmittal,
    HazardousMaterial,
    MixtureComponent,
    SubmittalElementRecord,
)
from submittals.validation import REQUIRED, WARNING, validate_element
from tests.submittals.data import answer_required_documents, complete_facility_information

FI = SubmittalElement.FACILITY_INFORMATION
HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY

DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a", "201": "Tank farm"}
PAINT = {"207": "Paint", "208": "N", "214": "b", "218": "55", "221": "a", "211": "b"}
PAINT_COMPONENTS = [
    {"name": "Toluene", "cas_number": "108-88-3", "percent_by_weight": "20", "ehs": "N"},
    {"name": "Xylene", "cas_number": "1330-20-7", "percent_by_weight": "12.5", "ehs": "N"},
]


# --- helpers ---------------------------------------------------------------------------------


def inventory_draft(cast, actor=None):
    return services.start_draft(actor=actor or cast.editor, facility=cast.facility, element=HMI)


def add(cast, record, values=DIESEL, components=()):
    return inventory.add_material(
        actor=cast.editor, record=record, values=values, components=components
    )


def reload(record):
    return SubmittalElementRecord.objects.get(pk=record.pk)


def listed(record) -> list[tuple[int, str]]:
    return list(
        HazardousMaterial.objects.filter(record=record)
        .order_by("position")
        .values_list("position", "common_name")
    )


def inventory_url(record):
    return reverse("business:inventory", args=[record.pk])


def add_url(record):
    return reverse("business:material_add", args=[record.pk])


def edit_url(material):
    return reverse("business:material_edit", args=[material.record_id, material.pk])


def delete_url(material):
    return reverse("business:material_delete", args=[material.record_id, material.pk])


def import_url(record):
    return reverse("business:inventory_import", args=[record.pk])


def posted(values, components=()) -> dict[str, str]:
    """The material form's POST data for ``values`` by number and ``components``."""
    data = {f"f_{number.replace('-', '_')}": value for number, value in values.items()}
    for position, component in enumerate(components, start=1):
        for key, value in component.items():
            data[component_name(position, key)] = value
    return data


def page_text(response) -> str:
    return response.content.decode()


def csv_file(rows, name="inventory.csv") -> SimpleUploadedFile:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def xlsx_file(rows, name="inventory.xlsx") -> SimpleUploadedFile:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue())


def png_bytes() -> bytes:
    """A real 1x1 PNG image."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


HEADER = ["CommonName", "EHS", "PhysicalState", "MaximumDailyAmount", "Units", "ChemicalLocation"]
GOOD_ROWS = [
    ["Diesel", "N", "b", "500", "a", "Tank farm"],
    ["Propane", "N", "c", "1000", "b", "Yard"],
    ["Sulfuric acid", "Y", "b", "30", "a", "Battery room"],
]


def import_(cast, record, upload, replace=False, actor=None):
    return inventory.import_inventory(
        actor=actor or cast.editor, record=record, uploaded_file=upload, replace=replace
    )


def submit(cast, records):
    for record in records:  # the site map: stored at the facility
        answer_required_documents(cast.editor, record)
    return services.submit(
        actor=cast.approver,
        facility=cast.facility,
        elements=records,
        certifier_name="Bob Approver",
        certifier_title="Site Manager",
    )


def facility_information(cast):
    record = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    return services.save_draft_data(
        actor=cast.editor, record=record, data=complete_facility_information()
    )


@pytest.fixture
def record(cast):
    return inventory_draft(cast)


@pytest.fixture
def library_chemical(db):
    return Chemical.objects.create(
        ccl_id=990001,
        cas_number="99999-99-1",
        chemical_name="Trizolene",
        common_name="Trizolene concentrate",
        synonyms="TZC",
        ehs=True,
        physical_state="c",
        hm_type="a",
        fire_code_hazard_classes=[12, 30],
        federal_hazard_categories=["216d", "216g", "216t"],
        dot_hazard_class="2.2",
    )


# --- the services ----------------------------------------------------------------------------


def test_adding_a_material_keeps_columns_data_and_components_in_step(cast, record):
    material = add(cast, record, PAINT, PAINT_COMPONENTS)

    material.refresh_from_db()
    assert (material.position, material.common_name, material.physical_state) == (1, "Paint", "b")
    assert (str(material.maximum_daily_amount), material.units) == ("55.0000", "a")
    assert {k: v for k, v in material.data.items() if k != inventory.REGULATOR_KEY} == PAINT
    assert len(material.data[inventory.REGULATOR_KEY]) == 36  # a UUID, set by CERS
    # Components are rows, never part of the data.
    assert not any(226 <= int(k[:3]) <= 245 for k in material.data if k[:3].isdigit())
    rows = list(material.components.values_list("position", "name", "cas_number", "ehs"))
    assert rows == [(1, "Toluene", "108-88-3", "N"), (2, "Xylene", "1330-20-7", "N")]
    assert [str(c.percent_by_weight) for c in material.components.all()] == ["20.0000", "12.5000"]
    event = AuditEvent.objects.get(action="inventory.material_added")
    assert (event.actor, event.organization, event.object_id) == (
        cast.editor,
        cast.org,
        str(material.pk),
    )
    assert event.after["components"][1]["name"] == "Xylene"


def test_many_materials_are_written_at_once_with_their_keys_components_and_events(
    cast, record, monkeypatch
):
    """From ``COPY_FROM`` rows on (two here) materials and their components go through COPY on
    PostgreSQL, their keys drawn first: each component and event names its own material. The
    rows are written a batch at a time (two here), a row refused leaving the others in order."""
    monkeypatch.setattr(core_services, "COPY_FROM", 2)
    monkeypatch.setattr(inventory, "MATERIALS_BATCH", 2)
    add(cast, record)  # the rows added at once come after it
    rows = [
        (PAINT, PAINT_COMPONENTS, ""),
        ({**DIESEL, "218": "lots"}, (), ""),
        (DIESEL, (), "their-key"),
        (PAINT, (), ""),
    ]
    errors = inventory.add_materials(actor=cast.editor, record=record, rows=iter(rows))
    assert list(errors) == [1]
    assert errors[1].message_dict == {
        "218": ["Maximum daily amount: enter a number, such as 12.5."]
    }

    assert listed(record) == [(1, "Diesel"), (2, "Paint"), (3, "Diesel"), (4, "Paint")]
    materials = list(HazardousMaterial.objects.filter(record=record).order_by("position"))
    assert materials[2].data[inventory.REGULATOR_KEY] == "their-key"
    assert str(materials[1].maximum_daily_amount) == "55.0000"
    components = MixtureComponent.objects.filter(material__record=record)
    assert list(components.values_list("material", "position", "name")) == [
        (materials[1].pk, 1, "Toluene"),
        (materials[1].pk, 2, "Xylene"),
    ]
    events = AuditEvent.objects.filter(action="inventory.material_added").order_by("object_id")
    assert sorted((e.object_id, e.after["position"]) for e in events) == sorted(
        (str(m.pk), m.position) for m in materials
    )
    assert all(e.actor == cast.editor and e.organization == cast.org for e in events)


def written(record) -> tuple[list, list, list]:
    """The materials, components and ``material_added`` events of ``record``, every column
    but keys and times, each material named by its position."""
    materials = HazardousMaterial.objects.filter(record=record).order_by("position")
    columns = [f.attname for f in HazardousMaterial._meta.concrete_fields if f.attname != "id"]
    position = dict(materials.values_list("pk", "position"))
    components = MixtureComponent.objects.filter(material__record=record).order_by(
        "material__position", "position"
    )
    events = AuditEvent.objects.filter(action="inventory.material_added")
    return (
        list(materials.values(*columns)),
        list(components.values_list("material__position", *inventory._COMPONENT_COLUMNS[1:])),
        sorted(
            (position[int(e.object_id)], e.actor_id, e.object_type, e.object_repr)
            + (e.organization_id, e.regulator_id, e.before, e.after)
            for e in events
        ),
    )


class _Undo(Exception):
    pass


def test_materials_written_at_once_are_those_added_one_by_one(
    cast, record, library_chemical, monkeypatch
):
    """``add_materials`` writes from values (COPY on PostgreSQL, from two rows here) exactly
    the rows, components and audit events ``add_material`` writes one at a time."""
    rows = [
        (PAINT, PAINT_COMPONENTS, "key-1"),
        ({**DIESEL, "218": "12.34567", "205": "Fuel \\ oil\t“No. 2”"}, (), "key-2"),
        ({**DIESEL, "250": str(library_chemical.ccl_id)}, (), "key-3"),
        ({**DIESEL, "250": "990999", "217": "9"}, PAINT_COMPONENTS[1:], "key-4"),
    ]
    with pytest.raises(_Undo), transaction.atomic():
        for values, components, key in rows:
            inventory.add_material(
                actor=cast.editor,
                record=record,
                values=values,
                components=components,
                regulator_key=key,
            )
        one_by_one = written(record)
        raise _Undo
    assert not HazardousMaterial.objects.filter(record=record).exists()
    monkeypatch.setattr(core_services, "COPY_FROM", 2)
    assert inventory.add_materials(actor=cast.editor, record=record, rows=iter(rows)) == {}
    at_once = written(record)
    assert at_once == one_by_one
    materials, components, events = at_once
    assert [m["chemical_id"] for m in materials] == [None, None, library_chemical.pk, None]
    assert events == [
        (m["position"], cast.editor.pk, "submittals.hazardousmaterial", m["common_name"])
        + (cast.org.pk, None, None)
        + (
            {
                "record": record.pk,
                "position": m["position"],
                "data": m["data"],
                "components": [
                    {"position": position, **component}
                    for position, component in enumerate(given, start=1)
                ],
            },
        )
        for m, (_values, given, _key) in zip(materials, rows, strict=True)
    ]
    assert [c[0] for c in components] == [1, 1, 4]


@pytest.mark.parametrize(
    ("change", "number", "message"),
    [
        ({"207": ""}, "207", "Common name: required."),
        ({"208": ""}, "208", "EHS: required."),
        ({"214": ""}, "214", "Physical state: required."),
        ({"218": ""}, "218", "Maximum daily amount: required."),
        ({"221": ""}, "221", "Units: required."),
        ({"214": "z"}, "214", "Physical state: choose one of a (Solid), b (Liquid), c (Gas)."),
        ({"218": "lots"}, "218", "Maximum daily amount: enter a number, such as 12.5."),
        ({"210a": "40"}, "210a", "Primary fire code hazard class: at most 39."),
        ({"250": "0"}, "250", "CCL ID: at least 1."),
    ],
)
def test_a_missing_or_wrong_value_is_refused_by_field(cast, record, change, number, message):
    with pytest.raises(ValidationError) as refused:
        add(cast, record, {**DIESEL, **change})
    assert list(refused.value.message_dict) == [number]
    assert refused.value.message_dict[number][0].startswith(message)
    assert not HazardousMaterial.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="inventory.").exists()


def test_a_component_needs_valid_values(cast, record):
    components = [
        {"percent_by_weight": "10"},
        {"name": "Xylene", "percent_by_weight": "101"},
    ]
    with pytest.raises(ValidationError) as refused:
        add(cast, record, PAINT, components)
    assert refused.value.message_dict == {
        "230": ["Component 2 percent by weight: at most 100.00."],
    }
    assert not MixtureComponent.objects.exists()


def warnings_of(record, code) -> list:
    return [m for m in validate_element(reload(record)) if m.code == code]


def test_a_component_with_percentage_and_flags_but_no_name_or_cas_is_kept_with_a_warning(
    cast, record
):
    """CERS holds such components; the project used to refuse them as Required."""
    material = add(cast, record, PAINT, [{"percent_by_weight": "10", "ehs": "Y"}])
    assert list(material.components.values_list("position", "name", "cas_number", "ehs")) == [
        (1, "", "", "Y")
    ]
    [warning] = warnings_of(record, "HMI-COMPONENT-UNNAMED")
    assert warning.level == WARNING
    assert "component 1 has no name and no CAS number" in warning.message
    assert (warning.field, warning.label) == ("227", "Component 1 name (227)")
    blocking = [m for m in validate_element(reload(record)) if m.level == REQUIRED]
    assert not [m for m in blocking if m.code.startswith("HMI")]


def test_a_negative_amount_is_kept_with_a_warning(cast, record):
    material = add(cast, record, {**DIESEL, "218": "-5", "217": "-1"})
    assert material.maximum_daily_amount == -5
    codes = {m.code: m.level for m in validate_element(reload(record))}
    assert codes["HMI-218-NEGATIVE"] == WARNING
    assert codes["HMI-217-NEGATIVE"] == WARNING


def test_a_ccl_id_the_library_lacks_is_kept_unlinked_with_a_warning(cast, record):
    """CalEPA's CCL IDs (such as 102843) are accepted though the loaded library lacks them."""
    material = add(cast, record, {**DIESEL, "250": "102843"})
    assert (material.data["250"], material.chemical) == (102843, None)
    [warning] = warnings_of(record, "HMI-250-UNKNOWN")
    assert warning.level == WARNING
    assert "102843 is not in the chemical library" in warning.message


def test_a_ccl_id_larger_than_the_library_holds_is_kept_unlinked_with_a_warning(cast, record):
    """The schema sets no upper bound on a CCL ID: one larger than any the library (or
    SQLite's integers) can hold is kept and warned about like any other the library lacks,
    on every database, rows read as values (its JSON number's text) and prefetched."""
    huge = "99999999999999999999"
    material = add(cast, record, {**DIESEL, "250": huge})
    assert (material.data["250"], material.chemical) == (int(huge), None)
    prefetched = SubmittalElementRecord.objects.prefetch_related(
        inventory.materials_prefetch()
    ).get(pk=record.pk)
    [warning] = [m for m in validate_element(prefetched) if m.code == "HMI-250-UNKNOWN"]
    assert f"CCL ID (250) {huge} is not in the chemical library" in warning.message
    assert [m.message for m in warnings_of(record, warning.code)] == [warning.message]


def test_a_ccl_id_the_library_has_links_and_raises_no_warning(cast, record):
    chemical = Chemical.objects.create(ccl_id=102843, chemical_name="Library entry")
    material = add(cast, record, {**DIESEL, "250": "102843"})
    assert material.chemical == chemical
    assert warnings_of(record, "HMI-250-UNKNOWN") == []


def test_component_fields_and_the_regulator_key_are_not_material_values(cast, record):
    with pytest.raises(ValidationError) as refused:
        add(cast, record, {**DIESEL, "227": "Toluene", "20.0053": "mine"})
    messages = refused.value.message_dict["__all__"]
    assert any("belongs to a mixture component" in m for m in messages)
    assert any("set by CERS" in m for m in messages)


def test_updating_replaces_values_and_components_and_keeps_position_and_key(cast, record):
    add(cast, record)
    paint = add(cast, record, PAINT, PAINT_COMPONENTS)
    key = paint.data[inventory.REGULATOR_KEY]

    inventory.update_material(
        actor=cast.editor,
        material=paint,
        values={**PAINT, "207": "Primer", "218": "20"},
        components=[{}, {"name": "Acetone", "percent_by_weight": "30", "ehs": "N"}],
    )

    paint.refresh_from_db()
    assert (paint.position, paint.common_name, str(paint.maximum_daily_amount)) == (
        2,
        "Primer",
        "20.0000",
    )
    assert paint.data[inventory.REGULATOR_KEY] == key
    assert list(paint.components.values_list("position", "name")) == [(1, "Acetone")]
    event = AuditEvent.objects.get(action="inventory.material_changed")
    assert event.before["data"]["207"] == "Paint"
    assert event.after["data"]["207"] == "Primer"


def test_deleting_keeps_positions_dense(cast, record):
    first = add(cast, record, {**DIESEL, "207": "One"})
    add(cast, record, {**DIESEL, "207": "Two"})
    add(cast, record, {**DIESEL, "207": "Three"})

    inventory.delete_material(actor=cast.editor, material=first)

    assert listed(record) == [(1, "Two"), (2, "Three")]
    fourth = add(cast, record, {**DIESEL, "207": "Four"})
    assert fourth.position == 3
    assert AuditEvent.objects.filter(action="inventory.material_deleted").count() == 1


def test_only_editors_change_materials_and_only_of_draft_inventories(cast, record):
    material = add(cast, record)
    with pytest.raises(PermissionDenied):
        inventory.add_material(actor=cast.viewer, record=record, values=DIESEL)
    with pytest.raises(PermissionDenied):
        inventory.delete_material(actor=cast.outsider, material=material)
    facility_info = services.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    with pytest.raises(ValidationError, match="only in a Hazardous Materials Inventory"):
        inventory.add_material(actor=cast.editor, record=facility_info, values=DIESEL)
    assert listed(record) == [(1, "Diesel")]


# --- the pages -------------------------------------------------------------------------------


def test_the_editor_adds_changes_and_deletes_materials_through_the_pages(cast, client, record):
    client.force_login(cast.editor)
    page = page_text(client.get(add_url(record)))
    assert 'name="f_207"' in page
    assert 'name="hc5_cas_number"' in page

    response = client.post(add_url(record), posted(PAINT, PAINT_COMPONENTS))
    assert response.status_code == 302
    assert response.url == inventory_url(record)
    paint = HazardousMaterial.objects.get(record=record)
    assert paint.common_name == "Paint"
    assert list(paint.components.values_list("name", flat=True)) == ["Toluene", "Xylene"]

    page = page_text(client.get(inventory_url(record)))
    assert "Paint added to the inventory." in page
    assert "Paint" in page and "Liquid" in page and "55 Gallons" in page
    assert edit_url(paint) in page
    assert delete_url(paint) in page

    page = page_text(client.get(edit_url(paint)))
    assert 'value="Paint"' in page
    assert 'value="Xylene"' in page
    response = client.post(edit_url(paint), posted({**PAINT, "207": "Primer", "223d": "Y"}))
    assert response.status_code == 302
    paint.refresh_from_db()
    assert (paint.common_name, paint.data["223d"]) == ("Primer", "Y")
    assert not paint.components.exists()  # the posted form had no component

    response = client.post(delete_url(paint))
    assert response.status_code == 302
    assert not HazardousMaterial.objects.exists()
    assert "Primer deleted from the inventory." in page_text(client.get(response.url))


def test_the_checkboxes_store_yes_for_ticked_boxes_only(cast, client, record):
    client.force_login(cast.editor)
    data = posted(DIESEL) | {"f_216a": "on", "f_223a": "on", "f_223r_1": "Tote"}
    client.post(add_url(record), data)
    material = HazardousMaterial.objects.get()
    assert material.data["216a"] == "Y"
    assert material.data["223a"] == "Y"
    assert material.data["223r-1"] == "Tote"
    assert "216b" not in material.data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"f_207": ""}, "Common name: required."),
        ({"f_221": ""}, "Units: required."),
        ({"f_214": "z"}, "Physical state: choose one of a (Solid), b (Liquid), c (Gas)."),
        ({"hc1_percent_by_weight": "abc", "hc1_name": "Toluene"}, "Component 1 percent by"),
    ],
)
def test_a_wrong_value_on_the_page_names_the_field_and_stores_nothing(
    cast, client, record, change, message
):
    client.force_login(cast.editor)
    response = client.post(add_url(record), posted(DIESEL) | change)
    assert response.status_code == 200
    page = page_text(response)
    assert message in page
    assert "Nothing was saved" in page
    assert not HazardousMaterial.objects.exists()


def test_the_form_has_every_field_of_a_row(cast):
    form = MaterialForm()
    for f in inventory.row_fields():
        if f.number == inventory.REGULATOR_KEY:
            assert field_name(f) not in form.fields
        elif f.number in {
            c.number for by in inventory.component_fields().values() for c in by.values()
        }:
            continue
        else:
            assert field_name(f) in form.fields, f.number
    assert {component_name(p, "name") for p in range(1, 6)} <= set(form.fields)
    section_numbers = [
        name
        for _key, _heading, parts in form.sections()
        for _h, _c, bound in parts
        for name in bound
    ]
    assert len(section_numbers) == len(inventory.material_fields())


def test_a_viewer_sees_materials_read_only_and_gets_403_on_changes(cast, client, record):
    material = add(cast, record, PAINT, PAINT_COMPONENTS)
    client.force_login(cast.viewer)

    page = page_text(client.get(inventory_url(record)))
    assert "Paint" in page
    assert add_url(record) not in page
    assert delete_url(material) not in page
    detail = client.get(edit_url(material))
    assert detail.status_code == 200
    assert 'name="f_207"' not in page_text(detail)
    assert "Toluene" in page_text(detail)

    assert client.get(add_url(record)).status_code == 403
    assert client.post(add_url(record), posted(DIESEL)).status_code == 403
    assert client.post(edit_url(material), posted(DIESEL)).status_code == 403
    assert client.post(delete_url(material)).status_code == 403
    assert client.get(import_url(record)).status_code == 403
    assert listed(record) == [(1, "Paint")]


def test_an_outsider_gets_404_on_every_inventory_page(cast, client, record):
    material = add(cast, record)
    client.force_login(cast.outsider)
    for method, url in [
        ("get", inventory_url(record)),
        ("get", add_url(record)),
        ("post", add_url(record)),
        ("get", edit_url(material)),
        ("post", edit_url(material)),
        ("post", delete_url(material)),
        ("get", import_url(record)),
        ("post", import_url(record)),
    ]:
        assert getattr(client, method)(url).status_code == 404, (method, url)
    assert listed(record) == [(1, "Diesel")]


def test_a_material_of_another_inventory_answers_404(cast, client, record):
    theirs = services.start_draft(actor=cast.editor, facility=cast.facility_yolo, element=HMI)
    material = add(cast, theirs)
    client.force_login(cast.editor)
    url = reverse("business:material_edit", args=[record.pk, material.pk])
    assert client.get(url).status_code == 404
    url = reverse("business:material_delete", args=[record.pk, material.pk])
    assert client.post(url).status_code == 404
    assert listed(theirs) == [(1, "Diesel")]


@pytest.fixture
def submitted_inventory(cast, record):
    add(cast, record, PAINT, PAINT_COMPONENTS)
    submit(cast, [facility_information(cast), record])
    return reload(record)


def test_a_submitted_inventory_is_read_only(cast, client, submitted_inventory):
    record = submitted_inventory
    assert record.status == ElementStatus.SUBMITTED
    material = record.materials.get()
    client.force_login(cast.editor)

    page = page_text(client.get(inventory_url(record)))
    assert "Paint" in page
    assert add_url(record) not in page
    assert delete_url(material) not in page
    assert 'name="f_207"' not in page_text(client.get(edit_url(material)))

    for response in (
        client.get(add_url(record)),
        client.post(add_url(record), posted(DIESEL)),
        client.post(edit_url(material), posted(DIESEL)),
        client.post(delete_url(material)),
        client.post(import_url(record), {"file": csv_file([HEADER, *GOOD_ROWS])}),
    ):
        assert response.status_code == 302
        assert response.url == inventory_url(record)
    assert "can no longer be changed" in page_text(client.get(inventory_url(record)))
    with pytest.raises(ValidationError, match="can no longer be changed"):
        add(cast, record)
    assert listed(record) == [(1, "Paint")]


def test_the_element_page_links_to_the_materials(cast, client, record):
    add(cast, record)
    client.force_login(cast.editor)
    page = page_text(client.get(reverse("business:element", args=[record.pk])))
    assert inventory_url(record) in page
    assert add_url(record) in page
    assert "lists 1 material." in page


# Session, user, memberships, the user's grants (``core.scoping.grants``), the element, the
# two permission lookups (user and group) that decide the edit controls, the count, the page
# of materials with their library chemicals, and their components.
INVENTORY_PAGE_QUERIES = 10


def test_the_materials_page_is_paginated_with_a_fixed_number_of_queries(
    cast, client, record, django_assert_num_queries
):
    for number in range(3):
        add(cast, record, {**DIESEL, "207": f"Material {number}"}, PAINT_COMPONENTS)
    client.force_login(cast.editor)
    client.get(inventory_url(record))  # the first request settles the session

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(inventory_url(record)).status_code == 200
        return len(captured)

    with_3 = queries()
    for number in range(3, 30):
        add(cast, record, {**DIESEL, "207": f"Material {number}"})
    assert queries() == with_3
    with django_assert_num_queries(INVENTORY_PAGE_QUERIES):
        response = client.get(inventory_url(record), {"page": 2})
    assert [m.position for m in response.context["page"]] == [26, 27, 28, 29, 30]


# --- the chemical library picker -------------------------------------------------------------


def test_picking_a_library_chemical_fills_the_form_and_links_it(
    cast, client, record, library_chemical
):
    client.force_login(cast.editor)
    search = client.get(add_url(record), {"chemical_q": "99999-99-1"})
    assert "Trizolene concentrate" in page_text(search)
    assert f"?chemical={library_chemical.pk}" in page_text(search)
    assert search.context["results"] == [library_chemical]
    assert client.get(add_url(record), {"chemical_q": "trizol"}).context["results"] == [
        library_chemical
    ]

    response = client.get(add_url(record), {"chemical": library_chemical.pk})
    form = response.context["form"]
    assert form["f_207"].value() == "Trizolene concentrate"
    assert form["f_205"].value() == "Trizolene"
    assert form["f_209"].value() == "99999-99-1"
    assert form["f_250"].value() == "990001"
    assert form["f_208"].value() == "Y"
    assert form["f_214"].value() == "c"
    assert form["f_210a"].value() == "12"
    assert form["f_216t"].value() is True
    assert form["f_216a"].value() is False

    # Post the form as the page filled it, with the quantities and location added.
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is True:
            data[name] = "on"
        elif value not in (None, False, ""):
            data[name] = value
    data |= {"f_218": "150", "f_221": "b", "f_201": "Cold room"}
    response = client.post(add_url(record), data)
    assert response.status_code == 302
    material = HazardousMaterial.objects.get()
    assert material.chemical == library_chemical
    assert (material.common_name, material.chemical_name, material.cas_number) == (
        "Trizolene concentrate",
        "Trizolene",
        "99999-99-1",
    )
    assert material.data["250"] == 990001
    assert material.data["208"] == "Y"
    assert material.data["252"] == "2.2"
    assert {k for k, v in material.data.items() if k.startswith("216") and v == "Y"} == {
        "216d",
        "216g",
        "216t",
    }


def test_clearing_the_ccl_id_unlinks_the_library_chemical(cast, record, library_chemical):
    material = add(cast, record, {**DIESEL, "250": "990001"})
    assert material.chemical == library_chemical
    material = inventory.update_material(actor=cast.editor, material=material, values=DIESEL)
    assert material.chemical is None


# --- import ----------------------------------------------------------------------------------


def test_a_csv_of_three_good_rows_is_imported(cast, client, record):
    client.force_login(cast.editor)
    response = client.post(import_url(record), {"file": csv_file([HEADER, *GOOD_ROWS])})
    assert response.status_code == 302
    assert listed(record) == [(1, "Diesel"), (2, "Propane"), (3, "Sulfuric acid")]
    acid = record.materials.get(position=3)
    assert (acid.data["208"], acid.location, acid.units) == ("Y", "Battery room", "a")
    assert AuditEvent.objects.filter(action="inventory.imported").count() == 1
    assert "Imported 3 materials from inventory.csv." in page_text(client.get(response.url))


def test_one_bad_row_refuses_the_whole_file_and_names_row_and_column(cast, client, record):
    add(cast, record)
    rows = [HEADER, GOOD_ROWS[0], ["Propane", "N", "gas?", "1000", "b", "Yard"], GOOD_ROWS[2]]
    client.force_login(cast.editor)
    response = client.post(import_url(record), {"file": csv_file(rows)})

    assert response.status_code == 200
    [problem] = response.context["result"].problems
    assert (problem.row, problem.column) == (3, "PhysicalState")
    assert problem.message.startswith("Physical state: choose one of")
    page = page_text(response)
    assert "Nothing was imported" in page
    assert "<td>3</td><td>PhysicalState</td>" in page
    assert listed(record) == [(1, "Diesel")]
    assert not AuditEvent.objects.filter(action="inventory.imported").exists()


def test_every_bad_row_is_reported(cast, record):
    rows = [
        HEADER,
        ["", "N", "b", "5", "a", ""],
        ["Ok", "N", "b", "5", "a", ""],
        ["Two problems", "maybe", "b", "lots", "a", ""],
    ]
    result = import_(cast, record, csv_file(rows))
    assert [(p.row, p.column) for p in result.problems] == [
        (2, "CommonName"),
        (4, "EHS"),
        (4, "MaximumDailyAmount"),
    ]
    assert not HazardousMaterial.objects.exists()


def test_an_xlsx_workbook_is_imported(cast, record):
    rows = [
        [
            "Common name",
            "208",
            "physicalstate",
            "Maximum daily amount",
            "UNITS",
            "HC1Name",
            "HC1PercentByWeight",
        ],
        ["Paint", "No", "Liquid", 55, "Gallons", "Toluene", 20],
        ["Sand blast grit", "N", "a", 2.5, "d", None, None],
    ]
    result = import_(cast, record, xlsx_file(rows))
    assert result.ok, result.problems
    assert result.added == 2
    paint, grit = record.materials.order_by("position")
    assert (paint.data["208"], paint.physical_state, paint.units) == ("N", "b", "a")
    assert list(paint.components.values_list("name", "percent_by_weight")) == [("Toluene", 20)]
    assert (grit.data["218"], grit.units) == ("2.5", "d")


def test_headers_name_fields_by_number_tag_or_label(cast, record):
    rows = [
        ["207", "ehs", "Physical state (214)", "  MaximumDailyAmount ", "units"],
        ["Diesel", "N", "b", "5", "a"],
    ]
    assert import_(cast, record, csv_file(rows)).ok


def test_unknown_repeated_and_missing_columns_are_refused(cast, record):
    rows = [["CommonName", "EHS", "Colour", "ehs"], ["Diesel", "N", "red", "N"]]
    problems = import_(cast, record, csv_file(rows)).problems
    assert [(p.row, p.column) for p in problems] == [(1, "Colour"), (1, "ehs")]
    assert "not an inventory field" in problems[0].message
    assert "repeats EHS (208)" in problems[1].message

    problems = import_(cast, record, csv_file([["CommonName", "EHS"], ["Diesel", "N"]])).problems
    assert {p.message.split(" (")[0] for p in problems} == {
        "The file has no column for Physical state",
        "The file has no column for Maximum daily amount",
        "The file has no column for Units",
    }
    assert not HazardousMaterial.objects.exists()


def test_an_unknown_ccl_id_in_the_file_is_imported_with_a_warning(cast, record, library_chemical):
    rows = [["CCLID", *HEADER], ["990001", *GOOD_ROWS[0]], ["990002", *GOOD_ROWS[1]]]
    assert import_(cast, record, csv_file(rows)).ok
    known, unknown = record.materials.order_by("position")
    assert (known.chemical, unknown.chemical) == (library_chemical, None)
    assert unknown.data["250"] == 990002
    [warning] = warnings_of(record, "HMI-250-UNKNOWN")
    assert warning.level == WARNING and "990002" in warning.message


def test_a_file_with_unnamed_mixture_components_is_imported_with_a_warning(cast, record):
    rows = [
        [*HEADER, "HC1PercentByWeight", "HC1EHS"],
        [*GOOD_ROWS[0], "15", "Y"],
    ]
    assert import_(cast, record, csv_file(rows)).ok
    component = record.materials.get().components.get()
    assert (component.name, component.cas_number, component.ehs) == ("", "", "Y")
    assert [m.level for m in warnings_of(record, "HMI-COMPONENT-UNNAMED")] == [WARNING]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("inventory.csv", png_bytes(), "is not UTF-8 text"),
        ("inventory.xlsx", b"CommonName,EHS\nDiesel,N\n", "is not an Excel workbook"),
        ("inventory.xlsx", png_bytes(), "is not an Excel workbook"),
        ("inventory.csv", b"Common\x00Name\n", "holds binary data"),
        ("inventory.txt", b"CommonName\n", "is not a .csv or .xlsx file"),
        ("inventory.xls", b"\xd0\xcf\x11\xe0", "is not a .csv or .xlsx file"),
        ("inventory.csv", b"", "file is empty."),
    ],
)
def test_a_file_that_is_not_what_its_name_says_is_refused(
    cast, client, record, name, content, message
):
    client.force_login(cast.editor)
    response = client.post(import_url(record), {"file": SimpleUploadedFile(name, content)})
    assert response.status_code == 200
    if content:
        [problem] = response.context["result"].problems
        assert problem.row is None
        assert message in problem.message
    assert message in page_text(response)
    assert not HazardousMaterial.objects.exists()


def test_a_zip_that_is_not_a_workbook_is_refused(cast, record):
    buffer = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    upload = SimpleUploadedFile("inventory.xlsx", buffer.getvalue())
    [problem] = import_(cast, record, upload).problems
    assert "is not an Excel workbook" in problem.message
    renamed = SimpleUploadedFile("inventory.csv", xlsx_file([HEADER, *GOOD_ROWS]).read())
    [problem] = import_(cast, record, renamed).problems
    assert "is a ZIP archive" in problem.message


def test_too_many_rows_are_refused(cast, record):
    rows = [HEADER] + [["Diesel", "N", "b", "1", "a", ""]] * (inventory.IMPORT_MAX_ROWS + 1)
    [problem] = import_(cast, record, csv_file(rows)).problems
    assert "more than 5,000 materials" in problem.message
    assert not HazardousMaterial.objects.exists()
    # Exactly the limit is fine (blank rows are not counted).
    rows = rows[:-1] + [["", "", "", "", "", ""]]
    result = import_(cast, record, csv_file(rows))
    assert result.ok, result.problems[:3]
    assert record.materials.count() == inventory.IMPORT_MAX_ROWS


def test_a_file_over_the_size_limit_is_refused(cast, record):
    padding = "x" * 400
    rows = [HEADER] + [[padding, "N", "b", "1", "a", padding]] * 7_000
    upload = csv_file(rows)
    assert upload.size > inventory.IMPORT_MAX_BYTES
    [problem] = import_(cast, record, upload).problems
    assert "at most 5 MB" in problem.message


def test_replace_replaces_the_existing_materials(cast, record):
    add(cast, record, PAINT, PAINT_COMPONENTS)
    add(cast, record, {**DIESEL, "207": "Old diesel"})
    result = import_(cast, record, csv_file([HEADER, *GOOD_ROWS[:2]]), replace=True)
    assert (result.added, result.removed) == (2, 2)
    assert listed(record) == [(1, "Diesel"), (2, "Propane")]
    assert not MixtureComponent.objects.exists()
    event = AuditEvent.objects.get(action="inventory.imported")
    assert event.after["removed"] == 2

    result = import_(cast, record, csv_file([HEADER, GOOD_ROWS[2]]))
    assert listed(record) == [(1, "Diesel"), (2, "Propane"), (3, "Sulfuric acid")]


def test_the_template_imports_cleanly_once_filled(cast, client, record):
    client.force_login(cast.editor)
    response = client.get(reverse("business:inventory_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8-sig")
    [header] = list(csv.reader(io.StringIO(text)))
    assert "CommonName" in header and "HC5CAS" in header
    assert "ChemicalRegulatorKey" not in header

    filled = {"CommonName": "Diesel", "EHS": "N", "PhysicalState": "b"}
    filled |= {"MaximumDailyAmount": "500", "Units": "a", "HC1Name": "Benzene"}
    filled |= {"HC1PercentByWeight": "0.5", "SCAboveGroundTank": "Y", "StoragePressure": "a"}
    row = [filled.get(column, "") for column in header]
    content = (text.rstrip("\r\n") + "\r\n" + ",".join(row) + "\r\n").encode("utf-8-sig")
    upload = SimpleUploadedFile("template.csv", content)
    response = client.post(import_url(record), {"file": upload})
    assert response.status_code == 302, response.context["result"].problems
    material = record.materials.get()
    assert (material.data["223a"], material.data["224"]) == ("Y", "a")
    assert material.components.get().name == "Benzene"


def test_the_import_page_documents_the_accepted_headers(cast, client, record):
    client.force_login(cast.editor)
    page = page_text(client.get(import_url(record)))
    assert reverse("business:inventory_template") in page
    for f in inventory.importable_fields():
        assert f"<code>{f.tag}</code>" in page


# --- copying, validation and the submit journey ----------------------------------------------


def test_a_draft_from_the_last_accepted_inventory_copies_materials_and_components(
    cast, submitted_inventory, library_chemical
):
    services.review(
        actor=cast.cupa_reviewer, record=submitted_inventory, status=ElementStatus.ACCEPTED
    )
    original = submitted_inventory.materials.get()

    copy = services.start_draft(
        actor=cast.editor, facility=cast.facility, element=HMI, from_last_accepted=True
    )

    [material] = copy.materials.all()
    assert material.pk != original.pk
    assert (material.position, material.common_name, material.data) == (
        1,
        "Paint",
        original.data,
    )
    assert list(material.components.values_list("position", "name", "percent_by_weight")) == list(
        original.components.values_list("position", "name", "percent_by_weight")
    )
    # The copy is the new draft's own: changing it leaves the accepted inventory alone.
    inventory.delete_material(actor=cast.editor, material=material)
    assert submitted_inventory.materials.count() == 1
    assert original.components.count() == 2


def test_the_submit_journey_needs_a_material(cast, client, record):
    facility_info = facility_information(cast)
    assert "inventory_empty" in {m.code for m in validate_element(record)}
    client.force_login(cast.approver)
    certified = {
        "elements": [facility_info.pk, record.pk],
        "certifier_name": "Bob Approver",
        "certifier_title": "Site Manager",
        "certify": "on",
    }
    submit_url = reverse("business:submit", args=[cast.facility.cers_id])

    response = client.post(submit_url, certified)
    assert response.status_code == 200
    assert "The inventory lists no hazardous materials." in page_text(response)
    assert reload(record).is_draft

    client.force_login(cast.editor)
    client.post(add_url(record), posted(DIESEL))
    assert [m.code for m in validate_element(record) if m.level == REQUIRED] == [
        "DOC-SiteMapDocuments-REQ"
    ]
    answer_required_documents(cast.editor, record)  # the site map: stored at the facility
    assert [m for m in validate_element(record) if m.level == REQUIRED] == []

    client.force_login(cast.approver)
    response = client.post(submit_url, certified)
    assert response.status_code == 302, page_text(response)
    assert reload(record).status == ElementStatus.SUBMITTED
    assert FacilitySubmittal.objects.get(status="submitted").elements.count() == 2


# --- the regulator's review page -------------------------------------------------------------


def test_the_review_page_lists_the_materials_with_their_components(
    cast, client, submitted_inventory
):
    client.force_login(cast.cupa_reviewer)
    response = client.get(reverse("regulator:review", args=[submitted_inventory.pk]))
    assert response.status_code == 200
    page = page_text(response)
    assert 'id="materials"' in page
    assert "Paint" in page
    assert "55 Gallons" in page
    assert "HC1: Toluene (CAS 108-88-3), 20%" in page
    assert "HC2: Xylene (CAS 1330-20-7), 12.5%" in page


def test_the_review_page_of_another_element_has_no_materials_section(
    cast, client, submitted_inventory
):
    facility_info = SubmittalElementRecord.objects.get(element=FI, status=ElementStatus.SUBMITTED)
    client.force_login(cast.cupa_reviewer)
    page = page_text(client.get(reverse("regulator:review", args=[facility_info.pk])))
    assert 'id="materials"' not in page


def test_warnings_show_while_editing_on_submit_and_on_the_review_page(cast, client, record):
    """A mixture component without name or CAS and an unknown CCL ID: the business sees the
    Warnings on the element page and the submit page, the submit goes through, and the
    reviewer sees them on the review page."""
    add(cast, record, {**PAINT, "250": "102843"}, [{"percent_by_weight": "10", "ehs": "N"}])
    facility_info = facility_information(cast)
    answer_required_documents(cast.editor, record)
    client.force_login(cast.approver)
    page = page_text(client.get(reverse("business:element", args=[record.pk])))
    assert "HMI-COMPONENT-UNNAMED" in page and "HMI-250-UNKNOWN" in page
    submit_url = reverse("business:submit", args=[cast.facility.cers_id])
    certified = {
        "elements": [facility_info.pk, record.pk],
        "certifier_name": "Bob Approver",
        "certifier_title": "Site Manager",
    }
    page = page_text(client.post(submit_url, certified))  # not certified: the page again
    assert "HMI-COMPONENT-UNNAMED" in page
    response = client.post(submit_url, {**certified, "certify": "on"})
    assert response.status_code == 302, page_text(response)
    assert reload(record).status == ElementStatus.SUBMITTED

    client.force_login(cast.cupa_reviewer)
    page = page_text(client.get(reverse("regulator:review", args=[record.pk])))
    assert 'id="guidance"' in page
    assert "HMI-COMPONENT-UNNAMED" in page and "HMI-250-UNKNOWN" in page
    assert "hazardous component 1 has no name and no CAS number" in page


def test_picking_a_chemical_without_a_ccl_id_links_it_through_the_page(cast, client, record):
    """The seeded chemicals carry no CCL ID: the picked entry itself links the material."""
    chlorine = Chemical.objects.get(cas_number="7782-50-5")
    assert chlorine.ccl_id is None
    client.force_login(cast.editor)
    form = client.get(add_url(record), {"chemical": chlorine.pk}).context["form"]
    assert form["library_chemical"].value() == chlorine.pk
    assert form["f_250"].value() in (None, "")
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False, "")}
    data |= {"f_218": "10", "f_221": "c", "f_201": "Cylinder cage"}
    assert client.post(add_url(record), data).status_code == 302
    material = HazardousMaterial.objects.get()
    assert material.chemical == chlorine and "250" not in material.data
    assert "HMI-250-UNKNOWN" not in {m.code for m in validate_element(reload(record))}

    # The edit page carries the link; saving keeps it.
    form = client.get(edit_url(material)).context["form"]
    assert form["library_chemical"].value() == chlorine.pk
    data = {name: form[name].value() for name in form.fields}
    data = {k: ("on" if v is True else v) for k, v in data.items() if v not in (None, False, "")}
    assert client.post(edit_url(material), data).status_code == 302
    material.refresh_from_db()
    assert material.chemical == chlorine


def test_a_picked_chemical_with_a_ccl_id_links_only_by_it(cast, record, library_chemical):
    """Clearing the CCL ID of a row picked from an entry that has one unlinks it, even with
    the entry passed along."""
    material = inventory.add_material(
        actor=cast.editor, record=record, values=DIESEL, chemical=library_chemical
    )
    assert material.chemical is None
    material = inventory.add_material(
        actor=cast.editor,
        record=record,
        values={**DIESEL, "250": "102843"},
        chemical=Chemical.objects.get(cas_number="7782-50-5"),
    )
    assert material.chemical is None  # the CCL ID decides: the library lacks 102843


def test_fire_code_hazard_classes_are_chosen_imported_and_shown_in_words(cast, client, record):
    client.force_login(cast.editor)
    page = client.get(add_url(record)).content.decode()
    select = page[
        page.index('name="f_210a"') : page.index("</select>", page.index('name="f_210a"'))
    ]
    assert '<option value="8">Flammable gas</option>' in select
    assert '<option value="39">Other</option>' in select
    assert len(re.findall(r"<option value=\"\d+\">", select)) == 39

    # The import takes the class by its number or its label, and stores the number.
    rows = [
        [*HEADER, "PFCodeHazardClass", "SFCodeHazardClass"],
        [*GOOD_ROWS[0], "combustible liquid, class II", "5"],
    ]
    response = client.post(import_url(record), {"file": csv_file(rows)})
    assert response.status_code == 302
    diesel = record.materials.get(position=1)
    assert (diesel.data["210a"], diesel.data["210b"]) == (2, 5)
    page = client.get(edit_url(diesel)).content.decode()
    assert '<option value="2" selected>Combustible liquid, class II</option>' in page
    rows[1][-2] = "Flammable"  # neither a class nor its label
    response = client.post(import_url(record), {"file": csv_file(rows), "replace": "on"})
    assert response.status_code == 200
    [problem] = response.context["result"].problems
    assert problem.column == "PFCodeHazardClass"


def test_the_inventory_rules_say_the_same_of_rows_read_as_values_and_prefetched(cast, record):
    """The rows' checks say the same, word for word, of an inventory's rows read back as
    plain values (an upload's thousands) and of its materials prefetched (the portal's
    pages): amounts below zero, a maximum below the average, a component unnamed, a CCL ID
    the library lacks."""
    add(cast, record, {**DIESEL, "218": "-5", "217": "-1", "213": "-2"})
    add(cast, record, {**DIESEL, "217": "600", "250": "102843"})
    add(cast, record, PAINT, [{"percent_by_weight": "10", "ehs": "Y"}])
    add(cast, record, {**DIESEL, "217": "5", "219": "3"})

    def said(record) -> list[tuple]:
        return [
            (m.level, m.code, m.message, m.field, m.label)
            for m in validate_element(record)
            if m.code.startswith("HMI")
        ]

    read = said(reload(record))
    prefetched = SubmittalElementRecord.objects.prefetch_related(
        inventory.materials_prefetch()
    ).get(pk=record.pk)
    assert said(prefetched) == read
    assert read == EXPECTED_ROW_MESSAGES


def test_the_row_checks_read_no_value_but_those_stored_rows_are_read_with(cast):
    """Stored rows are read back for the row checks with ``ROW_VALUES`` of their data alone:
    a check reading any other value (here every field of a material is given) fails this."""
    read: set[str] = set()

    class Watched(dict):
        def get(self, key, default=None):
            read.add(key)
            return super().get(key, default)

        def __getitem__(self, key):
            read.add(key)
            return super().__getitem__(key)

        def __contains__(self, key):
            read.add(key)
            return super().__contains__(key)

    every = {f.number: "-1" for f in inventory.material_fields()}
    values = Watched(every | {"218": "-2", "250": "990999"})
    unnamed = {"position": 1, "name": "", "cas_number": "", "percent_by_weight": None, "ehs": ""}
    row = validation._Row("Diesel (row 1)", values, (unnamed,))
    for check in validation.ROW_CHECKS:
        assert list(check([row]))  # each check reads something of this row
    assert read <= set(validation.ROW_VALUES)
    assert read == {*validation.NOT_NEGATIVE, "250"}


EXPECTED_ROW_MESSAGES = [
    (
        "advisory",
        "HMI-218-BELOW-217",
        "Diesel (row 1): Maximum daily amount (218) -5 is below Average daily amount (217) -1. "
        "Check both amounts.",
        "218",
        "Maximum daily amount (218)",
    ),
    (
        "advisory",
        "HMI-218-BELOW-217",
        "Diesel (row 2): Maximum daily amount (218) 500 is below Average daily amount (217) "
        "600. Check both amounts.",
        "218",
        "Maximum daily amount (218)",
    ),
    (
        "warning",
        "HMI-213-NEGATIVE",
        "Diesel (row 1): Curies (213) is -2, below zero. Check the value.",
        "213",
        "Curies (213)",
    ),
    (
        "warning",
        "HMI-217-NEGATIVE",
        "Diesel (row 1): Average daily amount (217) is -1, below zero. Check the value.",
        "217",
        "Average daily amount (217)",
    ),
    (
        "warning",
        "HMI-218-NEGATIVE",
        "Diesel (row 1): Maximum daily amount (218) is -5, below zero. Check the value.",
        "218",
        "Maximum daily amount (218)",
    ),
    (
        "warning",
        "HMI-COMPONENT-UNNAMED",
        "Paint (row 3): hazardous component 1 has no name and no CAS number. Give one of them "
        "if the product's safety data sheet lists it.",
        "227",
        "Component 1 name (227)",
    ),
    (
        "warning",
        "HMI-250-UNKNOWN",
        "Diesel (row 2): CCL ID (250) 102843 is not in the chemical library loaded here. Check "
        "the number; if it is CalEPA's, the library will know it once the state administrator "
        "loads CalEPA's latest library.",
        "250",
        "CCL ID (250)",
    ),
]


def test_a_control_character_in_a_cell_refuses_the_file_naming_row_and_column(cast, record):
    """A cell holding a character XML cannot carry (pasted from Word) would break every EDT
    answer carrying the inventory: the file is refused, the cell named."""
    rows = [HEADER, GOOD_ROWS[0], ["Propane\x0bgas", *GOOD_ROWS[1][1:]]]
    result = import_(cast, record, csv_file(rows))
    [problem] = result.problems
    assert (problem.row, problem.column) == (3, HEADER[0])
    assert "U+000B" in problem.message
    assert not HazardousMaterial.objects.exists()
