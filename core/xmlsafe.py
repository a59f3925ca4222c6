"""Hardened intake of the XML that EDT clients send: bounded reading, one safe parser, version
negotiation from the root namespace, and XSD validation turned into guidance messages.

Everything here is pure (no database): the EDT views and workers call it, and so does the
violation library's loader (``libraries.violation_file``), which reads CalEPA's published file
with the same parser and schemas; that is why it lives in ``core``.

- ``read_limited`` reads a request body or file in chunks and stops as soon as a byte limit
  is passed (``settings.EDT_MAX_XML_BYTES``, ``settings.EDT_MAX_ZIP_BYTES``).
- ``parse_document`` parses with ``hardened_parser()`` (no DTD, no entity expansion, no
  network, libxml2's normal size and depth limits), refuses any DOCTYPE before the parser
  reads the internal subset, and reads the schema name and version from the root namespace
  ``http://cersservices.calepa.ca.gov/Schemas/{SchemaName}/{major}/{minor}/``.
- ``schema_for`` / ``supported_versions`` form the schema registry over CalEPA's published XSD
  files in ``settings.EDT_SCHEMA_DIR`` (one folder per schema set, ``edt/schemas/`` by default).
  Missing or unreadable files raise ``SchemasUnavailable``: the service's fault, not the
  client's (the EDT views answer 503; the system check in ``edt.checks`` stops start-up).
- ``validate`` runs XSD validation and returns ``GuidanceMessage`` objects (code 1066).
- ``settle_encoding`` makes a received document's bytes read as their sender meant them
  (UTF-16 without its byte order mark, UTF-8 sent under a declaration of UTF-16, a
  Content-Type's charset for a document that declares none) before anything reads them.
- ``unpad_dates`` moves the whitespace around a date out of its element, where libxml2's
  validator, unlike XML Schema, does not accept it: a document that fails is checked so.
- ``check_document`` does what ``parse_document`` and ``validate`` do together, streaming: lxml's
  ``iterparse`` validates while it reads and each element is dropped once read, so checking a
  valid document holds what the parser reads in one go, not its tree. A document that fails is read
  again whole, so its rejection lists every problem exactly as ``validate`` does.

Every rejection is an ``XmlRejected`` whose message is written for a vendor's developer.
"""

from __future__ import annotations

import codecs
import functools
import io
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import IO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from lxml import etree

# Guidance code 1066, XMLSchemaValidationError: the code of every XML rejection.
XML_SCHEMA_VALIDATION_ERROR = 1066

# libxml2's element nesting limit when XML_PARSE_HUGE (huge_tree) is off.
MAX_DEPTH = 256

# A document with thousands of schema errors gets the first ones and a count of the rest.
MAX_VALIDATION_MESSAGES = 100

CHUNK_SIZE = 64 * 1024

# The characters XML 1.0 cannot carry: lxml refuses them in a text or an attribute, so a value
# holding one cannot go out in an EDT answer (a control character pasted into a form).
NOT_XML = "\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff"
NOT_XML_CHARACTER = re.compile(f"[{NOT_XML}]")


def control_character(value: str) -> str | None:
    """Why a typed or imported ``value`` cannot be kept, or None: it holds a character XML
    cannot carry (``NOT_XML``; Word's line break within a paragraph pastes as U+000B), which
    would make every EDT answer naming its record fail mid-stream. Forms
    (``core.forms.text_xml_can_carry``) and spreadsheet imports refuse it with this."""
    found = NOT_XML_CHARACTER.search(value)
    if found is None:
        return None
    before = value[: found.start()][-20:]
    where = f" after “{before}”" if before.strip() else ""
    return (
        f"This text holds an invisible control character (U+{ord(found.group()):04X}){where}: "
        "remove it (retype the text, or paste it as plain text)."
    )


NAMESPACE_TEMPLATE = "http://cersservices.calepa.ca.gov/Schemas/{SchemaName}/{major}/{minor}/"
_NAMESPACE_RE = re.compile(
    r"^http://cersservices\.calepa\.ca\.gov/Schemas/(?P<name>[A-Za-z]+)/(?P<major>\d+)/(?P<minor>\d+)/$"
)
_CLARK_NAMESPACE_RE = re.compile(r"\{[^}]*\}")
_PATH_PREFIX_RE = re.compile(r"(?<=/)[A-Za-z_][\w.-]*:")

# The options of every parser that reads XML from outside the project, for XMLParser and for
# iterparse alike. lxml >= 6.1 defaults are already safe; they are spelt out so that a change
# of defaults cannot weaken them. huge_tree stays off: a large CERS document has many records,
# not deep trees or giant text nodes, so libxml2's normal limits fit and stop abuse.
# Comments and processing instructions are dropped while reading: XML's value of an element is
# all its text, and the schema checks it whole, but a tree that kept a comment in the middle of
# a value (<Name>Caf<!-- x -->e</Name>) would split it, and ``.text`` would read only "Caf".
# Without them the text around is one value, as CalEPA's parser reads it.
PARSER_OPTIONS = MappingProxyType(
    {
        "resolve_entities": False,
        "no_network": True,
        "load_dtd": False,
        "huge_tree": False,
        "remove_comments": True,
        "remove_pis": True,
    }
)


def hardened_parser() -> etree.XMLParser:
    """A new parser with ``PARSER_OPTIONS``: the only way the EDT services parse XML.

    A new one a call, because lxml parsers must not be shared between threads.
    """
    return etree.XMLParser(**PARSER_OPTIONS)


class GuidanceLevel(StrEnum):
    """The level of a guidance message (CDR 20.0079): Required blocks the transaction."""

    REQUIRED = "Required"
    WARNING = "Warning"
    ADVISORY = "Advisory"


@dataclass(frozen=True)
class GuidanceMessage:
    """One message of an EDT response's ``GuidanceMessages`` block."""

    code: int  # GuidanceMessageCode (CDR 20.0078)
    level: str  # a GuidanceLevel value
    message: str
    location: str = ""  # where in the received document: "line 12 (/Violations/Violation)"
    entity_resource: str = ""  # EntityResource (CDR 20.0070)
    regulator_key: str = ""
    cers_unique_key: str = ""

    def __post_init__(self):
        if self.level not in GuidanceLevel._value2member_map_:
            raise ValueError(f"Unknown guidance level {self.level!r}.")


class TooLarge(Exception):
    """The body or file is larger than the limit (the view answers 413)."""

    def __init__(self, limit_bytes: int):
        self.limit_bytes = limit_bytes
        super().__init__(
            f"The data sent is larger than the limit of {_human_size(limit_bytes)} "
            f"({limit_bytes} bytes)."
        )


class XmlRejected(Exception):
    """The received XML cannot be processed: not well-formed, unsafe, or of an unknown schema."""

    def __init__(self, message: str, code: int = XML_SCHEMA_VALIDATION_ERROR, location: str = ""):
        self.message = message
        self.code = code
        self.location = location
        super().__init__(message)

    def as_guidance(self) -> GuidanceMessage:
        return GuidanceMessage(
            code=self.code,
            level=GuidanceLevel.REQUIRED,
            message=self.message,
            location=self.location,
        )


class SchemasUnavailable(ImproperlyConfigured):
    """CalEPA's schema files are not where ``settings.EDT_SCHEMA_DIR`` says, or cannot be read."""


def _human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} bytes"


def read_limited(stream: IO[bytes] | Iterable[bytes], limit_bytes: int) -> bytes:
    """Read ``stream`` (a file-like object, or an iterable of byte chunks) to the end, raising
    ``TooLarge`` as soon as more than ``limit_bytes`` arrive.

    At most ``limit_bytes`` are buffered, plus the one chunk being looked at. Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not apply to ``request.read()``, hence this.
    """
    buffer = bytearray()
    chunks = iter(lambda: stream.read(CHUNK_SIZE), b"") if hasattr(stream, "read") else stream
    for chunk in chunks:
        if len(buffer) + len(chunk) > limit_bytes:
            raise TooLarge(limit_bytes)
        buffer += chunk
    return bytes(buffer)


@dataclass(frozen=True)
class ParsedDocument:
    """A parsed EDT document and the schema version its root namespace asks for."""

    root: etree._Element
    namespace: str
    schema_name: str  # "RegulatorCMESubmit"; "RegulatorCMEQuery" for CMESubmittalQuery.xsd
    version: str  # "1/05"

    def schema(self) -> etree.XMLSchema:
        return schema_for(self.schema_name, self.version)


class _DoctypeFound(Exception):
    pass


class _RootReached(Exception):
    pass


class _PrologProbe:
    """Parser target that stops at the DOCTYPE (before its internal subset is read, so entity
    tricks never run) or at the root element's start tag."""

    def doctype(self, name, pubid, system):
        raise _DoctypeFound(name)

    def start(self, tag, attrib, nsmap=None):
        raise _RootReached(tag)

    def close(self):
        return None


def _refuse_doctype(data: bytes) -> str | None:
    """Refuse a DOCTYPE; return the root element's tag (None if the prolog is malformed)."""
    # A first pass over the prolog only: cheap, and it catches the DOCTYPE whatever the
    # document's encoding, before libxml2 looks at entity declarations. Syntax errors are left
    # to the real parse, which reports them with their position.
    parser = etree.XMLParser(target=_PrologProbe(), **PARSER_OPTIONS)
    try:
        etree.fromstring(data, parser)
    except _DoctypeFound:
        raise XmlRejected(
            "The XML has a document type declaration (<!DOCTYPE ...>). DTDs and entity "
            "declarations are not accepted: send the document without a DOCTYPE.",
            location="line 1",
        ) from None
    except _RootReached as reached:
        return reached.args[0]
    except etree.XMLSyntaxError:
        pass
    return None


def _syntax_error(error: etree.XMLSyntaxError, data: bytes = b"") -> XmlRejected:
    line, column = error.position if error.position else (error.lineno or 0, 0)
    text = re.sub(r", line \d+, column \d+$", "", error.msg or str(error))
    where = f"line {line}, column {column}"
    location = f"line {line}"
    if "Excessive depth" in text:
        return XmlRejected(
            f"The XML nests elements deeper than {MAX_DEPTH} levels (libxml2's limit), at "
            f"{where}. CERS documents are far shallower: check how the document is built.",
            location=location,
        )
    if "Start tag expected" in text and not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        shown = data[:40].decode("utf-8", "replace")
        return XmlRejected(
            f"The body is not an XML document: it begins with {shown!r}. Send the XML document "
            "itself as the body of the POST (or the ZIP package, as application/zip).",
            location=location,
        )
    if "Invalid bytes in character encoding" in text or "not proper UTF-8" in text:
        return XmlRejected(
            f"The XML's bytes at {where} are not {_read_as(data)}. Declare the encoding the "
            'document is written in (<?xml version="1.0" encoding="windows-1252"?>, or '
            "ISO-8859-1), or save it as UTF-8.",
            location=location,
        )
    if "Unsupported encoding" in text:
        name = text.rsplit(":", 1)[-1].strip()
        return XmlRejected(
            f"The XML declaration names the encoding {name!r}, which CERS cannot read: write "
            "the document in UTF-8 (or UTF-16, ISO-8859-1, windows-1252) and declare that.",
            location=location,
        )
    if "XML declaration allowed only at the start" in text:
        return XmlRejected(
            f"The XML declaration (<?xml ...?>) is not at the very start of the body, at {where}: "
            "remove what comes before it (blank lines, spaces, a second byte order mark).",
            location=location,
        )
    return XmlRejected(f"The XML is not well-formed: {text} (at {where}).", location=location)


# Byte order marks: the document says its own encoding, whatever it declares (as XML and .NET
# read it).
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
_DECLARED_RE = re.compile(
    rb"""^<\?xml\s[^?>]*?\bencoding\s*=\s*(?P<quote>['"])(?P<name>[A-Za-z][\w.:-]*)(?P=quote)"""
)
_SIXTEEN_BITS = {"unicode", "ucs-2", "ucs2", "iso-10646-ucs-2"}


def _declared_encoding(data: bytes) -> re.Match | None:
    return _DECLARED_RE.match(data[:256])


def _is_sixteen_bits(name: str) -> bool:
    if name.lower() in _SIXTEEN_BITS:
        return True
    try:
        return codecs.lookup(name).name.startswith(("utf-16", "utf-32"))
    except (LookupError, ValueError):  # unknown, or not a name (a NUL in it)
        return False


def _read_as(data: bytes) -> str:
    """The encoding a document without a byte order mark is read in, in words."""
    declared = _declared_encoding(data)
    if declared:
        return f"{declared['name'].decode()}, the encoding its declaration names"
    return "UTF-8, the encoding XML reads when none is declared"


# A date or date-time with whitespace around it, and the end tag after it. XML Schema collapses
# the whitespace around every value that is not a string (.NET's validator, CalEPA's, does);
# libxml2 does so for numbers and booleans but refuses a date written on a line of its own.
_PADDED_DATE = (
    r">(?P<before>[ \t\r\n]*)"
    r"(?P<value>\d{4}-\d\d-\d\d(?:T\d\d:\d\d:\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?)"
    r"(?P<after>[ \t\r\n]*)(?P<end></[A-Za-z_][\w.:-]*>)"
)
_PADDED_DATE_BYTES_RE = re.compile(_PADDED_DATE.encode())
_PADDED_DATE_TEXT_RE = re.compile(_PADDED_DATE)
_UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def _unpad(match: re.Match) -> bytes | str:
    value, end, space = match["value"], match["end"], match["before"] + match["after"]
    return match[0][:1] + value + end + space


def unpad_dates(data: bytes) -> bytes:
    """Move the whitespace around a date or date-time value out of its element, after its end
    tag, where it is the whitespace between elements that every reader ignores: the document
    then validates as XML Schema says it does, and the value reads the same (values are read
    stripped). Every line keeps its number, so messages point where they did. Unchanged when
    no date is padded. ``check_document`` asks for it only of a document that fails (a
    regular expression over the whole of it costs some 20 ms a megabyte)."""
    bom = data[:2]
    if bom in _UTF16_BOMS:
        text = data[2:].decode(_UTF16_BOMS[bom], errors="surrogatepass")
        if not _PADDED_DATE_TEXT_RE.search(text):
            return data
        unpadded = _PADDED_DATE_TEXT_RE.sub(
            lambda m: m[0] if not (m["before"] or m["after"]) else _unpad(m), text
        )
        return bom + unpadded.encode(_UTF16_BOMS[bom], errors="surrogatepass")
    # Any other encoding a document may be in writes digits, spaces and tags as ASCII does.
    return _PADDED_DATE_BYTES_RE.sub(
        lambda m: m[0] if not (m["before"] or m["after"]) else _unpad(m), data
    )


_SINGLE_BYTE_CODECS = ("iso8859", "cp125", "latin", "mac-")
_MULTIBYTE_UTF8_RE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]")
_WORD_EDGE_RE = re.compile(rb"[\s<>]")
_WORD_REACH = 30  # bytes of the word shown on each side of its first letter beyond ASCII


def _word_around(data: bytes, at: int) -> bytes:
    """The word holding the byte at ``at`` (up to ``_WORD_REACH`` bytes each side): looked for
    in a window around it, so that a long run without a space costs nothing more (a search
    for the whole word from every place of the run took time growing with its square)."""
    start = max(0, at - _WORD_REACH)
    window = data[start : at + _WORD_REACH]
    offset = at - start
    edges = [edge.start() for edge in _WORD_EDGE_RE.finditer(window)]
    left = max((edge + 1 for edge in edges if edge < offset), default=0)
    right = min((edge for edge in edges if edge > offset), default=len(window))
    # the end of the window may cut a letter: its bytes are dropped rather than misread
    word = window[left:right]
    return word.decode("utf-8", "ignore").encode("utf-8") if right == len(window) else word


def misdeclared_utf8(data: bytes) -> list[GuidanceMessage]:
    """A Warning for a document that declares a single-byte encoding (ISO-8859-1,
    windows-1252) but whose bytes are UTF-8 with letters beyond ASCII, as a template's
    declaration kept by a program writing UTF-8 makes it: read as declared (as XML and CalEPA
    read it), its accented letters are not what was meant, and the vendor is told how they
    read, with one word both ways. Nothing for any other document."""
    if data.startswith(_BOMS):
        return []
    declared = _declared_encoding(data)
    if not declared:
        return []
    name = declared["name"].decode()
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return []
    first = _MULTIBYTE_UTF8_RE.search(data)
    if not codec.startswith(_SINGLE_BYTE_CODECS) or not first:
        return []
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return []  # not UTF-8: the bytes are the declared encoding's
    word = _word_around(data, first.start())
    as_declared, as_utf8 = word.decode(codec, "replace"), word.decode("utf-8", "replace")
    return [
        GuidanceMessage(
            code=XML_SCHEMA_VALIDATION_ERROR,
            level=GuidanceLevel.WARNING,
            message=(
                f"The document declares {name}, but its bytes read as UTF-8: it was read as "
                f"its declaration says ({as_declared!r}), not as UTF-8 ({as_utf8!r}). If that "
                'is not what was meant, declare encoding="UTF-8" and send the corrected '
                "document."
            ),
        )
    ]


def settle_encoding(data: bytes, charset: str | None = None) -> bytes:
    """The bytes of a received document, made to read as their sender meant them; unchanged
    when they already do (nearly always). Applied once, when the document is received: what is
    stored and processed is the result.

    - A byte order mark says the encoding, whatever the declaration says: kept as it is.
    - UTF-16 without a byte order mark (its first character's zero byte shows it, as .NET
      reads it): the mark is added.
    - A declaration naming UTF-16 on bytes that are not (no mark, an ASCII ``<?xml``): .NET's
      ``StringWriter`` writes ``encoding="utf-16"``, and the string is then sent as UTF-8. The
      bytes can only be read one way: the declaration is made to say UTF-8 (padded with
      spaces, so positions in the document stay where they were).
    - No encoding declared, bytes that are not UTF-8 and a ``charset`` (the Content-Type's
      parameter) that reads them: the document is written out in UTF-8. A document that is
      valid UTF-8 keeps being read so, whatever the header says; one that declares its
      encoding is read as it declares.
    """
    if data.startswith(_BOMS):
        return data
    if len(data) >= 2 and (data[0] == 0) != (data[1] == 0):
        return (b"\xfe\xff" if data[0] == 0 else b"\xff\xfe") + data
    declared = _declared_encoding(data)
    if declared:
        if not _is_sixteen_bits(declared["name"].decode()):
            return data
        start, end = declared.span("name")
        padding = b" " * max(0, end - start - len(b"UTF-8"))
        quote = declared["quote"]
        return data[:start] + b"UTF-8" + quote + padding + data[end + 1 :]
    if not charset:
        return data
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        if _is_sixteen_bits(charset) or codecs.lookup(charset).name == "utf-8":
            return data
        return data.decode(charset).encode("utf-8")
    except (LookupError, ValueError):
        # Unknown, not a text encoding, or one that does not read these bytes (every
        # UnicodeError is a ValueError: Python's "undefined" codec reads nothing at all).
        return data  # read as UTF-8: refused, saying which bytes are not


def _unresolved_namespace(
    found: str | None, expected_schema: str | None, location: str
) -> XmlRejected:
    versions = supported_versions(expected_schema) if expected_schema else []
    if len(versions) > 1:
        expected = "one of " + ", ".join(_namespace(expected_schema, v) for v in versions)
    elif expected_schema:
        expected = _namespace(expected_schema, versions[0] if versions else "{major}/{minor}")
    else:
        expected = NAMESPACE_TEMPLATE
    got = f"the root element's namespace is {found!r}" if found else "the root element has none"
    return XmlRejected(
        "Unable to resolve the targetNamespace of the received XML data. "
        f"Expected {expected}; {got}.",
        location=location,
    )


def _namespace(schema_name: str, version: str) -> str:
    return f"http://cersservices.calepa.ca.gov/Schemas/{schema_name}/{version}/"


def parse_document(data: bytes, *, expected_schema: str | None = None) -> ParsedDocument:
    """Parse a received EDT document safely and find its schema version.

    ``expected_schema`` (the schema name an endpoint takes, e.g. "RegulatorCMESubmit") makes a
    document of another schema a rejection that names the namespace expected. Raises
    ``XmlRejected``; ``SchemasUnavailable`` if the schema files are missing.
    """
    _refuse_doctype(data)
    try:
        root = etree.fromstring(data, hardened_parser())
    except etree.XMLSyntaxError as error:
        raise _syntax_error(error, data) from None
    # Only a DTD can declare entities, and DTDs are refused above; this guards the rule itself.
    if root.getroottree().docinfo.doctype or next(root.iter(etree.Entity), None) is not None:
        raise XmlRejected("The XML contains entity references, which are not accepted.")

    namespace = etree.QName(root).namespace
    schema_name, version = _resolve(namespace, expected_schema, f"line {root.sourceline}")
    return ParsedDocument(root=root, namespace=namespace, schema_name=schema_name, version=version)


def _resolve(namespace: str | None, expected_schema: str | None, where: str) -> tuple[str, str]:
    """The schema name and version a root namespace asks for; ``XmlRejected`` if none fits."""
    match = _NAMESPACE_RE.match(namespace or "")
    if not match:
        raise _unresolved_namespace(namespace, expected_schema, where)
    schema_name = match["name"]
    version = f"{match['major']}/{match['minor']}"
    if expected_schema and schema_name != expected_schema:
        raise _unresolved_namespace(namespace, expected_schema, where)
    versions = supported_versions(schema_name)
    if not versions:
        raise XmlRejected(
            f"Unable to resolve the targetNamespace of the received XML data. {schema_name!r} "
            f"is not a CERS EDT schema; known schemas: {', '.join(known_schemas())}.",
            location=where,
        )
    if version not in versions:
        raise XmlRejected(
            f"Version {version} of the {schema_name} schema is not supported; supported "
            f"versions: {', '.join(versions)}.",
            location=where,
        )
    return schema_name, version


def document_version(data: bytes) -> str:
    """The schema version of a document already checked (``check_document``), read from its
    root's namespace without parsing the rest."""
    tag = _refuse_doctype(data)
    namespace = etree.QName(tag).namespace if tag else None
    return _resolve(namespace, None, "line 1")[1]


@dataclass(frozen=True)
class CheckedDocument:
    """What ``check_document`` found: the schema version, the schema problems (none: valid)
    and what its ``collect`` kept, in document order."""

    namespace: str
    schema_name: str
    version: str
    problems: list[GuidanceMessage]
    collected: list


def check_document(
    data: bytes,
    *,
    expected_schema: str | None = None,
    collect: Callable[[etree._Element], object] | None = None,
) -> CheckedDocument:
    """Parse and validate a received document streaming: ``parse_document`` and ``validate``
    without holding the tree. Each element with children (a record, a section) is cleared as
    soon as it ends and the siblings before it dropped, so a valid document of any length holds
    no more than the parser reads in one go (some 32 kB of records), never the whole tree.

    Two passes over the bytes: a parse that builds nothing checks that the document is
    well-formed to its last byte (lxml's ``iterparse`` with a schema takes a document cut short
    for a complete one), then ``iterparse`` validates against the schema as it reads.
    ``collect(element)`` sees each element as it ends (the sections inside it already dropped:
    it reads a leaf's text and its place, not a subtree); what it returns, unless None, is kept
    in ``collected``, in document order. A document either pass refuses is parsed again whole,
    so that its rejection is ``parse_document``'s exception or ``validate``'s full list of
    problems, word for word. Raises ``XmlRejected``."""
    tag = _refuse_doctype(data)
    namespace = etree.QName(tag).namespace if tag else None
    try:
        schema_name, version = _resolve(namespace, expected_schema, "line 1")
        schema = schema_for(schema_name, version)
        etree.fromstring(data, etree.XMLParser(target=_WellFormed(), **PARSER_OPTIONS))
    except (XmlRejected, LookupError, etree.XMLSyntaxError):
        return _check_whole(data, expected_schema, collect)
    collected = []
    events = etree.iterparse(io.BytesIO(data), events=("end",), schema=schema, **PARSER_OPTIONS)
    try:
        for _event, element in events:
            if collect is not None and (kept := collect(element)) is not None:
                collected.append(kept)
            if len(element):
                element.clear(keep_tail=True)
                parent = element.getparent()
                if parent is not None and len(parent) > 1:
                    del parent[:-1]
    except etree.XMLSyntaxError:  # invalid: the whole document lists every problem
        return _check_whole(data, expected_schema, collect)
    return CheckedDocument(namespace, schema_name, version, [], collected)


class _WellFormed:
    """Parser target without callbacks: libxml2 reads the document and builds nothing."""

    def close(self):
        return None


def _check_whole(data: bytes, expected_schema: str | None, collect) -> CheckedDocument:
    parsed = parse_document(data, expected_schema=expected_schema)
    problems = validate(parsed, parsed.schema())
    if problems and (unpadded := unpad_dates(data)) != data:
        # What XML Schema accepts and libxml2 does not: checked as it would be read. The
        # document itself is kept as sent, its values being read stripped.
        return check_document(unpadded, expected_schema=expected_schema, collect=collect)
    collected = []
    if collect is not None:
        for element in parsed.root.iter(etree.Element):
            if (kept := collect(element)) is not None:
                collected.append(kept)
    return CheckedDocument(
        parsed.namespace, parsed.schema_name, parsed.version, problems, collected
    )


# Schema registry ---------------------------------------------------------------------------


def _schema_dir() -> Path:
    directory = Path(settings.EDT_SCHEMA_DIR)
    if not directory.is_dir():
        raise SchemasUnavailable(
            f"The EDT schema directory {str(directory)!r} does not exist. Set EDT_SCHEMA_DIR "
            "(environment variable CERS_EDT_SCHEMA_DIR) to the folder that holds CalEPA's "
            "schema sets (1.05/, cers3/)."
        )
    return directory


def schema_index(directory: Path) -> dict[tuple[str, str], Path]:
    """(schema name, version) -> XSD file for the schema sets in ``directory``, read afresh
    (the registry's own index is read once per process); ``SchemasUnavailable`` if a file
    cannot be read. The system check compares it with what the catalogue serves."""
    return _index.__wrapped__(directory)


def _read_schema_file(path: Path) -> etree._ElementTree:
    try:
        return etree.parse(str(path), hardened_parser())
    except (OSError, etree.XMLSyntaxError) as error:
        raise SchemasUnavailable(
            f"The EDT schema file {str(path)!r} cannot be read: {error}"
        ) from None


@functools.cache
def _index(directory: Path) -> dict[tuple[str, str], Path]:
    """(schema name, version) -> XSD file, from each file's targetNamespace.

    Schema sets are read in name order and a later set wins: the CERS3 snapshot ("cers3")
    revises some files in place without changing their version (e.g. regulator codes from
    1000 in CMESubmittalQuery 1/05), and it sorts after "1.05".
    """
    index = {}
    for path in sorted(directory.glob("*/*.xsd")):
        tree = _read_schema_file(path)
        match = _NAMESPACE_RE.match(tree.getroot().get("targetNamespace", ""))
        if match:
            version = f"{match['major']}/{match['minor']}"
            index[(match["name"], version)] = path
    return index


def _version_key(version: str) -> tuple[int, int]:
    major, minor = version.split("/")
    return int(major), int(minor)


def known_schemas() -> list[str]:
    """The names of every schema in the registry."""
    return sorted({name for name, _version in _index(_schema_dir())})


def supported_versions(schema_name: str) -> list[str]:
    """The versions of ``schema_name`` the registry holds, oldest first ("1/05", "1/10")."""
    versions = [v for name, v in _index(_schema_dir()) if name == schema_name]
    return sorted(versions, key=_version_key)


# XMLSchema keeps the error log of its last run on the object, so one instance must not
# validate in two threads at once: each thread compiles its own (a few milliseconds, once).
_compiled = threading.local()
# libxml2 compiles a schema with process-wide state: two threads compiling at once have
# crashed the process (a request thread and another under concurrent uploads). Each thread
# keeps its own compiled schema (``_compiled``); the compiling is done one at a time.
_compile_lock = threading.Lock()


def schema_file(schema_name: str, version: str) -> Path:
    """The file the registry validates ``schema_name`` at ``version`` with; ``LookupError`` if
    it holds none. The EDT services offer the same file for download."""
    path = _index(_schema_dir()).get((schema_name, version))
    if path is None:
        raise LookupError(
            f"No schema {schema_name} version {version} in EDT_SCHEMA_DIR; it holds: "
            f"{', '.join(supported_versions(schema_name)) or 'no version'}."
        )
    return path


def schema_for(schema_name: str, version: str) -> etree.XMLSchema:
    """The compiled XSD of ``schema_name`` at ``version``, cached; ``LookupError`` if the
    registry does not hold it. Schema files are parsed with the hardened parser too (CalEPA's
    files are self-contained: no imports to fetch)."""
    path = schema_file(schema_name, version)
    cache = _compiled.__dict__.setdefault("schemas", {})
    if path not in cache:
        with _compile_lock:
            document = _read_schema_file(path)
            lift_date_ceiling(document)
            try:
                cache[path] = etree.XMLSchema(document)
            except etree.XMLSchemaParseError as error:
                raise SchemasUnavailable(
                    f"The EDT schema file {str(path)!r} is not a valid XML schema: {error}"
                ) from None
    return cache[path]


XS = "http://www.w3.org/2001/XMLSchema"
# CalEPA's published schemas end their Date and DateTime types at the last day of 2024 (a
# placeholder that later schema versions move); data dated since then is real and valid.
DATE_CEILING = "2024-12-31"
LIFTED_CEILING = {"date": "2099-12-31", "dateTime": "2099-12-31T23:59:59Z"}


def lift_date_ceiling(document: etree._ElementTree) -> int:
    """Move every ``xs:maxInclusive`` of 2024-12-31 on a date or dateTime restriction to the
    end of 2099, in place; every other facet of CalEPA's schema is kept as published. Returns
    how many facets were moved."""
    moved = 0
    for facet in document.iter(f"{{{XS}}}maxInclusive"):
        base = (facet.getparent().get("base") or "").split(":")[-1]
        if base in LIFTED_CEILING and facet.get("value", "").startswith(DATE_CEILING):
            facet.set("value", LIFTED_CEILING[base])
            moved += 1
    return moved


def _clean_path(path: str, root_name: str) -> str:
    # libxml2 writes a namespaced root without a prefix as "/*"; only the root is namespaced
    # (elementFormDefault="unqualified"), so the first step is the root's name.
    path = _PATH_PREFIX_RE.sub("", path or "")
    if path == "/*" or path.startswith("/*/") or path.startswith("/*["):
        path = f"/{root_name}{path[2:]}"
    return path


_QUALIFIED_CHILD_RE = re.compile(
    r"^Element '\{(?P<namespace>[^}]+)\}(?P<name>[^']+)': This element"
)


def _schema_message(message: str) -> str:
    """libxml2's message without namespaces, which only the root element has. A child element
    in a namespace is the exception: "Element 'X': This element is not expected. Expected is
    ( X )" would read as nonsense, so it says where it is and how to take it out."""
    qualified = _QUALIFIED_CHILD_RE.match(message)
    if qualified:
        return (
            f"Element '{qualified['name']}' is in the namespace {qualified['namespace']}, but "
            "only the root element is: its children are in no namespace "
            '(elementFormDefault="unqualified"). Write them without a prefix, and where the '
            'root declares its namespace as the default (xmlns="..."), undeclare it on them '
            '(xmlns=""), or give the root\'s namespace a prefix (xmlns:cers="...").'
        )
    return _CLARK_NAMESPACE_RE.sub("", message)


def validate(
    doc: ParsedDocument | etree._Element, schema: etree.XMLSchema
) -> list[GuidanceMessage]:
    """Validate against ``schema``; one Required message (1066) per error, in document order.
    An empty list means the document is valid."""
    root = doc.root if isinstance(doc, ParsedDocument) else doc
    if schema.validate(root):
        return []
    root_name = etree.QName(root).localname
    errors = sorted(schema.error_log, key=lambda entry: entry.line)
    messages = [
        GuidanceMessage(
            code=XML_SCHEMA_VALIDATION_ERROR,
            level=GuidanceLevel.REQUIRED,
            message=_schema_message(entry.message),
            location=f"line {entry.line} ({_clean_path(entry.path, root_name)})",
        )
        for entry in errors[:MAX_VALIDATION_MESSAGES]
    ]
    if len(errors) > MAX_VALIDATION_MESSAGES:
        messages.append(
            GuidanceMessage(
                code=XML_SCHEMA_VALIDATION_ERROR,
                level=GuidanceLevel.REQUIRED,
                message=f"{len(errors) - MAX_VALIDATION_MESSAGES} more schema errors not listed.",
            )
        )
    return messages
