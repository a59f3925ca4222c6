"""The rows of a Hazardous Materials Inventory: add, change, delete and import materials.

A material is one ``Chemicals/Chemical`` row of element 2 (``core.registry``). Its values
are keyed by data-dictionary number and checked with ``registry.validate_value``, field by
field; ``HazardousMaterial.data`` keeps every value given and the model's columns repeat the
ones lists show, written together so they never disagree. Mixture components HC1-HC5
(fields 226-245) are ``MixtureComponent`` rows, never part of ``data``.

Rules every write here keeps:

- only a draft inventory changes, and only for an actor allowed ``submittals.edit`` on it
  (``submittals.rules``: ``edit_drafts`` on the facility's organization), checked again under
  the element's row lock; the one exception is the inventory an EDT Facility Submittal Submit
  is storing, which is submitted from the start and changed only by that upload;
- each public write is one transaction that writes its audit event with the change (part of
  the caller's transaction when called inside one);
- positions run 1..n in each inventory with no gaps (deleting a row moves the later ones up);
- the Chemical regulator key (20.0053), which the schema requires in every row, is set here
  (a new UUID for each new row) and kept when the row changes or is copied to a new draft.

An import reads and checks the whole file before anything is written: any problem and nothing
is imported; otherwise every row is added (optionally replacing the existing ones) in one
transaction with one audit event.
"""

from __future__ import annotations

import csv
import io
import json
import re
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache
from pathlib import PurePath
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Case, CharField, F, Max, Prefetch, Value, When
from django.utils import timezone

from core.access import is_service_account, require
from core.elements import SubmittalElement
from core.registry import Field, schema_for, validate_value
from core.services import (
    JsonText,
    field_values,
    insert_values,
    json_text,
    object_event,
    record_event,
    record_events,
)
from core.spreadsheets import SheetLimits, SpreadsheetError, cell_text, read_rows
from core.xmlsafe import control_character
from libraries.models import Chemical

from .models import HazardousMaterial, MixtureComponent, SubmittalElementRecord

HMI = SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY
ROW_PATH = ("Chemicals", "Chemical")

REGULATOR_KEY = "20.0053"  # ChemicalRegulatorKey: set by CERS, never entered
CCL_ID = "250"
COMMON_NAME, CHEMICAL_NAME, CAS_NUMBER, EHS = "207", "205", "209", "208"
PHYSICAL_STATE, MAXIMUM_DAILY_AMOUNT, UNITS, LOCATION = "214", "218", "221", "201"
HM_TYPE, DOT_HAZARD_CLASS = "211", "252"

MAX_COMPONENTS = 5
_COMPONENT_TAG = re.compile(r"HC([1-5])(PercentByWeight|Name|EHS|CAS)")
_COMPONENT_ATTRS = {
    "PercentByWeight": "percent_by_weight",
    "Name": "name",
    "EHS": "ehs",
    "CAS": "cas_number",
}
COMPONENT_KEYS = ("name", "cas_number", "percent_by_weight", "ehs")

# HazardousMaterial.maximum_daily_amount is numeric(16, 4): 12 digits before the point.
_AMOUNT_COLUMN_LIMIT = Decimal(10) ** 12
_AMOUNT_PLACES = Decimal("0.0001")

# Import limits.
IMPORT_MAX_BYTES = 5 * 1024 * 1024
IMPORT_MAX_ROWS = 5_000
# An .xlsx is compressed XML; refuse one that expands beyond this (a "zip bomb").
XLSX_MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024


# -- the fields of a row ----------------------------------------------------------------------


@cache
def row_fields() -> tuple[Field, ...]:
    """Every field of an inventory row (``Chemicals/Chemical``), in schema order."""
    return schema_for(HMI).fields_under(*ROW_PATH)


@cache
def component_fields() -> dict[int, dict[str, Field]]:
    """The component fields by position (1-5) and model attribute: HC1Name -> (1, "name")."""
    out: dict[int, dict[str, Field]] = {}
    for f in row_fields():
        match = _COMPONENT_TAG.fullmatch(f.tag)
        if match:
            out.setdefault(int(match[1]), {})[_COMPONENT_ATTRS[match[2]]] = f
    return out


@cache
def material_fields() -> tuple[Field, ...]:
    """The fields a material's values hold: the row's fields less the components and the
    regulator key."""
    components = {f.number for by_attr in component_fields().values() for f in by_attr.values()}
    return tuple(f for f in row_fields() if f.number not in components | {REGULATOR_KEY})


@cache
def _material_numbers() -> frozenset[str]:
    return frozenset(f.number for f in material_fields())


@cache
def _material_places() -> tuple[dict[str, tuple[int, Field]], frozenset[str]]:
    """Each material field by number, with its place in schema order; the required ones."""
    places = {f.number: (place, f) for place, f in enumerate(material_fields())}
    return places, frozenset(f.number for f in material_fields() if f.required)


@lru_cache(maxsize=64)
def _row_plan(given: frozenset[str]) -> tuple[tuple[Field, ...], tuple[str, ...]]:
    """What ``clean_material`` checks of a row giving the keys ``given``: the fields given and
    the required ones, in schema order (``validate_value`` answers nothing and no problem for
    any other: a row gives a few of some hundred fields), and the keys that are no material
    field, sorted. Made once per set of keys: the rows of an upload mostly give the same."""
    places, required = _material_places()
    fields = tuple(
        f for _place, f in sorted(places[n] for n in required.union(given) if n in places)
    )
    return fields, tuple(sorted(given - _material_numbers()))


@cache
def importable_fields() -> tuple[Field, ...]:
    """The columns an import file may have (and the template has), in schema order."""
    return tuple(f for f in row_fields() if f.number != REGULATOR_KEY)


def _json(value: Any) -> Any:
    """A clean registry value as kept in JSON: decimals as text, dates in ISO form."""
    if type(value) is str:  # most values
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


# -- checking a row ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanMaterial:
    """A material's values after every check: ``data`` by field number (JSON values), its
    components in order, and the CCL ID to link (None when no library chemical)."""

    data: dict[str, Any]
    components: tuple[dict[str, Any], ...]
    ccl_id: int | None


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _extra_problem(f: Field, value: Any) -> str | None:
    """Checks beyond the schema's facets that the stored row needs (a negative amount is
    stored: CERS takes one, and ``submittals.validation`` warns about it)."""
    if f.number == MAXIMUM_DAILY_AMOUNT and abs(value) >= _AMOUNT_COLUMN_LIMIT:
        return f"{f.label}: at most 999,999,999,999.9999."
    return None


def clean_material(
    values: Mapping[str, Any], components: Sequence[Mapping[str, Any]] = ()
) -> CleanMaterial:
    """Check a material's raw values (keyed by field number) and components (dicts keyed by
    ``COMPONENT_KEYS``, first to fifth) and return them clean.

    Raises ``ValidationError`` keyed by field number, each message starting with the field's
    label ("Common name: required."): only what the schema refuses (and what the stored row
    cannot hold) is refused here; what CERS accepts with a guidance message is kept and left
    to ``submittals.validation``. Blank component entries are skipped; the others keep their
    order and are numbered from 1 without gaps.
    """
    errors: dict[str, list[str]] = {}
    fields, unknown = _row_plan(frozenset(values))
    for key in unknown:
        if key == REGULATOR_KEY:
            message = "The chemical regulator key (20.0053) is set by CERS, not entered."
        elif any(key == f.number for by in component_fields().values() for f in by.values()):
            message = f"Field {key} belongs to a mixture component: give it with the components."
        else:
            message = f"{key!r} is not a field of a hazardous material."
        errors.setdefault(NON_FIELD_ERRORS, []).append(message)

    data: dict[str, Any] = {}
    for f in fields:
        number = f.number
        value, problem = validate_value(f, values.get(number))
        if problem is None and value is not None:
            problem = _extra_problem(f, value)
        if problem:
            errors[number] = [problem]
        elif value is not None:
            data[number] = value if type(value) is str else _json(value)

    clean_components = []
    if len(components) > MAX_COMPONENTS:
        errors.setdefault(NON_FIELD_ERRORS, []).append(
            f"A material lists at most {MAX_COMPONENTS} hazardous components; put the others "
            "in Additional mixture components (247)."
        )
        components = components[:MAX_COMPONENTS]
    for position, raw in enumerate(components, start=1):
        fields = component_fields()[position]
        if all(_is_blank(raw.get(key)) for key in COMPONENT_KEYS):
            continue
        component: dict[str, Any] = {}
        for key, f in fields.items():
            value, problem = validate_value(f, raw.get(key))
            if problem:
                errors[f.number] = [problem]
            else:
                component[key] = value
        # A component with neither name nor CAS number is kept: CERS holds such components
        # (a percentage and hazard flags), and ``submittals.validation`` warns about them.
        clean_components.append(component)

    if errors:
        raise ValidationError(errors)
    return CleanMaterial(
        data=data,
        components=tuple(
            {
                "position": position,
                "name": c.get("name") or "",
                "cas_number": c.get("cas_number") or "",
                "percent_by_weight": c.get("percent_by_weight"),
                "ehs": c.get("ehs") or "",
            }
            for position, c in enumerate(clean_components, start=1)
        ),
        ccl_id=data.get(CCL_ID),
    )


def _columns(data: Mapping[str, Any]) -> dict[str, Any]:
    """The model columns that repeat values of ``data``."""
    amount = data.get(MAXIMUM_DAILY_AMOUNT)
    return {
        "common_name": data.get(COMMON_NAME, ""),
        "chemical_name": data.get(CHEMICAL_NAME, ""),
        "cas_number": data.get(CAS_NUMBER, ""),
        "physical_state": data.get(PHYSICAL_STATE, ""),
        "maximum_daily_amount": (
            None
            if amount is None
            else Decimal(amount).quantize(_AMOUNT_PLACES, rounding=ROUND_HALF_UP)
        ),
        "units": data.get(UNITS, ""),
        "location": data.get(LOCATION, ""),
    }


def _component_json(component: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _json(component.get(key)) for key in ("position", *COMPONENT_KEYS)}


def _library_chemicals(ccl_ids) -> dict[int, Chemical]:
    ids = {ccl_id for ccl_id in ccl_ids if ccl_id is not None}
    if not ids:
        return {}
    return {c.ccl_id: c for c in Chemical.objects.with_ccl_ids(ids)}


def _library_chemical(ccl_id: int | None, picked: Chemical | None = None) -> Chemical | None:
    """The library chemical a row links to: the one its CCL ID names (None when the library
    lacks it: the row keeps the CCL ID all the same, CalEPA adds chemicals on its own schedule,
    and the validation warns); without a CCL ID, the chemical picked to fill the row when that
    chemical has no CCL ID either (a picked chemical whose CCL ID was cleared is unlinked)."""
    if ccl_id is None:
        return picked if picked is not None and picked.ccl_id is None else None
    return _library_chemicals([ccl_id]).get(ccl_id)


@cache
def _field_by_number() -> dict[str, Field]:
    return {f.number: f for f in row_fields()}


# -- access -----------------------------------------------------------------------------------


def _editable_inventory(actor, record: SubmittalElementRecord, *, lock: bool = True):
    """Reload the element (locked for the rest of the transaction when ``lock``) and make sure
    ``actor`` may change its materials now."""
    records = SubmittalElementRecord.objects.select_related("facility__organization")
    record = records.lock(record, locking=lock)
    require(actor, "submittals.edit", record)
    if record.element != HMI:
        raise ValidationError(
            "Hazardous materials are listed only in a Hazardous Materials Inventory element."
        )
    # An EDT account edits only the elements its Facility Submittal Submit is storing,
    # submitted from the start (``submittals.rules``); everyone else only drafts.
    if not record.is_draft and not is_service_account(actor):
        raise ValidationError(
            f"This {record.get_element_display()} element was submitted and can no longer be "
            "changed. To correct it, start a new draft of the element."
        )
    return record


def _locked_material(actor, material: HazardousMaterial):
    record = _editable_inventory(actor, SubmittalElementRecord(pk=material.record_id))
    found = HazardousMaterial.objects.select_for_update().filter(pk=material.pk, record=record)
    material = found.first()
    if material is None:
        raise ValidationError("This material no longer exists: it may have been deleted.")
    return record, material


def _touch(record: SubmittalElementRecord) -> None:
    """Mark the draft as changed by a person (its rows are part of it)."""
    now = timezone.now()
    SubmittalElementRecord.objects.filter(pk=record.pk).update(updated_at=now, saved_at=now)


def _create_components(material: HazardousMaterial, components) -> list[MixtureComponent]:
    return MixtureComponent.objects.bulk_create(
        MixtureComponent(material=material, **component) for component in components
    )


# -- writes -----------------------------------------------------------------------------------


@transaction.atomic
def add_material(
    *,
    actor,
    record: SubmittalElementRecord,
    values: Mapping[str, Any],
    components: Sequence[Mapping[str, Any]] = (),
    regulator_key: str = "",
    chemical: Chemical | None = None,
) -> HazardousMaterial:
    """Add a material at the end of a draft inventory (or of the inventory an EDT Facility
    Submittal Submit is storing, inside the upload's transaction).

    ``values`` are raw values by field number ("207": "Diesel"); "250" (CCL ID) links the
    chemical library entry with that ID, when the library has it (a CCL ID it lacks is kept,
    and warned about); ``chemical``, the library entry picked to fill the row, links it when
    neither has a CCL ID. ``components`` are up to five dicts with
    ``name``, ``cas_number``, ``percent_by_weight`` and ``ehs``. ``regulator_key`` is the
    regulator's own ChemicalRegulatorKey (20.0053), a new one when not given. Raises
    ``ValidationError`` keyed by field number when a value is missing or wrong; nothing is
    stored then.
    """
    record = _editable_inventory(actor, record)
    clean = clean_material(values, components)
    [(key, row)] = _store_materials(actor, record, [(clean, regulator_key, chemical)])
    material = HazardousMaterial(id=key, **dict(zip(_MATERIAL_COLUMNS, row, strict=True)))
    material._state.adding = False
    material._state.db = record._state.db
    return material


# Rows ``add_materials`` checks and writes at a time.
MATERIALS_BATCH = 1000


@transaction.atomic
def add_materials(
    *,
    actor,
    record: SubmittalElementRecord,
    rows: Iterable[tuple[Mapping[str, Any], Sequence[Mapping[str, Any]], str]],
) -> dict[int, ValidationError]:
    """``add_material`` for many rows at once, ``(values, components, regulator_key)`` each,
    as an EDT Facility Submittal Submit stores an inventory: every row is checked as
    ``add_material`` checks it, and those that pass are added in their order, with one
    ``inventory.material_added`` event each. ``rows`` are taken ``MATERIALS_BATCH`` at a time
    and each batch is written before the next is read (a few queries a batch, whatever its
    length), so a caller reading them from a document as they are asked for holds no more
    than a batch. Returns the errors of the rows that did not pass, by index (the caller's
    transaction decides whether the others stay)."""
    record = _editable_inventory(actor, record)
    cleaned, errors = [], {}
    for index, (values, components, regulator_key) in enumerate(rows):
        try:
            cleaned.append((clean_material(values, components), regulator_key, None))
        except ValidationError as error:
            errors[index] = error
        if len(cleaned) == MATERIALS_BATCH:
            _store_materials(actor, record, cleaned)
            cleaned = []
    if cleaned:
        _store_materials(actor, record, cleaned)
    return errors


# The columns ``_store_materials`` writes of a material, and of a component.
_MATERIAL_COLUMNS = (
    "record_id",
    "position",
    "chemical_id",
    "data",
    "common_name",
    "chemical_name",
    "cas_number",
    "physical_state",
    "maximum_daily_amount",
    "units",
    "location",
)
_COMPONENT_COLUMNS = ("material_id", "position", *COMPONENT_KEYS)


def _store_materials(actor, record, cleaned) -> list[tuple[int, tuple]]:
    """Add checked rows, ``(clean, regulator_key, picked chemical)`` each, at the end of the
    locked inventory ``record``: the rows, their components, the draft touched, an event each.
    The rows are written from their values (``insert_values``): an upload of thousands builds
    no model object, and each row's data is written as JSON once, for its row and its event
    (``json_text``). Returns each row's key and values (``_MATERIAL_COLUMNS``)."""
    chemicals = _library_chemicals(clean.ccl_id for clean, _key, _picked in cleaned)
    last = record.materials.aggregate(last=Max("position"))["last"] or 0
    rows, texts = [], []
    for offset, (clean, regulator_key, picked) in enumerate(cleaned, start=1):
        data = {**clean.data, REGULATOR_KEY: regulator_key or str(uuid.uuid4())}
        if clean.ccl_id is None:
            chemical = picked if picked is not None and picked.ccl_id is None else None
        else:
            chemical = chemicals.get(clean.ccl_id)
        columns = _columns(data)
        rows.append(
            (
                record.pk,
                last + offset,
                chemical.pk if chemical is not None else None,
                data,
                *(columns[name] for name in _MATERIAL_COLUMNS[4:]),
            )
        )
        texts.append(json_text(data))
    keys = insert_values(
        HazardousMaterial,
        _MATERIAL_COLUMNS,
        [(*row[:3], text, *row[4:]) for row, text in zip(rows, texts, strict=True)],
    )
    insert_values(
        MixtureComponent,
        _COMPONENT_COLUMNS,
        [
            (key, *(component[name] for name in _COMPONENT_COLUMNS[1:]))
            for key, (clean, _key, _picked) in zip(keys, cleaned, strict=True)
            for component in clean.components
        ],
    )
    _touch(record)
    organization = record.facility.organization
    record_events(
        object_event(
            actor,
            "inventory.material_added",
            HazardousMaterial,
            key,
            row[4],  # its common name: what ``str`` of the material says
            after=_added(record.pk, row[1], text, clean.components),
            organization=organization,
        )
        for key, row, text, (clean, _key, _picked) in zip(keys, rows, texts, cleaned, strict=True)
    )
    return list(zip(keys, rows, strict=True))


def _added(record_id: int, position: int, data: JsonText, components) -> JsonText:
    """The ``after`` of a material's ``inventory.material_added`` event, its row's data
    written into it as the row's own JSON text."""
    listed = [_component_json(c) for c in components]
    value = {"record": record_id, "position": position, "data": data.value, "components": listed}
    return JsonText(
        value,
        f'{{"record": {record_id}, "position": {position}, "data": {data.text}, '
        f'"components": {json.dumps(listed) if listed else "[]"}}}',
    )


@transaction.atomic(durable=True)
def update_material(
    *,
    actor,
    material: HazardousMaterial,
    values: Mapping[str, Any],
    components: Sequence[Mapping[str, Any]] = (),
    chemical: Chemical | None = None,
) -> HazardousMaterial:
    """Replace a material's values and components (the whole row, as ``add_material`` takes
    it, ``chemical`` included). The row keeps its position and its regulator key."""
    record, material = _locked_material(actor, material)
    clean = clean_material(values, components)
    chemical = _library_chemical(clean.ccl_id, chemical)
    before = {
        "data": material.data,
        "components": [_component_json(vars(c)) for c in material.components.all()],
    }
    key = (material.data or {}).get(REGULATOR_KEY) or str(uuid.uuid4())
    data = {**clean.data, REGULATOR_KEY: key}
    for name, value in _columns(data).items():
        setattr(material, name, value)
    material.data = data
    material.chemical = chemical
    material.save()
    material.components.all().delete()
    _create_components(material, clean.components)
    _touch(record)
    record_event(
        actor,
        "inventory.material_changed",
        material,
        before=before,
        after={"data": data, "components": [_component_json(c) for c in clean.components]},
        organization=record.facility.organization,
    )
    return material


@transaction.atomic(durable=True)
def delete_material(*, actor, material: HazardousMaterial) -> None:
    """Delete a material and its components; the rows after it move up one position."""
    record, material = _locked_material(actor, material)
    record_event(
        actor,
        "inventory.material_deleted",
        material,
        before={"record": record.pk, "position": material.position, "data": material.data},
        organization=record.facility.organization,
    )
    position = material.position
    material.delete()
    _close_gap(record, position)
    _touch(record)


def _close_gap(record: SubmittalElementRecord, position: int) -> None:
    """Move the rows after ``position`` up one. Done in two steps, through positions no row
    uses, because the database checks (record, position) is unique row by row."""
    later = HazardousMaterial.objects.filter(record=record, position__gt=position)
    offset = IMPORT_MAX_ROWS * 1000 + (later.aggregate(last=Max("position"))["last"] or 0)
    later.update(position=F("position") + offset)
    HazardousMaterial.objects.filter(record=record, position__gt=offset).update(
        position=F("position") - offset - 1
    )


# What a new draft copies of each material and of its mixture components.
COPIED_MATERIAL_FIELDS = (
    "position",
    "common_name",
    "chemical_name",
    "cas_number",
    "chemical_id",
    "physical_state",
    "maximum_daily_amount",
    "units",
    "location",
)
COPIED_COMPONENT_FIELDS = ("position", "name", "cas_number", "percent_by_weight", "ehs")


def copy_materials(*, source: SubmittalElementRecord, target: SubmittalElementRecord) -> int:
    """Copy ``source``'s materials and their components into ``target`` (a new draft), in
    order. Runs inside the caller's transaction (``services.start_draft``)."""
    originals = list(source.materials.order_by("position").prefetch_related("components"))
    copies = HazardousMaterial.objects.bulk_create(
        HazardousMaterial(
            record=target,
            data=dict(original.data or {}),
            **field_values(original, COPIED_MATERIAL_FIELDS),
        )
        for original in originals
    )
    MixtureComponent.objects.bulk_create(
        MixtureComponent(material=copy, **field_values(component, COPIED_COMPONENT_FIELDS))
        for original, copy in zip(originals, copies, strict=True)
        for component in original.components.all()
    )
    return len(copies)


# -- the chemical library ---------------------------------------------------------------------


def _code_for(f: Field, text: Any) -> str:
    """A code of ``f`` from its value or its label in any case ("Liquid", "b" -> "b");
    the text itself (to fail validation with the field's message) when neither matches."""
    text = "" if text is None else str(text).strip()
    if not text or text in f.code_values:
        return text
    folded = text.casefold()
    for value, label in f.codes:
        if folded in (value.casefold(), label.casefold()):
            return value
    return text


def values_from_chemical(chemical: Chemical) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The identity and hazard values a library chemical fills in, as form text by field
    number, and its components. Hazard categories the entry lists are marked Y; values the
    entry holds that the registry would refuse are left for the user to give."""
    by_number = _field_by_number()
    values = {
        CCL_ID: "" if chemical.ccl_id is None else str(chemical.ccl_id),
        CHEMICAL_NAME: chemical.chemical_name,
        COMMON_NAME: chemical.common_name or chemical.chemical_name,
        CAS_NUMBER: chemical.cas_number,
        EHS: "Y" if chemical.ehs else "N",
        PHYSICAL_STATE: _code_for(by_number[PHYSICAL_STATE], chemical.physical_state),
        HM_TYPE: _code_for(by_number[HM_TYPE], chemical.hm_type),
        DOT_HAZARD_CLASS: _code_for(by_number[DOT_HAZARD_CLASS], chemical.dot_hazard_class),
    }
    fire_classes = [f for f in row_fields() if f.number.startswith("210")]
    given = [c for c in (chemical.fire_code_hazard_classes or []) if not _is_blank(c)]
    for f, raw in zip(fire_classes, given + [""] * len(fire_classes), strict=False):
        values[f.number] = str(raw).strip()
    listed = {str(n).strip() for n in (chemical.federal_hazard_categories or [])}
    for f in row_fields():
        if f.number.startswith("216"):
            values[f.number] = "Y" if f.number in listed else ""
    values = {
        number: text
        for number, text in values.items()
        if text == "" or validate_value(by_number[number], text)[1] is None
    }
    components = []
    for raw in (chemical.components or [])[:MAX_COMPONENTS]:
        if not isinstance(raw, Mapping):
            continue
        ehs = raw.get("ehs")
        components.append(
            {
                "name": str(raw.get("name") or ""),
                "cas_number": str(raw.get("cas_number") or raw.get("cas") or ""),
                "percent_by_weight": str(raw.get("percent_by_weight") or raw.get("percent") or ""),
                "ehs": ("Y" if ehs else "N") if isinstance(ehs, bool) else str(ehs or ""),
            }
        )
    return values, components


# -- display ----------------------------------------------------------------------------------


def _label_of(column: str, number: str) -> Case:
    codes = _field_by_number()[number].codes
    return Case(
        *(When(**{column: value}, then=Value(label)) for value, label in codes),
        default=F(column),
        output_field=CharField(),
    )


def materials_for_display():
    """Materials in order, with their library chemical, their components, and the labels of
    their physical state and units (``physical_state_label``, ``units_label``)."""
    return (
        HazardousMaterial.objects.order_by("position")
        .select_related("chemical")
        .prefetch_related("components")
        .annotate(
            physical_state_label=_label_of("physical_state", PHYSICAL_STATE),
            units_label=_label_of("units", UNITS),
        )
    )


def materials_prefetch() -> Prefetch:
    """Prefetch an element's materials for display (as ``record.materials.all``)."""
    return Prefetch("materials", queryset=materials_for_display())


# -- import -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProblem:
    """One reason an import was refused: the file's row number (the header is row 1; None
    for the file as a whole), the column's header as the file spells it, and the message."""

    row: int | None
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import did: materials added and removed, or the problems that stopped it."""

    file_name: str = ""
    added: int = 0
    removed: int = 0
    problems: list[ImportProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# The file as a whole cannot be imported; the message says why and what to do.
ImportFileError = SpreadsheetError
SHEET_LIMITS = SheetLimits(
    what="the inventory",
    max_bytes=IMPORT_MAX_BYTES,
    max_uncompressed_bytes=XLSX_MAX_UNCOMPRESSED_BYTES,
)


def header_names(f: Field) -> tuple[str, ...]:
    """The headers that name a field in an import file: its number, tag, label, and
    "label (number)". Matched without regard to case or surrounding spaces."""
    return (f.number, f.tag, f.label, f"{f.label} ({f.number})")


@cache
def _headers() -> dict[str, Field]:
    out: dict[str, Field] = {}
    for f in importable_fields():
        for name in header_names(f):
            key = name.strip().casefold()
            if out.setdefault(key, f) is not f:
                raise RuntimeError(f"Import header {name!r} names two fields.")
    return out


def template_csv() -> str:
    """The import template: one header row, each column named by its field's tag."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(f.tag for f in importable_fields())
    return "\ufeff" + out.getvalue()  # the BOM makes Excel read the file as UTF-8


@dataclass(frozen=True)
class _ParsedRow:
    number: int  # the file's row number
    values: dict[str, str]
    components: list[dict[str, str]]


def _columns_of(header: list[Any]) -> tuple[list[Field | None], list[ImportProblem]]:
    """The field of each column of the header row, or the header's problems."""
    problems = []
    columns: list[Field | None] = []
    seen: dict[str, str] = {}
    known = _headers()
    for index, cell in enumerate(header, start=1):
        text = cell_text(cell)
        if not text:
            columns.append(None)  # a blank header: the column must stay empty
            continue
        f = known.get(text.casefold())
        if f is None:
            problems.append(
                ImportProblem(
                    1,
                    text,
                    f"Column {index}: “{text}” is not an inventory field. Name columns by "
                    "field number, tag or label (see the accepted headers), or remove it.",
                )
            )
        elif f.number in seen:
            problems.append(
                ImportProblem(
                    1, text, f"Column {index} repeats {f.label} ({f.number}): “{seen[f.number]}”."
                )
            )
            f = None
        else:
            seen[f.number] = text
        columns.append(f)
    if not problems:
        for f in material_fields():
            if f.required and f.number not in seen:
                problems.append(
                    ImportProblem(
                        1,
                        "",
                        f"The file has no column for {f.label} ({f.number}), which every "
                        f"material needs. Add a column headed “{f.tag}”.",
                    )
                )
    return columns, problems


def _parse(rows: Iterator[list[Any]]) -> tuple[list[_ParsedRow], dict[str, str], list]:
    """Rows of raw text by field number, the header text of each field, and the problems of
    the file's layout (header, size)."""
    header = next(rows, None)
    if header is None or not any(cell_text(cell) for cell in header):
        raise ImportFileError(
            "The first row must hold the column headers; it is empty. Start from the template."
        )
    columns, problems = _columns_of(header)
    if problems:
        return [], {}, problems
    heading = {
        f.number: cell_text(cell) for f, cell in zip(columns, header, strict=True) if f is not None
    }
    where = {}
    for position, by_key in component_fields().items():
        for key, f in by_key.items():
            where[f.number] = (position, key)

    parsed = []
    for number, row in enumerate(rows, start=2):
        cells = [cell_text(cell) for cell in row]
        if not any(cells):
            continue  # blank rows (spreadsheets keep many) are not materials
        if len(parsed) == IMPORT_MAX_ROWS:
            raise ImportFileError(
                f"The file lists more than {IMPORT_MAX_ROWS:,} materials; at most "
                f"{IMPORT_MAX_ROWS:,} are imported at a time. Split it into several files and "
                "import them one after another (without replacing)."
            )
        values: dict[str, str] = {}
        components = [dict.fromkeys(COMPONENT_KEYS, "") for _ in range(MAX_COMPONENTS)]
        for index, text in enumerate(cells):
            f = columns[index] if index < len(columns) else None
            if f is None:
                if text:
                    problems.append(
                        ImportProblem(
                            number,
                            f"column {index + 1}",
                            f"Column {index + 1} has a value but no header. Add its header "
                            "or clear the column.",
                        )
                    )
                continue
            if problem := control_character(text):
                problems.append(ImportProblem(number, heading[f.number], problem))
                continue
            if f.codes:
                text = _code_for(f, text)
            if f.number in where:
                position, key = where[f.number]
                components[position - 1][key] = text
            else:
                values[f.number] = text
        parsed.append(_ParsedRow(number, values, components))
    return parsed, heading, problems


def _import_column(key: str, heading: Mapping[str, str]) -> str:
    if key in heading:
        return heading[key]
    f = _field_by_number().get(key)
    return f.tag if f else ""


def import_inventory(
    *, actor, record: SubmittalElementRecord, uploaded_file, replace: bool = False
) -> ImportResult:
    """Import materials from a CSV (UTF-8, header row) or XLSX file (its first sheet).

    Columns are named by field number, tag or label (see ``header_names``); code fields also
    take their labels ("Liquid", "Yes"), in any case. Every row is checked as
    ``add_material`` checks it. Any problem and nothing is imported: the result lists each
    problem by row and column. Otherwise every row is added at the end of the inventory, or in
    place of the existing rows with ``replace``, in one transaction with one audit event.
    The file is read and checked before the transaction starts.
    """
    _editable_inventory(actor, record, lock=False)  # fail fast, before reading the file
    result = ImportResult(file_name=PurePath(getattr(uploaded_file, "name", "") or "").name)
    try:
        rows = read_rows(uploaded_file, SHEET_LIMITS)
        try:
            parsed, heading, problems = _parse(rows)
        finally:
            rows.close()  # an unfinished workbook is closed now, not when collected
    except ImportFileError as exc:
        result.problems.append(ImportProblem(None, "", str(exc)))
        return result
    result.problems.extend(problems)
    if result.problems:
        return result
    if not parsed:
        result.problems.append(
            ImportProblem(None, "", "The file lists no materials below its header row.")
        )
        return result

    cleaned = []
    for row in parsed:
        try:
            cleaned.append((row, clean_material(row.values, row.components)))
        except ValidationError as exc:
            for key, messages in exc.message_dict.items():
                column = "" if key == NON_FIELD_ERRORS else _import_column(key, heading)
                result.problems.extend(ImportProblem(row.number, column, m) for m in messages)
    chemicals = _library_chemicals(clean.ccl_id for _row, clean in cleaned)
    if result.problems:
        result.problems.sort(key=lambda p: p.row or 0)
        return result

    result.added, result.removed = _store_import(
        actor=actor,
        record=record,
        materials=[clean for _row, clean in cleaned],
        chemicals=chemicals,
        replace=replace,
        file_name=result.file_name,
    )
    return result


@transaction.atomic(durable=True)
def _store_import(*, actor, record, materials, chemicals, replace, file_name) -> tuple[int, int]:
    record = _editable_inventory(actor, record)
    removed = 0
    if replace:
        existing = HazardousMaterial.objects.filter(record=record)
        removed = existing.count()
        existing.delete()  # their components go with them
        start = 0
    else:
        start = record.materials.aggregate(last=Max("position"))["last"] or 0
    rows = []
    for offset, clean in enumerate(materials, start=1):
        data = {**clean.data, REGULATOR_KEY: str(uuid.uuid4())}
        rows.append(
            HazardousMaterial(
                record=record,
                position=start + offset,
                chemical=chemicals.get(clean.ccl_id),
                data=data,
                **_columns(data),
            )
        )
    created = HazardousMaterial.objects.bulk_create(rows)
    MixtureComponent.objects.bulk_create(
        MixtureComponent(material=material, **component)
        for material, clean in zip(created, materials, strict=True)
        for component in clean.components
    )
    _touch(record)
    record_event(
        actor,
        "inventory.imported",
        record,
        after={
            "file_name": file_name,
            "added": len(created),
            "replaced": bool(replace),
            "removed": removed,
        },
        organization=record.facility.organization,
    )
    return len(created), removed
