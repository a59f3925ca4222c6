"""Reading an uploaded sheet, CSV (UTF-8) or Excel workbook (.xlsx), as rows of cells: the
inventory import and the CME upload share it.

Whatever is wrong with the file as a whole raises ``SpreadsheetError`` with a message that says
what to do; the callers check the rows themselves. A workbook is refused before openpyxl opens
it when it is not a ZIP with a workbook part, or when it would expand to more than the limit
(a "zip bomb"), and only the first sheet is read.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import PurePath
from typing import Any

EXTENSIONS = (".csv", ".xlsx")
ZIP_MAGIC = b"PK\x03\x04"


class SpreadsheetError(Exception):
    """The file as a whole cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class SheetLimits:
    """How much of an upload is read. ``what`` names the sheet in messages ("the
    inventory"); ``max_rows`` and ``max_columns`` bound what is read of a workbook (None:
    the whole sheet), so a sheet formatted to its last row is not read cell by cell."""

    what: str
    max_bytes: int
    max_uncompressed_bytes: int
    max_rows: int | None = None
    max_columns: int | None = None


def cell_text(value: Any) -> str:
    """A CSV or workbook cell as text: whole numbers without ".0", dates as YYYY-MM-DD,
    booleans as true/false, blanks as ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        number = Decimal(str(value))
        if number == number.to_integral_value():
            return str(int(number))
        return format(number, "f")
    if isinstance(value, datetime.datetime):
        return value.date().isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value).strip()


def read_rows(uploaded_file, limits: SheetLimits) -> Iterator[list[Any]]:
    """The rows of ``uploaded_file`` (a Django upload or any file object with a name), each a
    list of raw cells; ``SpreadsheetError`` when the file cannot be read. The file's size,
    name and encoding are checked before the first row is given."""
    extension, content = _read(uploaded_file, limits)
    if extension == ".csv":
        return _csv_rows(content, limits)
    return _xlsx_rows(content, limits)


def _read(uploaded_file, limits: SheetLimits) -> tuple[str, bytes]:
    name = PurePath(getattr(uploaded_file, "name", "") or "").name
    extension = PurePath(name).suffix.lower()
    if extension not in EXTENSIONS:
        raise SpreadsheetError(
            f"“{name or 'The file'}” is not a .csv or .xlsx file. Save {limits.what} as CSV "
            "(UTF-8) or as an Excel workbook (.xlsx) and upload that."
        )
    limit_mb = f"{limits.max_bytes // (1024 * 1024)} MB"
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > limits.max_bytes:
        raise SpreadsheetError(
            f"The file is {size / (1024 * 1024):.1f} MB; files of at most {limit_mb} are "
            "accepted. Split it into several files."
        )
    uploaded_file.seek(0)
    content = uploaded_file.read(limits.max_bytes + 1)
    if len(content) > limits.max_bytes:
        raise SpreadsheetError(f"The file is larger than {limit_mb}. Split it into several files.")
    if not content:
        raise SpreadsheetError("The file is empty.")
    return extension, content


def _csv_rows(content: bytes, limits: SheetLimits) -> Iterator[list[str]]:
    if content.startswith(ZIP_MAGIC):
        raise SpreadsheetError(
            "This file is named .csv but is a ZIP archive (such as an Excel workbook). Upload "
            "a workbook with the .xlsx extension, or save it as CSV (UTF-8)."
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpreadsheetError(
            "This file is named .csv but is not UTF-8 text (byte "
            f"{exc.start + 1} cannot be read). If it is a spreadsheet, save it as "
            "“CSV UTF-8 (comma delimited)”; other files cannot be read."
        ) from None
    if "\x00" in text:
        raise SpreadsheetError(
            f"This file is named .csv but holds binary data, not text. Save {limits.what} as "
            "CSV (UTF-8) and upload that."
        )
    return _csv_reader(text)


def _csv_reader(text: str) -> Iterator[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        yield from reader
    except csv.Error as exc:
        raise SpreadsheetError(
            f"Line {reader.line_num} of the CSV cannot be read: {exc}."
        ) from None


def _xlsx_rows(content: bytes, limits: SheetLimits) -> Iterator[list[Any]]:
    not_a_workbook = (
        "This file is named .xlsx but is not an Excel workbook. Open it in a spreadsheet "
        "program and save it as an Excel workbook (.xlsx) or as CSV (UTF-8)."
    )
    buffer = io.BytesIO(content)
    if not content.startswith(ZIP_MAGIC) or not zipfile.is_zipfile(buffer):
        raise SpreadsheetError(not_a_workbook)
    try:
        with zipfile.ZipFile(buffer) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile:
        raise SpreadsheetError(not_a_workbook) from None
    names = {member.filename for member in members}
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise SpreadsheetError(not_a_workbook)
    if sum(member.file_size for member in members) > limits.max_uncompressed_bytes:
        raise SpreadsheetError(
            "The workbook expands to more than "
            f"{limits.max_uncompressed_bytes // (1024 * 1024)} MB; it cannot be read. Keep "
            f"only {limits.what} in it, save it as CSV (UTF-8), or split it into several files."
        )
    return _workbook_rows(buffer, limits, not_a_workbook)


def _workbook_rows(buffer, limits: SheetLimits, not_a_workbook: str) -> Iterator[list[Any]]:
    import openpyxl  # imported here: only uploads need it

    buffer.seek(0)
    try:
        workbook = openpyxl.load_workbook(buffer, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many types for a damaged workbook
        raise SpreadsheetError(not_a_workbook) from None
    try:
        if not workbook.worksheets:
            raise SpreadsheetError("The workbook has no worksheet.")
        sheet = workbook.worksheets[0]
        bounds = {"values_only": True}
        if limits.max_rows is not None:
            bounds["max_row"] = limits.max_rows
        if limits.max_columns is not None:
            bounds["max_col"] = limits.max_columns
        try:
            for row in sheet.iter_rows(**bounds):
                yield list(row)
        except Exception:  # a damaged sheet part
            raise SpreadsheetError(
                "The workbook's first sheet cannot be read. Save it again as .xlsx, or as CSV "
                "(UTF-8)."
            ) from None
    finally:
        workbook.close()
