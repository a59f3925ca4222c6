"""What the published library files have in common, read and loaded one way.

CalEPA publishes the chemical library and the violation library as the XML their EDT queries
answer with. Both are read with the EDT services' hardened parser (no DTD, no entities, no
network), checked against the schema of their version before a single entry is looked at, and
loaded all or nothing by a service of ``libraries.services``. What differs, how an entry is
read (``chemical_file``, ``violation_file``) and how it is stored (the services), stays with
each library; the size limit, the parse-and-check, the result of a reading and the path from
a file to a load live here, for the management commands and the maintenance pages alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core.xmlsafe import ParsedDocument, SchemasUnavailable, XmlRejected, parse_document, validate


@dataclass
class LibraryFile:
    """The entries a file lists, one per key of its library, and what reading it had to say
    (notes: what was read in a way worth telling, never a problem). ``lines``, where the
    reader keeps them (the chemical library's), is the line of the file each entry starts on,
    so that the load's problems name it."""

    version: str
    entries: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)


def megabytes(limit: int) -> int:
    return limit // (1024 * 1024)


def check_size(size: int, limit: int) -> None:
    """``ValidationError`` when a file of ``size`` bytes is over ``limit``."""
    if size > limit:
        raise ValidationError(
            f"The file is larger than {megabytes(limit)} MB; the published library is far smaller."
        )


def read_checked(data: bytes, schema: str, limit: int) -> ParsedDocument:
    """``data`` parsed and checked against ``schema`` in the version it names; a
    ``ValidationError`` listing every problem (too large, unsafe or malformed XML, another
    schema, schema errors)."""
    check_size(len(data), limit)
    try:
        document = parse_document(data, expected_schema=schema)
        messages = validate(document, document.schema())
    except XmlRejected as error:
        shown = error.location and error.location not in error.message
        where = f" ({error.location})" if shown else ""
        raise ValidationError(f"{error.message}{where}") from None
    except SchemasUnavailable as error:
        raise ValidationError(f"The XML schemas are not installed here: {error}") from None
    if messages:
        raise ValidationError(
            [f"{m.location}: {m.message}" if m.location else m.message for m in messages]
        )
    return document


@dataclass(frozen=True)
class PublishedLibrary:
    """One published library as a file is loaded into it: its reader and its loading service.

    ``read(data)`` gives a ``LibraryFile`` or raises ``ValidationError``; ``load(actor=,
    entries=, source=)`` is the service that stores the entries all or nothing and returns the
    load's record (whose ``summary()`` says what changed)."""

    title: str
    limit: int
    read: Callable[[bytes], LibraryFile]
    load: Callable[..., object]

    @property
    def limit_mb(self) -> int:
        return megabytes(self.limit)

    def load_file(self, data: bytes, *, actor, source: str):
        """Read ``data`` and load its entries as ``actor`` (None: an operator's command);
        ``(library_file, load)``. Any problem raises ``ValidationError`` and loads nothing."""
        library = self.read(data)
        where = {"lines": library.lines} if library.lines else {}
        return library, self.load(actor=actor, entries=library.entries, source=source, **where)
