"""Guidance messages for a submittal: Required, Warning and Advisory.

A Required message blocks a submit (in the portal and in an EDT upload); Warnings and
Advisories are shown and let it through. A rule is Required only where CalEPA's schema or
data dictionary says CERS enforces it (a field or group the schema requires, a value outside
its definition, Facility Information accompanying the other elements); every other check is a
Warning or an Advisory, so data CERS accepts is accepted here. ``docs/validation.md`` lists
every rule with its level and the reason for it.

Rules live in two registries, so more can be plugged in without touching the callers:

- ``SUBMITTAL_RULES``: rules over the whole set of elements submitted together
  (``rule(facility, records)``), such as Facility Information accompanying the others;
- ``ELEMENT_RULES``: rules for one element type (``rule(record)``), keyed by the element
  code. The field-level checks driven by the data registry register here per element.

Each rule yields ``Message`` objects; ``validate_submittal`` runs them all.

Three kinds of rules, after the EDT manual's validation types:

- field checks driven by the data registry (``registry_fields``): a value that fails its
  field's definition, and a field the schema requires left blank, are Required. A field is
  required only within its group, so it counts when its group is present: a group the schema
  makes mandatory (Facility Information's Business Activities and Owner/Operator forms, the
  UST facility form), a group the user has started (any value in it), or a repeating row that
  exists. Codes ``F-<number>-REQ`` and ``F-<number>-VAL``; a mandatory repeating group with no
  row is ``G-<tag>-MIN``.
- rules of one element (Facility Information dates, emergency contact, state codes, NAICS;
  the inventory's amounts);
- rules across elements (Facility Information goes with every element; Business Activities
  answers call for the elements they make applicable; the business name matches the
  facility's).

Every message names its element, and the field by label and data-dictionary number, so the
user knows what to fix and where.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import islice
from typing import Literal

from core.elements import SubmittalElement
from core.expressions import KeyText
from core.registry import ElementSchema, Field, Group, schema_for, validate_value

from .data import data_key, field_label, row_fields, row_groups, rows_of

REQUIRED = "required"
WARNING = "warning"
ADVISORY = "advisory"
LEVELS = (REQUIRED, WARNING, ADVISORY)

Level = Literal["required", "warning", "advisory"]


@dataclass(frozen=True)
class Message:
    """One guidance message: its level, a stable code, the text for the user, and the
    element (code 1-10) and field it is about, when it is about one."""

    level: Level
    code: str
    message: str
    element: int | None = None
    field: str | None = None  # the field's data key ("126"), as in the element's data
    label: str | None = None  # the field's label and number: "Owner name (111)"
    group: str | None = None  # for a message about one row: the repeating group's key
    row: int | None = None  # ... and the row's index in it, from 0

    def __post_init__(self):
        if self.level not in LEVELS:
            raise ValueError(f"Unknown message level {self.level!r}.")

    def __str__(self) -> str:
        where = f"{SubmittalElement(self.element).label}: " if self.element else ""
        return f"{where}{self.message}"


SubmittalRule = Callable[[object, Sequence[object]], Iterable[Message]]
ElementRule = Callable[[object], Iterable[Message]]

SUBMITTAL_RULES: list[SubmittalRule] = []
ELEMENT_RULES: dict[int, list[ElementRule]] = defaultdict(list)


def submittal_rule(rule: SubmittalRule) -> SubmittalRule:
    """Register a rule over all the elements submitted together."""
    SUBMITTAL_RULES.append(rule)
    return rule


def element_rule(*elements: int) -> Callable[[ElementRule], ElementRule]:
    """Register a rule for each of the given element types."""

    def register(rule: ElementRule) -> ElementRule:
        for element in elements:
            ELEMENT_RULES[SubmittalElement(element)].append(rule)
        return rule

    return register


def validate_element(record) -> list[Message]:
    """The messages of one element's own rules."""
    return [message for rule in ELEMENT_RULES.get(record.element, ()) for message in rule(record)]


def validate_submittal(facility, records: Sequence) -> list[Message]:
    """Every message for submitting ``records`` (element records of ``facility``) together:
    first the rules across elements, then each element's rules in element order."""
    records = sorted(records, key=lambda record: record.element)
    messages = [message for rule in SUBMITTAL_RULES for message in rule(facility, records)]
    for record in records:
        messages.extend(validate_element(record))
    return messages


def submitted_with(record) -> list[Message]:
    """The messages about ``record``, a submitted element, that its submit showed and let
    through (Warnings and Advisories): the rules across the elements submitted with it (its
    facility submittal) and its own rules, checked again over the same data, as the reviewer
    sees them beside what the business chose to submit anyway."""
    from .models import SubmittalElementRecord

    together = [
        record,
        *SubmittalElementRecord.objects.filter(
            facility_submittal_id=record.facility_submittal_id
        ).exclude(pk=record.pk),
    ]
    together.sort(key=lambda r: r.element)
    across = [
        message
        for rule in SUBMITTAL_RULES
        for message in rule(record.facility, together)
        if message.element in (None, record.element)
    ]
    return across + validate_element(record)


LEVEL_LABELS = {REQUIRED: "Required", WARNING: "Warning", ADVISORY: "Advisory"}


def by_level(messages: Iterable[Message]) -> list[tuple[str, str, list[Message]]]:
    """Messages grouped by level, in level order: (level, label, messages), as the pages show
    them (``templates/submittals/_validation.html``)."""
    grouped = defaultdict(list)
    for message in messages:
        grouped[message.level].append(message)
    return [(level, LEVEL_LABELS[level], grouped[level]) for level in LEVELS if grouped[level]]


def required(messages: Iterable[Message]) -> list[Message]:
    """The messages that block a submit."""
    return [message for message in messages if message.level == REQUIRED]


# --- Field checks driven by the data registry ----------------------------------------------

# Keys CERS assigns to each form and row when it exports them (CDR 20.0050-20.0059...): the
# schema requires them, but nobody types them, so a blank one is not the user's to fix.
SYSTEM_KEY_TYPES = frozenset({"RegulatorEntityKeyType"})

# Fields with a rule of their own that says more than "required" (see below).
FIELDS_WITH_OWN_RULE = frozenset({(SubmittalElement.FACILITY_INFORMATION, "126")})

_STATE_CODE = re.compile(r"[A-Z]{2}")


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


@cache
def _groups_by_path(element: int) -> dict[tuple[str, ...], Group]:
    return {group.path: group for group in schema_for(element).groups}


def _scope_fields(schema: ElementSchema, group: Group | None) -> tuple[Field, ...]:
    """The data fields held directly by the element (``group`` None) or by one row of a
    repeating group; fields of rows nested further are not included."""
    if group is None:
        return tuple(f for f in schema.data_fields if not schema.record_path(f))
    return row_fields(schema, group)


def _group_present(group: Group, started: set[tuple[str, ...]]) -> bool:
    """A group counts when the schema makes it mandatory or the user has started it. One
    alternative of an xs:choice counts only when started."""
    return (group.required and not group.choice) or group.path in started


def _applies(
    element: int, item: Field | Group, scope: tuple[str, ...], started: set[tuple[str, ...]]
) -> bool:
    """Whether the groups between ``scope`` and ``item`` (a field, or a repeating group) are
    all present, so that ``item`` counts where the schema requires it."""
    groups = _groups_by_path(element)
    for depth in range(len(scope) + 1, len(item.path)):
        group = groups.get(item.path[:depth])
        if group is not None and not _group_present(group, started):
            return False
    return True


def _started_groups(fields: Iterable[Field], values: dict) -> set[tuple[str, ...]]:
    """Paths of every group holding at least one value."""
    started: set[tuple[str, ...]] = set()
    for f in fields:
        if not _blank(values.get(data_key(f))):
            started.update(f.path[:depth] for depth in range(1, len(f.path)))
    return started


def _where(schema: ElementSchema, f: Field, group: Group | None, row: int | None) -> str:
    if group is not None:
        return f"{group.label or group.tag} {row + 1}"
    try:
        parent = schema.group_at(f.path[:-1])
    except LookupError:
        return f.group
    return parent.label or parent.tag


def _field_messages(
    schema: ElementSchema, values: dict, *, group: Group | None = None, row: int | None = None
) -> Iterator[Message]:
    """Required messages for the fields of one scope: the element's own fields, or one row."""
    element = int(schema.element)
    scope = group.path if group is not None else ()
    fields = _scope_fields(schema, group)
    started = _started_groups(fields, values)
    for f in fields:
        key = data_key(f)
        value = values.get(key)
        where = _where(schema, f, group, row)
        number = f.number or f.tag
        common = {
            "element": element,
            "field": key,
            "label": field_label(f),
            "group": group.key if group is not None else None,
            "row": row,
        }
        if _blank(value):
            if (
                f.required
                and not f.choice
                and f.xsd_type not in SYSTEM_KEY_TYPES
                and (element, key) not in FIELDS_WITH_OWN_RULE
                and _applies(element, f, scope, started)
            ):
                yield Message(
                    REQUIRED,
                    f"F-{number}-REQ",
                    f"{where}: {field_label(f)} is required. Enter it before submitting.",
                    **common,
                )
            continue
        _clean, problem = validate_value(f, value)
        if problem:
            problem = problem.removeprefix(f"{f.label}: ")
            shown = str(value) if len(str(value)) <= 40 else f"{str(value)[:40]}…"
            yield Message(
                REQUIRED,
                f"F-{number}-VAL",
                f"{where}: {field_label(f)} holds “{shown}”, which is not valid: {problem} "
                "Correct it before submitting.",
                **common,
            )


def _element_data(record) -> dict:
    return record.data if isinstance(record.data, dict) else {}


@element_rule(*SubmittalElement)
def registry_fields(record) -> Iterable[Message]:
    """Each value checked against its field in the data registry, and each field the schema
    requires present, in the element's own forms and in every row of its repeating groups."""
    schema = schema_for(record.element)
    data = _element_data(record)
    yield from _field_messages(schema, data)
    started = _started_groups(_scope_fields(schema, None), data)
    for group in row_groups(schema):
        raw = data.get(group.key)
        if raw is not None and not isinstance(raw, list):
            yield Message(
                REQUIRED,
                f"G-{group.tag}-ROWS",
                f"{group.label or group.tag}: the stored rows are not a list. Remove them and "
                "enter the rows again.",
                element=int(record.element),
                group=group.key,
            )
            continue
        rows = rows_of(data, group)
        if not rows and group.required and _applies(int(record.element), group, (), started):
            yield Message(
                REQUIRED,
                f"G-{group.tag}-MIN",
                f"Add at least one {group.label or group.tag}: the element needs one.",
                element=int(record.element),
                group=group.key,
            )
        for index, row in enumerate(rows):
            yield from _field_messages(schema, row, group=group, row=index)


@element_rule(*SubmittalElement)
def state_codes_are_two_letters(record) -> Iterable[Message]:
    """A state (every field of the schema's StateType: mailing, owner, contacts, billing...)
    is a two-letter postal code in capitals, such as CA (Warning: the schema only limits its
    length)."""
    schema = schema_for(record.element)
    data = _element_data(record)
    scopes = [(None, None, data)] + [
        (group, index, row)
        for group in row_groups(schema)
        for index, row in enumerate(rows_of(data, group))
    ]
    for group, index, values in scopes:
        fields = _scope_fields(schema, group)
        for f in fields:
            if f.xsd_type != "StateType":
                continue
            value = values.get(data_key(f))
            if _blank(value) or _STATE_CODE.fullmatch(str(value).strip()):
                continue
            if validate_value(f, value)[1]:
                continue  # too long: registry_fields reports it
            # StateType only limits the length to 2: CERS takes any two characters.
            yield Message(
                WARNING,
                f"F-{f.number}-STATE",
                f"{_where(schema, f, group, index)}: {field_label(f)} must be a two-letter "
                f"state code in capitals, such as CA (now “{value}”).",
                element=int(record.element),
                field=data_key(f),
                label=field_label(f),
                group=group.key if group else None,
                row=index,
            )


# --- Rules across elements -------------------------------------------------------------------


@submittal_rule
def facility_information_accompanies_other_elements(facility, records) -> Iterable[Message]:
    """CERS's one cross-element rule: a Facility Information element goes with every
    submittal of any other element."""
    elements = {record.element for record in records}
    if elements and SubmittalElement.FACILITY_INFORMATION not in elements:
        yield Message(
            REQUIRED,
            "facility_information_missing",
            "Facility Information must accompany every other submittal element: add a "
            "Facility Information element to this submittal.",
            element=SubmittalElement.FACILITY_INFORMATION,
        )


# Business Activities answers (#4-#14b) that make another element applicable (CDR 20.0088),
# and the elements each answer calls for. #4a (CalARP) has no element in the facility
# submittal; #9, #12, #14a and #14b drive programs without an element of their own.
ACTIVITY_ELEMENTS: dict[str, tuple[SubmittalElement, ...]] = {
    "4": (
        SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
        SubmittalElement.EMERGENCY_RESPONSE,
    ),
    "5": (SubmittalElement.UST,),
    "8": (SubmittalElement.APSA,),
    "10": (SubmittalElement.RECYCLABLE_MATERIALS,),
    "11": (SubmittalElement.TIERED_PERMITTING,),
    "13": (SubmittalElement.REMOTE_WASTE_CONSOLIDATION,),
    "14": (SubmittalElement.HW_TANK_CLOSURE,),
}


def _facility_information(records) -> object | None:
    return next((r for r in records if r.element == SubmittalElement.FACILITY_INFORMATION), None)


@submittal_rule
def business_activities_call_for_elements(facility, records) -> Iterable[Message]:
    """A "Yes" to a Business Activities question makes its element applicable: it should be
    in this submittal or already accepted for the facility (Warning)."""
    from .models import ElementStatus, SubmittalElementRecord

    facility_info = _facility_information(records)
    if facility_info is None:
        return
    data = _element_data(facility_info)
    present = {int(record.element) for record in records}
    wanted = {
        number: [e for e in elements if e not in present]
        for number, elements in ACTIVITY_ELEMENTS.items()
        if data.get(number) == "Y"
    }
    missing = {e for elements in wanted.values() for e in elements}
    if not missing:
        return
    accepted = set(
        SubmittalElementRecord.objects.filter(
            facility=facility, element__in=missing, status=ElementStatus.ACCEPTED
        ).values_list("element", flat=True)
    )
    schema = schema_for(SubmittalElement.FACILITY_INFORMATION)
    for number, elements in wanted.items():
        f = schema.get(number)
        for element in elements:
            if element in accepted:
                continue
            yield Message(
                WARNING,
                f"FI-{number}-E{int(element)}",
                f"Business activities: {field_label(f)} is answered Yes, so a "
                f"{element.label} element is expected. Start one and submit it with this "
                "Facility Information, or answer No if the activity does not apply.",
                element=SubmittalElement.FACILITY_INFORMATION,
                field=number,
                label=field_label(f),
            )


def _normalized_name(text) -> str:
    return " ".join(str(text).split()).casefold()


@submittal_rule
def business_name_matches_facility(facility, records) -> Iterable[Message]:
    """The business name (3) is normally the facility's name in CERS (Advisory)."""
    facility_info = _facility_information(records)
    if facility_info is None:
        return
    name = _element_data(facility_info).get("3")
    if _blank(name) or _normalized_name(name) == _normalized_name(facility.name):
        return
    f = schema_for(SubmittalElement.FACILITY_INFORMATION).get("3")
    yield Message(
        ADVISORY,
        "FI-3-NAME",
        f"Business activities: {field_label(f)} “{name}” differs from the facility's name "
        f"“{facility.name}”. Check that this is the right facility, or ask the Lead User to "
        "correct the facility's name.",
        element=SubmittalElement.FACILITY_INFORMATION,
        field="3",
        label=field_label(f),
    )


# --- Rules of Facility Information -----------------------------------------------------------


def _fi_field(number: str) -> Field:
    return schema_for(SubmittalElement.FACILITY_INFORMATION).get(number)


def _clean(record, number: str):
    """The clean value of a Facility Information field, or None if blank or invalid (an
    invalid one has its own F-<number>-VAL message)."""
    value, problem = validate_value(_fi_field(number), _element_data(record).get(number))
    return None if problem else value


@element_rule(SubmittalElement.FACILITY_INFORMATION)
def ending_date_not_before_beginning_date(record) -> Iterable[Message]:
    """The owner/operator's ending date (101) is on or after its beginning date (100)
    (Warning: neither the schema nor the data dictionary ties the two dates)."""
    beginning, ending = _clean(record, "100"), _clean(record, "101")
    if beginning is None or ending is None or ending >= beginning:
        return
    yield Message(
        WARNING,
        "FI-101-BEFORE-100",
        f"Owner operator information: {field_label(_fi_field('101'))} {ending.isoformat()} is "
        f"before {field_label(_fi_field('100'))} {beginning.isoformat()}. Correct one of them.",
        element=SubmittalElement.FACILITY_INFORMATION,
        field="101",
        label=field_label(_fi_field("101")),
    )


@element_rule(SubmittalElement.FACILITY_INFORMATION)
def primary_emergency_contact_has_24_hour_phone(record) -> Iterable[Message]:
    """Responders must reach the primary emergency contact at any hour: a 24-hour phone
    (126) is needed (Required: the schema requires ``PEC24HrPhone``; this rule words the
    message instead of F-126-REQ)."""
    if not _blank(_element_data(record).get("126")):
        return
    f = _fi_field("126")
    yield Message(
        REQUIRED,
        "FI-126-REQ",
        f"Owner operator information: {field_label(f)} is required, so responders can reach "
        "the primary emergency contact at any hour. Enter it before submitting.",
        element=SubmittalElement.FACILITY_INFORMATION,
        field="126",
        label=field_label(f),
    )


@element_rule(SubmittalElement.FACILITY_INFORMATION)
def naics_code_given(record) -> Iterable[Message]:
    """Regulators sort facilities by industry: a missing NAICS code (107a) is worth a
    reminder (Advisory)."""
    if not _blank(_element_data(record).get("107a")):
        return
    f = _fi_field("107a")
    yield Message(
        ADVISORY,
        "FI-107a-ADV",
        f"Owner operator information: {field_label(f)} is empty. Give the facility's NAICS "
        "code if you know it.",
        element=SubmittalElement.FACILITY_INFORMATION,
        field="107a",
        label=field_label(f),
    )


# --- Rules of the inventory ------------------------------------------------------------------


def _amount(value) -> Decimal | None:
    if _blank(value) or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        return None


@dataclass(frozen=True)
class _Row:
    """One material of an inventory, as the inventory rules read it: its name for messages,
    its values by field number and its mixture components (dicts with ``position``,
    ``name``, ``cas_number``, ``percent_by_weight`` and ``ehs``)."""

    name: str
    values: dict
    components: tuple[dict, ...] = ()


def _components_in_row(values: dict) -> tuple[dict, ...]:
    """The components HC1-HC5 of a row kept in the element's data (fields 226-245)."""
    schema = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
    found = []
    for position in range(1, 6):
        tags = {
            "percent_by_weight": f"HC{position}PercentByWeight",
            "name": f"HC{position}Name",
            "ehs": f"HC{position}EHS",
            "cas_number": f"HC{position}CAS",
        }
        component = {"position": position}
        for key, tag in tags.items():
            f = next((f for f in schema.data_fields if f.tag == tag), None)
            component[key] = values.get(data_key(f)) if f is not None else None
        if any(not _blank(component[key]) for key in tags):
            found.append(component)
    return tuple(found)


COMPONENT_COLUMNS = ("position", "name", "cas_number", "percent_by_weight", "ehs")

# Stored materials read, and checked, at a time.
ROWS_BATCH = 1000


def _stored_materials(record) -> Iterator[list[tuple[int, str, Decimal | None, dict, tuple]]]:
    """The inventory's rows, a batch at a time, each as ``(position, common name, maximum
    daily amount, data, components)``: the materials prefetched on ``record`` when they are
    (one batch), else read as plain values (an inventory of thousands of rows builds no model
    objects), ``ROWS_BATCH`` rows through one cursor with their components read per batch,
    and of their data only the values the row checks read (``ROW_VALUES``, as text)."""
    if "materials" in getattr(record, "_prefetched_objects_cache", {}):
        yield [
            (
                material.position,
                material.common_name,
                material.maximum_daily_amount,
                material.data,
                tuple(
                    {column: getattr(c, column) for column in COMPONENT_COLUMNS}
                    for c in material.components.all()
                ),
            )
            for material in record.materials.all()
        ]
        return
    from .models import HazardousMaterial, MixtureComponent

    materials = (
        HazardousMaterial.objects.filter(record=record)
        .order_by("position")
        .values_list(
            "pk",
            "position",
            "common_name",
            "maximum_daily_amount",
            *(KeyText("data", number) for number in ROW_VALUES),
        )
        .iterator(chunk_size=ROWS_BATCH)
    )
    while batch := list(islice(materials, ROWS_BATCH)):
        components = defaultdict(list)
        for material_id, *values in (
            # The batch's keys as one array on PostgreSQL (``core.lookups``), not a thousand
            # parameters.
            MixtureComponent.objects.filter(material__pk__any=[row[0] for row in batch])
            .order_by("material_id", "position")
            .values_list("material_id", *COMPONENT_COLUMNS)
        ):
            components[material_id].append(dict(zip(COMPONENT_COLUMNS, values, strict=True)))
        yield [
            (
                position,
                name,
                amount,
                {n: value for n, value in zip(ROW_VALUES, data, strict=True) if value is not None},
                tuple(components.get(material_id, ())),
            )
            for material_id, position, name, amount, *data in batch
        ]


def _inventory_rows(record) -> Iterator[list[_Row]]:
    """Each material, a batch at a time: the inventory's rows (``HazardousMaterial``) when it
    has any, else rows kept in the element's data."""
    stored = False
    if record.pk is not None:
        for batch in _stored_materials(record):
            rows = []
            for position, name, amount, data, components in batch:
                values = dict(data or {})
                values.setdefault("218", amount)
                rows.append(_Row(f"{name} (row {position})", values, components))
            stored = stored or bool(rows)
            yield rows
    if not stored:
        group = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY).group_at(
            "Chemicals/Chemical"
        )
        rows = []
        for index, values in enumerate(rows_of(_element_data(record), group)):
            name = f"{values.get('207') or 'Material'} (row {index + 1})"
            rows.append(_Row(name, values, _components_in_row(values)))
        yield rows


def maximum_daily_amount_not_below_average(rows: list[_Row]) -> Iterable[Message]:
    """A material's maximum daily amount (218) is at least its average daily amount (217)
    (Advisory: one of the two is probably mistyped)."""
    schema = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
    maximum_f, average_f = schema.get("218"), schema.get("217")
    for row in rows:
        values = row.values
        average = _amount(values.get("217"))  # the rarer of the two: most rows stop here
        if average is None:
            continue
        maximum = _amount(values.get("218"))
        if maximum is None or maximum >= average:
            continue
        name = row.name
        yield Message(
            ADVISORY,
            "HMI-218-BELOW-217",
            f"{name}: {field_label(maximum_f)} {maximum} is below {field_label(average_f)} "
            f"{average}. Check both amounts.",
            element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
            field="218",
            label=field_label(maximum_f),
        )


# Amounts and counts that cannot be below zero. The schema sets no lower bound, so CERS takes
# a negative one: a Warning.
NOT_NEGATIVE = ("213", "215", "217", "218", "219", "222")


def amounts_not_negative(rows: list[_Row]) -> Iterable[Message]:
    """Amounts, the largest container, curies and days on site are not below zero (Warning:
    the schema sets no lower bound)."""
    schema = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
    for row in rows:
        values = row.values
        for number in NOT_NEGATIVE:
            value = values.get(number)
            if value is None:  # most rows give two or three of them
                continue
            amount = _amount(value)
            if amount is None or amount >= 0:
                continue
            f = schema.get(number)
            yield Message(
                WARNING,
                f"HMI-{number}-NEGATIVE",
                f"{row.name}: {field_label(f)} is {amount}, below zero. Check the value.",
                element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
                field=number,
                label=field_label(f),
            )


def mixture_components_are_named(rows: list[_Row]) -> Iterable[Message]:
    """A mixture component is named by its name or CAS number (Warning: CERS holds components
    with only a percentage and hazard flags; the schema requires neither field)."""
    schema = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
    names = {f.tag: f for f in schema.data_fields if f.tag.startswith("HC")}
    for row in rows:
        for component in row.components:
            if not _blank(component.get("name")) or not _blank(component.get("cas_number")):
                continue
            position = component.get("position")
            name_field = names.get(f"HC{position}Name")
            yield Message(
                WARNING,
                "HMI-COMPONENT-UNNAMED",
                f"{row.name}: hazardous component {position} has no name and no CAS number. "
                "Give one of them if the product's safety data sheet lists it.",
                element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
                field=data_key(name_field) if name_field else None,
                label=field_label(name_field) if name_field else None,
            )


def ccl_ids_in_the_library(rows: list[_Row]) -> Iterable[Message]:
    """A CCL ID (250) names a chemical of the loaded chemical library (Warning: CalEPA adds
    chemicals to its library on its own schedule, so a real CCL ID may be newer than the
    library loaded here)."""
    from libraries.models import Chemical

    numbered = [(row, _ccl_id(row.values.get("250"))) for row in rows]
    wanted = {ccl_id for _row, ccl_id in numbered if ccl_id is not None}
    if not wanted:
        return
    known = set(Chemical.objects.with_ccl_ids(wanted).values_list("ccl_id", flat=True))
    f = schema_for(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY).get("250")
    for row, ccl_id in numbered:
        if ccl_id is None or ccl_id in known:
            continue
        yield Message(
            WARNING,
            "HMI-250-UNKNOWN",
            f"{row.name}: {field_label(f)} {ccl_id} is not in the chemical library loaded "
            "here. Check the number; if it is CalEPA's, the library will know it once the "
            "state administrator loads CalEPA's latest library.",
            element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
            field="250",
            label=field_label(f),
        )


def _ccl_id(value) -> int | None:
    """A CCL ID as a number; None when blank or not a positive number (F-250-VAL says so)."""
    if _blank(value) or isinstance(value, bool):
        return None
    text = str(value).strip()
    return int(text) if text.isdecimal() and int(text) > 0 else None


# The checks of each material, run over the rows read once.
ROW_CHECKS = (
    maximum_daily_amount_not_below_average,
    amounts_not_negative,
    mixture_components_are_named,
    ccl_ids_in_the_library,
)
# The values of a material's data that ``ROW_CHECKS`` read: the rows read back from the
# database carry these alone (a check that reads another value must add it here).
ROW_VALUES = (*NOT_NEGATIVE, "250")


@element_rule(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
def inventory_materials(record) -> Iterable[Message]:
    """Every material checked by ``ROW_CHECKS``, its rows read once, a batch at a time; the
    messages come check by check, each check's in the rows' order."""
    found: list[list[Message]] = [[] for _check in ROW_CHECKS]
    for rows in _inventory_rows(record):
        for messages, check in zip(found, ROW_CHECKS, strict=True):
            messages.extend(check(rows))
    for messages in found:
        yield from messages


# --- Rules of single elements ----------------------------------------------------------------


@element_rule(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
def inventory_lists_a_material(record) -> Iterable[Message]:
    """An inventory submittal reports at least one hazardous material (a
    ``HazardousMaterial`` row of the element). Warning: the schema lets ``Chemicals`` hold no
    ``Chemical`` (minOccurs 0)."""
    if record.pk is None or not record.materials.exists():
        yield Message(
            WARNING,
            "inventory_empty",
            "The inventory lists no hazardous materials. Add the materials the facility "
            "handles, unless it has none to report.",
            element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
            field="materials",
        )


@element_rule(*SubmittalElement)
def required_documents_are_answered(record) -> Iterable[Message]:
    """Each document slot the schema requires (the inventory's site map, the emergency
    response and training plans, the UST certification of financial responsibility, ...)
    is answered: uploaded, exempt, provided to the regulator or in another element, at a
    public URL, or stored at the facility."""
    schema = schema_for(SubmittalElement(record.element))
    slots = [slot for slot in schema.document_slots if slot.required and not slot.choice]
    if not slots:
        return
    answered = set(record.documents.values_list("slot", flat=True)) if record.pk else set()
    for slot in slots:
        if slot.tag in answered:
            continue
        yield Message(
            REQUIRED,
            f"DOC-{slot.tag}-REQ",
            f"{slot.label}: this document is required. Upload it, or say how it is provided "
            "(exempt, provided to the regulator, in another element, at a public address, or "
            "stored at the facility).",
            element=record.element,
            field=slot.tag,
            label=slot.label,
        )
