"""Downloads of a list page as CSV or as an Excel workbook (.xlsx), of any length.

A page's export starts from the same scoped queryset and the same filter function as the page,
and names its columns in words (``Column``). Rows are read with ``queryset.iterator``, a chunk
at a time (a server-side cursor on PostgreSQL), so neither the database rows nor the file are
held whole in memory:

- CSV streams (``StreamingHttpResponse``): each row is written as it is read, through a
  ``csv.writer`` over a pseudo-buffer that hands each line back instead of keeping it.
- XLSX is written by openpyxl's write-only workbook (rows go to its temporary files as they
  come) and saved to a ``SpooledTemporaryFile``, which moves to disk once it passes
  ``SPOOL_BYTES``; the file is then streamed (``FileResponse``).

Cells a spreadsheet would run as a formula (text starting with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return: "CSV injection") are neutralised: in CSV with a leading apostrophe, in
XLSX by storing them as text.
"""

from __future__ import annotations

import csv
import datetime
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone

CSV = "csv"
XLSX = "xlsx"
FORMATS = (CSV, XLSX)
CONTENT_TYPES = {
    CSV: "text/csv; charset=utf-8",
    XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# Rows read from the database per chunk (``queryset.iterator(chunk_size=...)``).
CHUNK_SIZE = 500
# An XLSX file larger than this is spooled to disk before it is sent.
SPOOL_BYTES = 8 * 1024 * 1024
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, in words, and how a row gives its value (a date,
    a number, text; None for an empty cell)."""

    header: str
    value: Callable[[Any], Any]


def requested_format(request) -> str:
    """The format asked for by ``?format=`` (``csv`` or ``xlsx``); 404 for anything else, as
    for a page that does not exist."""
    wanted = request.GET.get("format", CSV)
    if wanted not in FORMATS:
        raise Http404("Exports are offered as CSV (format=csv) or XLSX (format=xlsx).")
    return wanted


def rows_of(queryset, chunk_size: int | None = None) -> Iterator:
    """The rows of ``queryset`` a chunk at a time (``CHUNK_SIZE``): one query (plus one per
    prefetched relation per chunk), and only a chunk of rows in memory."""
    return queryset.iterator(chunk_size=chunk_size or CHUNK_SIZE)


def export_response(rows: Iterable, columns: list[Column], *, format: str, filename: str):
    """The download of ``rows`` (any iterable: ``rows_of(queryset)`` for a list) under
    ``columns``, named ``filename`` plus the format's suffix."""
    if format == XLSX:
        response = FileResponse(
            _xlsx_file(rows, columns),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type=CONTENT_TYPES[XLSX],
        )
    else:
        response = StreamingHttpResponse(_csv_lines(rows, columns), content_type=CONTENT_TYPES[CSV])
        response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def export_links(url: str, params) -> list[tuple[str, str]]:
    """The links of a page's downloads: (label, address) for each format, with the page's
    filters (``params``, its query string) but not its page number."""
    query = params.copy()
    query.pop("page", None)
    links = []
    for export_format, label in ((CSV, "CSV"), (XLSX, "Excel workbook (.xlsx)")):
        query["format"] = export_format
        links.append((label, f"{url}?{query.urlencode()}"))
    return links


def export_filename(what: str, regulator) -> str:
    """``what-<agency code>-<today>``: an export's file name without its suffix."""
    return f"{what}-{regulator.code}-{timezone.localdate().isoformat()}"


# --- CSV ------------------------------------------------------------------------------------


class _Echo:
    """A file that hands back what is written to it instead of keeping it."""

    def write(self, value: str) -> str:
        return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    text = str(value)
    if text.startswith(FORMULA_STARTS) and not _is_number(value):
        return "'" + text
    return text


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | Decimal)


def _csv_lines(rows: Iterable, columns: list[Column]) -> Iterator[str]:
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    # The byte order mark tells spreadsheet programs the file is UTF-8.
    yield "\ufeff" + writer.writerow([column.header for column in columns])
    for row in rows:
        yield writer.writerow([_csv_cell(column.value(row)) for column in columns])


# --- XLSX -----------------------------------------------------------------------------------


def _xlsx_cell(sheet, value: Any):
    from openpyxl.cell import WriteOnlyCell

    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def _xlsx_file(rows: Iterable, columns: list[Column]):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Export")
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, column.value(row)) for column in columns])
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - FileResponse closes it
    workbook.save(spooled)
    spooled.seek(0)
    return spooled
