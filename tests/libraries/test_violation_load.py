"""Loading the published violation library from its XML file: the service, the reader, the
state administrator's upload page and ``manage.py load_violation_library``."""

import datetime
import io
from dataclasses import replace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from lxml import etree

from core.models import AuditEvent
from edt.api.library import violation_element
from libraries import services
from libraries.management.commands import load_violation_library
from libraries.models import ViolationLibraryLoad, ViolationType
from libraries.views import maintenance
from libraries.violation_file import program_element_code, read_violation_library

from .conftest import CITED_TYPE

NS = "http://cersservices.calepa.ca.gov/Schemas/ViolationLibraryQuery/{}/"
URL = reverse("libraries:violation_library_load")
SAFETY_PLAN = {
    "BeginDate": "2011-07-01",
    "EndDate": "2099-12-31",
    "TypeNumber": "2030026",
    "Name": "Monitoring plan",
    "Description": "Failure to keep a monitoring plan on site.",
    "Category": "Operations/Maintenance",
    "ProgramElement": "Underground Storage Tank Program",
    "Citations": [("16", "2632(d)", "CCR")],
}


def library_xml(*violations: dict, version: str = "1/06") -> bytes:
    """A ViolationLibraryQuery document of ``version`` listing ``violations``."""
    root = etree.Element(
        etree.QName(NS.format(version), "Violations"), nsmap={"cers": NS.format(version)}
    )
    root.set("dataSetDateTime", "2024-06-01T08:00:00")
    for values in violations:
        element = etree.SubElement(root, "Violation")
        for tag in (
            "BeginDate",
            "EndDate",
            "TypeNumber",
            "Name",
            "Description",
            "Category",
            "ProgramElement",
        ):
            if version == "1/05" and tag in ("BeginDate", "EndDate"):
                continue
            etree.SubElement(element, tag).text = values[tag]
        citations = etree.SubElement(element, "Citations")
        for chapter, section, source in values["Citations"]:
            citation = etree.SubElement(citations, "Citation")
            for tag, text in zip(
                ("Chapter", "Section", "Name", "Description", "Source"),
                (chapter, section, "", "", source),
                strict=True,
            ):
                etree.SubElement(citation, tag).text = text
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


def load(actor, data: bytes, source="library.xml"):
    library = read_violation_library(data)
    return services.load_violation_library(actor=actor, entries=library.entries, source=source)


def stored(type_number: str) -> ViolationType:
    return ViolationType.objects.get(type_number=type_number)


# --- the reader ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Business Plan Program", 1),
        ("Underground Storage Tank Program", 2),
        ("Hazardous Waste Generator Program", 3),
        ("RCRA Large Quantity Generator", 4),
        ("Tiered Permitting", 5),
        ("Aboveground Petroleum Storage Act Program", 6),
        ("California Accidental Release Prevention (CalARP)", 7),
        ("Household Hazardous Waste", 8),
        ("Underground Storage Tanks", 2),  # this project's own label
        ("6", 6),
        ("Fire code permits", None),
        ("9", None),
    ],
)
def test_program_elements_are_read_by_name_label_or_code(text, code):
    assert program_element_code(text) == code


def test_a_type_listed_for_several_windows_becomes_one_entry(db):
    older = SAFETY_PLAN | {"EndDate": "2024-09-30", "Name": "Monitoring plan (old)"}
    newer = SAFETY_PLAN | {"BeginDate": "2024-10-01"}
    library = read_violation_library(library_xml(newer, older))
    (entry,) = library.entries
    assert (entry["begin_date"], entry["end_date"], entry["name"]) == (
        datetime.date(2011, 7, 1),
        datetime.date(2099, 12, 31),
        "Monitoring plan",  # the latest window's wording
    )
    assert library.notes == [
        "Type 2030026 is listed for 2 validity windows; they are joined into one entry "
        "valid from 2011-07-01 to 2099-12-31, worded as its latest window."
    ]


def test_the_open_end_this_project_writes_means_no_end_date(db):
    (entry,) = read_violation_library(library_xml(SAFETY_PLAN | {"EndDate": "9999-12-31"})).entries
    assert entry["end_date"] is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "boom">]><Violations/>',
            "DOCTYPE",
        ),
        (b"<Violations", "not well-formed"),
        (
            b'<Chemicals xmlns="http://cersservices.calepa.ca.gov/Schemas/'
            b'ChemicalLibraryQuery/1/08/" dataSetDateTime="2024-01-01T00:00:00"/>',
            "ViolationLibraryQuery",
        ),
        (library_xml(SAFETY_PLAN).replace(b"<Name>Monitoring plan</Name>", b""), "Name"),
        (
            library_xml(SAFETY_PLAN | {"ProgramElement": "Fire code permits"}),
            "Violation 1 (type 2030026): the program element 'Fire code permits' is not one of",
        ),
    ],
)
def test_a_bad_file_is_refused_with_a_clear_message(db, data, message):
    with pytest.raises(ValidationError) as refused:
        read_violation_library(data)
    assert message in " ".join(refused.value.messages)


# --- the service --------------------------------------------------------------------------------


def test_a_load_adds_updates_and_replaces_the_examples(cast):
    examples = set(ViolationType.objects.filter(example=True).values_list("type_number", flat=True))
    replaced = SAFETY_PLAN | {"TypeNumber": "1010001", "ProgramElement": "Business Plan Program"}
    loaded = load(cast.state_admin, library_xml(SAFETY_PLAN, replaced))

    assert (loaded.listed, loaded.created, loaded.updated, loaded.unchanged) == (2, 1, 1, 0)
    assert loaded.examples_removed == len(examples) - 1
    assert not ViolationType.objects.filter(example=True).exists()
    new = stored("2030026")
    assert (new.program_element, new.category, new.begin_date, new.end_date) == (
        ViolationType.ProgramElement.UST,
        "Operations/Maintenance",
        datetime.date(2011, 7, 1),
        datetime.date(2099, 12, 31),
    )
    assert new.citations == [
        {"chapter": "16", "section": "2632(d)", "name": "", "description": "", "source": "CCR"}
    ]
    assert (stored("1010001").name, stored("1010001").example) == ("Monitoring plan", False)
    assert stored("1010").example is False  # not an example: an entry of the published library
    event = AuditEvent.objects.get(action="library.violation_library.loaded")
    assert (event.actor, event.regulator, event.object_id) == (
        cast.state_admin,
        cast.state,
        str(loaded.pk),
    )
    assert event.after["created"] == ["2030026"] and event.after["updated"] == ["1010001"]


def test_loading_the_same_file_again_changes_nothing(cast):
    data = library_xml(SAFETY_PLAN)
    load(cast.state_admin, data)
    before = list(ViolationType.objects.values())
    again = load(cast.state_admin, data)
    assert (again.created, again.updated, again.unchanged, again.examples_removed) == (0, 0, 1, 0)
    assert list(ViolationType.objects.values()) == before


def test_an_example_violations_cite_is_kept_and_reported(cast, cited_violation):
    loaded = load(cast.state_admin, library_xml(SAFETY_PLAN))
    assert loaded.examples_kept == [CITED_TYPE]
    assert stored(CITED_TYPE).example is True
    assert "Violations still cite the example types 1010001" in loaded.summary()


def test_one_bad_entry_loads_nothing_and_every_problem_is_listed(cast, cited_violation):
    count = ViolationType.objects.count()
    bad = [
        SAFETY_PLAN,
        SAFETY_PLAN | {"TypeNumber": "12345", "Name": "Five digits"},
        SAFETY_PLAN | {"TypeNumber": "2030027", "Name": ""},
        # A cited type may not change its program element, nor start after its violations.
        SAFETY_PLAN | {"TypeNumber": CITED_TYPE, "BeginDate": "2024-06-01"},
    ]
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, library_xml(*bad))
    problems = refused.value.messages
    assert "Violation type 2 (12345), type number: A violation type number has 4 or 7 digits." in (
        problems
    )
    assert "Violation type 3 (2030027), name: Give the violation type a name." in problems
    cited = [p for p in problems if p.startswith(f"Violation type 4 ({CITED_TYPE})")]
    assert any("program element cannot change" in p for p in cited)
    assert any("it must be valid from that day" in p for p in cited)
    assert ViolationType.objects.count() == count
    assert not ViolationType.objects.filter(type_number="2030026").exists()
    assert not ViolationLibraryLoad.objects.exists()
    assert not AuditEvent.objects.filter(action="library.violation_library.loaded").exists()


def test_a_file_without_dates_keeps_stored_dates_and_starts_new_types_early(cast):
    retired = stored("7010003")
    ViolationType.objects.filter(pk=retired.pk).update(end_date=datetime.date(2020, 1, 1))
    known = SAFETY_PLAN | {"TypeNumber": "7010003", "ProgramElement": "CalARP"}
    load(cast.state_admin, library_xml(SAFETY_PLAN, known, version="1/05"))
    assert (stored("7010003").begin_date, stored("7010003").end_date) == (
        retired.begin_date,
        datetime.date(2020, 1, 1),
    )
    assert (stored("2030026").begin_date, stored("2030026").end_date) == (
        datetime.date(1980, 10, 1),
        None,
    )


def test_what_the_violation_library_query_writes_loads_back_unchanged(cast):
    """The VLQ's own answer is a library file: every stored value survives the trip."""
    fields = ["type_number", "name", "description", "category", "program_element"]
    fields += ["begin_date", "end_date", "citations"]
    services.create_violation_type(
        actor=cast.state_admin,
        type_number="6019901",
        name="Failure to inspect tanks",
        description="Monthly tank inspections were not recorded.",
        category="Operations/Maintenance",
        program_element=6,
        begin_date=datetime.date(2015, 1, 1),
        end_date=datetime.date(2030, 6, 30),
        citations=[
            {
                "chapter": "40",
                "section": "112.8(c)(6)",
                "name": "Integrity testing",
                "description": "Tanks are tested on a schedule.",
                "source": "Code of Federal Regulations",
            }
        ],
    )
    before = {t["type_number"]: t for t in ViolationType.objects.values(*fields)}
    root = etree.Element(
        etree.QName(NS.format("1/06"), "Violations"), nsmap={"cers": NS.format("1/06")}
    )
    root.set("dataSetDateTime", "2026-01-01T00:00:00")
    for violation_type in ViolationType.objects.all():
        root.append(violation_element(violation_type, "1/06"))
    data = etree.tostring(root)
    ViolationType.objects.filter(type_number="6019901").update(name="Changed", end_date=None)
    ViolationType.objects.filter(type_number="1010").delete()

    load(cast.state_admin, data)
    after = {t["type_number"]: t for t in ViolationType.objects.values(*fields)}
    for entry in before.values():  # the examples' citations gain their empty parts
        entry["citations"] = [
            {key: citation.get(key, "") for key in services.CITATION_KEYS}
            for citation in entry["citations"]
        ]
    assert after == before


def test_only_the_state_administrator_loads_the_library(cast, cupa_admin):
    for actor in (cupa_admin, cast.cupa_reviewer, cast.lead):
        with pytest.raises(PermissionDenied):
            load(actor, library_xml(SAFETY_PLAN))
    assert not ViolationType.objects.filter(type_number="2030026").exists()


# --- the page and the command ---------------------------------------------------------------------


def upload(client, data: bytes, name="violations.xml"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, "text/xml")})


def test_the_state_administrator_loads_the_library_through_the_page(cast, client):
    client.force_login(cast.state_admin)
    response = upload(client, library_xml(SAFETY_PLAN), "vl-2026.xml")
    assert response.status_code == 302 and response.url == reverse("libraries:violations")
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown[0].startswith("1 violation types read from vl-2026.xml: 1 added")
    assert stored("2030026").name == "Monitoring plan"
    page = client.get(URL)
    assert b"Last loaded" in page.content and b"vl-2026.xml" in page.content


def test_a_refused_file_lists_its_problems_and_loads_nothing(cast, client):
    client.force_login(cast.state_admin)
    bad = library_xml(SAFETY_PLAN | {"ProgramElement": "Fire code permits"})
    response = upload(client, bad)
    assert response.status_code == 200
    assert "Nothing was loaded." in response.content.decode()
    assert "the program element &#x27;Fire code permits&#x27; is not one of" in (
        response.content.decode()
    )
    assert not ViolationType.objects.filter(type_number="2030026").exists()


def test_a_file_over_the_limit_is_refused_before_it_is_read(cast, client, monkeypatch):
    view = maintenance.ViolationLibraryLoadView
    monkeypatch.setattr(view, "library", replace(view.library, limit=100))
    client.force_login(cast.state_admin)
    response = upload(client, library_xml(SAFETY_PLAN))
    assert "larger than" in response.content.decode()
    assert not ViolationLibraryLoad.objects.exists()


def test_others_cannot_post_a_library(cast, cupa_admin, client):
    for user in (cupa_admin, cast.lead):
        client.force_login(user)
        assert upload(client, library_xml(SAFETY_PLAN)).status_code == 403
    assert not ViolationType.objects.filter(type_number="2030026").exists()


def test_the_command_loads_a_file_and_reports(cast, tmp_path):
    path = tmp_path / "violations.xml"
    path.write_bytes(library_xml(SAFETY_PLAN, SAFETY_PLAN | {"BeginDate": "2024-10-01"}))
    out = io.StringIO()
    call_command("load_violation_library", str(path), stdout=out)
    assert "joined into one entry" in out.getvalue()
    assert "1 violation types read from violations.xml: 1 added" in out.getvalue()
    assert ViolationLibraryLoad.objects.get().loaded_by is None


def test_the_command_refuses_a_bad_file_and_loads_nothing(cast, tmp_path, monkeypatch):
    path = tmp_path / "violations.xml"
    path.write_bytes(library_xml(SAFETY_PLAN | {"TypeNumber": "12"}))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_violation_library", str(path), stderr=err)
    assert "A violation type number has 4 or 7 digits." in err.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_violation_library", str(tmp_path / "missing.xml"))
    command = load_violation_library.Command
    monkeypatch.setattr(command, "library", replace(command.library, limit=10))
    with pytest.raises(CommandError, match="larger than"):
        call_command("load_violation_library", str(path))
    assert not ViolationLibraryLoad.objects.exists()
