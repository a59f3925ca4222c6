"""RFSQ and RFSDQ: submitted facility submittals, and their documents, for a regulator's system.

RFSQ answers the submitted elements routed to the calling agency (``SubmittalElementRecord.
objects.in_jurisdiction``, the
rule the regulator portal's review queue uses: a CUPA its own elements, a PA the elements it
regulates), narrowed by the catalogue's filters and grouped per facility submittal, in
RegulatorFacilitySubmittalQuery 1/05 or 1/10. RFSDQ hands over the bytes of one uploaded
document, named by the CERS unique key RFSQ gives each attachment.

The output is written from the field registry (``core.registry``) in the shape of the query
schema that ``edt.codecs.submittal.layout`` gives each element and version; that module lists
how the query schema differs from the upload schema. A value a version cannot carry (outside
its facets) is left out of that version.
CalARP (element 10) is in neither version and is never answered. What an upload (RFS) sent
beyond the element's data comes back as sent: the header's submitter, the facility's
FacilityID and FacilityRegulatorKey, each file's DateAuthored and DocumentRegulatorKey; the
facility's GeographicInformation, which uploads do not carry, is written as RFQ writes it.
"""

from __future__ import annotations

import hashlib
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from decimal import Decimal
from functools import cache
from itertools import islice
from types import SimpleNamespace

from django.db import connections
from django.db.models import Q
from django.db.transaction import atomic
from django.http import FileResponse
from django.utils import timezone
from lxml import etree

from core.elements import SubmittalElement
from core.registry import (
    HEADER_TAG,
    ElementSchema,
    Field,
    any_text,
    schema_for,
    text_check,
    validate_value,
)
from core.xmlsafe import NOT_XML, NOT_XML_CHARACTER
from submittals.inventory import component_fields
from submittals.models import (
    DocumentFile,
    DocumentSource,
    ElementDocument,
    ElementStatus,
    HazardousMaterial,
    MixtureComponent,
    SubmittalElementRecord,
)

from ..codecs.submittal import (
    ALWAYS_WRITTEN,
    EMPTY_WHEN_BLANK,
    HEADER_FROM_DATA,
    REQUIRED_TO_WRITE_GROUP,
    Leaf,
    Node,
    Slot,
    UniqueKey,
    layout,
    version_field,
)
from ..models import EdtTransaction
from . import base
from .base import EdtCall, EdtError, EndpointView, backwards, check_ceiling
from .location import geographic_information
from .output import query_response, text
from .registry import serves

SCHEMA = "RegulatorFacilitySubmittalQuery"

# Element statuses a client may ask for. 8 (Certified) is listed by CalEPA's page; this CERS
# never records it, so asking for it matches nothing.
QUERYABLE_STATUSES = frozenset({2, 3, 4, 5, 6, 8})
NOT_IN_QUERY_SCHEMA = SubmittalElement.CALARP

NARROW_WITH = (
    "status, submittalElement, CERSID, submittedOnStart/submittedOnEnd or "
    "submittalActionOnStart/submittalActionOnEnd"
)


# -- writing one facility submittal -----------------------------------------------------------


def _raw_text(raw) -> str:
    return text(raw) if isinstance(raw, bool) else str(raw).strip()


def fitting(f: Field, raw) -> str | None:
    """``raw`` as the text to write, or None when it is blank or outside the field's facets."""
    if raw is None or isinstance(raw, dict | list):
        return None
    _clean, problem = validate_value(f, raw)
    if problem or _raw_text(raw) == "":
        return None
    return _raw_text(raw)


def unique_key(namespace: bytes, name: str) -> str:
    """``str(uuid.uuid5(uuid.UUID(bytes=namespace), name))``, read off the hash's hex digits:
    a key is made for every group and row written, and this skips building two UUIDs."""
    digits = hashlib.sha1(namespace + name.encode(), usedforsecurity=False).hexdigest()
    variant = _VARIANT[digits[16]]
    return f"{digits[:8]}-{digits[8:12]}-5{digits[13:16]}-{variant}{digits[17:20]}-{digits[20:32]}"


# RFC 4122: the variant's top two bits are 10; the digit that holds them, by the hash's digit.
_VARIANT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def _uuid_text(key: bytes) -> str:
    """``str(uuid.UUID(bytes=key))``, from the bytes' hex digits (``UUID.__str__`` is slower)."""
    digits = key.hex()
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def _moment(value: datetime, zone: tzinfo) -> str:
    """``text(value)`` in ``zone``, the request's time zone looked up once, not per value
    (``isoformat`` without its ``timespec`` argument: the same text, sooner)."""
    return value.astimezone(zone).replace(microsecond=0).isoformat()


# Answers kept per field: most fields take few distinct values (codes, counts, dates of a
# year), and what a leaf writes is a function of the text alone.
REMEMBERED_PER_FIELD = 128


def _leaf_rule(f: Field) -> tuple[Callable[[str], str | None] | None, int, int]:
    """How a leaf of ``f`` decides what to write for a stripped, non-blank text, chosen once
    per field: ``(write, low, high)``. With ``write`` None the text is written, escaped, when
    its length is from ``low`` to ``high`` (a field without facets: any length), which a
    writer tests inline; else ``write(text)`` is the text escaped, or None when it is outside
    the field's facets: a code is looked up in its list, escaped beforehand; any other check
    (a pattern, a number's or a date's range) remembers its answers."""
    escape = escaped_attribute if f.attribute else escaped
    check = text_check(f)
    if check is any_text:
        return None, 0, sys.maxsize
    if f.type == "code":
        return {code: escape(code) for code in f.code_values}.get, 0, 0
    if f.type == "string" and not f.pattern:  # ``text_check``'s
        high = f.max_length if f.max_length is not None else sys.maxsize
        return None, f.min_length or 0, high
    seen: dict[str, str] = {}  # "": outside the facets

    def remembered(text: str) -> str | None:
        known = seen.get(text)
        if known is None:
            known = escape(text) if check(text) else ""
            if len(seen) < REMEMBERED_PER_FIELD:
                seen[text] = known
        return known or None

    return remembered, 0, 0


def _leaf_text(f: Field) -> Callable[[str], str | None]:
    """What a leaf of ``f`` writes for a stripped, non-blank text (``_leaf_rule``) as one
    function: the text escaped, or None when it is outside the field's facets."""
    write, low, high = _leaf_rule(f)
    if write is not None:
        return write
    escape = escaped_attribute if f.attribute else escaped
    if low == 0 and high == sys.maxsize:
        return escape

    def measured(text: str) -> str | None:
        return escape(text) if low <= len(text) <= high else None

    return measured


def _run_leaf(key: str, tag: str, f: Field) -> tuple:
    """A plain leaf of a run (``Plan``): ``(data key, tag, attribute?, write, low, high,
    search, escape)``, ``_leaf_rule`` with the test of whether a text needs escaping
    (``search``, None when it does not) and the escaping, for the writer to call inline."""
    write, low, high = _leaf_rule(f)
    if f.attribute:
        return key, tag, True, write, low, high, _ATTRIBUTE_SPECIAL.search, escaped_attribute
    return key, tag, False, write, low, high, _TEXT_SPECIAL.search, escaped


# -- the layout compiled into steps, once per element and version ------------------------------

LEAF, UNIQUE_KEY, SLOT, GROUP, LEAVES = range(5)
INVENTORY_ROWS = "Chemicals/Chemical"  # the inventory's rows: its materials, not its data


@dataclass(frozen=True, slots=True)
class Plan:
    """A ``Node`` of the layout compiled for writing: its children as steps, tuples of
    ``(kind, alternative of an xs:choice?, data key, tag, attribute?, the group needs it?,
    written empty?, target)``; the target is what a leaf writes for a text (``_leaf_text``),
    a ``Slot`` or a group's ``Plan``. Only a leaf has a key and a tag. A run of leaves that
    are neither alternatives, nor needed, nor written empty is one step (``LEAVES``): its key
    is the set of the run's data keys, its target the run's leaves (``_run_leaf``), so data
    that has none of those keys passes the run in one test.
    ``reads``: every data key the group and what it holds read, so a group whose data has none
    of them is passed at once; None when the group may be written without any (it is always
    written, or it holds a document slot or the inventory's rows, which are not data)."""

    tag: str
    key: str
    repeats: bool
    one_choice: bool
    always_written: bool
    holds_slot: bool
    steps: tuple
    reads: frozenset[str] | None
    # The plan narrowed to data with these keys (``for_keys``), by the data's keys.
    narrowed: dict = field(default_factory=dict, compare=False, repr=False)


# Narrowed plans kept per plan: data entered through one form tends to hold the same keys.
NARROWED_PER_PLAN = 256


def for_keys(plan: Plan, keys: frozenset[str]) -> Plan:
    """``plan`` for data whose keys are ``keys``: without the plain leaves whose key it does
    not hold, nor the groups that read none of its keys (what would write nothing for such
    data), so writing it passes only what the data holds; remembered per set of keys."""
    known = plan.narrowed.get(keys)
    if known is None:
        if len(plan.narrowed) >= NARROWED_PER_PLAN:
            return plan
        known = plan.narrowed[keys] = _narrowed(plan, keys)
    return known


def _narrowed(plan: Plan, keys: frozenset[str]) -> Plan:
    steps = []
    for step in plan.steps:
        kind, target = step[0], step[7]
        if kind == LEAVES:
            run = tuple(leaf for leaf in target if leaf[0] in keys)
            if run:
                held = frozenset(leaf[0] for leaf in run)
                steps.append((LEAVES, False, held, "", False, False, False, run))
        elif kind == GROUP and not target.repeats:
            if target.reads is None or not target.reads.isdisjoint(keys):
                steps.append((*step[:7], _narrowed(target, keys)))
        else:
            steps.append(step)
    return replace(plan, steps=tuple(steps), narrowed={})


@cache
def plan(element: int, version: str) -> Plan:
    """``layout(element, version)`` compiled into steps: what each leaf needs (its data key, tag,
    the check of its value against its field's facets) looked up once, not for every value."""
    return _compiled(layout(element, version))


def _compiled(node: Node) -> Plan:
    steps: list[tuple] = []
    run: list[tuple] = []
    reads: set[str] | None = set()

    def end_run() -> None:
        if run:
            keys = frozenset(leaf[0] for leaf in run)
            steps.append((LEAVES, False, keys, "", False, False, False, tuple(run)))
            run.clear()

    for child in node.children:
        if isinstance(child, Leaf):
            f = child.field
            needed, empty = f.number in REQUIRED_TO_WRITE_GROUP, f.number in EMPTY_WHEN_BLANK
            if reads is not None:
                reads.add(child.key)
            if not (child.choice or needed or empty):
                run.append(_run_leaf(child.key, child.tag, f))
                continue
            end_run()
            steps.append(
                (
                    LEAF,
                    child.choice,
                    child.key,
                    child.tag,
                    f.attribute,
                    needed,
                    empty,
                    _leaf_text(f),
                )
            )
            continue
        end_run()
        if isinstance(child, UniqueKey):
            steps.append((UNIQUE_KEY, False, "", "", False, False, False, None))
        elif isinstance(child, Slot):
            steps.append((SLOT, False, "", "", False, False, False, child))
            reads = None
        else:
            group = _compiled(child)
            steps.append((GROUP, child.choice, "", "", False, False, False, group))
            if group.repeats:
                if group.key == INVENTORY_ROWS or group.holds_slot or group.reads is None:
                    reads = None
                elif reads is not None:
                    reads.add(group.key)
            elif group.reads is None:
                reads = None
            elif reads is not None:
                reads |= group.reads
    end_run()
    always_written = node.tag in ALWAYS_WRITTEN
    return Plan(
        tag=node.tag,
        key=node.key,
        repeats=node.repeats,
        one_choice=node.one_choice,
        always_written=always_written,
        holds_slot=any(isinstance(c, Slot) for c in node.children),
        steps=tuple(steps),
        reads=None if always_written or reads is None else frozenset(reads),
    )


@cache
def header_fields(element: int, version: str) -> tuple[tuple[str, str, Field], ...]:
    """The header values an upload keeps in the element's data: number, tag and field."""
    schema = schema_for(element)
    return tuple(
        (number, tag, version_field(schema.get(number), version))
        for number, tag in HEADER_FROM_DATA
    )


# -- XML text -----------------------------------------------------------------------------------
# The answer is written as text, not built node by node and serialized: an lxml element costs
# about two microseconds and a submittal element has a hundred steps. The text is what lxml
# writes for the same tree: content escaped as libxml2 escapes it, an element without content
# as <tag/>, one with an empty text as <tag></tag> (tests/edt/test_rfsq.py pins whole answers,
# byte for byte, and tests/edt/test_rfsq_text.py the escaping against lxml's own).

_TEXT_SPECIAL = re.compile(f"[&<>\r{NOT_XML}]")
_ATTRIBUTE_SPECIAL = re.compile(f'[&<>"\t\n\r{NOT_XML}]')
NOT_XML_COMPATIBLE = (
    "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
)


def _refuse_characters(text: str) -> None:
    """What lxml does with a text XML 1.0 cannot carry: the answer fails (``guarded``) rather
    than go out not well-formed."""
    if NOT_XML_CHARACTER.search(text):
        raise ValueError(NOT_XML_COMPATIBLE)


def escaped(text: str) -> str:
    """``text`` as element content."""
    if _TEXT_SPECIAL.search(text) is None:
        return text
    _refuse_characters(text)
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def escaped_attribute(text: str) -> str:
    """``text`` as an attribute's value (between double quotes)."""
    if _ATTRIBUTE_SPECIAL.search(text) is None:
        return text
    _refuse_characters(text)
    for character, reference in (
        ("&", "&amp;"),
        ("<", "&lt;"),
        (">", "&gt;"),
        ('"', "&quot;"),
        ("\r", "&#13;"),
        ("\n", "&#10;"),
        ("\t", "&#9;"),
    ):
        text = text.replace(character, reference)
    return text


def leaf(tag: str, value: str | None) -> str:
    """``<tag>value</tag>``; ``<tag/>`` for None (an empty text is kept: ``<tag></tag>``)."""
    if value is None:
        return f"<{tag}/>"
    return f"<{tag}>{escaped(value)}</{tag}>"


def _close(out: list[str], start: int, tag: str, attributes: list[str]) -> None:
    """Make ``out[start:]`` the element ``tag``: its start tag in ``out[start]`` (kept for it),
    its end tag after its content, or one empty-element tag when it has none."""
    opening = f"<{tag}{''.join(attributes)}" if attributes else f"<{tag}"
    if len(out) == start + 1:
        out[start] = opening + "/>"
    else:
        out[start] = opening + ">"
        out.append(f"</{tag}>")


# The query schema has the facility's location in Facility Information after these (the
# owner/operator form), before the document slots.
LOCATION_AFTER = frozenset({"BusinessActivities", "OwnerOperatorInformation", HEADER_TAG})


class ElementWriter:
    """Writes one submitted element in one version of the query schema, as XML text, from a
    record read as ``submittal_batches`` reads it."""

    def __init__(
        self, record, facility, version: str, group_comments: str = "", zone: tzinfo | None = None
    ):
        self.record = record
        self.facility = facility
        self.version = version
        self.group_comments = group_comments
        self.zone = zone or timezone.get_current_timezone()
        self.namespace = record.key.bytes  # of the resources' unique keys (uuid5)
        self.documents = {document.slot: document for document in record.answers}
        self.location_at = 0  # where in the text the facility's location goes

    def write(self) -> str:
        data = self.record.data or {}
        root = for_keys(plan(self.record.element, self.version), frozenset(data))
        out = [""]
        attributes: list[str] = []
        self.header(out)
        self.children(out, attributes, root, data, "")
        if self.record.element == SubmittalElement.FACILITY_INFORMATION:
            info = geographic_information(self.facility)
            if info is not None:
                out.insert(self.location_at, etree.tostring(info, encoding="unicode"))
        _close(out, 0, root.tag, attributes)
        return "".join(out)

    # The header: the record's own columns, not its data.
    def header(self, out: list[str]) -> None:
        record = self.record
        out.append(f"<{HEADER_TAG}><SubmittedOn>{_moment(record.submitted_at, self.zone)}")
        out.append("</SubmittedOn>")
        first, last, email = self.submitter()
        if first and len(first) <= 80:
            out.append(leaf("SubmittedByFirstName", first))
        if last and len(last) <= 80:
            out.append(leaf("SubmittedByLastName", last))
        if email and len(email) <= 254:
            out.append(leaf("SubmittedByEmail", email))
        comments = record.submitter_comments or self.group_comments
        if comments:
            out.append(leaf("SubmittedByComments", comments))
        out.append(leaf("RegulatorCode", record.regulator_code))
        out.append(f"<SubmittalStatus>{record.status}</SubmittalStatus>")
        if record.action_at is not None:
            out.append("<SubmittalActionDetails>")
            out.append(leaf("SubmittalActionOn", _moment(record.action_at, self.zone)))
            for tag, value in (
                ("SubmittalActionAgentName", record.action_agent_name),
                ("SubmittalActionAgentEmail", record.action_agent_email),
                ("SubmittalActionComments", record.action_comments),
            ):
                if value:
                    out.append(leaf(tag, value))
            out.append("</SubmittalActionDetails>")
        data = record.data
        if data:
            for number, tag, f in header_fields(record.element, self.version):
                value = data.get(number)
                if value is not None:
                    value = fitting(f, value)
                    if value is not None:
                        out.append(leaf(tag, value))
        out.append(f"<CERSUniqueKey>{_uuid_text(self.namespace)}</CERSUniqueKey></{HEADER_TAG}>")
        self.location_at = len(out)

    def submitter(self) -> tuple[str, str, str]:
        """First name, last name and e-mail: as an EDT upload's header sent them, else the
        account that submitted in the portal."""
        record = self.record
        sent = (record.submitter_first_name, record.submitter_last_name, record.submitter_email)
        if any(sent) or record.submitted_by_id is None:
            return sent
        return record.user_first_name, record.user_last_name, record.user_email

    # The element's data, following the layout.
    def children(
        self, out: list[str], attributes: list[str], node: Plan, values: dict, scope: str
    ) -> bool:
        """Write ``node``'s children into ``out`` (and its attributes into ``attributes``) from
        ``values`` (the element's data or one row of it). True when a value was written;
        False also when the group cannot be written (a value it needs is missing), which the
        caller then leaves out."""
        wrote = chosen = False
        one_choice = node.one_choice
        get = values.get
        for kind, alternative, key, tag, attribute, needed, empty, target in node.steps:
            if kind == LEAVES:  # plain leaves: what ``fitting`` decides, inline
                if values.keys().isdisjoint(key):
                    continue
                for data_key, leaf_tag, as_attribute, write, low, high, search, escape in target:
                    raw = get(data_key)
                    if raw is None:
                        continue
                    if type(raw) is str:
                        value = raw.strip()
                    elif raw is True or raw is False:
                        value = "true" if raw else "false"
                    elif isinstance(raw, dict | list):
                        continue
                    else:
                        value = str(raw).strip()
                    if not value:
                        continue
                    if write is None:  # only its length is checked (``_leaf_rule``)
                        if not low <= len(value) <= high:
                            continue
                        if search(value) is not None:
                            value = escape(value)
                    else:
                        value = write(value)  # escaped, or None: outside the field's facets
                        if value is None:
                            continue
                    if as_attribute:
                        attributes.append(f' {leaf_tag}="{value}"')
                    else:
                        out.append(f"<{leaf_tag}>{value}</{leaf_tag}>")
                    wrote = True
                continue
            if alternative and one_choice and chosen:
                continue  # one alternative of an xs:choice is written, the first with data
            if kind == LEAF:  # what ``fitting`` decides, inline: this runs for every field
                raw = get(key)
                if raw is None:
                    value = None
                elif type(raw) is str:
                    value = raw.strip() or None
                elif raw is True or raw is False:
                    value = "true" if raw else "false"
                elif isinstance(raw, dict | list):
                    value = None
                else:
                    value = str(raw).strip() or None
                if value is not None:
                    value = target(value)  # escaped, or None: outside the field's facets
                if value is None:
                    if needed:
                        return False  # a code the group cannot be written without
                    if empty:
                        out.append(f"<{tag}/>")
                    continue
                if attribute:
                    attributes.append(f' {tag}="{value}"')
                else:
                    out.append(f"<{tag}>{value}</{tag}>")
                written = True
            elif kind == UNIQUE_KEY:
                out.append(f"<CERSUniqueKey>{unique_key(self.namespace, scope)}</CERSUniqueKey>")
                continue
            elif kind == SLOT:
                written = self.slot(out, target)
            elif target.repeats:
                written = self.rows(out, target, values, scope)
            elif target.reads is not None and values.keys().isdisjoint(target.reads):
                continue  # nothing it reads is in the data: not written
            else:
                start = len(out)
                out.append("")
                inner: list[str] = []
                written = self.children(out, inner, target, values, f"{scope}/{target.tag}")
                if written or target.always_written:
                    _close(out, start, target.tag, inner)
                    if not scope and target.tag in LOCATION_AFTER:
                        self.location_at = len(out)
                else:
                    del out[start:]
            chosen = chosen or (written and alternative)
            wrote = wrote or written
        return wrote

    def rows(self, out: list[str], node: Plan, values: dict, scope: str) -> bool:
        rows = self.row_values(node, values)
        if not rows and node.holds_slot:
            rows = [{}]  # a row that only holds a document slot (HWTankClosure/Document)
        wrote = False
        for index, row in enumerate(rows):
            start = len(out)
            out.append("")
            attributes: list[str] = []
            narrowed = for_keys(node, frozenset(row))
            if self.children(out, attributes, narrowed, row, f"{scope}/{node.tag}[{index}]"):
                _close(out, start, node.tag, attributes)
                wrote = True
            else:
                del out[start:]
        return wrote

    def row_values(self, node: Plan, values: dict) -> list[dict]:
        if self.record.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY and (
            node.key == INVENTORY_ROWS
        ):
            return [material_values(m) for m in self.record.inventory]
        rows = values.get(node.key)
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    # Document slots (DocumentType).
    def slot(self, out: list[str], slot: Slot) -> bool:
        answer = self.documents.get(slot.slot)
        content = self.document(slot.slot, answer) if answer is not None else None
        if content is None:
            return False
        out.append("".join(f"<{tag}>" for tag in slot.tags))
        out.append(content)
        out.append("".join(f"</{tag}>" for tag in reversed(slot.tags)))
        return True

    def _slot_field(self, slot: str, *tail: str) -> Field:
        schema: ElementSchema = schema_for(self.record.element)
        path = next(g.path for g in schema.document_slots if g.tag == slot)
        return version_field(schema.get("/".join((*path, *tail))), self.version)

    def document(self, slot: str, answer: ElementDocument) -> str | None:
        """The DocumentType alternative for how the slot is answered; None when the answer
        cannot be written in this version (a value outside its facets)."""
        choice = None
        if answer.source == DocumentSource.EXEMPT:
            comment = fitting(self._slot_field(slot, "Exempt", "Comment"), answer.comment)
            if comment is not None:
                choice = f"<Exempt>{leaf('Comment', comment)}</Exempt>"
        elif answer.source == DocumentSource.PROVIDED_TO_REGULATOR:
            field = self._slot_field(slot, "ProvidedToRegulator", "DateProvided")
            provided = fitting(field, answer.date_provided)
            if provided is not None:
                date = leaf("DateProvided", provided)
                choice = f"<ProvidedToRegulator>{date}</ProvidedToRegulator>"
        elif answer.source == DocumentSource.STORED_AT_FACILITY:
            cers_id = leaf("CERSID", str(self.facility.cers_id))
            choice = f"<StoredAtFacility>{cers_id}</StoredAtFacility>"
        elif answer.source == DocumentSource.PROVIDED_IN_OTHER_ELEMENT:
            if answer.other_element:
                comment = leaf("Comment", answer.comment[:500]) if answer.comment else ""
                code = leaf("SubmittalElementCode", str(answer.other_element))
                choice = (
                    f"<ProvidedInOtherSubmittalElement>{comment}{code}"
                    "</ProvidedInOtherSubmittalElement>"
                )
        elif answer.source == DocumentSource.PUBLIC_URL:
            if answer.url:
                choice = leaf("PublicInternetUri", answer.url)
        elif answer.source == DocumentSource.UPLOAD:
            choice = self.attachments(slot, answer)
        return choice

    def attachments(self, slot: str, answer: ElementDocument) -> str | None:
        authored_field = self._slot_field(slot, "Attachments", "Attachment", "DateAuthored")
        attachments = []
        for upload in answer.uploads:
            # DateAuthored is required: as an EDT upload sent it, else the date the portal
            # asked for, else the upload's date.
            if upload.authored_as:
                authored = upload.authored_as
            elif upload.date_authored is not None:
                authored = f"{upload.date_authored.isoformat()}T00:00:00"
            else:
                authored = _moment(upload.uploaded_at, self.zone)
            if fitting(authored_field, authored) is None or len(upload.file_name) < 5:
                continue  # outside what the version carries (the name's minimum is 5)
            attachments.append(
                "<Attachment>"
                + leaf("AttachmentFileName", upload.file_name[:254])
                + leaf("DocumentTitle", upload.title[:300])
                + leaf("DocumentDescription", upload.description[:500])
                + leaf("DateAuthored", authored)
                + leaf("DocumentRegulatorKey", upload.regulator_key or None)  # required
                + leaf("CERSUniqueKey", str(upload.key))
                + "</Attachment>"
            )
        return f"<Attachments>{''.join(attachments)}</Attachments>" if attachments else None


def material_values(material) -> dict:
    """One inventory row's values by field number: the material's data and its mixture
    components (HC1-HC5, read as ``mixture``)."""
    values = dict(material.data or {})
    for component in material.mixture:
        for attribute, f in component_fields().get(component.position, {}).items():
            value = getattr(component, attribute)
            if value is not None and value != "":
                values[f.number] = _percent(value, f) if attribute == "percent_by_weight" else value
    return values


def _percent(value: Decimal, f: Field) -> str:
    """A component's percent by weight, kept as a number with four places: written with the
    schema type's places (12.5000 as 12.50), or fewer trailing zeros if it needs more."""
    if f.fraction_digits is not None:
        places = value.quantize(Decimal(1).scaleb(-f.fraction_digits))
        if places == value:
            return format(places, "f")
    return format(value.normalize(), "f")


def facility_submittal_text(group, version: str, zone: tzinfo | None = None) -> str:
    """One ``FacilitySubmittal``, as XML text, with its matching elements read as
    ``matching``; its times in ``zone`` (the current time zone if None)."""
    facility = group.facility
    zone = zone or timezone.get_current_timezone()
    out = [
        f"<FacilitySubmittal>{leaf('CERSID', str(facility.cers_id))}<CERSOrganization>",
        leaf("OrganizationCode", str(facility.organization_code)),
        leaf("OrganizationName", facility.organization_name[:100]),
        "</CERSOrganization>",
    ]
    # As the submittal's upload sent them, else the facility's own (as RFQ gives them).
    local_id = group.facility_local_id or facility.local_facility_id
    regulator_key = group.facility_regulator_key or facility.regulator_key
    if local_id:
        out.append(leaf("FacilityID", local_id))
    if regulator_key:
        out.append(leaf("FacilityRegulatorKey", regulator_key))
    for record in group.matching:
        out.append(ElementWriter(record, facility, version, group.submitter_comments, zone).write())
    out.append("</FacilitySubmittal>")
    return "".join(out)


# -- the query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    statuses: list[int] | None
    element: int | None
    cers_id: int | None
    submitted: tuple[datetime | None, datetime | None]
    acted: tuple[datetime | None, datetime | None]


def _date(call: EdtCall, name: str, old_name: str | None = None, *, end: bool = False):
    """A date parameter, or the older name it replaces (RFSQ's ``start`` and ``end``)."""
    value = call.date(name, end=end)
    old = call.date(old_name, end=end) if old_name else None
    if value is not None and old is not None:
        raise EdtError(f"Give {name} or its older name {old_name}, not both.")
    return value if value is not None else old


def _range(call: EdtCall, start: str, end: str, old_names=(None, None)) -> tuple:
    low = _date(call, start, old_names[0])
    high = _date(call, end, old_names[1], end=True)
    if backwards(low, high):
        raise EdtError(f"{start} is after {end}: nothing can match.")
    return low, high


def read_filters(call: EdtCall) -> Filters:
    statuses = call.integers("status") or None
    if statuses:
        if ElementStatus.DRAFT in statuses:
            raise EdtError(
                "Draft (status 1) elements are never exported: a draft is the business's "
                "until it is submitted. Ask for 2, 3, 4, 5, 6 or 8."
            )
        unknown = sorted(set(statuses) - QUERYABLE_STATUSES)
        if unknown:
            raise EdtError(
                f"status {', '.join(map(str, unknown))} is not an element status to query; "
                "use 2 Submitted, 3 Under Review, 4 Accepted, 5 Not Accepted, "
                "6 Not Applicable or 8 Certified."
            )
    element = call.integer("submittalElement", low=1, high=10)
    if element == NOT_IN_QUERY_SCHEMA:
        raise EdtError(
            "CalARP (submittalElement=10) is not part of RegulatorFacilitySubmittalQuery "
            "1/05 or 1/10, so it cannot be queried here."
        )
    return Filters(
        statuses=statuses,
        element=element,
        cers_id=call.integer("CERSID"),
        submitted=_range(call, "submittedOnStart", "submittedOnEnd", ("start", "end")),
        acted=_range(call, "submittalActionOnStart", "submittalActionOnEnd"),
    )


def matching_elements(regulator, filters: Filters):
    """The submitted elements routed to ``regulator`` that the filters keep."""
    elements = SubmittalElementRecord.objects.in_jurisdiction(regulator).exclude(
        element=NOT_IN_QUERY_SCHEMA
    )
    conditions = Q()
    if filters.statuses:
        conditions &= Q(status__in=filters.statuses)
    if filters.element is not None:
        conditions &= Q(element=filters.element)
    if filters.cers_id is not None:
        conditions &= Q(facility__cers_id=filters.cers_id)
    for column, (start, end) in (("submitted_at", filters.submitted), ("action_at", filters.acted)):
        if start is not None:
            conditions &= Q(**{f"{column}__gte": start})
        if end is not None:
            conditions &= Q(**{f"{column}__lte": end})
    return elements.filter(conditions)


# What each element's row carries of its facility submittal and facility (the cursor joins
# them), read when a submittal's first element comes: paths from the element.
GROUP_COLUMNS = {
    "submitter_comments": "facility_submittal__submitter_comments",
    "facility_local_id": "facility_submittal__facility_local_id",
    "facility_regulator_key": "facility_submittal__facility_regulator_key",
}
FACILITY_COLUMNS = {
    "cers_id": "cers_id",
    "local_facility_id": "local_facility_id",
    "regulator_key": "regulator_key",
    "organization_code": "organization__code",
    "organization_name": "organization__name",
    # What ``geographic_information`` writes.
    "latitude": "latitude",
    "longitude": "longitude",
    "horizontal_accuracy": "horizontal_accuracy",
    "horizontal_collection_method": "horizontal_collection_method",
    "geographic_reference_point": "geographic_reference_point",
    "horizontal_reference_datum": "horizontal_reference_datum",
    "location_collected_on": "location_collected_on",
}
RECORD_COLUMNS = {
    "pk": "pk",
    "group_id": "facility_submittal_id",
    "element": "element",
    "key": "key",
    "data": "data",
    "status": "status",
    "submitted_at": "submitted_at",
    "submitter_first_name": "submitter_first_name",
    "submitter_last_name": "submitter_last_name",
    "submitter_email": "submitter_email",
    "submitter_comments": "submitter_comments",
    "regulator_code": "regulator__code",
    "submitted_by_id": "submitted_by_id",
    "user_first_name": "submitted_by__first_name",
    "user_last_name": "submitted_by__last_name",
    "user_email": "submitted_by__email",
    "action_at": "action_at",
    "action_agent_name": "action_agent_name",
    "action_agent_email": "action_agent_email",
    "action_comments": "action_comments",
}
MATERIAL_COLUMNS = {"pk": "pk", "record_id": "record_id", "data": "data"}
COMPONENT_COLUMNS = {
    "material_id": "material_id",
    "position": "position",
    "name": "name",
    "cas_number": "cas_number",
    "percent_by_weight": "percent_by_weight",
    "ehs": "ehs",
}
DOCUMENT_COLUMNS = {
    "pk": "pk",
    "record_id": "record_id",
    "slot": "slot",
    "source": "source",
    "comment": "comment",
    "date_provided": "date_provided",
    "other_element": "other_element",
    "url": "url",
}
FILE_COLUMNS = {
    "document_id": "document_id",
    "key": "key",
    "file_name": "file_name",
    "title": "title",
    "description": "description",
    "date_authored": "date_authored",
    "authored_as": "authored_as",
    "regulator_key": "regulator_key",
    "uploaded_at": "uploaded_at",
}


def _named(names: tuple[str, ...], row) -> SimpleNamespace:
    """The first ``len(names)`` values of ``row`` as attributes with those names: the
    namespace's own dictionary filled in place, one dictionary built per row, not two."""
    named = SimpleNamespace()
    named.__dict__.update(zip(names, row, strict=False))  # ``row`` may hold more
    return named


def _by(rows, attribute: str) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in rows:
        grouped.setdefault(getattr(row, attribute), []).append(row)
    return grouped


# A key no row has: it marks, in a query compiled once, the parameter each batch's keys take.
_MARKER = -7_318_406_259


class ByKeys:
    """``queryset`` narrowed to the rows whose ``lookup`` is one of a batch's keys, its rows
    read as tuples and made plain objects with ``columns`` (attribute: field path): no model
    instances, no prefetch caches pointing back at their parents, so a batch is freed by
    reference counting the moment it is dropped. Its SQL is
    compiled once, with the keys as one array parameter (``__any``), and run for each batch
    with that batch's keys, its values converted as the ORM converts them: a batch does not
    clone the queryset and compile it again."""

    def __init__(self, queryset, lookup: str, columns: dict[str, str], order: tuple[str, ...]):
        self.names = tuple(columns)
        self.db = queryset.db
        self.lookup = f"{lookup}__any"
        self.queryset = queryset.order_by(*order).values_list(*columns.values())
        self.sql = None
        if connections[self.db].vendor != "postgresql":
            return  # ``__any`` is ``IN``, a placeholder a key: filtered for each batch
        compiler = self.queryset.filter(**{self.lookup: [_MARKER]}).query.get_compiler(self.db)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        (self.at,) = (i for i, value in enumerate(self.params) if value == [_MARKER])
        self.compiler = compiler
        self.converters = compiler.get_converters(
            [column[0] for column in compiler.select[: compiler.col_count]]
        )

    def __call__(self, keys: list) -> list[SimpleNamespace]:
        if not keys:
            return []
        if self.sql is None:
            rows = self.queryset.filter(**{self.lookup: keys})
        else:
            params = self.params.copy()
            params[self.at] = keys
            with connections[self.db].cursor() as cursor:
                cursor.execute(self.sql, params)
                rows = cursor.fetchall()
            if self.converters:
                rows = self.compiler.apply_converters(rows, self.converters)
        names = self.names
        return [_named(names, row) for row in rows]


# The order of the answer: submittals oldest first (the index on ``(submitted_at, id)``), each
# submittal's elements by element code. A cursor over it starts from that index, joining each
# submittal's elements as it goes, and sorts only within a submittal: the first rows come
# without sorting every element.
ORDER = ("facility_submittal__submitted_at", "facility_submittal_id", "element", "pk")


def submittal_batches(elements) -> Iterator[list[SimpleNamespace]]:
    """The facility submittals holding ``elements``, oldest first (in the order of the index
    on ``(submitted_at, id)``), each with its facility (and organization) and its matching
    elements (``matching``, by element code) with their inventory rows (``inventory``, each
    with its ``mixture`` components), document answers (``answers``) and files (``uploads``).

    The elements come through one server-side cursor, joined to their submittal, facility,
    organization, regulator and submitter, read ``BATCH_SIZE`` rows at a time as the answer is
    written; what a batch's elements hold takes at most four more queries, each compiled once
    (``ByKeys``), and every row is read as a tuple. A batch yields the submittals whose
    elements it has all read; the last one it began waits for the next batch, which may hold
    more of its elements."""
    paths = [
        *RECORD_COLUMNS.values(),
        *GROUP_COLUMNS.values(),
        *(f"facility_submittal__facility__{v}" for v in FACILITY_COLUMNS.values()),
    ]
    names, group_names, facility_names = (
        tuple(RECORD_COLUMNS),
        tuple(GROUP_COLUMNS),
        tuple(FACILITY_COLUMNS),
    )
    group_at = len(names)
    facility_at = group_at + len(group_names)
    size = base.BATCH_SIZE
    queries = BatchQueries()
    group = None
    # Inside a transaction, so the cursor is not held: its rows come as the query finds them
    # (see ``edt.api.base.batches``).
    with atomic(using=elements.db, savepoint=False):
        cursor = elements.order_by(*ORDER).values_list(*paths).iterator(chunk_size=size)
        while rows := list(islice(cursor, size)):
            records, done = [], []
            for row in rows:
                record = _named(names, row)
                records.append(record)
                if group is None or group.pk != record.group_id:
                    if group is not None:
                        done.append(group)
                    group = _named(group_names, row[group_at:facility_at])
                    group.pk = record.group_id
                    group.facility = _named(facility_names, row[facility_at:])
                    group.matching = []
                group.matching.append(record)
            del rows
            queries.read_holdings(records)
            if done:
                yield done
        if group is not None:
            yield [group]


class BatchQueries:
    """What a batch of submitted elements holds, read by arrays of keys: the inventory rows
    and their components, the document answers and their files."""

    def __init__(self):
        self.materials = ByKeys(
            HazardousMaterial.objects.all(),
            "record__pk",
            MATERIAL_COLUMNS,
            ("record_id", "position"),
        )
        self.components = ByKeys(
            MixtureComponent.objects.all(),
            "material__pk",
            COMPONENT_COLUMNS,
            ("material_id", "position"),
        )
        self.documents = ByKeys(
            ElementDocument.objects.all(), "record__pk", DOCUMENT_COLUMNS, ("pk",)
        )
        self.files = ByKeys(
            DocumentFile.objects.all(), "document__pk", FILE_COLUMNS, ("uploaded_at", "pk")
        )

    def read_holdings(self, records: list[SimpleNamespace]) -> None:
        """Give each of ``records`` its ``inventory`` and its ``answers``."""
        materials = self.materials(
            [r.pk for r in records if r.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY]
        )
        components = _by(self.components([m.pk for m in materials]), "material_id")
        for material in materials:
            material.mixture = components.get(material.pk, [])
        documents = self.documents([r.pk for r in records])
        uploaded = [d.pk for d in documents if d.source == DocumentSource.UPLOAD]
        files = _by(self.files(uploaded), "document_id")
        for document in documents:
            document.uploads = files.get(document.pk, [])
        inventory, answers = _by(materials, "record_id"), _by(documents, "record_id")
        for record in records:
            record.inventory = inventory.get(record.pk, [])
            record.answers = answers.get(record.pk, [])


@serves("RFSQ")
class FacilitySubmittalQueryView(EndpointView):
    """RFSQ: the agency's submitted elements, grouped per facility submittal."""

    def answer(self, call: EdtCall):
        version = call.schema_version(SCHEMA)
        filters = read_filters(call)
        elements = matching_elements(call.regulator, filters)
        # Counted on the elements' own columns (the agency's index), not their submittals: the
        # first submittal is then read while the rest follow.
        check_ceiling(elements.count(), "submittal elements", NARROW_WITH)
        self.accepted(call)

        def records() -> Iterator[str]:
            written = 0
            zone = timezone.get_current_timezone()
            for batch in submittal_batches(elements):
                for group in batch:
                    yield facility_submittal_text(group, version, zone)
                written += len(batch)
            # How many submittals the answer held, known once it is whole.
            EdtTransaction.objects.filter(pk=call.transaction.pk).update(result_count=written)

        status = {
            "DataSetDateTime": timezone.now(),
            "TransactionKey": call.transaction.key,
            "TransactionStatus": "Accepted",
        }
        if call.wants_json:  # made from the same text, read back as elements
            attributes, items = status, lambda: map(etree.fromstring, records())
        else:  # the schema has these as the root's first children, not attributes
            attributes, items = {}, lambda: _leading(status, records())
        return query_response(
            call,
            schema=SCHEMA,
            version=version,
            root="RegulatorFacilitySubmittals",
            attributes=attributes,
            record_name="FacilitySubmittal",
            records=items,
        )


def _leading(values: dict, records: Iterator[str]) -> Iterator[etree._Element | str]:
    for tag, value in values.items():
        element = etree.Element(tag)
        element.text = text(value)
        yield element
    yield from records


# -- RFSDQ --------------------------------------------------------------------------------------

NOT_AUTHORIZED = "Account is not authorized to download this document."


@serves("RFSDQ")
class DocumentQueryView(EndpointView):
    """RFSDQ: the bytes of one uploaded document, for the agency its element was routed to."""

    def answer(self, call: EdtCall, argument: str | None = None):
        if not argument or not argument.strip("/ "):
            raise EdtError(
                "Name the document: Regulator/FacilitySubmittal/Query/Document/{CERSUniqueKey}, "
                "the key RFSQ gives each attachment."
            )
        try:
            key = uuid.UUID(argument.strip("/ "))
        except ValueError:
            raise EdtError(
                f"'{argument}' is not a CERSUniqueKey: give the GUID RFSQ lists for the "
                "attachment, such as 0f8fad5b-d9cb-469f-a165-70867728950e."
            ) from None
        upload = DocumentFile.objects.select_related("document").filter(key=key).first()
        if upload is None:
            raise EdtError(f"No document has the CERSUniqueKey {key}.", status=404)
        in_scope = SubmittalElementRecord.objects.filter(
            pk=upload.document.record_id
        ).in_jurisdiction(call.regulator)
        if not in_scope.exists():
            raise EdtError(NOT_AUTHORIZED, status=401)
        try:
            handle = upload.file.storage.open(upload.file.name, "rb")
        except OSError:
            raise EdtError(
                f"The document {key} is recorded but its file is missing from storage.",
                status=404,
            ) from None
        self.accepted(call, 1)
        response = FileResponse(
            handle,
            content_type="application/octet-stream",
            as_attachment=True,
            filename=upload.file_name,
        )
        response["X-CERS-Transaction-Key"] = str(call.transaction.key)
        return response
