"""The CME spreadsheet upload: inspections and their violations from a CSV or XLSX file.

The layout (``COLUMNS``; the template has exactly these headers, in this order): one record a
row under one header row. The "Record" column says what the row is: ``inspection`` (or ``I``)
or ``violation`` (or ``V``). Every row has an "Inspection reference", any text of at most 36
characters: an inspection row introduces it (once per file) and its violation rows repeat it,
in any order. The reference only ties the rows of one file together; it is not stored. An
inspection row fills the inspection columns, a violation row the violation columns; the other
record's columns stay empty. Headers match without regard to case, with or without the field
number in brackets, in any order; a missing column reads as empty. Code columns take the code
or its label (``a`` or ``Routine``), dates ``YYYY-MM-DD`` (or ``M/D/YYYY``, or a date cell).

Every row is checked before anything is written, with the same ``clean_*`` functions as
manual entry (``cme.services``): a facility must be in the agency's jurisdiction for the
inspection's program element. Any problem and nothing is stored: the result lists each one
with its row number (the header is row 1, as a spreadsheet counts) and its column. A clean
file is stored by ``services.record_cme_upload`` in one transaction. The file is read and
checked before that transaction starts.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import models

from core.access import require
from core.spreadsheets import SheetLimits, SpreadsheetError, cell_text, read_rows
from core.xmlsafe import control_character
from facilities.models import Facility

from . import services
from .models import (
    Inspection,
    InspectionType,
    OperationalCompliance,
    ProgramElement,
    RTCQualifier,
    ViolationClass,
)
from .rules import NO_CME_ROLE, CmeWork, refusals

MAX_ROWS = 500  # CalEPA's manual upload template recommends at most 500 entities an upload
MAX_BYTES = 2 * 1024 * 1024
# Blank rows are skipped, but not without end: a sheet can claim a million of them.
MAX_SHEET_ROWS = 20 * MAX_ROWS
MAX_COLUMNS = 100
XLSX_MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024  # refuse a "zip bomb" workbook
REFERENCE_MAX_LENGTH = 36  # as a regulator key (20.0045)

INSPECTION, VIOLATION = "inspection", "violation"
_RECORDS = {"inspection": INSPECTION, "i": INSPECTION, "violation": VIOLATION, "v": VIOLATION}


@dataclass(frozen=True)
class Column:
    """One column of the layout: the service field it fills (``field``) on which record
    (``record``: None for the columns every row has) and how its cells are read (``kind``:
    text, date, integer or code, with ``choices`` for a code)."""

    key: str
    header: str
    record: str | None
    field: str
    kind: str = "text"
    choices: type[models.Choices] | None = None
    description: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("record", "Record", None, "record", description="inspection or violation (I or V)"),
    Column(
        "reference",
        "Inspection reference",
        None,
        "reference",
        description="links violation rows to their inspection row in this file",
    ),
    Column("cers_id", "CERS ID", INSPECTION, "cers_id", "integer", description="the facility"),
    Column(
        "program_element",
        "Program element (905)",
        INSPECTION,
        "program_element",
        "code",
        ProgramElement,
    ),
    Column(
        "inspection_type",
        "Inspection type (907)",
        INSPECTION,
        "inspection_type",
        "code",
        InspectionType,
    ),
    Column("inspection_date", "Inspection date (906)", INSPECTION, "occurred_on", "date"),
    Column("inspector_name", "Inspector", INSPECTION, "inspector_name"),
    Column(
        "ust_operational_compliance",
        "UST operational compliance (913a)",
        INSPECTION,
        "ust_operational_compliance",
        "code",
        OperationalCompliance,
    ),
    Column(
        "violations_rtc_on",
        "Violations returned to compliance (917)",
        INSPECTION,
        "violations_rtc_on",
        "date",
    ),
    Column("inspection_comments", "Inspection comments (929)", INSPECTION, "comments"),
    Column(
        "type_number",
        "Violation type (930)",
        VIOLATION,
        "type_number",
        description="a violation library number",
    ),
    Column(
        "violation_class",
        "Violation class (931)",
        VIOLATION,
        "violation_class",
        "code",
        ViolationClass,
    ),
    Column("violation_date", "Violation date (932)", VIOLATION, "occurred_on", "date"),
    Column(
        "scheduled_rtc_on",
        "Scheduled return to compliance (933)",
        VIOLATION,
        "scheduled_rtc_on",
        "date",
    ),
    Column(
        "return_to_compliance_on",
        "Actual return to compliance (934)",
        VIOLATION,
        "return_to_compliance_on",
        "date",
    ),
    Column(
        "rtc_qualifier",
        "Return-to-compliance qualifier (935)",
        VIOLATION,
        "rtc_qualifier",
        "code",
        RTCQualifier,
    ),
    Column("violation_comments", "Violation comments (936)", VIOLATION, "comments"),
)


def _aliases(column: Column) -> set[str]:
    bare = re.sub(r"\s*\([^)]*\)$", "", column.header)
    return {column.header.casefold(), bare.casefold(), column.key}


_BY_HEADER = {alias: column for column in COLUMNS for alias in _aliases(column)}


def accepted_values(column: Column) -> str:
    """What a column's cells may hold, for the upload page."""
    if column.choices is not None:
        return "; ".join(f"{value} ({label})" for value, label in column.choices.choices)
    return {
        "date": "a date: YYYY-MM-DD",
        "integer": "a whole number",
    }.get(column.kind, column.description or "text")


@dataclass(frozen=True)
class Problem:
    """One reason the upload was refused: the row number (None for the whole file), the
    column's header (empty when no single column is at fault) and the message."""

    row: int | None
    column: str
    message: str


@dataclass
class UploadResult:
    """What an upload stored, or the problems that stopped it."""

    file_name: str = ""
    inspections: int = 0
    violations: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


# The file as a whole cannot be read; the message says why and what to do.
UploadFileError = SpreadsheetError
SHEET_LIMITS = SheetLimits(
    what="the CME sheet",
    max_bytes=MAX_BYTES,
    max_uncompressed_bytes=XLSX_MAX_UNCOMPRESSED_BYTES,
    max_rows=MAX_SHEET_ROWS + 1,
    max_columns=MAX_COLUMNS,
)


# -- reading the file --------------------------------------------------------------------------


def template_csv() -> str:
    """The upload template: the header row (with a BOM, so Excel reads it as UTF-8)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(c.header for c in COLUMNS)
    return "\ufeff" + out.getvalue()


def template_xlsx() -> bytes:
    """The upload template as a workbook: the header row on the first sheet (the one read),
    and a second sheet describing each column."""
    import openpyxl
    from openpyxl.styles import Font

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "CME"
    sheet.append([c.header for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    guide = workbook.create_sheet("Columns")
    guide.append(["Column", "Rows", "Values"])
    for column in COLUMNS:
        guide.append([column.header, column.record or "every row", accepted_values(column)])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# -- reading the rows --------------------------------------------------------------------------


@dataclass
class _Row:
    number: int
    record: str | None
    reference: str
    values: dict[str, Any]  # service field -> value read
    headers: dict[str, str]  # service field -> the column's header in the file
    bad: set[str] = field(default_factory=set)  # service fields whose cell could not be read


def _code(column: Column, text: str):
    for value, label in column.choices.choices:
        if text.casefold() in (str(value).casefold(), label.casefold()):
            return value
    codes = ", ".join(str(value) for value in column.choices.values)
    raise ValueError(f"“{text}” is not a code of this column; use one of {codes} (or its label).")


def _date(text: str) -> datetime.date:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(f"“{text}” is not a date; write it as YYYY-MM-DD.")


def _value(column: Column, text: str):
    if not text:
        return None if column.kind != "text" else ""
    if column.kind == "code":
        return _code(column, text)
    if column.kind == "date":
        return _date(text)
    if column.kind == "integer":
        if not (text.isascii() and text.isdigit()):
            raise ValueError(f"“{text}” is not a whole number.")
        return int(text)
    return text


def _header(cells: list[Any]) -> tuple[list[Column | None], list[Problem]]:
    problems, columns, seen = [], [], {}
    for index, cell in enumerate(cells, start=1):
        text = cell_text(cell)
        column = _BY_HEADER.get(text.casefold()) if text else None
        if text and column is None:
            problems.append(
                Problem(1, text, f"Column {index}: “{text}” is not a column of the CME template.")
            )
        elif column is not None and column.key in seen:
            problems.append(Problem(1, text, f"Column {index} repeats “{seen[column.key]}”."))
            column = None
        elif column is not None:
            seen[column.key] = text
        columns.append(column)
    if not problems:
        problems = [
            Problem(1, "", f"The file has no “{c.header}” column; start from the template.")
            for c in COLUMNS[:2]
            if c.key not in seen
        ]
    return columns, problems


def _rows(rows: Iterator[list[Any]]) -> tuple[list[_Row], list[Problem]]:
    header = next(rows, None)
    if header is None or not any(cell_text(cell) for cell in header):
        raise UploadFileError("The first row must hold the column headers; it is empty.")
    columns, problems = _header(header)
    if problems:
        return [], problems
    parsed: list[_Row] = []
    for number, cells in enumerate(rows, start=2):
        if number > MAX_SHEET_ROWS:
            raise UploadFileError(
                f"The sheet runs to more than {MAX_SHEET_ROWS:,} rows, most of them empty. Copy "
                "the rows with data to a new sheet and upload that."
            )
        texts = [cell_text(cell) for cell in cells[:MAX_COLUMNS]]
        if not any(texts):
            continue  # spreadsheets keep blank rows
        if len(parsed) == MAX_ROWS:
            raise UploadFileError(
                f"The file has more than {MAX_ROWS} rows; upload at most {MAX_ROWS} inspections "
                "and violations at a time (split the file, keeping each inspection with its "
                "violations)."
            )
        given = {}
        for index, text in enumerate(texts):
            column = columns[index] if index < len(columns) else None
            if column is None:
                if text:
                    problems.append(
                        Problem(number, f"column {index + 1}", "This column has no header.")
                    )
                continue
            if problem := control_character(text):
                problems.append(Problem(number, cell_text(header[index]), problem))
                continue
            given[column] = (text, cell_text(header[index]))
        record_text = given.get(COLUMNS[0], ("", ""))[0]
        record = _RECORDS.get(record_text.casefold())
        row = _Row(number, record, given.get(COLUMNS[1], ("", ""))[0], {}, {})
        if record is None:
            problems.append(
                Problem(
                    number,
                    COLUMNS[0].header,
                    f"“{record_text}” is not a record; write inspection or violation."
                    if record_text
                    else "Say what the row is: inspection or violation.",
                )
            )
        for column, (text, heading) in given.items():
            if column.record is None:
                continue
            if column.record != record:
                if text and record is not None:
                    problems.append(
                        Problem(
                            number,
                            heading,
                            f"Leave this {column.record} column empty on a {record} row.",
                        )
                    )
                continue
            row.headers[column.field] = heading
            try:
                row.values[column.field] = _value(column, text)
            except ValueError as exc:
                problems.append(Problem(number, heading, str(exc)))
                row.bad.add(column.field)
        parsed.append(row)
    return parsed, problems


# -- checking the records ----------------------------------------------------------------------


def _column_of(row: _Row, name: str) -> str:
    """The header of the column holding service field ``name`` on this row."""
    if name == NON_FIELD_ERRORS:
        return ""
    if name == "violation_type":
        name = "type_number"
    if name in row.headers:
        return row.headers[name]
    return next((c.header for c in COLUMNS if c.record == row.record and c.field == name), name)


def _collect(problems: list[Problem], row: _Row, error: ValidationError) -> None:
    for name, messages in error.message_dict.items():
        if name in row.bad or (name == "violation_type" and "type_number" in row.bad):
            continue  # its cell could not be read: that is already said
        problems.extend(Problem(row.number, _column_of(row, name), m) for m in messages)


def _check(actor, regulator, parsed: list[_Row], problems: list[Problem]) -> list:
    """Check every record as manual entry does; return the upload's records for
    ``services.record_cme_upload`` (only meaningful when no problem was found)."""
    reference = COLUMNS[1].header
    parents: dict[str, _Row] = {}  # inspection reference -> its inspection row
    for row in parsed:
        if not row.reference:
            problems.append(Problem(row.number, reference, "Enter the inspection reference."))
        elif len(row.reference) > REFERENCE_MAX_LENGTH:
            problems.append(
                Problem(row.number, reference, f"At most {REFERENCE_MAX_LENGTH} characters.")
            )
        elif row.record == INSPECTION and row.reference in parents:
            problems.append(
                Problem(
                    row.number,
                    reference,
                    f"Row {parents[row.reference].number} already has the inspection "
                    f"“{row.reference}”.",
                )
            )
        elif row.record == INSPECTION:
            parents[row.reference] = row

    inspection_rows = [row for row in parsed if row.record == INSPECTION]
    in_jurisdiction = Facility.objects.for_user(actor, "view").in_jurisdiction(regulator)
    cers_ids = [row.values["cers_id"] for row in inspection_rows if row.values.get("cers_id")]
    facilities = {f.cers_id: f for f in in_jurisdiction.filter(cers_id__in=cers_ids)}
    records, violations_of = [], {}
    works: list[tuple[_Row, CmeWork]] = []  # the rule, asked of every row at once
    for row in inspection_rows:
        values = {name: value for name, value in row.values.items() if name != "cers_id"}
        cers_id = row.values.get("cers_id")
        facility = facilities.get(cers_id)
        if facility is None and "cers_id" not in row.bad:
            problems.append(
                Problem(
                    row.number,
                    _column_of(row, "cers_id"),
                    "Enter the CERS ID."
                    if cers_id is None
                    else f"No facility with CERS ID {cers_id} in the jurisdiction of "
                    f"{regulator.name}.",
                )
            )
        try:
            values = services.clean_inspection(values)
        except ValidationError as error:
            _collect(problems, row, error)
        else:
            if facility is not None:
                works.append((row, CmeWork(regulator, facility, values["program_element"])))
        violations: list[dict] = []
        if parents.get(row.reference) is row:
            violations_of[row.reference] = violations
        records.append((facility, values, violations))

    denied = refusals(actor, [work for _row, work in works])
    for row, work in works:
        if work in denied:
            column = _column_of(row, "program_element")
            problems.append(Problem(row.number, column, str(denied[work]) or NO_CME_ROLE))

    violation_rows = [row for row in parsed if row.record == VIOLATION]
    library = services.violation_library(row.values.get("type_number") for row in violation_rows)
    for row in violation_rows:
        if not row.reference or len(row.reference) > REFERENCE_MAX_LENGTH:
            continue  # already said
        parent = parents.get(row.reference)
        if parent is None:
            problems.append(
                Problem(
                    row.number,
                    reference,
                    f"No inspection row in this file has the reference “{row.reference}”.",
                )
            )
            continue
        # Only the program element of the inspection is read; the row's own may be wrong.
        inspection = Inspection(program_element=parent.values.get("program_element") or "")
        try:
            services.clean_violation(inspection, row.values, library)
        except ValidationError as error:
            _collect(problems, row, error)
        else:
            violations_of[row.reference].append(row.values)
    return records


def import_cme_file(*, actor, regulator, uploaded_file) -> UploadResult:
    """Check and store the inspections and violations of an uploaded CSV or XLSX file for
    ``regulator``: all of them, or none when any row has a problem (listed in the result by
    row and column). Only staff who may record CME at ``regulator`` may upload."""
    require(actor, "cme.record", regulator, NO_CME_ROLE)
    result = UploadResult(file_name=PurePath(getattr(uploaded_file, "name", "") or "").name)
    try:
        rows = read_rows(uploaded_file, SHEET_LIMITS)
        try:
            parsed, problems = _rows(rows)
        finally:
            rows.close()
    except UploadFileError as exc:
        result.problems.append(Problem(None, "", str(exc)))
        return result
    result.problems.extend(problems)
    if not parsed:  # a header problem, or no rows: nothing to check further
        if not problems:
            result.problems.append(Problem(None, "", "The file has no rows below its header."))
        return result
    records = _check(actor, regulator, parsed, result.problems)
    if result.problems:
        result.problems.sort(key=lambda p: p.row or 0)
        return result
    try:
        counts = services.record_cme_upload(
            actor=actor, regulator=regulator, inspections=records, file_name=result.file_name
        )
    except (ValidationError, PermissionDenied) as exc:
        # Something changed between the check and the write (a library entry, a jurisdiction).
        messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        result.problems.extend(Problem(None, "", message) for message in messages)
        return result
    result.inspections, result.violations = counts["inspections"], counts["violations"]
    return result
