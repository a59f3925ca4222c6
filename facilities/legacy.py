"""Importing legacy facilities that have no organization.

Each row of the facilities file (``legacy_key, name, street, city, zip_code[, county]``)
becomes a facility of a new organization of its own, unless the optional mapping file
(``legacy_key, organization_name[, organization_code]``, from the multi-facility businesses'
letters) groups it with others: rows with the same ``organization_name`` share one new
organization, and a row with an ``organization_code`` goes into that existing organization.

An agency's administrator imports for the agency: every facility must be in its jurisdiction
(the rule of EDT Facility Create), and an ``organization_code`` must name an organization
with a facility in its jurisdiction; otherwise the row is refused.

Every row of both files is checked first; any problem is reported with its line number and
nothing is imported. The import itself is one transaction. A row whose ``legacy_key`` is
already on a facility is skipped, so running the same file again is harmless.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from core.services import record_event
from organizations.models import CREATED_BY_LEGACY_IMPORT, Organization
from organizations.services import add_organization
from regulators.models import Regulator

from .models import Facility
from .services import add_facility, jurisdiction_problem

FACILITY_COLUMNS = ("legacy_key", "name", "street", "city", "zip_code")
OPTIONAL_FACILITY_COLUMNS = ("county",)
MAPPING_COLUMNS = ("legacy_key", "organization_name")
OPTIONAL_MAPPING_COLUMNS = ("organization_code",)
LEGACY_KEY_MAX = 60
_ZIP = re.compile(r"\d{5}(-\d{4})?")


@dataclass(frozen=True)
class RowError:
    line: int
    message: str
    file: str = "facilities"

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.message}"


class LegacyImportError(Exception):
    """The import was refused; ``errors`` lists every problem found. Nothing was imported."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass
class LegacyImportResult:
    created: list[Facility] = field(default_factory=list)
    organizations_created: list[Organization] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # legacy keys already imported


@dataclass
class _Row:
    line: int
    legacy_key: str
    name: str
    street: str
    city: str
    zip_code: str
    county: str


@dataclass
class _Mapping:
    line: int
    organization_name: str
    organization: Organization | None  # an existing organization named by its code


def _read(file, label: str, errors: list[RowError]) -> list[dict] | None:
    """Rows of a CSV file (a path, a text or binary file) as dicts with their line number
    under ``"__line"``; None after adding an error if it cannot be read at all."""
    if isinstance(file, str):
        with open(file, "rb") as handle:
            data = handle.read()
    else:
        data = file.read()
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            errors.append(RowError(1, "The file is not UTF-8 text.", label))
            return None
    reader = csv.DictReader(io.StringIO(data, newline=""))
    try:
        header = [name.strip().lower() for name in reader.fieldnames or []]
        reader.fieldnames = header
        rows = []
        for values in reader:
            values = {k: (v or "").strip() for k, v in values.items() if isinstance(k, str)}
            if not any(values.values()):
                continue  # a blank line
            values["__line"] = reader.line_num
            rows.append(values)
    except csv.Error as exc:
        errors.append(RowError(reader.line_num, f"Not a valid CSV file: {exc}.", label))
        return None
    return rows


def _missing_columns(rows_header: list[str], wanted, label: str) -> list[RowError]:
    missing = [c for c in wanted if c not in rows_header]
    if missing:
        return [RowError(1, f"Missing column(s): {', '.join(missing)}.", label)]
    return []


def _header(file_rows: list[dict]) -> list[str]:
    return [k for k in file_rows[0] if k != "__line"] if file_rows else []


def parse_facilities(file, errors: list[RowError]) -> list[_Row]:
    raw = _read(file, "facilities", errors)
    if raw is None:
        return []
    if not raw:
        errors.append(RowError(1, "The file has no facility rows.", "facilities"))
        return []
    column_errors = _missing_columns(_header(raw), FACILITY_COLUMNS, "facilities")
    if column_errors:
        errors.extend(column_errors)
        return []
    rows, seen = [], {}
    for values in raw:
        line = values["__line"]
        problems = [f"{c} is required." for c in FACILITY_COLUMNS if not values.get(c)]
        key = values.get("legacy_key", "")
        if len(key) > LEGACY_KEY_MAX:
            problems.append(f"legacy_key is longer than {LEGACY_KEY_MAX} characters.")
        zip_code = values.get("zip_code", "")
        if zip_code and not _ZIP.fullmatch(zip_code):
            problems.append(f"ZIP code {zip_code!r} is not 5 digits or ZIP+4.")
        if key and key in seen:
            problems.append(f"legacy_key {key!r} is also on line {seen[key]}.")
        seen.setdefault(key, line)
        errors.extend(RowError(line, p) for p in problems)
        if not problems:
            rows.append(
                _Row(
                    line,
                    key,
                    values["name"],
                    values["street"],
                    values["city"],
                    zip_code,
                    values.get("county", ""),
                )
            )
    return rows


def parse_mapping(
    file, keys: set[str], errors: list[RowError], regulator: Regulator | None = None
) -> dict[str, _Mapping]:
    """The mapping file's rows by legacy key. An agency's import names only organizations
    with a facility in its jurisdiction (``Organization.objects.in_jurisdiction``); any other
    code reads as unknown, so the import tells nothing about organizations elsewhere."""
    raw = _read(file, "mapping", errors)
    if not raw:
        return {}
    column_errors = _missing_columns(_header(raw), MAPPING_COLUMNS, "mapping")
    if column_errors:
        errors.extend(column_errors)
        return {}
    mapping: dict[str, _Mapping] = {}
    for values in raw:
        line = values["__line"]
        key, name = values.get("legacy_key", ""), values.get("organization_name", "")
        code = values.get("organization_code", "")
        problems = []
        if not key:
            problems.append("legacy_key is required.")
        elif key not in keys:
            problems.append(f"legacy_key {key!r} is not in the facilities file.")
        elif key in mapping:
            problems.append(f"legacy_key {key!r} is also on line {mapping[key].line}.")
        organization = None
        if code:
            organizations = Organization.objects.all()
            if regulator is not None:
                organizations = organizations.in_jurisdiction(regulator)
            organization = organizations.filter(code=code).first() if code.isdigit() else None
            if organization is None and regulator is None:
                problems.append(f"No organization has the code {code!r}.")
            elif organization is None:
                problems.append(
                    f"No organization with a facility in {regulator}'s jurisdiction has the "
                    f"code {code!r}. Give the code of an organization your agency regulates, "
                    "or leave organization_code empty to create a new organization."
                )
        elif not name:
            problems.append("organization_name (or organization_code) is required.")
        errors.extend(RowError(line, p, "mapping") for p in problems)
        if not problems:
            mapping[key] = _Mapping(line, name, organization)
    return mapping


def jurisdiction_errors(rows: list[_Row], regulator: Regulator) -> list[RowError]:
    """A row for each facility outside ``regulator``'s jurisdiction (the rule of EDT Facility
    Create, ``facilities.services.jurisdiction_problem``), checked once per ZIP code; and for
    each legacy key already on a facility elsewhere, which the agency may neither skip as its
    own nor group new facilities with (that facility's organization is not its to add to)."""
    problems: dict[str, str] = {}
    errors = []
    imported = Facility.objects.filter(legacy_key__in=[row.legacy_key for row in rows])
    mine = imported.in_jurisdiction(regulator).values("pk")
    elsewhere = set(imported.exclude(pk__in=mine).values_list("legacy_key", flat=True))
    for row in rows:
        if row.legacy_key in elsewhere:
            errors.append(
                RowError(
                    row.line,
                    f"legacy_key {row.legacy_key!r} is already on a facility outside "
                    f"{regulator}'s jurisdiction. Give this facility another legacy key.",
                )
            )
        zip5 = row.zip_code[:5]
        if zip5 not in problems:
            problems[zip5] = jurisdiction_problem(regulator, zip5)
        if problems[zip5]:
            errors.append(
                RowError(
                    row.line,
                    f"{problems[zip5]} Remove this row: the agency serving that ZIP code "
                    "imports its facilities.",
                )
            )
    return errors


def import_legacy_facilities(file, mapping=None, actor=None, regulator=None) -> LegacyImportResult:
    """Import the legacy facilities file (and its optional mapping file). Raises
    LegacyImportError listing every problem, with line numbers, if anything is wrong; then
    nothing is imported. ``actor`` None is the system (the management command); an agency's
    administrator imports for ``regulator``: only facilities in its jurisdiction, into new
    organizations or organizations it regulates."""
    errors: list[RowError] = []
    rows = parse_facilities(file, errors)
    if regulator is not None:
        errors.extend(jurisdiction_errors(rows, regulator))
    if mapping:
        groups = parse_mapping(mapping, {r.legacy_key for r in rows}, errors, regulator)
    else:
        groups = {}
    if errors:
        raise LegacyImportError(sorted(errors, key=lambda e: (e.file != "facilities", e.line)))

    result = LegacyImportResult()
    with transaction.atomic():
        existing = dict(
            Facility.objects.filter(legacy_key__in=[r.legacy_key for r in rows]).values_list(
                "legacy_key", "organization_id"
            )
        )
        # A group some of whose facilities came in on an earlier run keeps their organization.
        by_name: dict[str, Organization] = {}
        for key, organization_id in existing.items():
            group = groups.get(key)
            if group and group.organization is None and group.organization_name not in by_name:
                by_name[group.organization_name] = Organization.objects.get(pk=organization_id)
        for row in rows:
            if row.legacy_key in existing:
                result.skipped.append(row.legacy_key)
                continue
            group = groups.get(row.legacy_key)
            if group and group.organization is not None:
                organization = group.organization
            elif group:
                organization = by_name.get(group.organization_name)
                if organization is None:
                    organization = add_organization(
                        actor=actor, name=group.organization_name, how=CREATED_BY_LEGACY_IMPORT
                    )
                    by_name[group.organization_name] = organization
                    result.organizations_created.append(organization)
            else:
                organization = add_organization(
                    actor=actor, name=row.name, how=CREATED_BY_LEGACY_IMPORT
                )
                result.organizations_created.append(organization)
            try:
                # The system adds it (no business Lead User exists); the import event below
                # names the person who ran the import.
                facility = add_facility(
                    actor=None,
                    organization=organization,
                    name=row.name,
                    street=row.street,
                    city=row.city,
                    zip_code=row.zip_code,
                    county=row.county,
                    importing_agency=regulator,
                )
            except ValidationError as exc:
                errors.extend(RowError(row.line, message) for message in exc.messages)
                continue
            Facility.objects.filter(pk=facility.pk).update(legacy_key=row.legacy_key)
            facility.legacy_key = row.legacy_key
            result.created.append(facility)
        if errors:
            transaction.set_rollback(True)
        elif result.created:
            record_event(
                actor,
                "facility.legacy_import",
                regulator or result.created[0],
                after={
                    "created": [f.cers_id for f in result.created],
                    "organizations_created": [o.code for o in result.organizations_created],
                    "skipped": result.skipped,
                },
                regulator=regulator,
            )
    if errors:
        raise LegacyImportError(errors)
    return result
