"""Loading CalEPA's published chemical library from a Chemical Library Query answer: the file
reader (schema first), the all-or-nothing load with its counts and audit event, the state
administrator's upload page and ``manage.py load_chemical_library``.

The documents are built in CLQ's layout and validated against CalEPA's schema files as
published before they are loaded.
"""

import datetime
import io
from dataclasses import replace
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from lxml import etree

from core.models import AuditEvent
from edt.api.catalogue import schema_namespace
from edt.api.library import chemical_element
from libraries.management.commands import load_chemical_library
from libraries.models import Chemical, ChemicalLibraryLoad
from libraries.published import CHEMICALS
from tests.edt.conftest import assert_valid

URL = reverse("libraries:chemical_library_load")
SETS = {"1/05": "1.05", "1/08": "cers3"}
STAMP = datetime.datetime(2026, 12, 1, 8, 0, tzinfo=datetime.UTC)

# An entry CalEPA's library has and this one does not, a mixture with a component known only
# by its percentage; and Gasoline, seeded here without a CCL ID, matched by its CAS number.
TRIZOLENE = {
    "ccl_id": 102843,
    "cas_number": "",
    "chemical_name": "Trizolene blend",
    "common_name": "Trizolene",
    "ehs": False,
    "physical_state": "b",
    "hm_type": "b",
    "dot_hazard_class": "3",
    "fire_code_hazard_classes": [12],
    "federal_hazard_categories": ["216a", "216d"],
    "components": [
        {"name": "Toluene", "cas_number": "108-88-3", "percent_by_weight": "40", "ehs": False},
        {"name": "", "cas_number": "", "percent_by_weight": "12.5", "ehs": True},
    ],
}
GASOLINE = {
    "ccl_id": 100957,
    "cas_number": "86290-81-5",
    "chemical_name": "Gasoline",
    "common_name": "Gasoline",
    "ehs": False,
    "physical_state": "b",
    "hm_type": "b",
    "dot_hazard_class": "3",
    "fire_code_hazard_classes": [],
    "federal_hazard_categories": ["216a"],
    "components": [],
}


def clq(*entries: dict, version: str = "1/08", ccl_text=None) -> bytes:
    """A Chemical Library Query answer listing ``entries``, valid against CalEPA's schema.
    ``ccl_text`` maps a CCL ID to the text written for it (such as ``CCL-102843``)."""
    namespace = schema_namespace("ChemicalLibraryQuery", version)
    root = etree.Element(
        f"{{{namespace}}}Chemicals",
        {"dataSetDateTime": STAMP.isoformat()},
        nsmap={"cers": namespace},
    )
    for values in entries:
        element = chemical_element(Chemical(**values, updated_at=STAMP), version)
        if ccl_text and values["ccl_id"] in ccl_text:
            element.find("CCLID").text = ccl_text[values["ccl_id"]]
        root.append(element)
    document = etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True)
    assert_valid(document, SETS[version], "ChemicalLibraryQuery.xsd")
    return document


def line_of(data: bytes, ccl_id: int) -> int:
    """The line on which the file's ``Chemical`` with ``ccl_id`` starts."""
    root = etree.fromstring(data)
    return next(c.sourceline for c in root.iter("Chemical") if c.findtext("CCLID") == str(ccl_id))


def load(actor, data: bytes, source="clq.xml"):
    """Read and load ``data`` as the command and the page do (the problems name lines)."""
    return CHEMICALS.load_file(data, actor=actor, source=source)[1]


def gasoline() -> Chemical:
    return Chemical.objects.get(chemical_name="Gasoline")


# --- the load ---------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1/08", "1/05"])
def test_a_clq_answer_loads_with_counts_and_an_audit_event(cast, version):
    seeded = gasoline()
    assert seeded.ccl_id is None
    data = clq(TRIZOLENE, GASOLINE, version=version, ccl_text={102843: "CCL-102843"})

    loaded = load(cast.state_admin, data)

    assert (loaded.listed, loaded.created, loaded.updated, loaded.unchanged) == (2, 1, 1, 0)
    assert loaded.summary() == "2 chemicals read from clq.xml: 1 added, 1 updated, 0 unchanged."
    trizolene = Chemical.objects.get(ccl_id=102843)
    assert trizolene.components[1] == {
        "name": "",
        "cas_number": "",
        "percent_by_weight": "12.5",
        "ehs": True,
    }
    assert trizolene.fire_code_hazard_classes == [12]
    assert trizolene.federal_hazard_categories == ["216a", "216d"]
    # The seeded entry takes CalEPA's CCL ID by its CAS number, keeping its primary key.
    assert (gasoline().pk, gasoline().ccl_id) == (seeded.pk, 100957)
    event = AuditEvent.objects.get(action="library.chemical_library.loaded")
    assert (event.actor, event.regulator) == (cast.state_admin, cast.state)
    assert event.after["created"] == [102843] and event.after["updated"] == [100957]
    assert ChemicalLibraryLoad.objects.get().loaded_by == cast.state_admin


def test_loading_the_same_file_again_changes_nothing(cast):
    data = clq(TRIZOLENE, GASOLINE)
    load(cast.state_admin, data)
    again = load(cast.state_admin, data)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert Chemical.objects.filter(ccl_id__in=[102843, 100957]).count() == 2


def test_a_later_file_updates_by_ccl_id_and_keeps_what_it_does_not_list(cast):
    load(cast.state_admin, clq(TRIZOLENE))
    count = Chemical.objects.count()
    load(cast.state_admin, clq(TRIZOLENE | {"common_name": "Trizolene 2"}))
    assert Chemical.objects.get(ccl_id=102843).common_name == "Trizolene 2"
    assert Chemical.objects.count() == count  # the seeded entries stay


def test_an_invalid_document_stores_nothing(cast):
    data = clq(TRIZOLENE).replace(b"<CAS/>", b"")  # CAS is required
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, data)
    assert any("CAS" in message for message in refused.value.messages)
    assert not Chemical.objects.filter(ccl_id=102843).exists()
    assert not ChemicalLibraryLoad.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="library.").exists()


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"cas_number": "7664-41-8"}, "check digit should be 7"),
        ({"physical_state": "z"}, "Physical state"),
    ],
)
def test_one_bad_entry_loads_nothing(cast, bad, message):
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, clq(TRIZOLENE, GASOLINE | bad))
    [problem] = refused.value.messages
    assert problem.startswith("Chemical 2 (CCL ID 100957, Gasoline)")
    assert message in problem
    assert not Chemical.objects.filter(ccl_id__in=[102843, 100957]).exists()
    assert not ChemicalLibraryLoad.objects.exists()


# What CalEPA's library says beyond the inventory's hazard fields: Proposition 65 types, the
# US EPA SRS number, the state waste code, radioactivity and curies, trade secret, comments and
# further mixture components.
PROP65 = {
    "prop65_types": ["Cancer", "Developmental"],
    "usepa_srs_number": "24695",
    "sta_code": "221",
    "radioactive": False,
    "curies": None,
    "trade_secret": False,
    "comments": "Blend of aromatic solvents.\nKeep away from heat.",
    "additional_mixture_components": "Xylene 5%; ethylbenzene 2%",
}


@pytest.mark.parametrize("version", ["1/08", "1/05"])
def test_the_prop_65_types_and_the_other_library_fields_load(cast, version):
    tracer = GASOLINE | {
        "ccl_id": 100958,
        "cas_number": "",
        "chemical_name": "Tracer gas",
        "prop65_types": ["Male"],
        "radioactive": True,
        "curies": "0.0025",
        "trade_secret": True,
    }
    load(cast.state_admin, clq(TRIZOLENE | PROP65, tracer, version=version))

    trizolene = Chemical.objects.get(ccl_id=102843)
    assert trizolene.prop65_types == ["Cancer", "Developmental"]
    assert (trizolene.usepa_srs_number, trizolene.sta_code) == ("24695", "221")
    assert (trizolene.radioactive, trizolene.curies, trizolene.trade_secret) == (False, None, False)
    assert trizolene.comments == "Blend of aromatic solvents.\nKeep away from heat."
    assert trizolene.additional_mixture_components == "Xylene 5%; ethylbenzene 2%"
    tracer = Chemical.objects.get(ccl_id=100958)
    assert tracer.prop65_types == ["Male"]
    assert (tracer.radioactive, tracer.curies, tracer.trade_secret) == (
        True,
        Decimal("0.0025"),
        True,
    )


def test_a_file_without_the_new_fields_filled_still_loads(cast):
    """A file whose Prop 65 types and other fields are empty (as this project's CLQ wrote them
    before it kept them) loads, the fields left empty; loading it again changes nothing."""
    data = clq(TRIZOLENE, GASOLINE)
    for tag in (b"Prop65Types", b"USEPASRSNumber", b"RadioActive", b"TradeSecret"):
        assert b"<" + tag + b"/>" in data
    load(cast.state_admin, data)
    trizolene = Chemical.objects.get(ccl_id=102843)
    assert trizolene.prop65_types == []
    assert (trizolene.radioactive, trizolene.curies, trizolene.trade_secret) == (None, None, None)
    assert (trizolene.usepa_srs_number, trizolene.sta_code, trizolene.comments) == ("", "", "")
    assert load(cast.state_admin, data).unchanged == 2


@pytest.mark.parametrize(
    ("good", "bad", "message"),
    [
        (
            b"<Prop65Type>Cancer</Prop65Type>",
            b"<Prop65Type>Neurotoxic</Prop65Type>",
            "Proposition 65 types: 'Neurotoxic' is not a Proposition 65 type",
        ),
        (b"<RadioActive>N</RadioActive>", b"<RadioActive>X</RadioActive>", "Y (yes) or N (no)"),
        (b"<TradeSecret>N</TradeSecret>", b"<TradeSecret>maybe</TradeSecret>", "Trade secret"),
        (b"<STACode>221</STACode>", b"<STACode>2x1</STACode>", "three digits"),
        (b"<Curies>0.5</Curies>", b"<Curies>-5</Curies>", "not negative"),
    ],
)
def test_a_bad_value_of_the_new_fields_is_refused_naming_its_line(cast, good, bad, message):
    data = clq(GASOLINE, TRIZOLENE | PROP65 | {"curies": "0.5"})
    assert data.count(good) == 1, good
    data = data.replace(good, bad)
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, data)
    [problem] = refused.value.messages
    line = line_of(data, 102843)
    assert problem.startswith(f"Chemical 2 (CCL ID 102843, Trizolene blend) on line {line}, ")
    assert message in problem
    assert not Chemical.objects.filter(ccl_id__in=[102843, 100957]).exists()
    assert not ChemicalLibraryLoad.objects.exists()


def test_the_page_lists_a_bad_value_with_its_line(cast, client):
    client.force_login(cast.state_admin)
    data = clq(TRIZOLENE | PROP65).replace(b">Cancer<", b">Neurotoxic<")
    response = upload(client, data)
    text = response.content.decode()
    assert "Nothing was loaded." in text
    assert f"on line {line_of(data, 102843)}" in text and "Neurotoxic" in text


def test_an_entry_without_a_ccl_id_or_listed_twice_is_a_problem(cast):
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, clq(TRIZOLENE, GASOLINE, ccl_text={100957: "none"}))
    assert "is not a CCL ID" in refused.value.messages[0]
    with pytest.raises(ValidationError) as refused:
        load(cast.state_admin, clq(TRIZOLENE, TRIZOLENE))
    assert "listed twice" in refused.value.messages[0]
    assert not Chemical.objects.filter(ccl_id=102843).exists()


def test_another_document_is_refused(cast):
    with pytest.raises(ValidationError):
        load(cast.state_admin, b"<Violations/>")
    with pytest.raises(ValidationError):
        load(cast.state_admin, b"not xml")


def test_only_the_state_administrator_loads(cast, cupa_admin):
    for actor in (cupa_admin, cast.lead):
        with pytest.raises(PermissionDenied):
            load(actor, clq(TRIZOLENE))
    assert not Chemical.objects.filter(ccl_id=102843).exists()


def test_calepas_ccl_ids_then_link_inventory_rows(cast):
    """After the load, an inventory row naming CalEPA's CCL ID is linked, without warning."""
    from submittals import services as submittals
    from submittals.inventory import add_material
    from submittals.validation import validate_element

    load(cast.state_admin, clq(TRIZOLENE))
    record = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=2)
    values = {"250": "102843", "207": "Trizolene", "208": "N", "214": "b", "218": "5", "221": "a"}
    material = add_material(actor=cast.editor, record=record, values=values)
    assert material.chemical == Chemical.objects.get(ccl_id=102843)
    assert "HMI-250-UNKNOWN" not in {m.code for m in validate_element(record)}


# --- the page and the command -----------------------------------------------------------------


def upload(client, data: bytes, name="clq.xml"):
    return client.post(URL, {"file": SimpleUploadedFile(name, data, "text/xml")})


def test_the_state_administrator_loads_the_library_through_the_page(cast, client):
    client.force_login(cast.state_admin)
    assert client.get(reverse("libraries:chemicals")).content.count(URL.encode()) == 1
    response = upload(client, clq(TRIZOLENE, GASOLINE), "ccl-2026.xml")
    assert response.status_code == 302 and response.url == reverse("libraries:chemicals")
    shown = [str(m) for m in response.wsgi_request._messages]
    assert shown == ["2 chemicals read from ccl-2026.xml: 1 added, 1 updated, 0 unchanged."]
    page = client.get(URL)
    assert b"Last loaded" in page.content and b"ccl-2026.xml" in page.content


def test_a_refused_file_lists_its_problems_and_loads_nothing(cast, client):
    client.force_login(cast.state_admin)
    response = upload(client, clq(TRIZOLENE, GASOLINE | {"cas_number": "7664-41-8"}))
    assert response.status_code == 200
    assert "Nothing was loaded." in response.content.decode()
    assert "check digit should be 7" in response.content.decode()
    assert not Chemical.objects.filter(ccl_id=102843).exists()


def test_others_cannot_see_or_post_the_page(cast, cupa_admin, client):
    for user in (cupa_admin, cast.lead, cast.cupa_reviewer):
        client.force_login(user)
        assert client.get(URL).status_code == 403
        assert upload(client, clq(TRIZOLENE)).status_code == 403
        assert URL.encode() not in client.get(reverse("libraries:chemicals")).content
    assert not Chemical.objects.filter(ccl_id=102843).exists()


def test_the_command_loads_a_file_and_reports(cast, tmp_path):
    path = tmp_path / "clq.xml"
    path.write_bytes(clq(TRIZOLENE, GASOLINE))
    out = io.StringIO()
    call_command("load_chemical_library", str(path), stdout=out)
    assert "2 chemicals read from clq.xml: 1 added, 1 updated" in out.getvalue()
    assert ChemicalLibraryLoad.objects.get().loaded_by is None
    assert AuditEvent.objects.filter(action="library.chemical_library.loaded").exists()


def test_the_command_refuses_a_bad_file_and_loads_nothing(cast, tmp_path, monkeypatch):
    path = tmp_path / "clq.xml"
    path.write_bytes(clq(TRIZOLENE | {"physical_state": "z"}))
    err = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("load_chemical_library", str(path), stderr=err)
    assert "Physical state" in err.getvalue()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_chemical_library", str(tmp_path / "missing.xml"))
    command = load_chemical_library.Command
    monkeypatch.setattr(command, "library", replace(command.library, limit=10))
    with pytest.raises(CommandError, match="larger than"):
        call_command("load_chemical_library", str(path))
    assert not ChemicalLibraryLoad.objects.exists()
    assert not Chemical.objects.filter(ccl_id=102843).exists()
