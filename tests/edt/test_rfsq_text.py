"""RFSQ writes its answer as XML text: the text must be what lxml writes for the same tree,
character for character, and refuse what lxml refuses."""

from __future__ import annotations

import random
import uuid

import pytest
from lxml import etree

from edt.api.submittal_query import (
    NOT_XML_COMPATIBLE,
    escaped,
    escaped_attribute,
    leaf,
    unique_key,
)

# Every character lxml takes in a text or an attribute: XML 1.0's characters.
ALLOWED = "".join(
    chr(c)
    for c in range(0x110000)
    if c in (0x9, 0xA, 0xD) or 0x20 <= c < 0xD800 or 0xE000 <= c < 0xFFFE or c >= 0x10000
)


def _lxml(text: str | None = None, attribute: str | None = None) -> str:
    element = etree.Element("a")
    if attribute is not None:
        element.set("x", attribute)
    element.text = text
    return etree.tostring(element, encoding="unicode")


def test_every_character_is_escaped_in_content_as_lxml_escapes_it():
    assert f"<a>{escaped(ALLOWED)}</a>" == _lxml(ALLOWED)
    assert escaped("Acme Fuels") == "Acme Fuels"


def test_every_character_is_escaped_in_an_attribute_as_lxml_escapes_it():
    assert f'<a x="{escaped_attribute(ALLOWED)}"/>' == _lxml(attribute=ALLOWED)
    assert escaped_attribute("0") == "0"


def test_an_empty_text_and_no_text_are_written_as_lxml_writes_them():
    assert leaf("a", None) == _lxml() == "<a/>"
    assert leaf("a", "") == _lxml("") == "<a></a>"
    assert leaf("a", "R&D <1>") == _lxml("R&D <1>")


@pytest.mark.parametrize("character", ["\x00", "\x08", "\x0b", "\x1f", "\ud800", "\ufffe"])
def test_a_character_xml_cannot_carry_is_refused_as_lxml_refuses_it(character):
    with pytest.raises(ValueError):
        _lxml(f"a{character}&")
    with pytest.raises(ValueError, match=NOT_XML_COMPATIBLE):
        escaped(f"a{character}&")
    with pytest.raises(ValueError, match=NOT_XML_COMPATIBLE):
        escaped(f"a{character}")
    with pytest.raises(ValueError, match=NOT_XML_COMPATIBLE):
        escaped_attribute(f"a{character}")


def test_a_unique_key_is_the_uuid5_of_the_element_key_and_the_resource_path():
    chooser = random.Random(5)
    parts = ["BusinessActivities", "Chemicals", "Chemical[3]", "Café", "☃", ""]
    for _ in range(2000):
        namespace = uuid.UUID(int=chooser.getrandbits(128))
        name = "/".join(chooser.choice(parts) for _ in range(chooser.randint(0, 4)))
        assert unique_key(namespace.bytes, name) == str(uuid.uuid5(namespace, name))


def test_a_cme_record_is_written_as_lxml_writes_its_element():
    """RCMEQ writes its records as text too: each child as ``output.sub`` adds it to an lxml
    element (an empty value left out, a violation count capped at 99), escaped as lxml
    escapes it, and a text lxml refuses refused."""
    from datetime import UTC, date, datetime

    from django.utils import timezone

    from edt.api.cme_query import COUNTED, ENTITIES, Writer
    from edt.api.output import sub

    entity = ENTITIES["Inspections"]
    values = {
        "facility__cers_id": 10_000_001,
        "regulator_key": "R&D <1>\r",
        "cers_key": uuid.UUID(int=7),
        "program_element": "a",
        "occurred_on": date(2026, 3, 4),
        "inspection_type": "",
        "ust_operational_compliance": None,
        "violations_rtc_on": date(2026, 4, 5),
        "comments": 'Tank "B" > tank A',
    }
    counts = (120, 3, 0)
    row = (1, None, 1, None, "1001", *(values[path] for path in entity.columns[5:]))
    action_at = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)
    with timezone.override("America/Los_Angeles"):
        written = Writer().element(entity, row, action_at, counts)
        element = etree.Element("Inspection")
        header = etree.SubElement(element, "InspectionHeader")
        for tag, value in (("RegulatorCode", "1001"), ("RegulatorActionDateTime", action_at)):
            sub(header, tag, value)
        sub(header, "CMEDataStatus", 2)
        for tag, path in entity.children:
            counted = path in COUNTED
            sub(element, tag, min(counts[COUNTED.index(path)], 99) if counted else values[path])
        assert written == etree.tostring(element, encoding="unicode")
        assert "<ClassIViolationCount>99</ClassIViolationCount>" in written
        assert "<Type>" not in written and "SOCDetermination" not in written
        assert "<InspectionRegulatorKey>R&amp;D &lt;1&gt;&#13;<" in written
        assert "<RegulatorActionDateTime>2026-05-06T00:08:09-07:00<" in written
        refused = (*row[:6], "bad\x01", *row[7:])
        with pytest.raises(ValueError, match="XML compatible"):
            Writer().element(entity, refused, action_at, counts)
