"""The schema files offered to implementers: every file the service validates against, found
where the service finds it, and what changed from one version of a schema to the next.

A file is served at the path of its namespace under the environment's base
(``/EDT/Schemas/RegulatorFacilitySubmittal/1/10/``), so the namespace a client reads in a
document names the file it validates with. Only what the catalogue serves (``SCHEMA_VERSIONS``,
looked up in ``core.xmlsafe``'s registry, the one the uploads use) and the files those
include or import can be asked for: a request names a schema and a version, or a location
written in one of those files, never a path on disk, so nothing outside the schema folder can
be reached. CalEPA's files are self-contained today; the includes are followed all the same,
so a later set that splits its types out stays downloadable whole.

What changed is computed from the files: every element and attribute a document may carry,
as a path from the root, with how often it occurs and the type of its value; two versions are
compared path by path.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from lxml import etree

from core import xmlsafe

from .catalogue import ENDPOINTS, SCHEMA_VERSIONS, schema_namespace

XS = "{http://www.w3.org/2001/XMLSchema}"
REFERENCES = (f"{XS}include", f"{XS}import", f"{XS}redefine")


@dataclass(frozen=True)
class SchemaFile:
    """One served schema version: ``name`` as the catalogue spells it, ``family`` as its
    namespace does (the CME query's file is CMESubmittalQuery, its namespace
    RegulatorCMEQuery)."""

    name: str
    version: str

    @property
    def family(self) -> str:
        return schema_namespace(self.name, self.version).split("/")[-4]

    @property
    def namespace(self) -> str:
        return schema_namespace(self.name, self.version)

    @property
    def major(self) -> str:
        return self.version.split("/")[0]

    @property
    def minor(self) -> str:
        return self.version.split("/")[1]

    @property
    def url_path(self) -> str:
        """The path after the environment's base: ``Schemas/{family}/{major}/{minor}/``."""
        return f"Schemas/{self.family}/{self.version}/"

    @property
    def download_name(self) -> str:
        return f"{self.family}_{self.major}_{self.minor}.xsd"

    @property
    def path(self) -> Path:
        """The file the service validates this version with (``LookupError`` if absent,
        ``SchemasUnavailable`` if the folder is)."""
        return xmlsafe.schema_file(self.family, self.version)

    @property
    def schema_set(self) -> str:
        """The folder of the set the file comes from (``1.05``, ``cers3``)."""
        return self.path.parent.name


SERVED: tuple[SchemaFile, ...] = tuple(
    SchemaFile(name, version)
    for name in sorted(SCHEMA_VERSIONS)
    for version in SCHEMA_VERSIONS[name]
)
_BY_URL = {(f.family.lower(), f.major, f.minor): f for f in SERVED}


def find(family: str, major: str, minor: str) -> SchemaFile | None:
    """The schema served at ``Schemas/{family}/{major}/{minor}/``, the family's name in any
    case (CalEPA's server finds its files so)."""
    return _BY_URL.get((family.lower(), major, minor))


def _schema_root() -> Path:
    return Path(settings.EDT_SCHEMA_DIR).resolve()


def _parse(path: Path) -> etree._Element:
    return etree.parse(str(path), xmlsafe.hardened_parser()).getroot()


def referenced_files(schema: SchemaFile) -> dict[str, Path]:
    """The files ``schema`` includes or imports, directly or through another, by location
    relative to the schema's own folder ("Common/Types.xsd"): what a client needs beside it to
    validate offline. A location that leaves the schema's folder, is absolute, names another
    host or a file that is not there is not offered."""
    return _referenced(schema.path.resolve(), _schema_root())


@functools.cache
def _referenced(path: Path, root: Path) -> dict[str, Path]:
    base = path.parent
    found: dict[str, Path] = {}
    pending = [path]
    seen = {path}
    while pending:
        current = pending.pop()
        for reference in _parse(current).iter(*REFERENCES):
            location = reference.get("schemaLocation", "")
            if not location or "://" in location or location.startswith(("/", "\\")):
                continue
            target = (current.parent / location).resolve()
            if not (target.is_file() and target.is_relative_to(root)):
                continue
            if not target.is_relative_to(base):  # a client resolving it would leave the URL
                continue
            found[target.relative_to(base).as_posix()] = target
            if target not in seen:
                seen.add(target)
                pending.append(target)
    return found


def endpoints_using(schema_name: str) -> list:
    return [e for e in ENDPOINTS if schema_name in (e.input_schema, e.output_schema)]


# --- what changed between versions ------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """An element or attribute a document may carry: how often, and its value's type (empty
    for an element that holds other elements)."""

    occurs: str
    value: str = ""
    values: frozenset[str] = frozenset()  # the allowed values, for a list of codes


@dataclass
class Changes:
    added: list[tuple[str, int]] = field(default_factory=list)  # path, paths beneath it
    removed: list[tuple[str, int]] = field(default_factory=list)
    # the same change to many paths is listed once: (what changed, the paths)
    changed: list[tuple[tuple[str, ...], list[str]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


class _Outline:
    """Every path a document of one schema may carry, with its ``Node``."""

    def __init__(self, root: etree._Element):
        self.types = {
            node.get("name"): node
            for node in root
            if node.tag in (f"{XS}complexType", f"{XS}simpleType")
        }
        self.elements = {node.get("name"): node for node in root.iterchildren(f"{XS}element")}
        self.groups = {
            (node.tag, node.get("name")): node
            for node in root
            if node.tag in (f"{XS}group", f"{XS}attributeGroup")
        }
        self.paths: dict[str, Node] = {}
        for name, element in self.elements.items():
            self._element(element, name, "1", ())

    def _element(self, element, path: str, occurs: str, stack: tuple[str, ...]) -> None:
        reference = element.get("ref")
        if reference is not None:
            target = self.elements.get(_local(reference))
            if target is not None:
                name = _local(reference)
                self._element_body(target, f"{path.rsplit('/', 1)[0]}/{name}", occurs, stack)
            return
        self._element_body(element, path, occurs, stack)

    def _element_body(self, element, path: str, occurs: str, stack: tuple[str, ...]) -> None:
        type_name = element.get("type")
        if type_name is not None:
            local = _local(type_name)
            named = self.types.get(local) if not type_name.startswith("xs:") else None
            if named is None:
                self.paths[path] = Node(occurs, local)
            elif named.tag == f"{XS}simpleType":
                self.paths[path] = Node(occurs, *self._simple(named))
            elif local in stack:  # a type that contains itself: stop at the second level
                self.paths[path] = Node(occurs, f"{local} (recursive)")
            else:
                self.paths[path] = Node(occurs)
                self._complex(named, path, (*stack, local))
            return
        inline_simple = element.find(f"{XS}simpleType")
        inline_complex = element.find(f"{XS}complexType")
        if inline_simple is not None:
            self.paths[path] = Node(occurs, *self._simple(inline_simple))
        elif inline_complex is not None:
            self.paths[path] = Node(occurs)
            self._complex(inline_complex, path, stack)
        else:
            self.paths[path] = Node(occurs, "anyType")

    def _complex(self, node, path: str, stack: tuple[str, ...]) -> None:
        for child in node:
            tag = child.tag
            if tag == f"{XS}element":
                name = child.get("name") or _local(child.get("ref", ""))
                self._element(child, f"{path}/{name}", _occurs(child), stack)
            elif tag == f"{XS}attribute":
                name = child.get("name") or _local(child.get("ref", ""))
                occurs = "1" if child.get("use") == "required" else "0..1"
                type_name = child.get("type", "")
                named = self.types.get(_local(type_name)) if type_name else None
                inline = child.find(f"{XS}simpleType")
                if named is not None:
                    self.paths[f"{path}/@{name}"] = Node(occurs, *self._simple(named))
                elif inline is not None:
                    self.paths[f"{path}/@{name}"] = Node(occurs, *self._simple(inline))
                else:
                    self.paths[f"{path}/@{name}"] = Node(occurs, _local(type_name) or "string")
            elif tag in (f"{XS}extension", f"{XS}restriction"):
                base = self.types.get(_local(child.get("base", "")))
                base_name = _local(child.get("base", ""))
                if base is not None and base.tag == f"{XS}complexType" and base_name not in stack:
                    self._complex(base, path, (*stack, base_name))
                elif base is None and tag == f"{XS}extension" and path in self.paths:
                    # simple content: the value is the base's, attributes may follow
                    self.paths[path] = Node(self.paths[path].occurs, base_name)
                self._complex(child, path, stack)
            elif tag in (f"{XS}group", f"{XS}attributeGroup") and child.get("ref"):
                group = self.groups.get((tag, _local(child.get("ref"))))
                if group is not None:
                    self._complex(group, path, stack)
            elif tag == f"{XS}any":
                self.paths[f"{path}/*"] = Node(_occurs(child), "any element")
            elif tag in (
                f"{XS}sequence",
                f"{XS}choice",
                f"{XS}all",
                f"{XS}complexContent",
                f"{XS}simpleContent",
            ):
                self._complex(child, path, stack)

    def _simple(self, node, depth: int = 0) -> tuple[str, frozenset[str]]:
        """A simple type as words ("string, at most 50 characters") and its enumeration."""
        restriction = node.find(f"{XS}restriction")
        if restriction is None:
            if node.find(f"{XS}list") is not None:
                return "list", frozenset()
            if node.find(f"{XS}union") is not None:
                return "union", frozenset()
            return "string", frozenset()
        base_name = _local(restriction.get("base", "string"))
        words, values = base_name, frozenset()
        base = self.types.get(base_name)
        if base is not None and base.tag == f"{XS}simpleType" and depth < 10:
            words, values = self._simple(base, depth + 1)
        facets = []
        enumeration = []
        for facet in restriction:
            if not isinstance(facet.tag, str) or facet.tag == f"{XS}annotation":
                continue
            kind = facet.tag.removeprefix(XS)
            if kind == "enumeration":
                enumeration.append(facet.get("value", ""))
            elif kind != "simpleType":
                facets.append(f"{kind} {facet.get('value', '')}")
        if enumeration:
            values = frozenset(enumeration)
        described = ", ".join([words, *sorted(facets)])
        return described, values


def _occurs(node) -> str:
    low = node.get("minOccurs", "1")
    high = node.get("maxOccurs", "1")
    if high == "unbounded":
        high = "n"
    return low if low == high else f"{low}..{high}"


@functools.cache
def _outline(path: Path) -> dict[str, Node]:
    return _Outline(_parse(path)).paths


def _fold(paths: list[str]) -> list[tuple[str, int]]:
    """Paths with those beneath an already listed one counted, not listed."""
    folded: list[tuple[str, int]] = []
    for path in sorted(paths):
        if folded and path.startswith(folded[-1][0] + "/"):
            folded[-1] = (folded[-1][0], folded[-1][1] + 1)
        else:
            folded.append((path, 0))
    return folded


def _describe(before: Node, after: Node) -> list[str]:
    notes = []
    if before.occurs != after.occurs:
        notes.append(f"occurs {before.occurs} → {after.occurs}")
    if before.value != after.value:
        notes.append(f"{before.value or 'elements'} → {after.value or 'elements'}")
    added, removed = after.values - before.values, before.values - after.values
    if added:
        notes.append("values added: " + ", ".join(sorted(added)))
    if removed:
        notes.append("values removed: " + ", ".join(sorted(removed)))
    return notes


def compare(before: Path, after: Path) -> Changes:
    """What a document may carry in ``after`` and not in ``before``, and the reverse, and the
    paths both allow with a different occurrence, type or list of values."""
    old, new = _outline(before.resolve()), _outline(after.resolve())
    changes = Changes(
        added=_fold([p for p in new if p not in old]),
        removed=_fold([p for p in old if p not in new]),
    )
    grouped: dict[tuple[str, ...], list[str]] = {}
    for path in sorted(set(old) & set(new)):
        notes = _describe(old[path], new[path])
        if notes:
            grouped.setdefault(tuple(notes), []).append(path)
    changes.changed = sorted(grouped.items(), key=lambda item: (-len(item[1]), item[1][0]))
    return changes


@dataclass
class Family:
    """A schema and its served versions, newest first, each with what changed since the one
    before it (None for the first)."""

    name: str
    family: str
    endpoints: list
    versions: list[tuple[SchemaFile, Changes | None]]


def families() -> list[Family]:
    result = []
    for name in sorted(SCHEMA_VERSIONS, key=lambda n: SchemaFile(n, "1/05").family):
        files = [f for f in SERVED if f.name == name]
        versions: list[tuple[SchemaFile, Changes | None]] = []
        for index, schema in enumerate(files):
            previous = files[index - 1] if index else None
            versions.append(
                (schema, compare(previous.path, schema.path) if previous is not None else None)
            )
        result.append(Family(name, files[0].family, endpoints_using(name), versions[::-1]))
    return result
