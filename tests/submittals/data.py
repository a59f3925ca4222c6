"""Element data for tests: complete enough to pass every Required check."""

from core.elements import SubmittalElement
from core.registry import Field, schema_for, validate_value
from submittals import services
from submittals.data import data_key, row_fields, row_groups, single_valued_fields
from submittals.inventory import add_material
from submittals.models import SubmittalElementRecord

FI = SubmittalElement.FACILITY_INFORMATION
# One inventory material: common name, EHS, physical state, largest amount, unit.
DIESEL = {"207": "Diesel", "208": "N", "214": "b", "218": "500", "221": "a"}

NO_ACTIVITIES = dict.fromkeys(
    ["4", "4a", "5", "8", "9", "10", "11", "12", "13", "14", "14a", "14b"], "N"
)


def complete_facility_information(**changes) -> dict:
    """Facility Information with every field the schema requires (the regulator keys
    aside), a NAICS code, the facility's own name and every activity answered No: no
    message at all. ``changes`` set (or, as None, remove) fields by number."""
    data = {
        "3": "Acme Sacramento Depot",
        "103": "100 Main Street",
        "104": "Sacramento",
        "105": "95814",
        "105a": 34,
        **NO_ACTIVITIES,
        "102": "916-555-0100",
        "107a": 424710,
        "108a": "PO Box 10",
        "108b": "Sacramento",
        "108c": "CA",
        "109": "Acme Fuels",
        "110": "916-555-0101",
        "111": "Acme Fuels LLC",
        "112": "916-555-0102",
        "113": "1 Corporate Way",
        "114": "Sacramento",
        "117": "Carol Editor",
        "118": "916-555-0103",
        "119": "1 Corporate Way",
        "120": "Sacramento",
        "123": "Pat Responder",
        "124": "Site Manager",
        "125": "916-555-0104",
        "126": "916-555-0199",
        "140": "Billing Office",
        "141": "916-555-0105",
        "143": "1 Corporate Way",
        "144": "Sacramento",
    }
    for key, value in changes.items():
        key = key.removeprefix("f")  # f111=... for keyword-friendly numbers
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def filler(f: Field):
    """A valid value for a registry field: "N" for a Yes/No code, else its first code; "CA"
    for a state; the shortest sensible text, number or date its definition allows."""
    if f.codes:
        value = "N" if "N" in f.code_values else f.code_values[0]
    elif f.xsd_type == "StateType":
        value = "CA"
    elif f.type == "string":
        length = max(f.min_length or 1, min(4, f.max_length or 4))
        value = "1" * length if f.min_length == f.max_length else "Test"[:length].ljust(length, "t")
    elif f.type == "integer":
        value = int(f.min_value) if f.min_value is not None else 1
    elif f.type == "decimal":
        value = "1"
    elif f.type == "date":
        value = "2024-01-15"
    elif f.type == "datetime":
        value = "2024-01-15T10:00:00"
    else:
        value = False
    _clean, problem = validate_value(f, value)
    assert problem is None, (f.key, value, problem)
    return value


def _mandatory(schema, path, scope=()) -> bool:
    """Every group between ``scope`` and ``path`` is one the schema requires (no choice)."""
    for depth in range(len(scope) + 1, len(path)):
        group = next((g for g in schema.groups if g.path == path[:depth]), None)
        if group is not None and (not group.required or group.choice):
            return False
    return True


def _filled(schema, fields, scope=()) -> dict:
    return {
        data_key(f): filler(f)
        for f in fields
        if f.required
        and not f.choice
        and f.xsd_type != "RegulatorEntityKeyType"
        and _mandatory(schema, f.path, scope)
    }


def complete_data(element, facility=None, **changes) -> dict:
    """Data of any element that passes every Required check: each field the schema requires
    where it is mandatory, and one row of each group of rows the element needs. Facility
    Information (given the facility, so the business name (3) matches it) has no message at
    all. ``changes`` as for ``complete_facility_information``."""
    schema = schema_for(element)
    data = _filled(schema, single_valued_fields(schema))
    for group in row_groups(schema):
        if group.required and _mandatory(schema, group.path):
            data[group.key] = [_filled(schema, row_fields(schema, group), group.path)]
    if element == FI:  # its own rules: a 24-hour phone, a NAICS code, the facility's name
        data.update({"126": "916-555-0199", "107a": 424710})
        if facility is not None:
            data["3"] = facility.name
    for key, value in changes.items():
        key = key.removeprefix("f")
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def answer_required_documents(actor, record):
    """Answer each document slot the element requires "stored at facility"."""
    from submittals.documents import set_document_answer
    from submittals.models import DocumentSource

    schema = schema_for(SubmittalElement(record.element))
    for slot in schema.document_slots:
        if slot.required and not slot.choice:
            set_document_answer(
                actor=actor, record=record, slot=slot.tag, source=DocumentSource.STORED_AT_FACILITY
            )
    return record


def submit(cast, *elements, facility=None, data=None, comments="", editor=None, approver=None):
    """Submit Facility Information with ``elements`` (complete data, one inventory material,
    required documents stored at the facility), drafted by ``editor`` and certified by
    ``approver`` (the cast's by default); return the records by element code."""
    facility = facility or cast.facility
    editor, approver = editor or cast.editor, approver or cast.approver
    data = data or {}
    records = {}
    for code in sorted({1, *elements}):
        record = services.start_draft(actor=editor, facility=facility, element=code)
        given = data.get(code) or (
            complete_facility_information(f3=facility.name)
            if code == 1
            else {}
            if code == 2
            else complete_data(code)
        )
        record = services.save_draft_data(actor=editor, record=record, data=given)
        if code == 2:
            add_material(actor=editor, record=record, values=DIESEL)
        answer_required_documents(editor, record)
        records[code] = record
    services.submit(
        actor=approver,
        facility=facility,
        elements=list(records.values()),
        certifier_name="Bob Approver",
        certifier_title="Manager",
        comments=comments,
    )
    return {code: SubmittalElementRecord.objects.get(pk=r.pk) for code, r in records.items()}
