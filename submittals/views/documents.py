"""Document slots of submittal elements: answers, uploads, removal and downloads.

Business portal: every file and element is reached through the element queryset of
``OrganizationElementsMixin`` (``for_user(user, "view")`` narrowed to the current
organization), so anything else answers 404; writes then need ``submittals.edit`` (403
without) and go through ``submittals.documents``, which asks the same rule again.

Regulator portal: a file is reached through ``AgencyElementsMixin`` (submitted elements
routed to the agency the user works for; every one for the state agency), so drafts and other
agencies' elements answer 404.

Downloads are always attachments with the content type recorded at upload (checked against
the content then) and ``nosniff``, so a browser never renders an uploaded HTML or SVG file
in the portal's origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views import View

from core.elements import SubmittalElement
from core.registry import Group

from .. import documents
from ..forms_documents import DocumentAnswerForm, DocumentUploadForm
from ..models import DocumentFile, DocumentSource, ElementDocument, SubmittalElementRecord
from .business import EDIT, EDIT_REFUSED, OrganizationElementsMixin, service_error_texts
from .regulator import AgencyElementsMixin

# -- what the element pages show -------------------------------------------------------------


@dataclass
class SlotDisplay:
    """One document slot of an element as the pages show it."""

    tag: str
    label: str
    required: bool
    answer: ElementDocument | None
    files: list[DocumentFile] = field(default_factory=list)
    answer_form: DocumentAnswerForm | None = None
    upload_form: DocumentUploadForm | None = None

    @property
    def summary(self) -> str:
        """The answer in words ("" when the slot has none); a URL is shown by the page."""
        answer = self.answer
        if answer is None:
            return ""
        if answer.source == DocumentSource.EXEMPT:
            return f"Exempt: {answer.comment}"
        if answer.source == DocumentSource.PROVIDED_TO_REGULATOR:
            provided = answer.date_provided.isoformat() if answer.date_provided else "—"
            return f"Provided to the regulator on {provided}"
        if answer.source == DocumentSource.PROVIDED_IN_OTHER_ELEMENT:
            other = answer.other_element
            text = f"Provided in another submittal element: {SubmittalElement(other).label}"
            return f"{text} ({answer.comment})" if answer.comment else text
        if answer.source == DocumentSource.PUBLIC_URL:
            return "At a public internet address"
        if answer.source == DocumentSource.STORED_AT_FACILITY:
            return "Stored at the facility"
        count = len(self.files)
        return f"Uploaded: {count} file{'s' if count != 1 else ''}"


def slot_displays(record: SubmittalElementRecord, *, editable: bool) -> list[SlotDisplay]:
    """Every document slot of ``record`` with its answer and files (two queries), and for
    an editor of a draft the forms to change them."""
    groups: tuple[Group, ...] = documents.document_slots(record.element)
    if not groups:
        return []
    answers = {
        answer.slot: answer
        for answer in ElementDocument.objects.filter(record=record).prefetch_related("files")
    }
    slots = []
    for group in groups:
        answer = answers.get(group.tag)
        slot = SlotDisplay(
            tag=group.tag,
            label=documents.slot_label(group),
            required=group.required,
            answer=answer,
            files=list(answer.files.all()) if answer else [],
        )
        if editable:
            slot.answer_form = DocumentAnswerForm.for_answer(
                answer, element=record.element, slot=group.tag
            )
            slot.upload_form = DocumentUploadForm(slot=group.tag)
        slots.append(slot)
    return slots


def file_response(document_file: DocumentFile) -> FileResponse:
    """The stored file as a download: attachment, recorded content type, ``nosniff``."""
    try:
        handle = document_file.file.open("rb")
    except FileNotFoundError:
        raise Http404("The stored file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=document_file.file_name,
        content_type=document_file.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    patch_cache_control(response, private=True)
    return response


# -- business portal --------------------------------------------------------------------------


def _form_error_texts(form) -> list[str]:
    texts = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        texts.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return texts


class ElementDocumentsMixin(OrganizationElementsMixin):
    """Scoped lookups of an element's document slots and files in the current organization."""

    def get_slot(self, record: SubmittalElementRecord) -> Group:
        group = documents.slot_group(record.element, self.kwargs["slot"])
        if group is None:
            raise Http404("This element has no such document slot.")
        return group

    def get_file(self, **lookup) -> DocumentFile:
        document_file = (
            DocumentFile.objects.filter(document__record__in=self.get_queryset(), **lookup)
            .select_related("document__record__facility__organization")
            .first()
        )
        if document_file is None:
            raise Http404("No such document in this organization.")
        return document_file

    def back_to(self, record_pk: int, slot: str = ""):
        url = reverse("business:element", args=[record_pk])
        return redirect(f"{url}#{f'doc-{slot}' if slot else 'documents'}")

    def report(self, errors: list[str]) -> None:
        for text in errors:
            messages.error(self.request, text)


class SlotFormView(ElementDocumentsMixin, View):
    """POST: a form about one document slot of a draft. The answer and the upload differ
    only in their form, their service call and their messages; the checks, the error
    reporting and the way back to the slot are the same."""

    http_method_names = ["post"]
    failure = "Nothing was saved."

    def make_form(self, record: SubmittalElementRecord, group: Group):
        raise NotImplementedError

    def save(self, form, record: SubmittalElementRecord, group: Group):
        raise NotImplementedError

    def done(self, saved, group: Group) -> str:
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        record = self.get_record()
        group = self.get_slot(record)
        self.require(EDIT, record, EDIT_REFUSED)
        back = self.back_to(record.pk, group.tag)
        form = self.make_form(record, group)
        if not form.is_valid():
            self.report([self.failure, *_form_error_texts(form)])
            return back
        try:
            saved = self.save(form, record, group)
        except ValidationError as exc:
            self.report([self.failure, *service_error_texts(exc)])
            return back
        messages.success(request, self.done(saved, group))
        return back


class DocumentAnswerView(SlotFormView):
    """POST: say how one document slot of a draft is provided."""

    def make_form(self, record, group):
        return DocumentAnswerForm(self.request.POST, element=record.element, slot=group.tag)

    def save(self, form, record, group):
        return documents.set_document_answer(
            actor=self.request.user,
            record=record,
            slot=group.tag,
            source=form.cleaned_data["source"],
            comment=form.cleaned_data["comment"],
            date_provided=form.cleaned_data["date_provided"],
            other_element=form.cleaned_data["other_element"],
            url=form.cleaned_data["url"],
        )

    def done(self, saved, group):
        return f"{documents.slot_label(group)}: {saved.get_source_display()} saved."


class DocumentUploadView(SlotFormView):
    """POST: upload one file to a document slot of a draft."""

    failure = "The file was not uploaded."

    def make_form(self, record, group):
        return DocumentUploadForm(self.request.POST, self.request.FILES, slot=group.tag)

    def save(self, form, record, group):
        return documents.add_document_file(
            actor=self.request.user,
            record=record,
            slot=group.tag,
            uploaded_file=form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            date_authored=form.cleaned_data["date_authored"],
        )

    def done(self, saved, group):
        return f"{saved.file_name} uploaded."


class DocumentRemoveView(ElementDocumentsMixin, View):
    """POST: remove one uploaded file from a draft."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        document_file = self.get_file(pk=self.kwargs["file_pk"])
        document = document_file.document
        self.require(EDIT, document.record, EDIT_REFUSED)
        back = self.back_to(document.record_id, document.slot)
        try:
            documents.remove_document_file(actor=request.user, file=document_file)
        except ValidationError as exc:
            self.report(service_error_texts(exc))
            return back
        messages.success(request, f"{document_file.file_name} removed.")
        return back


class DocumentDownloadView(ElementDocumentsMixin, View):
    """GET: download an uploaded file of one of the organization's elements."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        return file_response(self.get_file(key=self.kwargs["key"]))


# -- regulator portal -------------------------------------------------------------------------


class RegulatorDocumentDownloadView(AgencyElementsMixin, View):
    """GET: download an uploaded file of a submitted element routed to the agency."""

    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        document_file = DocumentFile.objects.filter(
            key=self.kwargs["key"], document__record__in=self.get_queryset()
        ).first()
        if document_file is None:
            raise Http404("No such document for this agency.")
        return file_response(document_file)
