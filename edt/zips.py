"""ZIP packages sent to the EDT services: an XML file ``data.xml`` and the documents it
references, all at the root of the archive.

``open_package`` checks the archive before and while reading it and never writes to disk:
it is a ZIP; entries are plain file names (no directories, ``..``, absolute paths or drive
letters), of an allowed type, not encrypted, not links, not duplicated; there is exactly one
``data.xml``; sizes and compression ratios stay under caps, first as the headers declare them,
then as the bytes actually come out (headers can lie). ``check_references`` then matches the
documents with the names ``data.xml`` references (``referenced_file_names``).

The messages of the checks CalEPA's manual lists are CalEPA's own, so vendors' software that
recognises them keeps working. Pure module: no database.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

DATA_XML = "data.xml"
MB = 1024 * 1024
CHUNK_SIZE = 64 * 1024

ALLOWED_EXTENSIONS = frozenset(
    {"gif", "jpeg", "jpg", "png", "svg"}  # images
    | {"txt", "rtf", "htm", "html", "csv", "xml"}  # text
    | {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "odt", "ods", "pptx", "zip"}  # office, archives
)

# A ratio is only meaningful for entries large enough to matter: a few KB of a repeated
# character legitimately compress more than 100:1 and could not hurt anyone.
RATIO_FLOOR = 1 * MB

# Deflate output is bounded per read; bzip2 and LZMA decompress a whole block at once, so a
# few KB in could be hundreds of MB out before any check runs. Vendors' tools use deflate.
ALLOWED_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}

MISSING_DATA_XML = "Could not find the expected XML file (data.xml) in the zip file."
SUB_DIRECTORIES = "The zip file contains sub directories which is not allowed."
UNREFERENCED = "The Zip file contains documents that are not referenced in the XML."
MISSING_DOCUMENTS = (
    "The XML data references documents not contained in the Zip which is not allowed."
)

_DRIVE_RE = re.compile(r"^[A-Za-z]:")


class PackageRejected(Exception):
    """The ZIP package cannot be accepted; ``message`` says why."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class Package:
    """The contents of an accepted package: ``data.xml`` and the documents, by file name."""

    xml: bytes
    documents: dict[str, bytes] = field(default_factory=dict)


def _size(n: int) -> str:
    return f"{n / MB:g} MB" if n >= MB else f"{n} bytes"


def _check_name(info: zipfile.ZipInfo, seen: set[str]) -> None:
    name = info.filename
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name) or ".." in re.split(r"[/\\]", name):
        raise PackageRejected(
            f"The zip file contains an entry with a path ({name!r}). Only plain file names at "
            "the root of the zip file are accepted."
        )
    if info.is_dir() or "/" in name or "\\" in name:
        raise PackageRejected(f"{SUB_DIRECTORIES} ({name!r})")
    if not name.strip():
        raise PackageRejected("The zip file contains an entry without a name.")
    if stat.S_ISLNK(info.external_attr >> 16):
        raise PackageRejected(f"The zip file entry {name!r} is a link; only files are accepted.")
    if info.flag_bits & 0x1:
        raise PackageRejected(
            f"The zip file entry {name!r} is encrypted; encrypted files are not accepted."
        )
    if info.compress_type not in ALLOWED_METHODS:
        raise PackageRejected(
            f"The zip file entry {name!r} uses a compression method other than deflate or "
            "stored, which is not accepted."
        )
    extension = name.rpartition(".")[2].lower() if "." in name else ""
    if extension not in ALLOWED_EXTENSIONS:
        raise PackageRejected(
            f"The file {name!r} is of a type that is not accepted. Accepted types: "
            f"{', '.join(sorted(ALLOWED_EXTENSIONS))}."
        )
    key = name.casefold()
    if key in seen:
        raise PackageRejected(
            f"The zip file contains {name!r} more than once (file names are compared without "
            "regard to case)."
        )
    seen.add(key)


def _check_declared_size(info: zipfile.ZipInfo, max_file: int, max_ratio: int) -> None:
    if info.file_size > max_file:
        raise PackageRejected(
            f"The file {info.filename!r} is {_size(info.file_size)} uncompressed; the limit for "
            f"one file is {_size(max_file)}."
        )
    _check_ratio(info.filename, info.file_size, info.compress_size, max_ratio)


def _check_ratio(name: str, size: int, compressed: int, max_ratio: int) -> None:
    if size > RATIO_FLOOR and size > max_ratio * max(compressed, 1):
        raise PackageRejected(
            f"The file {name!r} expands more than {max_ratio} times when decompressed, which is "
            "not accepted (a possible zip bomb)."
        )


def _read_entry(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, *, max_file: int, max_ratio: int, budget: int
) -> bytes:
    """Decompress one entry in chunks, counting what actually comes out against the caps."""
    limit = min(max_file, budget)
    out = bytearray()
    with archive.open(info) as entry:
        while chunk := entry.read(CHUNK_SIZE):
            out += chunk
            if len(out) > info.file_size:
                raise PackageRejected(
                    f"The file {info.filename!r} is larger than the zip file's headers declare; "
                    "the zip file is damaged or forged."
                )
            if len(out) > limit:
                raise PackageRejected(
                    f"The zip file's contents exceed the limit of {_size(limit)} when decompressed."
                )
            _check_ratio(info.filename, len(out), info.compress_size, max_ratio)
    return bytes(out)


def open_package(
    data: bytes,
    *,
    max_total: int,
    max_file: int = 25 * MB,
    max_ratio: int = 100,
    max_files: int = 1000,
) -> Package:
    """Check a received ZIP package and return its ``data.xml`` and documents.

    ``max_total`` caps the sum of the uncompressed sizes, ``max_file`` each file, ``max_ratio``
    each file's uncompressed/compressed ratio, ``max_files`` the number of entries. Raises
    ``PackageRejected``.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise PackageRejected("The data sent is not a valid zip file.") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > max_files:
            raise PackageRejected(
                f"The zip file holds {len(infos)} entries; at most {max_files} are accepted."
            )
        # Everything the headers tell is checked before a byte is decompressed.
        seen: set[str] = set()
        declared_total = 0
        for info in infos:
            _check_name(info, seen)
            _check_declared_size(info, max_file, max_ratio)
            declared_total += info.file_size
            if declared_total > max_total:
                raise PackageRejected(
                    f"The zip file's contents exceed the limit of {_size(max_total)} when "
                    "decompressed."
                )
        data_xml = [info for info in infos if info.filename.casefold() == DATA_XML]
        if not data_xml:
            raise PackageRejected(MISSING_DATA_XML)

        contents: dict[str, bytes] = {}
        budget = max_total
        for info in infos:
            try:
                body = _read_entry(
                    archive, info, max_file=max_file, max_ratio=max_ratio, budget=budget
                )
            except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
                # BadZipFile covers a bad CRC (sizes that lie) and CPython's overlapping-entry
                # bomb check; RuntimeError an encryption flag set only in the local header.
                raise PackageRejected(
                    f"The zip file entry {info.filename!r} cannot be read ({error}); the zip "
                    "file is damaged or forged."
                ) from None
            budget -= len(body)
            contents[info.filename] = body
    xml = contents.pop(data_xml[0].filename)
    return Package(xml=xml, documents=contents)


def referenced_file_names(root: etree._Element) -> list[str]:
    """The text of every element whose local name ends in ``FileName`` (in practice
    ``Attachment/AttachmentFileName``), in document order."""
    names = []
    for element in root.iter(etree.Element):
        if etree.QName(element).localname.endswith("FileName") and (element.text or "").strip():
            names.append(element.text.strip())
    return names


def check_references(package: Package, referenced_names: Iterable[str]) -> None:
    """Every document in the package is referenced by ``data.xml`` and every name it references
    is in the package, comparing names without regard to case. Raises ``PackageRejected``
    listing the names at fault."""
    referenced = {name.casefold(): name for name in referenced_names}
    present = {name.casefold(): name for name in package.documents}
    problems = []
    missing = sorted(referenced[key] for key in referenced.keys() - present.keys())
    if missing:
        problems.append(f"{MISSING_DOCUMENTS} Not in the zip file: {', '.join(missing)}.")
    unreferenced = sorted(present[key] for key in present.keys() - referenced.keys())
    if unreferenced:
        problems.append(f"{UNREFERENCED} Not referenced: {', '.join(unreferenced)}.")
    if problems:
        raise PackageRejected(" ".join(problems))
