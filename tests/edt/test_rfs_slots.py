"""RFS reads every document slot of every element in both upload schema versions.

The document of each slot is placed where CalEPA's upload schema of the version puts it, found
by walking that schema (``tools/build_registry.py``'s reader): 1/10 has the document under the
slot's tag, 1/05 wraps some in lists (``SiteMaps/SiteMap/SiteMapDocument``) and some in a
wrapper named like the slot (``USTMonitoringSitePlanDocuments/USTMonitoringSitePlanDocument``).
The cases come from the registry's slots, so a slot added to the schema is covered without
touching this file.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from lxml import etree

from core.registry import all_schemas
from edt.codecs.submittal import layout
from edt.processors.submittal import SCHEMA_VERSION, read_values

ROOT = Path(__file__).resolve().parents[2]
SETS = {"1/05": "1.05", "1/10": "cers3"}


@cache
def _generator():
    spec = importlib.util.spec_from_file_location(
        "build_registry", ROOT / "tools" / "build_registry.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def document_paths(version: str) -> dict[int, list[tuple[str, ...]]]:
    """Each element's DocumentType elements in ``version``'s upload schema, in schema order."""
    generator = _generator()
    xsd = Path(settings.EDT_SCHEMA_DIR) / SETS[version] / "RegulatorFacilitySubmittal.xsd"
    schema = generator.Schema(xsd)
    paths = {}
    for element, type_name in generator.ELEMENT_TYPES.items():
        rows = {"fields": [], "groups": [], "oddities": []}
        schema.walk(schema.complex_types[type_name], (), "", rows)
        paths[int(element)] = [tuple(g["path"]) for g in rows["groups"] if g.get("document")]
    return paths


CASES = [
    pytest.param(schema.element, index, slot.tag, version, id=f"{version}-{slot.tag}")
    for schema in all_schemas()
    if schema.in_facility_submittal
    for index, slot in enumerate(schema.document_slots)
    for version in SETS
]


def _place(container: etree._Element, path: tuple[str, ...]) -> etree._Element:
    parent = container
    for tag in path:
        parent = etree.SubElement(parent, tag)
    return parent


def _read(element: int, container: etree._Element) -> dict:
    data: dict = {}
    slots: dict = {}
    read_values(element, container, layout(element, SCHEMA_VERSION), data, slots)
    return slots


@pytest.mark.parametrize("version", SETS)
def test_each_version_has_the_registrys_slots_in_the_same_order(version):
    for schema in all_schemas():
        paths = document_paths(version)[int(schema.element)]
        assert len(paths) == len(schema.document_slots), schema.element


@pytest.mark.parametrize(("element", "index", "slot", "version"), CASES)
def test_every_slot_is_read_where_the_version_puts_it(element, index, slot, version):
    path = document_paths(version)[element][index]
    container = etree.Element("Element")
    document = _place(container, path)
    exempt = etree.SubElement(document, "Exempt")
    etree.SubElement(exempt, "Comment").text = f"{slot} in {version}"

    slots = _read(element, container)

    assert list(slots) == [slot]
    (content,) = slots[slot]
    assert content.findtext("Exempt/Comment") == f"{slot} in {version}"


@pytest.mark.parametrize(("element", "index", "slot", "version"), CASES)
def test_every_file_of_a_slot_is_read(element, index, slot, version):
    """Attachments, and in a list the 1/10 schema does not have (1/05's site maps, plot
    plans...) those of every item."""
    path = document_paths(version)[element][index]
    container = etree.Element("Element")
    listed = len(path) > 2 and path != document_paths("1/10")[element][index]
    items = 2 if listed else 1
    for n in range(items):
        parent = container.find("/".join(path[:1])) if n else None
        document = _place(parent, path[1:]) if parent is not None else _place(container, path)
        attachment = etree.SubElement(etree.SubElement(document, "Attachments"), "Attachment")
        etree.SubElement(attachment, "AttachmentFileName").text = f"file-{n}.pdf"

    slots = _read(element, container)

    names = [a.findtext("AttachmentFileName") for c in slots[slot] for a in c.iter("Attachment")]
    assert names == [f"file-{n}.pdf" for n in range(items)]
