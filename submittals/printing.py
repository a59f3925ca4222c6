"""Printable PDFs of a submitted facility submittal: the plan as submitted (a Hazardous
Materials Business Plan: Facility Information, the inventory with every material, the
documents) and its receipt.

Built with fpdf2, pure Python. Its built-in fonts cover Latin-1 only, so text is folded to it
(``_latin1``) rather than shipping a font file. Tables repeat their headings on every page,
so a long inventory runs over as many pages as it needs.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from django.http import FileResponse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.formats import date_format
from fpdf import FPDF
from fpdf.fonts import FontFace

from core.elements import SubmittalElement

from . import documents
from .forms import CERTIFICATION, display_sections
from .models import ElementDocument, FacilitySubmittal, SubmittalElementRecord

HMBP_ELEMENTS = frozenset(
    {
        SubmittalElement.FACILITY_INFORMATION,
        SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
        SubmittalElement.EMERGENCY_RESPONSE,
    }
)

# Characters outside Latin-1 that submittals commonly hold, and what prints in their place.
_FOLD = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u2022": "-",
        "\u00a0": " ",
    }
)
HEADINGS = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))


def _latin1(value) -> str:
    text = "" if value is None else str(value)
    return text.translate(_FOLD).encode("latin-1", "replace").decode("latin-1")


def _when(value) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else ""


class _Document(FPDF):
    def __init__(self, title: str, facility):
        super().__init__(orientation="P", unit="mm", format="Letter")
        self.document_title = _latin1(f"{title} - CERS ID {facility.cers_id}")
        self.set_title(self.document_title)
        self.set_creator("CERS")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.add_page()

    def footer(self):
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, self.document_title, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"Page {self.page_no()} of {{nb}}", align="R")

    def heading(self, text: str, size: int = 14):
        self.set_font("Helvetica", style="B", size=size)
        self.multi_cell(0, size * 0.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)
        self.set_font("Helvetica", size=9)

    def paragraph(self, text: str, size: int = 9):
        self.set_font("Helvetica", size=size)
        self.multi_cell(0, 4.5, _latin1(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def facts(self, rows: Sequence[tuple[str, object]]):
        """Label and value pairs, as a two-column table without rules."""
        rows = [(label, value) for label, value in rows if value not in (None, "")]
        if not rows:
            return
        self.set_font("Helvetica", size=9)
        with self.table(
            col_widths=(55, 130),
            first_row_as_headings=False,
            borders_layout="NONE",
            text_align="LEFT",
            line_height=4.5,
            v_align="TOP",
        ) as table:
            for label, value in rows:
                row = table.row()
                row.cell(_latin1(label), style=FontFace(emphasis="BOLD"))
                row.cell(_latin1(value))
        self.ln(2)

    def rows(self, headings: Sequence[str], rows, col_widths: Sequence[float]):
        """A table whose heading row is printed again on every page it runs onto."""
        self.set_font("Helvetica", size=8)
        with self.table(
            col_widths=tuple(col_widths),
            headings_style=HEADINGS,
            text_align="LEFT",
            line_height=4,
            v_align="TOP",
        ) as table:
            heading = table.row()
            for text in headings:
                heading.cell(_latin1(text))
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(_latin1(value))
        self.ln(3)

    def as_bytes(self) -> bytes:
        return bytes(self.output())


def _header(pdf: _Document, submittal: FacilitySubmittal):
    facility = submittal.facility
    pdf.facts(
        [
            ("CERS ID", facility.cers_id),
            ("Facility", facility.name),
            ("Address", facility.address),
            ("Organization", f"{facility.organization.name} ({facility.organization.code})"),
            ("Submittal", submittal.pk),
            ("Submitted", _when(submittal.submitted_at)),
            (
                "Submitted by",
                (submittal.submitted_by.get_full_name() or submittal.submitted_by.email)
                if submittal.submitted_by
                else "",
            ),
        ]
    )


def _certification(pdf: _Document, submittal: FacilitySubmittal):
    pdf.heading("Certification", 12)
    pdf.paragraph(CERTIFICATION)
    pdf.facts(
        [
            ("Certified by", f"{submittal.certifier_name}, {submittal.certifier_title}"),
            ("Comments", submittal.submitter_comments),
        ]
    )


def _element_documents(record: SubmittalElementRecord) -> list[tuple[str, str, str]]:
    """(document, how it is provided, its files) for each document slot of the element."""
    answers = {
        answer.slot: answer
        for answer in ElementDocument.objects.filter(record=record).prefetch_related("files")
    }
    listed = []
    for group in documents.document_slots(record.element):
        answer = answers.get(group.tag)
        if answer is None:
            listed.append((documents.slot_label(group), "Not provided", ""))
            continue
        how = answer.get_source_display()
        if answer.url:
            how = f"{how}: {answer.url}"
        elif answer.other_element:
            how = f"{how}: {answer.get_other_element_display()}"
        if answer.comment:
            how = f"{how} ({answer.comment})"
        files = "\n".join(f"{file.title} ({file.file_name})" for file in answer.files.all())
        listed.append((documents.slot_label(group), how, files))
    return listed


def _element(pdf: _Document, record: SubmittalElementRecord):
    pdf.heading(record.get_element_display(), 13)
    pdf.facts(
        [
            ("Status", record.get_status_display()),
            ("Sent to", f"{record.regulator.name} ({record.regulator.code})"),
            ("Regulator's comments", record.action_comments),
        ]
    )
    for heading, fields in display_sections(record.element, record.data):
        shown = [(label, value) for label, value, _number in fields if value not in (None, "")]
        if shown:
            pdf.heading(heading, 10)
            pdf.facts(shown)
    if record.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY:
        materials = list(record.materials.all())
        pdf.heading(f"Hazardous materials ({len(materials)})", 10)
        pdf.rows(
            ["#", "Common name", "Chemical name", "CAS number", "State", "Max. daily", "Location"],
            [
                (
                    material.position,
                    material.common_name,
                    material.chemical_name,
                    material.cas_number,
                    material.physical_state,
                    f"{material.maximum_daily_amount.normalize():f} {material.units}".strip()
                    if material.maximum_daily_amount is not None
                    else "",
                    material.location,
                )
                for material in materials
            ],
            (8, 40, 40, 22, 13, 25, 37),
        )
    listed = _element_documents(record)
    if listed:
        pdf.heading("Documents", 10)
        pdf.rows(["Document", "Provided", "Files"], listed, (65, 60, 60))


def plan_pdf(submittal: FacilitySubmittal, records: Sequence[SubmittalElementRecord]) -> bytes:
    """The submitted elements ``records`` of ``submittal`` (those the reader may see, with
    ``materials`` prefetched), as submitted, with the certification."""
    elements = {record.element for record in records}
    title = (
        "Hazardous Materials Business Plan" if elements & HMBP_ELEMENTS else "Facility submittal"
    )
    pdf = _Document(title, submittal.facility)
    pdf.heading(title, 16)
    _header(pdf, submittal)
    _certification(pdf, submittal)
    for record in records:
        pdf.add_page()
        _element(pdf, record)
    return pdf.as_bytes()


def receipt_pdf(submittal: FacilitySubmittal, records: Sequence[SubmittalElementRecord]) -> bytes:
    """The receipt of ``submittal``: who submitted and certified what, and where each element
    went."""
    pdf = _Document("Submittal receipt", submittal.facility)
    pdf.heading("Submittal receipt", 16)
    _header(pdf, submittal)
    pdf.heading("Elements", 12)
    pdf.rows(
        ["Element", "Sent to", "Status"],
        [
            (record.get_element_display(), record.regulator.name, record.get_status_display())
            for record in records
        ],
        (75, 75, 35),
    )
    _certification(pdf, submittal)
    return pdf.as_bytes()


def pdf_response(content: bytes, filename: str) -> FileResponse:
    """A PDF streamed to the browser, shown inline for printing; kept by no shared cache."""
    response = FileResponse(io.BytesIO(content), filename=filename, content_type="application/pdf")
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response
