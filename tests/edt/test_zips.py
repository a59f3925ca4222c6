"""ZIP packages: what is refused from the headers, what is caught while decompressing, and the
exact match between the documents and the names data.xml references."""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib

import pytest
from lxml import etree

from edt.zips import (
    MISSING_DATA_XML,
    MISSING_DOCUMENTS,
    SUB_DIRECTORIES,
    UNREFERENCED,
    Package,
    PackageRejected,
    check_references,
    open_package,
    referenced_file_names,
)

MB = 1024 * 1024
DATA_XML = b"""<ns2:FacilitySubmittals xmlns:ns2="http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittal/1/10/">
  <FacilitySubmittal>
    <Attachment><AttachmentFileName>Site Map.pdf</AttachmentFileName></Attachment>
    <Attachment><AttachmentFileName> plan.DOCX </AttachmentFileName></Attachment>
    <Other><OwnerFileName>photo.jpg</OwnerFileName><FileNameNote>ignored</FileNameNote></Other>
  </FacilitySubmittal>
</ns2:FacilitySubmittals>"""


def make_zip(files: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in files.items():
            archive.writestr(zipfile.ZipInfo(name), content, compress_type=method)
    return buffer.getvalue()


def raw_zip(entries: list[dict]) -> bytes:
    """A ZIP written by hand, so headers can say what the tests need them to say.

    Each entry: name, payload (the bytes stored), crc, size (declared uncompressed size),
    method (0 stored, 8 deflate), flags."""
    out, central = bytearray(), bytearray()
    for entry in entries:
        name = entry["name"].encode()
        payload = entry["payload"]
        fields = (
            entry.get("flags", 0),
            entry.get("method", 8),
            0,
            0x21,  # time and date
            entry["crc"],
            len(payload),
            entry["size"],
            len(name),
        )
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, *fields, 0) + name + payload
        central += struct.pack(
            "<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, *fields, 0, 0, 0, 0, 0, offset
        )
        central += name
    directory_offset = len(out)
    out += central
    out += struct.pack(
        "<IHHHHIIH", 0x06054B50, 0, 0, len(entries), len(entries), len(central), directory_offset, 0
    )
    return bytes(out)


def deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def package(**documents: bytes) -> bytes:
    return make_zip({"data.xml": DATA_XML, **documents})


# Accepted packages ---------------------------------------------------------------------------


def test_it_opens_a_package_with_its_documents():
    opened = open_package(
        package(**{"Site Map.pdf": b"%PDF-1.7", "plan.docx": b"PK"}), max_total=MB
    )
    assert opened.xml == DATA_XML
    assert opened.documents == {"Site Map.pdf": b"%PDF-1.7", "plan.docx": b"PK"}


def test_it_accepts_stored_entries_and_a_data_xml_of_any_case():
    opened = open_package(
        make_zip({"DATA.XML": b"<a/>", "notes.TXT": b"hi"}, zipfile.ZIP_STORED), max_total=MB
    )
    assert opened.xml == b"<a/>"
    assert opened.documents == {"notes.TXT": b"hi"}


def test_small_repetitive_files_are_not_taken_for_bombs():
    # 500 KB of spaces compress about 1000:1 but are far below anything dangerous.
    opened = open_package(package(**{"blank.txt": b" " * 500_000}), max_total=MB)
    assert len(opened.documents["blank.txt"]) == 500_000


# Not a package -------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [b"", b"<data/>", b"PK\x03\x04 truncated", bytes(range(256)) * 8])
def test_it_refuses_what_is_not_a_zip(data):
    with pytest.raises(PackageRejected) as raised:
        open_package(data, max_total=MB)
    assert raised.value.message == "The data sent is not a valid zip file."


def test_it_refuses_a_package_without_data_xml():
    with pytest.raises(PackageRejected) as raised:
        open_package(make_zip({"other.xml": b"<a/>"}), max_total=MB)
    assert raised.value.message == MISSING_DATA_XML


def test_it_refuses_two_data_xml_differing_in_case():
    with pytest.raises(PackageRejected) as raised:
        open_package(make_zip({"data.xml": b"<a/>", "Data.XML": b"<b/>"}), max_total=MB)
    assert "more than once" in raised.value.message


def test_it_refuses_duplicate_document_names_whatever_their_case():
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**{"map.pdf": b"1", "MAP.PDF": b"2"}), max_total=MB)
    assert "'MAP.PDF' more than once" in raised.value.message


def test_it_refuses_too_many_entries():
    files = {f"f{i}.txt": b"x" for i in range(10)}
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**files), max_total=MB, max_files=10)
    assert "11 entries; at most 10" in raised.value.message


# Paths ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["../evil.txt", "..\\evil.txt", "/etc/passwd.txt", "\\evil.txt", "C:evil.txt", "a/../b.txt"],
)
def test_it_refuses_paths_that_climb_or_are_absolute(name):
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**{name: b"x"}), max_total=MB)
    assert "Only plain file names" in raised.value.message
    assert repr(name) in raised.value.message


@pytest.mark.parametrize("name", ["docs/map.pdf", "docs\\map.pdf", "docs/"])
def test_it_refuses_sub_directories(name):
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**{name: b""}), max_total=MB)
    assert raised.value.message.startswith(SUB_DIRECTORIES)


def test_it_refuses_data_xml_in_a_sub_directory():
    with pytest.raises(PackageRejected) as raised:
        open_package(make_zip({"sub/data.xml": DATA_XML}), max_total=MB)
    assert raised.value.message.startswith(SUB_DIRECTORIES)


def test_it_refuses_a_symbolic_link():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.xml", DATA_XML)
        link = zipfile.ZipInfo("map.pdf")
        link.external_attr = (0o120777 << 16) | 0  # S_IFLNK
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(PackageRejected) as raised:
        open_package(buffer.getvalue(), max_total=MB)
    assert "is a link" in raised.value.message


# Types and encryption ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["setup.exe", "script.js", "archive.tar.gz", "README"])
def test_it_refuses_a_type_that_is_not_allowed(name):
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**{name: b"x"}), max_total=MB)
    assert "is of a type that is not accepted" in raised.value.message
    assert "pdf" in raised.value.message


def test_it_refuses_a_compression_method_that_decompresses_a_block_at_once():
    with pytest.raises(PackageRejected) as raised:
        open_package(make_zip({"data.xml": DATA_XML}, zipfile.ZIP_BZIP2), max_total=MB)
    assert "compression method" in raised.value.message


def _crc_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        table.append(c)
    return table


def zipcrypto(plain: bytes, password: bytes, crc: int) -> bytes:
    """PKWARE traditional encryption (APPNOTE 6.1), which zipfile can read but not write."""
    table = _crc_table()
    keys = [0x12345678, 0x23456789, 0x34567890]

    def update(byte: int) -> None:
        keys[0] = (keys[0] >> 8) ^ table[(keys[0] ^ byte) & 0xFF]
        keys[1] = ((keys[1] + (keys[0] & 0xFF)) * 134775813 + 1) & 0xFFFFFFFF
        keys[2] = (keys[2] >> 8) ^ table[(keys[2] ^ (keys[1] >> 24)) & 0xFF]

    for byte in password:
        update(byte)
    out = bytearray()
    for byte in os.urandom(11) + bytes([crc >> 24]) + plain:
        k = keys[2] | 2
        out.append(byte ^ (((k * (k ^ 1)) >> 8) & 0xFF))
        update(byte)
    return bytes(out)


def test_it_refuses_an_encrypted_entry():
    secret = b"confidential site map"
    crc = zlib.crc32(secret)
    data = raw_zip(
        [
            {
                "name": "data.xml",
                "payload": DATA_XML,
                "crc": zlib.crc32(DATA_XML),
                "size": len(DATA_XML),
                "method": 0,
            },
            {
                "name": "map.txt",
                "payload": zipcrypto(secret, b"pw", crc),
                "crc": crc,
                "size": len(secret),
                "method": 0,
                "flags": 0x1,
            },
        ]
    )
    # The entry is really encrypted: zipfile reads it back with the password only.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.read("map.txt", pwd=b"pw") == secret
        with pytest.raises(RuntimeError):
            archive.read("map.txt")

    with pytest.raises(PackageRejected) as raised:
        open_package(data, max_total=MB)
    assert "'map.txt' is encrypted" in raised.value.message


# Sizes and bombs -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def zeros() -> dict:
    """200 MB of zeros deflated to about 200 KB, as a raw_zip entry without its size.

    After a full flush deflate starts afresh, so every megabyte of zeros compresses to the same
    bytes: compressing one and repeating it builds the stream in a fraction of a second."""
    megabyte = bytes(MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(megabyte) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = 0
    for _ in range(200):
        crc = zlib.crc32(megabyte, crc)
    return {"name": "zeros.txt", "payload": block * 200 + compressor.flush(), "crc": crc}


def data_xml_entry() -> dict:
    return {
        "name": "data.xml",
        "payload": deflate(DATA_XML),
        "crc": zlib.crc32(DATA_XML),
        "size": len(DATA_XML),
    }


@pytest.fixture(scope="module")
def bomb(zeros) -> bytes:
    """A ZIP bomb with honest headers."""
    return raw_zip([data_xml_entry(), {**zeros, "size": 200 * MB}])


def test_the_bomb_really_holds_200_mb_of_zeros(bomb):
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive, archive.open("zeros.txt") as entry:
        size = 0
        while chunk := entry.read(16 * MB):  # zipfile checks the CRC (of zeros) at the end
            size += len(chunk)
    assert size == 200 * MB


@pytest.fixture
def no_decompression(monkeypatch):
    """Fail the test if any entry is opened for reading: the refusal must come from the headers."""
    real_open = zipfile.ZipFile.open

    def open_for_writing_only(self, name, mode="r", *args, **kwargs):
        if mode == "r":
            raise AssertionError(f"{name} was decompressed")
        return real_open(self, name, mode, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", open_for_writing_only)


def test_a_bomb_is_refused_from_its_declared_size_before_decompressing(bomb, no_decompression):
    assert len(bomb) < 300_000
    with pytest.raises(PackageRejected) as raised:
        open_package(bomb, max_total=300 * MB)
    assert "'zeros.txt' is 200 MB uncompressed; the limit for one file is 25 MB" in (
        raised.value.message
    )


def test_a_bomb_is_refused_from_its_ratio_before_decompressing(bomb, no_decompression):
    with pytest.raises(PackageRejected) as raised:
        open_package(bomb, max_total=300 * MB, max_file=300 * MB)
    assert "expands more than 100 times" in raised.value.message


def test_it_refuses_contents_over_the_total_before_decompressing(no_decompression):
    data = package(**{"a.txt": os.urandom(600_000), "b.txt": os.urandom(600_000)})
    with pytest.raises(PackageRejected) as raised:
        open_package(data, max_total=MB)
    assert "exceed the limit of 1 MB" in raised.value.message


def test_it_refuses_a_file_over_a_small_per_file_cap(no_decompression):
    with pytest.raises(PackageRejected) as raised:
        open_package(package(**{"a.txt": b"x" * 2000}), max_total=MB, max_file=1000)
    assert "'a.txt' is 2000 bytes uncompressed; the limit for one file is 1000 bytes" in (
        raised.value.message
    )


def test_headers_that_understate_the_size_do_not_let_a_bomb_through(zeros, monkeypatch):
    # Declares 1 KB (no ratio to speak of) but holds 200 MB.
    data = raw_zip([data_xml_entry(), {**zeros, "size": 1000}])
    read = []
    real_open = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        entry = real_open(self, name, *args, **kwargs)
        real_read = entry.read

        def read_and_count(n=-1):
            chunk = real_read(n)
            read.append(len(chunk))
            return chunk

        entry.read = read_and_count
        return entry

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    with pytest.raises(PackageRejected) as raised:
        open_package(data, max_total=100 * MB, max_file=100 * MB)
    assert "'zeros.txt' cannot be read" in raised.value.message
    assert "damaged or forged" in raised.value.message
    # Reading stopped at the declared size, far from the 200 MB inside.
    assert sum(read) <= len(DATA_XML) + 1000


def test_it_refuses_directory_entries_that_share_one_file():
    # Many central directory entries pointing at one compressed file is the overlapping-entries
    # bomb: each name would expand the same data again.
    content = b"x" * 100
    entry = {
        "name": "data.xml",
        "payload": deflate(content),
        "crc": zlib.crc32(content),
        "size": len(content),
    }
    one = raw_zip([entry])
    header_end = one.index(b"PK\x01\x02")
    central = one[header_end : one.index(b"PK\x05\x06")]
    forged = central.replace(b"data.xml", b"copy.txt")
    data = (
        one[:header_end]
        + central
        + forged
        + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, 2 * len(central), header_end, 0)
    )
    with pytest.raises(PackageRejected) as raised:
        open_package(data, max_total=MB)
    assert "'copy.txt' cannot be read" in raised.value.message
    assert "damaged or forged" in raised.value.message


# References ----------------------------------------------------------------------------------


def test_it_reads_every_element_whose_name_ends_in_file_name():
    root = etree.fromstring(DATA_XML)
    assert referenced_file_names(root) == ["Site Map.pdf", "plan.DOCX", "photo.jpg"]


def test_references_match_whatever_their_case():
    documents = {"site map.PDF": b"1", "plan.docx": b"2", "photo.jpg": b"3"}
    check_references(
        Package(xml=DATA_XML, documents=documents),
        referenced_file_names(etree.fromstring(DATA_XML)),
    )


def test_a_document_may_be_referenced_more_than_once():
    check_references(Package(xml=b"", documents={"a.pdf": b""}), ["a.pdf", "A.pdf"])


def test_it_refuses_an_unreferenced_document():
    documents = {"Site Map.pdf": b"1", "plan.docx": b"2", "photo.jpg": b"3", "extra.csv": b"4"}
    with pytest.raises(PackageRejected) as raised:
        check_references(
            Package(xml=DATA_XML, documents=documents),
            referenced_file_names(etree.fromstring(DATA_XML)),
        )
    assert raised.value.message == f"{UNREFERENCED} Not referenced: extra.csv."


def test_it_refuses_a_missing_document():
    documents = {"Site Map.pdf": b"1"}
    with pytest.raises(PackageRejected) as raised:
        check_references(
            Package(xml=DATA_XML, documents=documents),
            referenced_file_names(etree.fromstring(DATA_XML)),
        )
    assert raised.value.message == f"{MISSING_DOCUMENTS} Not in the zip file: photo.jpg, plan.DOCX."


def test_it_lists_both_kinds_of_mismatch_at_once():
    with pytest.raises(PackageRejected) as raised:
        check_references(Package(xml=b"", documents={"b.pdf": b""}), ["a.pdf"])
    assert MISSING_DOCUMENTS in raised.value.message
    assert UNREFERENCED in raised.value.message


def test_an_xml_only_package_needs_no_documents():
    check_references(Package(xml=b"<a/>"), [])
