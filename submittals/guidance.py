"""The guidance messages panel of the business element page: each message with a link to the
field it is about, and a one-line count for screen readers.

A message names its field by data key (``Message.field``) and, for one row of a repeating
group, the group and the row (``Message.group``, ``Message.row``). The link goes where the
field can be corrected: the input on this page (``#id_f_...``, the id the form gives it), the
other part of Facility Information, the row's own page, the group's table, the inventory or
the document slot. Messages about another element, or fields no page shows, have no link.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from core.elements import SubmittalElement
from core.registry import ElementSchema, Field, FieldLookupError, schema_for

from . import facility_information
from .data import data_key
from .forms import field_anchor
from .validation import ADVISORY, REQUIRED, WARNING, Message


@dataclass(frozen=True)
class Linked:
    """A message and where its field is ("" when nowhere on the business pages)."""

    message: Message
    href: str

    @property
    def code(self) -> str:
        return self.message.code

    @property
    def level(self) -> str:
        return self.message.level

    def __str__(self) -> str:
        return str(self.message)


def _field(schema: ElementSchema, key: str) -> Field | None:
    for f in schema.data_fields:
        if data_key(f) == key:
            return f
    return None


def _repeating_group(schema: ElementSchema, key: str | None):
    if not key:
        return None
    try:
        group = schema.group_at(key)
    except FieldLookupError:
        return None
    return group if group.repeats else None


def message_href(record, message: Message, *, part=None, on_element_page: bool = True) -> str:
    """Where ``message``'s field is corrected on the business pages of ``record`` (a draft
    its reader may edit); ``part`` is the Facility Information part the page shows. From
    another page (a row's), links to the element page's inputs carry its address."""
    href = _href(record, message, part=part)
    if href.startswith("#") and not on_element_page:
        page = reverse("business:element", args=[record.pk])
        if part is not None:
            page = f"{page}?part={part.slug}"
        return page + href
    return href


def _href(record, message: Message, *, part=None) -> str:
    if message.element is not None and int(message.element) != record.element:
        return ""
    schema = schema_for(record.element)
    page = reverse("business:element", args=[record.pk])
    group = _repeating_group(schema, message.group)
    if group is not None and message.row is not None:
        url = reverse("business:element_group_row", args=[record.pk, group.tag, message.row])
        f = _field(schema, message.field) if message.field else None
        return f"{url}#{field_anchor(f)}" if f is not None else url
    if not message.field:
        return f"#group-{group.tag}" if group is not None else ""
    if message.field in {slot.tag for slot in schema.document_slots}:
        return f"#doc-{message.field}"
    if message.field == "materials":
        return "#inventory"
    f = _field(schema, message.field)
    if f is None:
        return ""
    row_path = schema.record_path(f)
    if row_path:  # a field of every row (an inventory amount): the rows' table
        if record.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY:
            return "#inventory"
        return f"#group-{schema.group_at(row_path).tag}"
    anchor = f"#{field_anchor(f)}"
    if part is not None:
        own = facility_information.part_of(f.number)
        if own is not None and own != part:
            return f"{page}?part={own.slug}{anchor}"
    return anchor


def linked(record, groups, *, part=None, links: bool = True, on_element_page: bool = True):
    """``validation.by_level`` groups with each message :class:`Linked` (no links when the
    reader cannot edit: the inputs are not on the page)."""

    def href(m):
        if not links:
            return ""
        return message_href(record, m, part=part, on_element_page=on_element_page)

    return [(level, label, [Linked(m, href(m)) for m in items]) for level, label, items in groups]


def summary(messages) -> str:
    """The panel's count in words: "2 to correct before you submit, 1 warning."."""
    counts = dict.fromkeys((REQUIRED, WARNING, ADVISORY), 0)
    for m in messages:
        counts[m.level] += 1
    if not any(counts.values()):
        return "No guidance messages."
    words = []
    if counts[REQUIRED]:
        words.append(f"{counts[REQUIRED]} to correct before you submit")
    for level, one, many in (
        (WARNING, "warning", "warnings"),
        (ADVISORY, "advisory", "advisories"),
    ):
        if counts[level]:
            words.append(f"{counts[level]} {one if counts[level] == 1 else many}")
    return ", ".join(words) + "."
