"""Documents of submittal elements: how each document slot is provided, and uploaded files.

Each element has document slots (registry groups of schema type ``DocumentType``, such as
``SiteMapDocuments``). A business answers a slot in one of six ways (``DocumentSource``):
exempt with a reason, provided to the regulator on a date, provided in another submittal
element, at a public internet address, stored at the facility, or by uploading files.

Writes follow ``submittals.services``: keyword arguments, one transaction each (part of the
caller's when called inside one), the actor's right checked here (``submittals.edit``: the
role ``edit_drafts`` on the facility's organization), drafts only (and the elements an EDT
Facility Submittal Submit is storing), and an audit event in the same transaction.

Uploads are checked by their content, not only their name: the first bytes must be what the
file's extension says (``check_content``), programs are refused whatever they are called, and
files over 25 MB are refused. The content is read before the transaction starts; the file is
written to storage only after every check passed, and deleted again if the transaction does
not commit. Stored files are shared: a draft started from an accepted element gets new
``DocumentFile`` rows (new CERS unique keys) for the same stored files, so a stored file is
deleted only when no row refers to it any more.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.text import get_valid_filename

from core.access import is_service_account, require
from core.elements import SubmittalElement
from core.registry import FieldLookupError, Group, schema_for
from core.services import audit_event, field_values, insert_rows, record_event, record_events

from .models import DocumentFile, DocumentSource, ElementDocument, SubmittalElementRecord

logger = logging.getLogger(__name__)

MAX_FILE_SIZE = 25 * 1024 * 1024  # 25 MB per file (CERS upload policy)
FILE_NAME_MAX_LENGTH = 254  # AttachmentFileName
TITLE_MAX_LENGTH = 300  # DocumentTitle, 20.0021
DESCRIPTION_MAX_LENGTH = 500  # DocumentDescription, 20.0022
COMMENT_MAX_LENGTH = 500  # Exempt/Comment and ProvidedInOtherSubmittalElement/Comment
EXEMPT_COMMENT_MIN_LENGTH = 5
URL_MAX_LENGTH = 1000  # PublicInternetUri, 20.0024

# How much of the start of a file the content checks look at.
_HEAD_SIZE = 8192


@dataclass(frozen=True)
class FileKind:
    """What an allowed extension promises about the content."""

    label: str
    content_type: str
    check: str  # the name of the content check, see _CHECKS


# The allowed extensions (CERS upload policy), each with the content it must have.
FILE_KINDS: dict[str, FileKind] = {
    "pdf": FileKind("PDF", "application/pdf", "pdf"),
    "doc": FileKind("Word", "application/msword", "ole2"),
    "xls": FileKind("Excel", "application/vnd.ms-excel", "ole2"),
    "ppt": FileKind("PowerPoint", "application/vnd.ms-powerpoint", "ole2"),
    "docx": FileKind(
        "Word",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
    ),
    "xlsx": FileKind(
        "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"
    ),
    "pptx": FileKind(
        "PowerPoint",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "pptx",
    ),
    "odt": FileKind("OpenDocument text", "application/vnd.oasis.opendocument.text", "odt"),
    "ods": FileKind(
        "OpenDocument spreadsheet", "application/vnd.oasis.opendocument.spreadsheet", "ods"
    ),
    "zip": FileKind("ZIP", "application/zip", "zip"),
    "gif": FileKind("GIF image", "image/gif", "gif"),
    "jpg": FileKind("JPEG image", "image/jpeg", "jpeg"),
    "jpeg": FileKind("JPEG image", "image/jpeg", "jpeg"),
    "png": FileKind("PNG image", "image/png", "png"),
    "bmp": FileKind("BMP image", "image/bmp", "bmp"),
    "svg": FileKind("SVG image", "image/svg+xml", "markup"),
    "txt": FileKind("plain text", "text/plain", "text"),
    "csv": FileKind("CSV", "text/csv", "text"),
    "rtf": FileKind("RTF", "application/rtf", "rtf"),
    "htm": FileKind("HTML", "text/html", "markup"),
    "html": FileKind("HTML", "text/html", "markup"),
    "xml": FileKind("XML", "application/xml", "markup"),
}
ALLOWED_EXTENSIONS = tuple(FILE_KINDS)

# Office Open XML: the main part each kind's package must hold (besides [Content_Types].xml).
_OOXML_MAIN_PART = {
    "docx": "word/document.xml",
    "xlsx": "xl/workbook.xml",
    "pptx": "ppt/presentation.xml",
}
# OpenDocument: the package's ``mimetype`` member says what it is.
_ODF_MIMETYPE = {
    "odt": b"application/vnd.oasis.opendocument.text",
    "ods": b"application/vnd.oasis.opendocument.spreadsheet",
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PNG = b"\x89PNG\r\n\x1a\n"
_UTF8_BOM = b"\xef\xbb\xbf"
# BITMAPINFOHEADER and its relatives: the DIB header size at offset 14 of a BMP file.
_BMP_DIB_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_MACH_O = {
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",  # universal binary (also a Java class file: a program too)
}
# Control characters text never holds (tab, line feed, vertical tab, form feed, carriage
# return, SUB and ESC are allowed: old editors and exports write them).
_BINARY_BYTES = re.compile(rb"[\x00-\x08\x0e-\x19\x1c-\x1f]")
_BINARY_CHARACTERS = re.compile(r"[\x00-\x08\x0e-\x19\x1c-\x1f]")
# UTF-16 text starts with its byte order mark (Excel's "Unicode Text", Notepad's "Unicode",
# .NET's XmlWriter with Encoding.Unicode): its zero bytes are not binary, its characters are
# what counts.
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


# -- reading --------------------------------------------------------------------------------------


def document_slots(element: int) -> tuple[Group, ...]:
    """The element's document slots, in schema order (none for an element without data)."""
    try:
        return schema_for(element).document_slots
    except FieldLookupError:
        return ()


def slot_group(element: int, slot: str) -> Group | None:
    """The document slot of ``element`` whose tag is ``slot``, or None."""
    return next((group for group in document_slots(element) if group.tag == slot), None)


def slot_label(group: Group) -> str:
    return (group.label or group.tag)[:1].upper() + (group.label or group.tag)[1:]


# -- content checks -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed every check, with what is recorded about it."""

    file_name: str
    extension: str
    content_type: str
    size: int
    sha256: str


def clean_file_name(name: str) -> str:
    """The file's own name: no folders (either slash), no control characters, no padding."""
    name = _CONTROL_CHARACTERS.sub("", name or "").replace("\\", "/")
    return name.rsplit("/", 1)[-1].strip()


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _too_large(name: str, size: int) -> ValidationError:
    return ValidationError(
        {
            "file": f"{name} is {_megabytes(size)}; a file can be at most 25 MB. Split it into "
            "smaller files, or choose another way to provide this document."
        }
    )


def _not_what_the_name_says(name: str, kind: FileKind) -> ValidationError:
    return ValidationError(
        {
            "file": f"The content of {name} is not what its name says: it is not in "
            f"{kind.label} format. Upload the document in the format its name gives."
        }
    )


def is_program(head: bytes) -> bool:
    """Whether the bytes start like an executable program or a script: Windows (MZ with a
    binary header), ELF, Mach-O, or a ``#!`` script."""
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        return True
    if head.startswith(b"\x7fELF") or head[:4] in _MACH_O:
        return True
    return head.startswith((b"#!/", b"#! /"))


def _open_zip(fileobj) -> zipfile.ZipFile | None:
    fileobj.seek(0)
    try:
        return zipfile.ZipFile(fileobj)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def _zip_ok(fileobj, extension: str) -> bool:
    archive = _open_zip(fileobj)
    if archive is None:
        return False
    with archive:
        names = set(archive.namelist())
        if extension in _OOXML_MAIN_PART:
            return "[Content_Types].xml" in names and _OOXML_MAIN_PART[extension] in names
        if extension in _ODF_MIMETYPE:
            try:
                info = archive.getinfo("mimetype")
            except KeyError:
                return False
            if info.file_size > 200:
                return False
            try:
                return archive.read(info).strip() == _ODF_MIMETYPE[extension]
            except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
                return False
        return True


def _starts_with_markup(head: bytes) -> bool:
    return head.removeprefix(_UTF8_BOM).lstrip().startswith(b"<")


def _bmp_ok(head: bytes) -> bool:
    return (
        head.startswith(b"BM")
        and len(head) >= 26
        and int.from_bytes(head[14:18], "little") in _BMP_DIB_SIZES
    )


def check_content(fileobj, extension: str, head: bytes, is_text: bool) -> bool:
    """Whether the content is what ``extension`` promises. ``head`` is the file's first
    bytes (its first characters, for a text file in UTF-16); ``is_text`` says the whole file
    decodes as UTF-8 or Latin-1 text with no binary control bytes, or as UTF-16 behind its
    byte order mark with no such characters. ZIP containers are opened to read their
    directory: an Office Open XML file must hold its main part, an OpenDocument file its
    ``mimetype``. The three legacy Office formats share one container (OLE2) and are not told
    apart."""
    check = FILE_KINDS[extension].check
    if check == "pdf":
        # Readers accept a PDF header within the first kilobyte.
        return b"%PDF-" in head[:1024]
    if check == "ole2":
        return head.startswith(_OLE2)
    if check in ("docx", "xlsx", "pptx", "odt", "ods"):
        return head.startswith(b"PK\x03\x04") and _zip_ok(fileobj, extension)
    if check == "zip":
        return head.startswith((b"PK\x03\x04", b"PK\x05\x06")) and _zip_ok(fileobj, extension)
    if check == "gif":
        return head.startswith((b"GIF87a", b"GIF89a"))
    if check == "jpeg":
        return head.startswith(b"\xff\xd8\xff")
    if check == "png":
        return head.startswith(_PNG)
    if check == "bmp":
        return _bmp_ok(head)
    if check == "rtf":
        return head.removeprefix(_UTF8_BOM).startswith(b"{\\rtf")
    if check == "markup":
        return is_text and _starts_with_markup(head)
    if check == "text":
        return is_text
    raise AssertionError(f"no content check {check!r}")


def inspect_upload(uploaded_file) -> CheckedUpload:
    """Check an uploaded file: its name, its size and its content. Reads the whole file once
    (for its SHA-256 and the text check) and leaves it at the start. Raises ValidationError
    (key ``file``) with a message the business can act on."""
    if uploaded_file is None:
        raise ValidationError({"file": "Choose a file to upload."})
    name = clean_file_name(getattr(uploaded_file, "name", ""))
    if not name:
        raise ValidationError({"file": "The file has no name. Rename it and upload it again."})
    if len(name) > FILE_NAME_MAX_LENGTH:
        raise ValidationError(
            {
                "file": f"The file name is {len(name)} characters long; shorten it to "
                f"{FILE_NAME_MAX_LENGTH} characters or fewer."
            }
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FILE_KINDS:
        shown = f".{extension} files" if extension else "Files without an extension"
        raise ValidationError(
            {"file": f"{shown} cannot be uploaded. Allowed: {', '.join(ALLOWED_EXTENSIONS)}."}
        )
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > MAX_FILE_SIZE:
        raise _too_large(name, declared)

    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, head, utf8, binary, utf16 = 0, b"", True, False, None
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        size += len(chunk)
        if size > MAX_FILE_SIZE:
            raise _too_large(name, size)
        digest.update(chunk)
        if utf16 is None:
            utf16 = chunk.startswith(_UTF16_BOMS) and codecs.getincrementaldecoder("utf-16")()
        if len(head) < _HEAD_SIZE:
            head += chunk[: _HEAD_SIZE - len(head)]
        if utf16 and not binary:
            try:
                binary = bool(_BINARY_CHARACTERS.search(utf16.decode(chunk)))
            except UnicodeDecodeError:
                binary = True
            continue
        if not binary and _BINARY_BYTES.search(chunk):
            binary = True
        if utf8 and not binary:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False  # still text if it is Latin-1, which decodes any byte
    if utf16 and not binary:
        try:
            utf16.decode(b"", final=True)
        except UnicodeDecodeError:
            binary = True
    elif utf8 and not binary:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if size == 0:
        raise ValidationError({"file": f"{name} is empty."})

    kind = FILE_KINDS[extension]
    if is_program(head):
        raise ValidationError(
            {
                "file": f"The content of {name} is not what its name says: it is a program. "
                "Programs and scripts cannot be uploaded."
            }
        )
    text_head = head
    if utf16 and kind.check in ("text", "markup"):
        # The markup check reads the first characters, not the first bytes.
        text_head = head.decode("utf-16", errors="ignore").encode()
    if not check_content(uploaded_file, extension, text_head, is_text=not binary):
        raise _not_what_the_name_says(name, kind)
    uploaded_file.seek(0)

    content_type = kind.content_type
    if kind.check in ("text", "markup"):
        charset = "utf-16" if utf16 else "utf-8" if utf8 else "iso-8859-1"
        content_type = f"{content_type}; charset={charset}"
    return CheckedUpload(name, extension, content_type, size, digest.hexdigest())


# -- writes ---------------------------------------------------------------------------------------


def _lock_draft(actor, record: SubmittalElementRecord) -> SubmittalElementRecord:
    """Reload and lock the element; refuse unless the actor may edit and it is a draft (or
    the element an EDT Facility Submittal Submit is storing, submitted from the start: the
    only one an EDT account may edit, ``submittals.rules``)."""
    record = SubmittalElementRecord.objects.select_related("facility__organization").lock(record)
    require(actor, "submittals.edit", record)
    if not record.is_draft and not is_service_account(actor):
        raise ValidationError(
            f"This {record.get_element_display()} element was submitted and its documents can "
            "no longer be changed. To correct them, start a new draft of the element."
        )
    return record


def _slot(record: SubmittalElementRecord, slot: str) -> Group:
    group = slot_group(record.element, slot)
    if group is None:
        raise ValidationError(
            {"slot": f"{record.get_element_display()} has no document slot {slot!r}."}
        )
    return group


def _as_date(value, field: str, what: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise ValidationError({field: f"Give {what} as a date (YYYY-MM-DD)."}) from None
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationError({field: f"Give {what} as a date (YYYY-MM-DD)."})
    if value > timezone.localdate():
        raise ValidationError({field: f"{what.capitalize()} cannot be in the future."})
    return value


def _other_element(value, record: SubmittalElementRecord) -> int:
    message = (
        "Choose the other submittal element (1 to 10) in which this document was provided; "
        "it cannot be this element."
    )
    try:
        element = SubmittalElement(int(value))
    except (TypeError, ValueError):
        raise ValidationError({"other_element": message}) from None
    if element == record.element:
        raise ValidationError({"other_element": message})
    return int(element)


def _public_url(value: str) -> str:
    url = (value or "").strip()
    if not url:
        raise ValidationError({"url": "Give the public internet address of the document."})
    if len(url) > URL_MAX_LENGTH:
        raise ValidationError({"url": f"Keep the address to {URL_MAX_LENGTH} characters or fewer."})
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError(
            {"url": "Give a full web address starting with http:// or https://."}
        ) from None
    return url


def _comment(value: str, *, minimum: int = 0) -> str:
    comment = (value or "").strip()
    if len(comment) < minimum:
        raise ValidationError(
            {"comment": f"Say why the document is exempt, in at least {minimum} characters."}
        )
    if len(comment) > COMMENT_MAX_LENGTH:
        raise ValidationError(
            {"comment": f"Keep the comment to {COMMENT_MAX_LENGTH} characters or fewer."}
        )
    return comment


def _answer_fields(
    record, source, *, comment, date_provided, other_element, url
) -> dict[str, object]:
    """The stored fields of an answer given by ``source``; only what that source uses."""
    fields: dict[str, object] = {
        "comment": "",
        "date_provided": None,
        "other_element": None,
        "url": "",
    }
    if source == DocumentSource.EXEMPT:
        fields["comment"] = _comment(comment, minimum=EXEMPT_COMMENT_MIN_LENGTH)
    elif source == DocumentSource.PROVIDED_TO_REGULATOR:
        fields["date_provided"] = _as_date(
            date_provided, "date_provided", "the date it was provided"
        )
        if fields["date_provided"] is None:
            raise ValidationError(
                {"date_provided": "Give the date the document was provided to the regulator."}
            )
    elif source == DocumentSource.PROVIDED_IN_OTHER_ELEMENT:
        fields["other_element"] = _other_element(other_element, record)
        fields["comment"] = _comment(comment)
    elif source == DocumentSource.PUBLIC_URL:
        fields["url"] = _public_url(url)
    return fields


def _answer_summary(document: ElementDocument | None) -> dict[str, object] | None:
    if document is None:
        return None
    return {
        "slot": document.slot,
        "source": document.source,
        "comment": document.comment,
        "date_provided": document.date_provided.isoformat() if document.date_provided else None,
        "other_element": document.other_element,
        "url": document.url,
    }


def _touch(record: SubmittalElementRecord) -> None:
    """Mark the draft as changed by a person (its documents are part of it)."""
    record.saved_at = timezone.now()
    record.save(update_fields=["updated_at", "saved_at"])


def _delete_files_after_commit(names: Iterable[str]) -> None:
    names = sorted({name for name in names if name})
    if names:
        transaction.on_commit(lambda: delete_unreferenced_files(names))


def delete_unreferenced_files(names: Iterable[str]) -> None:
    """Delete stored files that no ``DocumentFile`` refers to any more. Run after commit:
    drafts started from an accepted element share its stored files."""
    for name in names:
        if DocumentFile.objects.filter(file=name).exists():
            continue
        try:
            default_storage.delete(name)
        except OSError:
            logger.exception("Could not delete the stored document %s", name)


@dataclass(frozen=True)
class DocumentAnswer:
    """How one document slot is provided, for ``set_document_answers`` (the arguments of
    ``set_document_answer``)."""

    slot: str
    source: int
    comment: str = ""
    date_provided: date | str | None = None
    other_element: int | None = None
    url: str = ""


@transaction.atomic
def set_document_answer(
    *,
    actor,
    record: SubmittalElementRecord,
    slot: str,
    source: int,
    comment: str = "",
    date_provided: date | str | None = None,
    other_element: int | None = None,
    url: str = "",
) -> ElementDocument:
    """Say how one document slot of a draft is provided.

    Exempt needs a comment of 5-500 characters; Provided to regulator a date not in the
    future; Provided in another element the other element's code (1-10, not this element)
    and an optional comment; Public URL an http(s) address of up to 1000 characters; Stored
    at facility nothing more. Upload is the answer only once the slot has a file (uploading
    one sets it); choosing any other source removes the slot's files.
    """
    answer = DocumentAnswer(slot, source, comment, date_provided, other_element, url)
    stored, errors = set_document_answers(actor=actor, record=record, answers=[answer])
    if errors:
        raise errors[slot]
    return stored[slot]


@transaction.atomic
def set_document_answers(
    *, actor, record: SubmittalElementRecord, answers: Sequence[DocumentAnswer]
) -> tuple[dict[str, ElementDocument], dict[str, ValidationError]]:
    """``set_document_answer`` for several slots of one element at once, as an EDT Facility
    Submittal Submit answers an element's slots: each answer is checked as that one checks
    it, and those that pass are stored, with one ``submittal.document_answered`` event each,
    in as many queries whatever their number (but for a slot that already had files, each
    removed). Returns the stored answers and the errors of the others, each by the slot as
    given (the caller's transaction decides whether the others stay)."""
    record = _lock_draft(actor, record)
    organization = record.facility.organization
    found = {
        document.slot: document
        for document in ElementDocument.objects.select_for_update().filter(record=record)
    }
    stored: dict[str, ElementDocument] = {}
    errors: dict[str, ValidationError] = {}
    written: list[tuple[ElementDocument, dict | None, int]] = []  # (answer, before, removed)
    new: list[ElementDocument] = []
    removed: list[str] = []
    for answer in answers:
        try:
            group = _slot(record, answer.slot)
            try:
                source = DocumentSource(int(answer.source))
            except (TypeError, ValueError):
                raise ValidationError({"source": "Choose how this document is provided."}) from None
            document = found.get(group.tag)
            if source == DocumentSource.UPLOAD:
                if (
                    document is None
                    or document.pk is None
                    or document.source != DocumentSource.UPLOAD
                    or not document.files.exists()
                ):
                    raise ValidationError(
                        {
                            "source": "Upload at least one file for this document, or choose "
                            "another way to provide it."
                        }
                    )
                stored[answer.slot] = document
                continue
            fields = _answer_fields(
                record,
                source,
                comment=answer.comment,
                date_provided=answer.date_provided,
                other_element=answer.other_element,
                url=answer.url,
            )
        except ValidationError as error:
            errors[answer.slot] = error
            continue
        before = _answer_summary(document)
        files: list[str] = []
        if document is None:
            document = ElementDocument(record=record, slot=group.tag, source=source, **fields)
            found[group.tag] = document
            new.append(document)
        else:
            if document.pk is not None:
                files = list(document.files.values_list("file", flat=True))
                if files:
                    document.files.all().delete()
                    removed.extend(files)
            document.source = source
            for name, value in fields.items():
                setattr(document, name, value)
            if document.pk is not None:
                document.save()
        stored[answer.slot] = document
        written.append((document, before, len(files)))
    if not written:
        return stored, errors
    insert_rows(new)
    _touch(record)
    record_events(
        [
            audit_event(
                actor,
                "submittal.document_answered",
                record,
                before=before,
                after={**_answer_summary(document), "files_removed": count},
                organization=organization,
            )
            for document, before, count in written
        ]
    )
    _delete_files_after_commit(removed)
    return stored, errors


def clean_upload_fields(title, description, date_authored) -> tuple[str, str, date | None]:
    title = (title or "").strip()
    description = (description or "").strip()
    if not title:
        raise ValidationError({"title": "Give the document a title."})
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(
            {"title": f"Keep the title to {TITLE_MAX_LENGTH} characters or fewer."}
        )
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise ValidationError(
            {
                "description": f"Keep the description to {DESCRIPTION_MAX_LENGTH} characters "
                "or fewer."
            }
        )
    authored = _as_date(date_authored, "date_authored", "the date it was authored")
    return title, description, authored


def _storage_name(checked: CheckedUpload) -> str:
    """A safe name on disk; the original name is kept in ``file_name``."""
    try:
        return get_valid_filename(checked.file_name)
    except SuspiciousFileOperation:
        return f"document.{checked.extension}"


def add_document_file(
    *,
    actor,
    record: SubmittalElementRecord,
    slot: str,
    uploaded_file,
    title: str,
    description: str = "",
    date_authored: date | str | None = None,
    stored: list[str] | None = None,
    authored_as: str = "",
    regulator_key: str = "",
) -> DocumentFile:
    """Upload one file to a document slot of a draft; the slot's answer becomes Upload.

    The file is checked (name, at most 25 MB, content matching its extension, no programs)
    before the transaction starts, and written to storage only once the draft is locked and
    every check passed. If the transaction fails after the write, the stored file is deleted
    again: nothing is kept for a refused upload. Called inside a caller's transaction (the EDT
    Facility Submittal Submit), the storage name is also appended to ``stored``, so the caller
    can delete the file should its own transaction fail later. ``authored_as`` and
    ``regulator_key`` keep what an EDT upload said of the file (its DateAuthored as sent, its
    DocumentRegulatorKey), so the query gives them back unchanged.
    """
    # The right first: nobody without it makes the server read a 25 MB upload.
    require(actor, "submittals.edit", record)
    _slot(record, slot)
    title, description, authored = clean_upload_fields(title, description, date_authored)
    checked = inspect_upload(uploaded_file)

    written: list[str] = []
    try:
        with transaction.atomic():
            document_file = _store_upload(
                actor=actor,
                record=record,
                slot=slot,
                uploaded_file=uploaded_file,
                checked=checked,
                title=title,
                description=description,
                authored=authored,
                stored=written,
                sent={"authored_as": authored_as, "regulator_key": regulator_key},
            )
    except BaseException:
        for name in written:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("Could not delete the refused upload %s", name)
        raise
    if stored is not None:
        stored.extend(written)
    return document_file


def _store_upload(
    *, actor, record, slot, uploaded_file, checked, title, description, authored, stored, sent
) -> DocumentFile:
    """Store one checked file in a slot of the locked element (the slot's answer becomes
    Upload); the storage name is appended to ``stored`` as soon as the file is written."""
    record = _lock_draft(actor, record)
    organization = record.facility.organization
    group = _slot(record, slot)
    document = (
        ElementDocument.objects.select_for_update().filter(record=record, slot=group.tag).first()
    )
    before = _answer_summary(document)
    if document is None:
        document = ElementDocument.objects.create(
            record=record, slot=group.tag, source=DocumentSource.UPLOAD
        )
    elif document.source != DocumentSource.UPLOAD:
        document.source = DocumentSource.UPLOAD
        document.comment, document.date_provided = "", None
        document.other_element, document.url = None, ""
        document.save()

    document_file = DocumentFile(
        document=document,
        file_name=checked.file_name,
        title=title,
        description=description,
        date_authored=authored,
        **sent,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
    )
    uploaded_file.seek(0)
    document_file.file.save(_storage_name(checked), uploaded_file, save=False)
    stored.append(document_file.file.name)
    document_file.save()
    _touch(record)
    record_event(
        actor,
        "submittal.document_uploaded",
        record,
        before=before,
        after={
            "slot": group.tag,
            "key": str(document_file.key),
            "file_name": checked.file_name,
            "size": checked.size,
            "sha256": checked.sha256,
            "content_type": checked.content_type,
        },
        organization=organization,
    )
    return document_file


@transaction.atomic(durable=True)
def remove_document_file(*, actor, file: DocumentFile) -> None:
    """Remove one uploaded file from a draft's document slot. When it was the slot's last
    file the slot is left unanswered (Upload needs at least one file)."""
    document = ElementDocument.objects.select_related("record").get(pk=file.document_id)
    record = _lock_draft(actor, document.record)
    file = DocumentFile.objects.select_for_update().filter(pk=file.pk).first()
    if file is None:
        raise ValidationError("That file was already removed.")
    name = file.file.name
    before = {
        "slot": document.slot,
        "key": str(file.key),
        "file_name": file.file_name,
        "sha256": file.sha256,
    }
    file.delete()
    answer_removed = not document.files.exists()
    if answer_removed:
        document.delete()
    _touch(record)
    record_event(
        actor,
        "submittal.document_removed",
        record,
        before=before,
        after={"slot": before["slot"], "answer_removed": answer_removed},
        organization=record.facility.organization,
    )
    _delete_files_after_commit([name])


# What a new draft copies of an answer and of its files (the files get new CERS unique keys).
COPIED_ANSWER_FIELDS = ("slot", "source", "comment", "date_provided", "other_element", "url")
COPIED_FILE_FIELDS = (
    "file_name",
    "title",
    "description",
    "date_authored",
    "content_type",
    "size",
    "sha256",
    "uploaded_by",
)


def copy_document_answers(*, source: SubmittalElementRecord, target: SubmittalElementRecord) -> int:
    """Copy the document answers of ``source`` to the new draft ``target``: the same
    answers, and for uploads new ``DocumentFile`` rows (new CERS unique keys) that refer to
    the same stored files. Runs inside ``services.start_draft``'s transaction. Returns the
    number of answers copied."""
    slots = {group.tag for group in document_slots(target.element)}
    answers = list(source.documents.filter(slot__in=slots).prefetch_related("files"))
    copies = []
    for answer in answers:
        copy = ElementDocument.objects.create(
            record=target, **field_values(answer, COPIED_ANSWER_FIELDS)
        )
        copies.extend(
            DocumentFile(
                document=copy,
                file=original.file.name,
                **field_values(original, COPIED_FILE_FIELDS),
            )
            for original in answer.files.all()
        )
    DocumentFile.objects.bulk_create(copies)
    return len(answers)
