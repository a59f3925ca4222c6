"""Guidance messages for a submittal: Required, Warning and Advisory.

A Required message blocks a submit; Warnings and Advisories are shown and let it through.

Rules live in two registries, so more can be plugged in without touching the callers:

- ``SUBMITTAL_RULES``: rules over the whole set of elements submitted together
  (``rule(facility, records)``), such as Facility Information accompanying the others;
- ``ELEMENT_RULES``: rules for one element type (``rule(record)``), keyed by the element
  code. The field-level checks driven by the data registry register here per element.

Each rule yields ``Message`` objects; ``validate_submittal`` runs them all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from core.elements import SubmittalElement

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
    field: str | None = None

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


def required(messages: Iterable[Message]) -> list[Message]:
    """The messages that block a submit."""
    return [message for message in messages if message.level == REQUIRED]


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


# --- Rules of single elements ----------------------------------------------------------------


@element_rule(SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY)
def inventory_lists_a_material(record) -> Iterable[Message]:
    """An inventory submittal reports at least one hazardous material."""
    data = record.data if isinstance(record.data, dict) else {}
    if not data.get("materials"):
        yield Message(
            REQUIRED,
            "inventory_empty",
            "The inventory lists no hazardous materials. Add at least one material.",
            element=SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
            field="materials",
        )
