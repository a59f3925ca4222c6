"""Hardened XML intake: bounded reads, the parser's refusals, version negotiation from the root
namespace, and XSD validation against CalEPA's published schemas."""

from __future__ import annotations

import io
import threading
import time

import pytest
from lxml import etree

from core import xmlsafe
from core.xmlsafe import (
    XS,
    GuidanceMessage,
    SchemasUnavailable,
    TooLarge,
    XmlRejected,
    hardened_parser,
    lift_date_ceiling,
    parse_document,
    read_limited,
    schema_for,
    supported_versions,
    validate,
)

NS = "http://cersservices.calepa.ca.gov/Schemas/ViolationLibraryQuery/{}/"
UNRESOLVED = "Unable to resolve the targetNamespace of the received XML data."

VLQ_105 = f"""<?xml version="1.0" encoding="UTF-8"?>
<Violations xmlns="{NS.format("1/05")}" dataSetDateTime="2026-01-15T08:30:00">
  <Violation xmlns="">
    <TypeNumber>1010001</TypeNumber>
    <Name>Failure to submit a business plan</Name>
    <Description>The business did not submit its plan.</Description>
    <Category>Administrative</Category>
    <ProgramElement>HMRRP</ProgramElement>
    <Citations>
      <Citation>
        <Chapter>6.95</Chapter>
        <Section>25508</Section>
        <Name>HSC</Name>
        <Description>Business plan contents</Description>
        <Source>Health and Safety Code</Source>
      </Citation>
    </Citations>
  </Violation>
</Violations>
""".encode()

VLQ_106 = f"""<?xml version="1.0" encoding="UTF-8"?>
<ns2:Violations xmlns:ns2="{NS.format("1/06")}" dataSetDateTime="2026-01-15T08:30:00-08:00">
  <Violation>
    <BeginDate>2009-01-01</BeginDate>
    <EndDate>2099-12-31</EndDate>
    <TypeNumber>1010001</TypeNumber>
    <Name>Failure to submit a business plan</Name>
    <Description>The business did not submit its plan.</Description>
    <Category>Administrative</Category>
    <ProgramElement>HMRRP</ProgramElement>
    <Citations>
      <Citation>
        <Chapter>6.95</Chapter><Section>25508</Section><Name>HSC</Name>
        <Description>Business plan contents</Description><Source>HSC</Source>
      </Citation>
    </Citations>
  </Violation>
</ns2:Violations>
""".encode()

# The root lacks its dataSetDateTime, line 3 has a bad date, line 4 an element out of order
# (EndDate is missing).
VLQ_106_INVALID = f"""<ns2:Violations xmlns:ns2="{NS.format("1/06")}">
  <Violation>
    <BeginDate>2020-13-01</BeginDate>
    <TypeNumber>1010001</TypeNumber>
  </Violation>
</ns2:Violations>
""".encode()


def violations(version: str, body: str = "") -> bytes:
    return f'<Violations xmlns="{NS.format(version)}">{body}</Violations>'.encode()


# Reading with a limit ------------------------------------------------------------------------


def test_it_reads_a_body_within_the_limit():
    assert read_limited(io.BytesIO(b"x" * 100), 100) == b"x" * 100


def test_it_refuses_a_body_one_byte_over_the_limit():
    with pytest.raises(TooLarge) as raised:
        read_limited(io.BytesIO(b"x" * 101), 100)
    assert raised.value.limit_bytes == 100
    assert "100 bytes" in str(raised.value)


def test_it_stops_reading_as_soon_as_the_limit_is_passed():
    consumed = []

    def endless():
        while True:
            consumed.append(1)
            yield b"0123456789"

    with pytest.raises(TooLarge):
        read_limited(endless(), 95)
    # Ten chunks make 100 bytes: the tenth passes the limit and nothing more is asked for.
    assert len(consumed) == 10


def test_it_reads_a_file_in_chunks_never_all_at_once():
    class Body(io.BytesIO):
        sizes: list[int] = []

        def read(self, size=-1):
            self.sizes.append(size)
            return super().read(size)

    body = Body(b"x" * 200_000)
    with pytest.raises(TooLarge):
        read_limited(body, 100_000)
    assert all(0 < size <= 64 * 1024 for size in Body.sizes)
    assert body.tell() < 100_000 + 64 * 1024


# The parser's refusals -----------------------------------------------------------------------


def test_it_never_reads_an_external_entity(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
        f'<r xmlns="{NS.format("1/06")}">&x;</r>'
    ).encode()

    with pytest.raises(XmlRejected) as raised:
        parse_document(xxe)
    assert "DOCTYPE" in raised.value.message
    assert "TOP-SECRET" not in raised.value.message
    # Even the bare parser, before the DOCTYPE rule, leaves the reference unresolved.
    root = etree.fromstring(xxe, hardened_parser())
    assert b"TOP-SECRET" not in etree.tostring(root)
    assert isinstance(root[0], etree._Entity)


def test_it_refuses_etc_passwd_by_external_entity():
    xxe = b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
    with pytest.raises(XmlRejected) as raised:
        parse_document(xxe)
    assert raised.value.code == 1066
    assert "root:" not in raised.value.message


def test_it_refuses_billion_laughs_as_a_doctype():
    entities = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)).replace(
        "&lol0;", "lol"
    )
    bomb = f"<?xml version='1.0'?><!DOCTYPE lolz [{entities}]><lolz>&lol9;</lolz>".encode()
    with pytest.raises(XmlRejected) as raised:
        parse_document(bomb)
    assert "document type declaration" in raised.value.message


def test_it_refuses_quadratic_blowup_as_a_doctype():
    big = "a" * 100_000
    blowup = (
        f'<!DOCTYPE r [<!ENTITY a "{big}">]><r xmlns="{NS.format("1/06")}">{"&a;" * 20_000}</r>'
    ).encode()
    with pytest.raises(XmlRejected) as raised:
        parse_document(blowup)
    assert "DOCTYPE" in raised.value.message


def test_it_refuses_a_plain_doctype():
    doc = f'<!DOCTYPE Violations><Violations xmlns="{NS.format("1/06")}"/>'.encode()
    with pytest.raises(XmlRejected) as raised:
        parse_document(doc)
    assert "without a DOCTYPE" in raised.value.message
    assert raised.value.location == "line 1"


def test_it_refuses_a_doctype_in_a_utf16_document():
    doc = f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r xmlns="{NS.format("1/06")}"/>'
    with pytest.raises(XmlRejected) as raised:
        parse_document(doc.encode("utf-16"))
    assert "DOCTYPE" in raised.value.message


def test_it_refuses_an_undeclared_entity():
    with pytest.raises(XmlRejected) as raised:
        parse_document(violations("1/06", "&x;"))
    assert "Entity 'x' not defined" in raised.value.message


def test_it_keeps_predefined_and_character_entities():
    doc = parse_document(violations("1/06", "Fish &amp; Game &#169;"))
    assert doc.root.text == "Fish & Game \u00a9"


def test_it_refuses_nesting_deeper_than_libxml2s_limit():
    deep = f'<a xmlns="{NS.format("1/06")}">' + "<a>" * 299 + "</a>" * 300
    with pytest.raises(XmlRejected) as raised:
        parse_document(deep.encode())
    assert "deeper than 256 levels" in raised.value.message
    assert "libxml2" in raised.value.message


def test_it_accepts_nesting_within_the_limit():
    nested = f'<Violations xmlns="{NS.format("1/06")}">' + "<a>" * 200 + "</a>" * 200
    doc = parse_document((nested + "</Violations>").encode())
    assert doc.schema_name == "ViolationLibraryQuery"


def test_it_says_where_a_document_is_not_well_formed():
    with pytest.raises(XmlRejected) as raised:
        parse_document(f'<Violations xmlns="{NS.format("1/06")}">\n<a></b>'.encode())
    assert raised.value.message.startswith("The XML is not well-formed:")
    assert "line 2, column" in raised.value.message
    assert raised.value.location == "line 2"
    assert raised.value.code == 1066


def test_it_refuses_an_empty_body():
    with pytest.raises(XmlRejected) as raised:
        parse_document(b"")
    assert "not well-formed" in raised.value.message


# Namespaces and versions ---------------------------------------------------------------------


def test_it_reads_the_version_from_a_default_namespace():
    doc = parse_document(VLQ_105)
    assert (doc.schema_name, doc.version) == ("ViolationLibraryQuery", "1/05")
    assert doc.namespace == NS.format("1/05")
    assert etree.QName(doc.root).localname == "Violations"


def test_it_reads_the_version_from_a_prefixed_root():
    doc = parse_document(VLQ_106)
    assert (doc.schema_name, doc.version) == ("ViolationLibraryQuery", "1/06")


def test_it_refuses_a_root_without_namespace():
    with pytest.raises(XmlRejected) as raised:
        parse_document(
            b'<?xml version="1.0"?>\n<Violations/>', expected_schema="ViolationLibraryQuery"
        )
    assert raised.value.location == "line 2"
    message = raised.value.message
    assert message.startswith(UNRESOLVED)
    assert NS.format("1/05") in message and NS.format("1/06") in message
    assert "has none" in message


def test_it_refuses_a_foreign_namespace_and_says_what_it_expected():
    with pytest.raises(XmlRejected) as raised:
        parse_document(b'<Violations xmlns="urn:example:violations"/>')
    assert raised.value.message.startswith(UNRESOLVED)
    assert "urn:example:violations" in raised.value.message
    assert "/Schemas/{SchemaName}/{major}/{minor}/" in raised.value.message


def test_it_refuses_the_namespace_without_its_trailing_slash():
    doc = b'<Violations xmlns="http://cersservices.calepa.ca.gov/Schemas/ViolationLibraryQuery/1/06"/>'
    with pytest.raises(XmlRejected) as raised:
        parse_document(doc)
    assert raised.value.message.startswith(UNRESOLVED)


def test_it_refuses_another_schema_than_the_endpoint_takes():
    with pytest.raises(XmlRejected) as raised:
        parse_document(VLQ_106, expected_schema="RegulatorCMESubmit")
    assert raised.value.message.startswith(UNRESOLVED)
    assert "/Schemas/RegulatorCMESubmit/1/05/" in raised.value.message


def test_it_refuses_an_unknown_schema_name():
    ns = "http://cersservices.calepa.ca.gov/Schemas/NoSuchThing/1/05/"
    with pytest.raises(XmlRejected) as raised:
        parse_document(f'<X xmlns="{ns}"/>'.encode())
    assert "'NoSuchThing' is not a CERS EDT schema" in raised.value.message
    assert "ViolationLibraryQuery" in raised.value.message


def test_it_refuses_an_unsupported_version_and_lists_the_supported_ones():
    with pytest.raises(XmlRejected) as raised:
        parse_document(violations("1/99"))
    assert raised.value.message == (
        "Version 1/99 of the ViolationLibraryQuery schema is not supported; "
        "supported versions: 1/05, 1/06."
    )


# Schema registry -----------------------------------------------------------------------------


def test_it_lists_the_versions_of_each_schema_set():
    assert supported_versions("ViolationLibraryQuery") == ["1/05", "1/06"]
    assert supported_versions("RegulatorFacilitySubmittal") == ["1/05", "1/10"]
    assert supported_versions("NoSuchThing") == []


def test_it_knows_the_cme_query_schema_by_its_namespace_name():
    assert supported_versions("RegulatorCMEQuery") == ["1/05"]
    assert supported_versions("CMESubmittalQuery") == []


def test_it_caches_compiled_schemas():
    assert schema_for("ViolationLibraryQuery", "1/06") is schema_for(
        "ViolationLibraryQuery", "1/06"
    )


def test_each_thread_gets_its_own_compiled_schema():
    # XMLSchema keeps its last error log on the object: sharing one across threads mixes logs.
    seen = []
    thread = threading.Thread(
        target=lambda: seen.append(schema_for("ViolationLibraryQuery", "1/06"))
    )
    thread.start()
    thread.join()
    assert seen[0] is not schema_for("ViolationLibraryQuery", "1/06")


def test_it_refuses_to_look_up_a_version_it_does_not_hold():
    with pytest.raises(LookupError):
        schema_for("ViolationLibraryQuery", "1/99")


def test_it_names_the_setting_when_the_schemas_are_missing(settings, tmp_path):
    settings.EDT_SCHEMA_DIR = tmp_path / "absent"
    with pytest.raises(SchemasUnavailable) as raised:
        supported_versions("ViolationLibraryQuery")
    assert "EDT_SCHEMA_DIR" in str(raised.value)
    assert "CERS_EDT_SCHEMA_DIR" in str(raised.value)


def test_it_reads_a_schema_set_from_the_configured_directory(settings, tmp_path):
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "Mini.xsd").write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="http://cersservices.calepa.ca.gov/Schemas/Mini/2/01/">'
        '<xs:element name="Mini" type="xs:string"/></xs:schema>'
    )
    settings.EDT_SCHEMA_DIR = tmp_path
    doc = parse_document(b'<Mini xmlns="http://cersservices.calepa.ca.gov/Schemas/Mini/2/01/"/>')
    assert supported_versions("ViolationLibraryQuery") == []
    assert validate(doc, doc.schema()) == []


# Validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [VLQ_105, VLQ_106], ids=["1.05", "cers3"])
def test_a_valid_violation_library_validates_against_calepas_schema(data):
    doc = parse_document(data)
    assert validate(doc, doc.schema()) == []


def test_a_1_05_document_is_invalid_against_1_06():
    doc = parse_document(VLQ_105)
    messages = validate(doc.root, schema_for("ViolationLibraryQuery", "1/06"))
    assert messages


def test_schema_errors_become_required_guidance_messages_with_lines():
    doc = parse_document(VLQ_106_INVALID)
    messages = validate(doc, doc.schema())

    assert all(isinstance(m, GuidanceMessage) for m in messages)
    assert {(m.code, m.level) for m in messages} == {(1066, "Required")}
    assert [m.location for m in messages] == [
        "line 1 (/Violations)",
        "line 3 (/Violations/Violation/BeginDate)",
        "line 4 (/Violations/Violation/TypeNumber)",
    ]
    assert messages[0].message == (
        "Element 'Violations': The attribute 'dataSetDateTime' is required but missing."
    )
    assert "'2020-13-01' is not a valid value" in messages[1].message
    assert "Expected is ( EndDate )" in messages[2].message
    assert not any("{http" in m.message for m in messages)


def test_a_default_namespace_root_is_named_in_the_path():
    doc = parse_document(
        violations("1/06", '<Violation xmlns=""><BeginDate>x</BeginDate></Violation>')
    )
    locations = [m.location for m in validate(doc, doc.schema())]
    assert "line 1 (/Violations)" in locations
    assert "line 1 (/Violations/Violation/BeginDate)" in locations


def test_it_lists_at_most_a_hundred_schema_errors():
    doc = parse_document(
        violations("1/06", "".join(f'\n<Violation xmlns="">{i}</Violation>' for i in range(150)))
    )
    schema = doc.schema()
    messages = validate(doc, schema)
    errors = len(schema.error_log)
    assert errors > 150
    assert len(messages) == 101
    assert messages[-1].message == f"{errors - 100} more schema errors not listed."


def test_a_guidance_message_refuses_an_unknown_level():
    with pytest.raises(ValueError):
        GuidanceMessage(code=1066, level="Fatal", message="x")


def test_a_rejection_becomes_a_required_guidance_message():
    rejection = XmlRejected("Bad.", location="line 3")
    assert rejection.as_guidance() == GuidanceMessage(
        code=1066, level="Required", message="Bad.", location="line 3"
    )


# --- the 2024 date ceiling of CalEPA's schemas ---------------------------------------------

RAIQ_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorActionItemQuery/1/06/"


def _raiq(time_stamp: str) -> bytes:
    return (
        f'<cers:RegulatorActionItemQuery xmlns:cers="{RAIQ_NS}" '
        f'transactionKey="5c8f4f63-2d77-4a1f-9d3c-6d0d5e0a1b2c" timeStamp="{time_stamp}"/>'
    ).encode()


def test_current_dates_validate_although_calepas_files_end_in_2024():
    from tests.edt.conftest import XSD_DIR

    official = etree.XMLSchema(
        etree.parse(str(XSD_DIR / "cers3" / "RegulatorActionItemQuery.xsd"), hardened_parser())
    )
    today = _raiq("2026-12-01T10:00:00")
    assert not official.validate(etree.fromstring(today))  # the published file refuses it

    document = parse_document(today)
    assert validate(document, document.schema()) == []
    # Only the ceiling moved: the floor and every other facet hold.
    too_early = parse_document(_raiq("1984-12-31T10:00:00"))
    assert validate(too_early, too_early.schema())


def test_lifting_the_ceiling_touches_only_2024_date_maxima():
    from tests.edt.conftest import XSD_DIR

    document = etree.parse(str(XSD_DIR / "cers3" / "RegulatorFacilityQuery.xsd"), hardened_parser())
    before = [f.get("value") for f in document.iter(f"{{{XS}}}maxInclusive")]
    assert lift_date_ceiling(document) == 2
    after = [f.get("value") for f in document.iter(f"{{{XS}}}maxInclusive")]
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert changed == [
        ("2024-12-31T23:59:59Z", "2099-12-31T23:59:59Z"),
        ("2024-12-31", "2099-12-31"),
    ]


@pytest.mark.parametrize("charset", ["undefined", "UNDEFINED", "utf-8\x00", "base64", "nope"])
def test_a_charset_that_cannot_read_the_body_leaves_it_as_sent(charset):
    """Python finds an "undefined" codec that decodes nothing (UnicodeError, not
    UnicodeDecodeError), and a name with a NUL in it is no name (ValueError): the body stays as
    sent, read as XML reads it (UTF-8), and is refused saying which bytes are not."""
    data = "<Name>Café</Name>".encode("latin-1")  # no encoding declared

    assert xmlsafe.settle_encoding(data, charset) == data
    with pytest.raises(xmlsafe.XmlRejected, match="not UTF-8"):
        xmlsafe.parse_document(xmlsafe.settle_encoding(data, charset))


def _misdeclared(before: bytes) -> bytes:
    return (
        b'<?xml version="1.0" encoding="ISO-8859-1"?><Root>' + before + b"<Name>Caf\xc3\xa9 Ni\xc3"
        b"\xb1o</Name></Root>"
    )


def test_the_misdeclared_utf8_warning_shows_the_word_read_both_ways():
    (warning,) = xmlsafe.misdeclared_utf8(_misdeclared(b""))
    assert "'CafÃ©'" in warning.message and "'Café'" in warning.message


def test_the_misdeclared_utf8_warning_finds_its_word_in_time_whatever_comes_before():
    """A long run of characters without a space (a comment, a long value) before the first
    letter beyond ASCII: the word is found around that letter, in time proportional to the
    document, where a search from every place of the run took time growing with its square
    (40 kB: 20 seconds; a 20 MB document, weeks of a worker)."""
    data = _misdeclared(b"<!--" + b"a" * 50_000 + b"-->")
    started = time.monotonic()
    (warning,) = xmlsafe.misdeclared_utf8(data)
    assert time.monotonic() - started < 1
    assert "'CafÃ©'" in warning.message and "'Café'" in warning.message


def test_the_misdeclared_utf8_warning_shows_the_letter_after_a_long_word_start():
    """The word shown holds the letter read two ways, however long the word before it."""
    (warning,) = xmlsafe.misdeclared_utf8(_misdeclared(b"<Code>" + b"x" * 100 + b"\xc3\xa9</Code>"))
    assert "Ã©" in warning.message and "é'" in warning.message
