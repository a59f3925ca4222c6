"""The CSV / XLSX download writer: cells, formulas kept as text, rows read as they are sent."""

import datetime
import io
import itertools

import openpyxl
import pytest
from django.http import Http404
from django.test import RequestFactory
from django.utils import timezone

from core.exports import Column, export_response, requested_format

COLUMNS = [Column("Name", lambda r: r[0]), Column("Value", lambda r: r[1])]


def test_csv_cells_are_written_in_words_and_formulas_neutralised():
    rows = [
        ("=1+2", -5),
        ("+cmd", datetime.date(2024, 5, 1)),
        ("@SUM(A1)", True),
        ("-x", None),
        ("plain, with comma", 3.5),
    ]
    response = export_response(rows, COLUMNS, format="csv", filename="t")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.split("\r\n") == [
        "\ufeffName,Value",
        "'=1+2,-5",  # a negative number is a number, not a formula
        "'+cmd,2024-05-01",
        "'@SUM(A1),Yes",
        "'-x,",
        '"plain, with comma",3.5',
        "",
    ]
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'


def test_csv_reads_rows_only_as_it_sends_them():
    """Nothing is read before the response is iterated, and each line only needs its row."""
    source = itertools.count()
    rows = ((f"row {n}", n) for n in source)
    response = export_response(rows, COLUMNS, format="csv", filename="t")
    assert next(source) == 0  # not one row read yet
    lines = iter(response.streaming_content)
    next(lines)  # the header
    assert next(lines) == b"row 1,1\r\n"
    assert next(source) == 2  # one row read, no more


def test_xlsx_keeps_formula_text_as_text_and_dates_as_dates():
    moment = timezone.make_aware(datetime.datetime(2024, 5, 1, 9, 30))
    rows = [("=HYPERLINK(1)", moment), ("ok", datetime.date(2024, 5, 2))]
    response = export_response(rows, COLUMNS, format="xlsx", filename="t")
    assert response["Content-Disposition"] == 'attachment; filename="t.xlsx"'
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet["A2"].value == "=HYPERLINK(1)"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == timezone.localtime(moment).replace(tzinfo=None)
    assert sheet["B3"].value == datetime.datetime(2024, 5, 2)


def test_only_csv_and_xlsx_are_offered():
    factory = RequestFactory()
    assert requested_format(factory.get("/")) == "csv"
    assert requested_format(factory.get("/", {"format": "xlsx"})) == "xlsx"
    with pytest.raises(Http404):
        requested_format(factory.get("/", {"format": "html"}))
