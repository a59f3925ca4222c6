"""The facility submittal's XML layout: the shape of each element in the query schema
(RegulatorFacilitySubmittalQuery 1/05 and 1/10), which the EDT query (RFSQ,
``edt.api.submittal_query``) writes and the submittal upload (RFS,
``edt.processors.submittal``) reads back, so what RFSQ answers goes back in unchanged.

The layout is built from the field registry (``core.registry``, generated from the
facility submittal *upload* schema, RegulatorFacilitySubmittal 1/10), so every stored field
comes out under its schema tag, in schema order. The query schema carries the same fields in
the same order, with these differences, each declared below with its table:

- its own element header (who submitted, the review status and action, the element's key);
- a ``CERSUniqueKey`` after each resource's regulator key (``UNIQUE_KEY_MISSING`` lists the
  one resource without), derived from the element's key so it is stable from query to query;
- some document slots wrapped in list elements (``SLOT_WRAPPERS``), one moved (``SLOT_BEFORE``);
- a few facets and required elements of its own (``QUERY_FACETS``, ``EMPTY_WHEN_BLANK``,
  ``REQUIRED_TO_WRITE_GROUP``, ``ALWAYS_WRITTEN``); an attribute renamed (``RENAMED``);
- version 1/05 lacks the GHS hazard categories and the APSA facility form, and its date-times
  start in 1985 (``VERSION_LIMITS``).

A value a version cannot carry (outside its facets) is left out of that version. Dates are
the exception: CalEPA's 1/05 file ends ``Date`` and ``DateTime`` at 2024-12-31, a placeholder
every EDT schema of that generation carries, which the service lifts (``core.xmlsafe``) for what
it accepts and what it writes alike. An answer dated after 2024 carries its true dates in every
version, as the other queries' answers do.
CalARP (element 10) is in neither version.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

from core.registry import HEADER_TAG, Field, schema_for
from core.xmlsafe import LIFTED_CEILING
from submittals.data import data_key

# -- what each version can carry ------------------------------------------------------------


@dataclass(frozen=True)
class VersionLimits:
    """The bounds of the schema's ``Date`` and ``DateTime`` types in one version (the upper
    ones with 1/05's 2024-12-31 placeholder lifted, as ``core.xmlsafe.schema_for`` lifts it)."""

    date_max: str
    datetime_min: str
    datetime_max: str


VERSION_LIMITS = {
    "1/05": VersionLimits(
        LIFTED_CEILING["date"], "1985-01-01T00:00:00Z", LIFTED_CEILING["dateTime"]
    ),
    "1/10": VersionLimits("2099-12-31", "1880-01-01T00:00:00Z", "2099-12-31T23:59:59Z"),
}
# The registry's (1/10) bounds, which the table above replaces.
_REGISTRY_DATE_MAX = "2099-12-31"
_REGISTRY_DATETIME_MAX = "2099-12-31T23:59:59Z"

# Facets where the query schema is narrower than the upload schema, by field number (both
# versions): FRCodeDescriptionOther holds 30 characters, DaysOnSite starts at 1.
QUERY_FACETS: dict[str, dict] = {"422-99a": {"max_length": 30}, "222": {"min_value": "1"}}
# Version 1/05 types the Dun & Bradstreet number as a positive integer of up to 9 digits.
QUERY_FACETS_1_05: dict[str, dict] = {
    "106": {
        "type": "integer",
        "total_digits": 9,
        "min_value": "1",
        "min_length": None,
        "max_length": None,
        "pattern": None,
    }
}
# What 1/05 does not have: the inventory's GHS hazard categories (216f-216cc, after the five
# original federal categories 216a-216e) and the APSA facility form.
_ORIGINAL_HAZARD_CATEGORIES = {"216a", "216b", "216c", "216d", "216e"}
GROUPS_NOT_IN_1_05 = {"APSAFacilityInformation"}

# Fields the query schema requires in their group although the value may be missing: written
# empty (their types allow it) so the group stays valid.
EMPTY_WHEN_BLANK = frozenset({"3", "103", "104", "105", "616h"})
# A required code without which its group cannot be written at all (APSA ConditionallyExempt).
REQUIRED_TO_WRITE_GROUP = frozenset({"800"})
# Groups the query schema requires even with nothing in them.
ALWAYS_WRITTEN = frozenset({"HWTankClosures"})
# Header values an upload (RFS) keeps in the element's data under their numbers, in order.
HEADER_FROM_DATA = (("20.0087", "NextDueDate"), ("20.0004", "SubmittalElementRegulatorKey"))
# Attributes spelt differently in the query schema.
RENAMED = {"changedFromLastSubmittal": "changeFromLastSubmittal"}
# The one resource with a regulator key but no CERSUniqueKey after it.
UNIQUE_KEY_MISSING = frozenset({"HWCertificationOfFinancialAssurance"})
REGULATOR_KEY_TYPE = "RegulatorEntityKeyType"

# Document slots the query schema wraps: slot tag -> the tags from the outside in; the last
# holds the document. A middle tag is a list item (one per answered slot here).
SLOT_WRAPPERS: dict[str, tuple[str, ...]] = {
    "SiteMapDocuments": ("SiteMaps", "SiteMap", "SiteMapDocument"),
    "EmergencyResponseContingencyPlanDocument": (
        "EmergencyResponseContingencyPlans",
        "EmergencyResponseContingencyPlan",
        "EmergencyResponseContingencyPlanDocument",
    ),
    "EmployeeTrainingPlanDocument": (
        "EmployeeTrainingPlans",
        "EmployeeTrainingPlan",
        "EmployeeTrainingPlanDocument",
    ),
    **{
        f"UST{name}Documents": (f"UST{name}Documents", f"UST{name}Document")
        for name in (
            "CertificationOfFinancialResponsibility",
            "MonitoringSitePlan",
            "ResponsePlan",
            "WrittenAgreementOwnerOperator",
            "LetterFromCFO",
            "StatementOfDesignatedOperatorUnderstandingOfCompliance",
        )
    },
    "HWPlotPlanDocuments": ("HWPlotPlans", "HWPlotPlan", "HWPlotPlanDocument"),
    "HWPriorEnforcementHistoryDocuments": (
        "HWUnitPriorEnforcementHistories",
        "HWUnitPriorEnforcementHistory",
        "HWPriorEnforcementHistoryDocument",
    ),
    "HWPBRNotificationOfPropertyOwnerDocuments": (
        "HWUnitPBRNotificationOfPropertyOwners",
        "HWPBRNotificationOfPropertyOwner",
        "HWPBRNotificationOfPropertyOwnerDocument",
    ),
    "HWPBRNotificationOfLocalAgencyDocuments": (
        "HWUnitPBRNotificationOfLocalAgencies",
        "HWPBRNotificationOfLocalAgency",
        "HWPBRNotificationOfLocalAgencyDocument",
    ),
    "HWPBRTankAndContainerCertificationDocuments": (
        "HWUnitPBRTankAndContainerCertifications",
        "HWPBRTankAndContainerCertification",
        "HWPBRTankAndContainerCertificationDocument",
    ),
    "HWFinancialAssuranceClosureMechanismDocuments": (
        "HWFinancialAssuranceClosureMechanisms",
        "HWFinancialAssuranceClosureMechanism",
        "HWFinancialAssuranceClosureMechanismDocument",
    ),
    "HWWrittenEstimateOfClosureCostsDocuments": (
        "HWWrittenEstimateOfClosureCosts",
        "HWWrittenEstimateOfClosureCost",
        "HWWrittenEstimateOfClosureCostsDocument",
    ),
}
# Slots the query schema places earlier: slot tag -> the sibling it comes before.
SLOT_BEFORE = {"HWPlotPlanDocuments": "HWUnits"}


# -- the shape of an element in the query schema ---------------------------------------------


@dataclass(frozen=True)
class Leaf:
    """One value: a registry field (with this version's facets) and its tag here."""

    field: Field
    tag: str

    @property
    def key(self) -> str:
        return data_key(self.field)

    @property
    def choice(self) -> bool:
        return self.field.choice


@dataclass(frozen=True)
class UniqueKey:
    """The CERSUniqueKey the query schema adds to a resource."""

    choice = False


@dataclass(frozen=True)
class Slot:
    """A document slot (``ElementDocument.slot``) and the tags it is written in."""

    slot: str
    tags: tuple[str, ...]
    choice = False


@dataclass
class Node:
    """A complex element: a form, a repeating row, or the element itself. ``one_choice`` when
    its choice-marked children are the alternatives of one (non-repeating) xs:choice."""

    tag: str
    key: str  # the registry group's key: where a repeating group's rows are in the data
    repeats: bool = False
    choice: bool = False
    one_choice: bool = True
    children: list = field(default_factory=list)


def version_field(f: Field, version: str) -> Field:
    """The registry field with the facets the query schema gives it in ``version``."""
    changes = dict(QUERY_FACETS.get(f.number, {}))
    if version == "1/05":
        changes.update(QUERY_FACETS_1_05.get(f.number, {}))
    limits = VERSION_LIMITS[version]
    if f.type == "date" and f.max_value == _REGISTRY_DATE_MAX:
        changes["max_value"] = limits.date_max
    if f.type == "datetime" and f.max_value == _REGISTRY_DATETIME_MAX:
        changes.update(min_value=limits.datetime_min, max_value=limits.datetime_max)
    return replace(f, **changes) if changes else f


def _in_version(f: Field, version: str) -> bool:
    if version != "1/05":
        return True
    ghs = f.number.startswith("216") and f.number not in _ORIGINAL_HAZARD_CATEGORIES
    return not ghs and not GROUPS_NOT_IN_1_05.intersection(f.path)


@cache
def layout(element: int, version: str) -> Node:
    """The query schema's shape of one element in ``version``: the registry's fields and
    groups in schema order (a group comes where its first field does), header and document
    slots set apart, then the differences listed in the module docstring applied."""
    schema = schema_for(element)
    slots = {g.path: g for g in schema.document_slots}
    groups = {g.path: g for g in schema.groups}
    repeating_choices = {
        tuple(note.removeprefix("repeating xs:choice at ").split("/")) for note in schema.notes
    }
    root = Node(schema.xml_tag, "")
    nodes: dict[tuple[str, ...], Node] = {(): root}

    def node_at(path: tuple[str, ...]) -> Node:
        if path not in nodes:
            parent = node_at(path[:-1])
            group = groups[path]
            node = Node(
                group.tag,
                group.key,
                repeats=group.repeats,
                choice=group.choice,
                one_choice=path not in repeating_choices,
            )
            parent.children.append(node)
            nodes[path] = node
        return nodes[path]

    for f in schema.fields:
        if f.path[0] == HEADER_TAG or not _in_version(f, version):
            continue
        slot = next((path for path in slots if f.path[: len(path)] == path), None)
        if slot is not None:
            parent = node_at(slot[:-1])
            tag = slot[-1]
            if not any(isinstance(c, Slot) and c.slot == tag for c in parent.children):
                parent.children.append(Slot(tag, SLOT_WRAPPERS.get(tag, (tag,))))
            continue
        parent = node_at(f.path[:-1])
        parent.children.append(Leaf(version_field(f, version), RENAMED.get(f.tag, f.tag)))
        if f.xsd_type == REGULATOR_KEY_TYPE and parent.tag not in UNIQUE_KEY_MISSING:
            parent.children.append(UniqueKey())

    for node in nodes.values():
        for slot_tag, sibling in SLOT_BEFORE.items():
            moved = next(
                (c for c in node.children if isinstance(c, Slot) and c.slot == slot_tag), None
            )
            target = next((c for c in node.children if getattr(c, "tag", "") == sibling), None)
            if moved is not None and target is not None:
                node.children.remove(moved)
                node.children.insert(node.children.index(target), moved)
    return root
