"""The Tier 1 library queries VLQ, CLQ and DDQ over HTTP with the legacy header: every version
against CalEPA's schemas, the path identifiers and their errors, JSON, the ceiling, constant
queries, and the tier boundary.

The libraries are statewide: any account with tier 1 reads all of them, whatever its agency,
and no ``regulatorCode`` is asked for. The test database holds the seeded libraries (44
chemicals, 21 violation types); tests add rows through ``libraries.services`` as the system.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

import pytest

from edt.models import EdtTransaction
from libraries import dictionary
from libraries import services as library_services
from libraries.models import Chemical, ViolationType

from .conftest import assert_valid, legacy_header, make_edt_account

VLQ = "Library/Violations"
CLQ = "Library/Chemicals"
DDQ = "Library/DataDictionary"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SCHEMA_SETS = {"1/05": "1.05", "1/06": "cers3", "1/08": "cers3"}


def get(client, account, path: str, accept: str = "", environment: str = "EDT", **params):
    query = "&".join(f"{name}={value}" for name, value in params.items())
    extra = {"HTTP_ACCEPT": accept} if accept else {}
    url = f"/{environment}/{path}" + (f"?{query}" if query else "")
    return client.get(url, **legacy_header(account), **extra)


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content)


def json_body(response) -> dict:
    assert response["Content-Type"] == "application/json"
    return json.loads(body(response))


@pytest.fixture
def without_tier_1(cast):
    """Yolo County CUPA's account: tier 2 only."""
    return make_edt_account("1002", "yolo_query_only", "2", "both")


@pytest.fixture
def retired_type(db):
    """A retired UST type with two citations: every part of a Violation filled."""
    return library_services.create_violation_type(
        actor=None,
        type_number="2039901",
        name="Failure to test spill buckets",
        description="Spill containment was not tested every 36 months.",
        category="Operations/Maintenance",
        program_element=ViolationType.ProgramElement.UST,
        begin_date=datetime.date(2015, 1, 1),
        end_date=datetime.date(2023, 6, 30),
        citations=[
            {
                "chapter": "16",
                "section": "2637(a)",
                "name": "Secondary containment testing",
                "description": "Spill containment testing",
                "source": "California Code of Regulations",
            },
            {"chapter": "6.7", "section": "25284.1", "source": "Health and Safety Code"},
        ],
    )


@pytest.fixture
def current_type(db):
    """A current 4-digit type without citations."""
    return library_services.create_violation_type(
        actor=None,
        type_number="1234",
        name="Failure to post the business plan",
        category="Administration/Documentation",
        program_element=ViolationType.ProgramElement.BUSINESS_PLAN,
        begin_date=datetime.date(2020, 1, 1),
        end_date=None,
        citations=[],
    )


COMPONENTS = [
    {"name": "Xylene", "cas_number": "1330-20-7", "percent_by_weight": "40", "ehs": False},
    {"name": "Toluene", "cas_number": "108-88-3", "percent_by_weight": "25.5", "ehs": False},
    {"name": "Benzene", "cas_number": "71-43-2", "percent_by_weight": "10", "ehs": True},
    {"name": "Ethylbenzene", "cas_number": "100-41-4", "percent_by_weight": "5", "ehs": False},
    {"name": "Acetone", "cas_number": "67-64-1", "percent_by_weight": "1.25", "ehs": False},
]


@pytest.fixture
def full_chemical(db):
    """A mixture with every library field filled: eight fire code classes, five components,
    hazard categories old (216a) and new (216f, 216t, 216cc), a DOT class."""
    return library_services.create_chemical(
        actor=None,
        ccl_id=9100,
        cas_number="1330-20-7",
        chemical_name="Solvent blend XT",
        common_name="Parts washer solvent",
        synonyms="XT blend",
        ehs=True,
        physical_state="b",
        hm_type="b",
        dot_hazard_class="3",
        fire_code_hazard_classes=[3, 7, 12, 15, 20, 25, 30, 39],
        federal_hazard_categories=["216a", "216f", "216t", "216cc"],
        components=COMPONENTS,
    )


@pytest.fixture
def chlorine(db):
    """The seeded Chlorine entry, given a CalEPA-style CCL ID (seeded entries carry none)."""
    Chemical.objects.filter(cas_number="7782-50-5").update(ccl_id=102843)
    return Chemical.objects.get(ccl_id=102843)


# --- every endpoint -------------------------------------------------------------------------


@pytest.mark.parametrize("path", [VLQ, f"{VLQ}/1010001", CLQ, f"{CLQ}/CCL-1", f"{DDQ}/UPDD"])
def test_an_account_without_tier_1_gets_401_code_8(client, without_tier_1, path):
    response = get(client, without_tier_1, path)
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "8"
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED


@pytest.mark.parametrize("path", [VLQ, CLQ, f"{DDQ}/UPDD"])
def test_the_libraries_need_credentials(client, db, path):
    response = client.get(f"/EDT/{path}")
    assert response.status_code == 401
    assert response["X-CERS-Authentication-Result"] == "9"


@pytest.mark.parametrize(
    ("path", "record", "everything"),
    [
        (VLQ, b"<Violation>", lambda: ViolationType.objects.count()),
        (CLQ, b"<Chemical>", lambda: Chemical.objects.count()),
        (f"{DDQ}/UPDD", b"<DataElement>", lambda: len(numbers_in(dictionary.Dictionary.UPDD))),
    ],
)
def test_a_pa_reads_the_whole_libraries_without_a_regulator_code(
    client, pa_edt_account, path, record, everything
):
    """Statewide data: no jurisdiction, no regulatorCode; staging answers the same."""
    production = body(get(client, pa_edt_account, path))
    staging = body(get(client, pa_edt_account, path, environment="Staging"))
    assert production.count(record) == staging.count(record) == everything() > 1


@pytest.mark.parametrize("path", [VLQ, CLQ, f"{DDQ}/UPDD"])
def test_an_unknown_schema_version_is_refused(client, edt_account, path):
    response = get(client, edt_account, path, schemaVersion="1/99")
    assert response.status_code == 400
    assert b"schemaVersion=1/99 is not one of them" in response.content


@pytest.mark.parametrize(
    ("path", "acronym", "count"),
    [
        (f"{VLQ}/1010001", "VLQ", 1),
        (f"{VLQ}/9999", "VLQ", 0),
        (f"{CLQ}/CCL-102843", "CLQ", 1),
        (f"{DDQ}/UPDD/205", "DDQ", 1),
    ],
)
def test_the_transaction_records_the_answered_count(
    client, edt_account, chlorine, path, acronym, count
):
    response = get(client, edt_account, path)
    body(response)
    logged = EdtTransaction.objects.get()
    assert (logged.endpoint, logged.status, logged.result_count) == (
        acronym,
        EdtTransaction.Status.ACCEPTED,
        count,
    )
    assert logged.account == edt_account
    assert response["X-CERS-Transaction-Key"] == str(logged.key)


# --- VLQ ------------------------------------------------------------------------------------


def vlq(response, version: str = "1/06"):
    return assert_valid(body(response), SCHEMA_SETS[version], "ViolationLibraryQuery.xsd")


def type_numbers(root) -> list[str]:
    return [v.findtext("TypeNumber") for v in root.findall("Violation")]


@pytest.mark.parametrize("version", ["1/05", "1/06"])
def test_vlq_answers_the_whole_library_by_number_in_each_version(
    client, edt_account, retired_type, current_type, version
):
    root = vlq(get(client, edt_account, VLQ, schemaVersion=version), version)
    assert (
        root.tag
        == f"{{http://cersservices.calepa.ca.gov/Schemas/ViolationLibraryQuery/{version}/}}Violations"
    )
    expected = sorted(ViolationType.objects.values_list("type_number", flat=True))
    assert type_numbers(root) == expected
    assert {"1234", "2039901", "1010001"} <= set(expected)
    assert root.get("dataSetDateTime")


def test_vlq_answers_in_the_newest_version_by_default(client, edt_account):
    root = vlq(get(client, edt_account, VLQ))
    assert root.tag.endswith("/ViolationLibraryQuery/1/06/}Violations")


def test_vlq_writes_every_part_of_a_type(client, edt_account, retired_type):
    root = vlq(get(client, edt_account, f"{VLQ}/2039901"))
    (violation,) = root.findall("Violation")
    assert [child.tag for child in violation] == [
        "BeginDate",
        "EndDate",
        "TypeNumber",
        "Name",
        "Description",
        "Category",
        "ProgramElement",
        "Citations",
    ]
    assert violation.findtext("BeginDate") == "2015-01-01"
    assert violation.findtext("EndDate") == "2023-06-30"
    assert violation.findtext("Category") == "Operations/Maintenance"
    assert violation.findtext("ProgramElement") == "Underground Storage Tanks"
    citations = violation.findall("Citations/Citation")
    assert [(c.findtext("Section"), c.findtext("Source")) for c in citations] == [
        ("2637(a)", "California Code of Regulations"),
        ("25284.1", "Health and Safety Code"),
    ]
    assert citations[0].findtext("Name") == "Secondary containment testing"


def test_vlq_1_05_has_no_validity_window(client, edt_account, retired_type):
    root = vlq(get(client, edt_account, f"{VLQ}/2039901", schemaVersion="1.05"), "1/05")
    (violation,) = root.findall("Violation")
    assert violation.find("BeginDate") is None and violation.find("EndDate") is None
    assert violation.findtext("TypeNumber") == "2039901"


def test_vlq_writes_an_open_end_and_an_empty_citation_where_the_type_has_none(
    client, edt_account, current_type
):
    root = vlq(get(client, edt_account, f"{VLQ}/1234"))
    (violation,) = root.findall("Violation")
    assert violation.findtext("EndDate") == "9999-12-31"
    assert violation.find("Description").text is None  # required, so written empty
    (citation,) = violation.findall("Citations/Citation")
    assert [part.text for part in citation] == [None] * 5


def test_vlq_answers_an_unknown_number_with_no_violation(client, edt_account):
    root = vlq(get(client, edt_account, f"{VLQ}/1019999"))
    assert root.findall("Violation") == []


@pytest.mark.parametrize("argument", ["123", "12345", "20300266", "abcd", "2030001/1", "20%2030"])
def test_vlq_refuses_a_number_of_the_wrong_shape(client, edt_account, argument):
    response = get(client, edt_account, f"{VLQ}/{argument}")
    assert response.status_code == 400
    assert b"4 or 7 digits" in response.content
    assert EdtTransaction.objects.get().status == EdtTransaction.Status.REJECTED


def test_vlq_json_answers_the_same_types(client, edt_account, retired_type):
    xml_numbers = type_numbers(vlq(get(client, edt_account, VLQ)))
    data = json_body(get(client, edt_account, VLQ, accept="application/json"))
    assert (data["schema"], data["version"], data["root"]) == (
        "ViolationLibraryQuery",
        "1/06",
        "Violations",
    )
    assert [v["TypeNumber"] for v in data["Violation"]] == xml_numbers
    retired = next(v for v in data["Violation"] if v["TypeNumber"] == "2039901")
    assert retired["EndDate"] == "2023-06-30"
    assert [c["Section"] for c in retired["Citations"]] == ["2637(a)", "25284.1"]


def test_vlq_refuses_a_library_above_the_ceiling(client, edt_account, settings):
    settings.EDT_QUERY_MAX_RESULTS = 5
    response = get(client, edt_account, VLQ)
    assert response.status_code == 413
    assert f"{ViolationType.objects.count()} violation types".encode() in response.content
    assert type_numbers(vlq(get(client, edt_account, f"{VLQ}/1010001"))) == ["1010001"]


# Authentication (account, grant), the transaction row, the count, the accepted mark, the rows.
LIBRARY_QUERIES = 6


def test_vlq_runs_the_same_queries_for_one_type_or_all(
    client, edt_account, django_assert_num_queries
):
    library_size = ViolationType.objects.count()
    with django_assert_num_queries(LIBRARY_QUERIES):
        assert len(type_numbers(vlq(get(client, edt_account, f"{VLQ}/1010001")))) == 1
    with django_assert_num_queries(LIBRARY_QUERIES):
        assert len(type_numbers(vlq(get(client, edt_account, VLQ)))) == library_size


# --- CLQ ------------------------------------------------------------------------------------


def clq(response, version: str = "1/08"):
    return assert_valid(body(response), SCHEMA_SETS[version], "ChemicalLibraryQuery.xsd")


def ccl_ids(root) -> list[str]:
    return [c.findtext("CCLID") for c in root.findall("Chemical")]


@pytest.mark.parametrize("version", ["1/05", "1/08"])
def test_clq_answers_the_whole_library_by_ccl_id_in_each_version(
    client, edt_account, full_chemical, version
):
    """CalEPA's CCL IDs in order, then the entries without one (the seeded chemicals), whose
    CCLID is empty: the primary key is never written as a CCL ID."""
    root = clq(get(client, edt_account, CLQ, schemaVersion=version), version)
    numbered = sorted(
        Chemical.objects.filter(ccl_id__isnull=False).values_list("ccl_id", flat=True)
    )
    unnumbered = Chemical.objects.filter(ccl_id__isnull=True).count()
    assert unnumbered >= 40
    assert ccl_ids(root) == [str(ccl_id) for ccl_id in numbered] + [""] * unnumbered
    assert root.get("dataSetDateTime")


@pytest.mark.parametrize("version", ["1/05", "1/08"])
def test_clq_writes_every_part_of_a_chemical(client, edt_account, full_chemical, version):
    root = clq(get(client, edt_account, f"{CLQ}/CCL-9100", schemaVersion=version), version)
    (chemical,) = root.findall("Chemical")
    assert chemical.findtext("CCLID") == "9100"
    assert chemical.findtext("CAS") == "1330-20-7"
    assert chemical.findtext("ChemicalName") == "Solvent blend XT"
    assert chemical.findtext("CommonName") == "Parts washer solvent"
    assert (chemical.findtext("PhysState"), chemical.findtext("HMType")) == ("b", "b")
    assert chemical.findtext("EHS") == "Y"
    assert [chemical.findtext(f"FireCode{n}") for n in range(1, 9)] == [
        "3", "7", "12", "15", "20", "25", "30", "39"
    ]  # fmt: skip
    assert [
        (
            chemical.findtext(f"Component{n}Name"),
            chemical.findtext(f"Component{n}CAS"),
            Decimal(chemical.findtext(f"Component{n}Percent")),
            chemical.findtext(f"Component{n}EHS"),
        )
        for n in range(1, 6)
    ] == [
        (c["name"], c["cas_number"], Decimal(c["percent_by_weight"]), "Y" if c["ehs"] else "N")
        for c in COMPONENTS
    ]
    assert chemical.findtext("DOTHazClassID") == "3"
    assert chemical.findtext("FHCFire") == "Y"
    assert chemical.findtext("FHCReactive") == "N"
    assert chemical.find("Curies").get(XSI_NIL) == "true"
    assert chemical.findtext("LastUpdated")
    if version == "1/08":
        assert chemical.findtext("FHCPhysicalFlammable") == "Y"
        assert chemical.findtext("FHCHealthAcuteToxicity") == "Y"
        assert chemical.findtext("FHCHealthHazardNotOtherwiseClassified") == "Y"
        assert chemical.findtext("FHCPhysicalExplosive") == "N"
    else:  # 1/05 knows only the first five categories
        assert chemical.find("FHCPhysicalFlammable") is None


@pytest.mark.parametrize("version", ["1/05", "1/08"])
def test_clq_writes_missing_numbers_as_nil(client, edt_account, version):
    """Motor oil: no CAS, no DOT class, no fire code class, no component."""
    Chemical.objects.filter(chemical_name="Motor oil").update(ccl_id=100003)
    root = clq(get(client, edt_account, f"{CLQ}/100003", schemaVersion=version), version)
    (chemical,) = root.findall("Chemical")
    assert chemical.findtext("CAS") == ""  # present (required), empty
    for tag in ("FireCode1", "FireCode8", "Component1Percent", "Component5Percent"):
        assert chemical.find(tag).get(XSI_NIL) == "true", tag
    assert chemical.find("DOTHazClassID").get(XSI_NIL) == "true"
    assert chemical.find("Component1Name").text is None
    assert chemical.findtext("EHS") == "N"


@pytest.fixture
def listed_chemical(db):
    """A chemical with every field CalEPA's library keeps beyond the inventory's: Proposition
    65 types, the US EPA SRS number, the state waste code, radioactivity and curies, trade
    secret, comments and further mixture components."""
    return library_services.create_chemical(
        actor=None,
        ccl_id=9200,
        cas_number="50-00-0",
        chemical_name="Formaldehyde solution",
        physical_state="b",
        hm_type="a",
        prop65_types=["Male", "Cancer", "Developmental"],
        usepa_srs_number="5504",
        sta_code="551",
        radioactive=True,
        curies="0.0025",
        trade_secret=False,
        comments="Listed under Proposition 65.\nKeep closed.",
        additional_mixture_components="Methanol 10-15%",
    )


@pytest.mark.parametrize("version", ["1/05", "1/08"])
def test_clq_writes_the_prop_65_types_and_the_other_library_fields(
    client, edt_account, listed_chemical, version
):
    root = clq(get(client, edt_account, f"{CLQ}/CCL-9200", schemaVersion=version), version)
    (chemical,) = root.findall("Chemical")
    # In the library's order of the types (cancer first), whatever order they were given in.
    assert [t.text for t in chemical.find("Prop65Types")] == ["Cancer", "Developmental", "Male"]
    assert chemical.findtext("USEPASRSNumber") == "5504"
    assert chemical.findtext("STACode") == "551"
    assert chemical.findtext("RadioActive") == "Y"
    assert float(chemical.findtext("Curies")) == 0.0025
    assert chemical.find("Curies").get(XSI_NIL) is None
    assert chemical.findtext("TradeSecret") == "N"
    assert chemical.findtext("Comments") == "Listed under Proposition 65.\nKeep closed."
    assert chemical.findtext("AdditionalMixtureComponent") == "Methanol 10-15%"


@pytest.mark.parametrize("version", ["1/05", "1/08"])
def test_clq_leaves_what_the_library_does_not_say_empty(client, edt_account, version):
    """Motor oil says nothing of these fields: empty elements, no Prop65Type, nil curies."""
    Chemical.objects.filter(chemical_name="Motor oil").update(ccl_id=100003)
    root = clq(get(client, edt_account, f"{CLQ}/100003", schemaVersion=version), version)
    (chemical,) = root.findall("Chemical")
    assert len(chemical.find("Prop65Types")) == 0
    for tag in ("USEPASRSNumber", "STACode", "RadioActive", "TradeSecret", "Comments"):
        assert chemical.findtext(tag) == "", tag
    assert chemical.find("Curies").get(XSI_NIL) == "true"


def test_clq_json_carries_the_prop_65_types(client, edt_account, listed_chemical):
    data = json_body(
        get(client, edt_account, "Library/Chemicals/CCL-9200", accept="application/json")
    )
    (chemical,) = data["Chemical"]
    assert chemical["Prop65Types"] == ["Cancer", "Developmental", "Male"]
    assert (chemical["RadioActive"], chemical["Curies"], chemical["STACode"]) == (
        "Y",
        "0.0025",
        "551",
    )


@pytest.mark.parametrize(
    ("identifier", "expected"),
    [
        ("CCL-102843", ["102843"]),
        ("ccl-102843", ["102843"]),
        ("102843", ["102843"]),
        ("7782-50-5", ["102843"]),
        ("1330-20-7", ["9100", ""]),  # every chemical with the CAS number (seeded xylene)
        ("CCL-14", []),  # the seed number chlorine had before: not CalEPA's
        ("CCL-777777", []),
        ("99999999999", []),  # beyond any CCL ID
        ("50-00-1", []),
    ],
)
def test_clq_finds_chemicals_by_cas_number_or_ccl_id(
    client, edt_account, full_chemical, chlorine, identifier, expected
):
    assert ccl_ids(clq(get(client, edt_account, f"{CLQ}/{identifier}"))) == expected


@pytest.mark.parametrize("identifier", ["xylene", "CCL-", "1330-20", "CCL-12a", "7782-50-5/x"])
def test_clq_refuses_an_identifier_that_is_neither(client, edt_account, identifier):
    response = get(client, edt_account, f"{CLQ}/{identifier}")
    assert response.status_code == 400
    assert b"CAS number (such as 1330-20-7) or its CCL ID" in response.content


def test_clq_json_answers_the_same_chemicals(client, edt_account, full_chemical):
    xml_ids = ccl_ids(clq(get(client, edt_account, CLQ)))
    data = json_body(get(client, edt_account, CLQ, accept="application/json"))
    assert (data["schema"], data["version"], data["root"]) == (
        "ChemicalLibraryQuery",
        "1/08",
        "Chemicals",
    )
    assert [c["CCLID"] for c in data["Chemical"]] == xml_ids
    blend = next(c for c in data["Chemical"] if c["CCLID"] == "9100")
    assert (blend["Component2Name"], blend["Component2Percent"]) == ("Toluene", "25.5")
    assert blend["Curies"] == ""  # nil in XML
    assert blend["FHCHealthAcuteToxicity"] == "Y"


def test_clq_refuses_a_library_above_the_ceiling(client, edt_account, chlorine, settings):
    settings.EDT_QUERY_MAX_RESULTS = 10
    response = get(client, edt_account, CLQ)
    assert response.status_code == 413
    assert f"{Chemical.objects.count()} chemicals".encode() in response.content
    assert b"CAS number or CCL ID in the path" in response.content
    assert ccl_ids(clq(get(client, edt_account, f"{CLQ}/CCL-102843"))) == ["102843"]


def test_clq_runs_the_same_queries_for_one_chemical_or_all(
    client, edt_account, chlorine, django_assert_num_queries
):
    with django_assert_num_queries(LIBRARY_QUERIES):
        assert len(ccl_ids(clq(get(client, edt_account, f"{CLQ}/CCL-102843")))) == 1
    with django_assert_num_queries(LIBRARY_QUERIES):
        assert len(ccl_ids(clq(get(client, edt_account, CLQ)))) == 44


# --- DDQ ------------------------------------------------------------------------------------


def ddq(response):
    return assert_valid(body(response), "1.05", "DictionaryDataQuery.xsd")


def identifiers(root) -> list[str]:
    return [e.findtext("FieldIdentifier") for e in root.findall("DataElements/DataElement")]


def numbers_in(chosen: dictionary.Dictionary) -> list[str]:
    return [entry.number for entry in dictionary.entries() if entry.dictionary == chosen]


@pytest.mark.parametrize(
    ("name", "chosen"),
    [
        ("UPDD", dictionary.Dictionary.UPDD),
        ("updd", dictionary.Dictionary.UPDD),
        ("System", dictionary.Dictionary.SYSTEM),
        ("SYSTEM/", dictionary.Dictionary.SYSTEM),
    ],
)
def test_ddq_answers_a_whole_dictionary_in_dictionary_order(client, edt_account, name, chosen):
    root = ddq(get(client, edt_account, f"{DDQ}/{name}"))
    assert root.tag == (
        "{http://cersservices.calepa.ca.gov/Schemas/DictionaryDataQuery/1/05/}DictionaryData"
    )
    assert identifiers(root) == numbers_in(chosen)
    assert len(identifiers(root)) > 20
    assert root.get("dataSetDateTime")


def test_ddq_answers_the_empty_supplemental_dictionary(client, edt_account):
    """The registry has no 21.xxxx field yet: an empty, valid answer."""
    root = ddq(get(client, edt_account, f"{DDQ}/Supplemental"))
    assert identifiers(root) == []


def test_ddq_writes_every_part_of_a_coded_field(client, edt_account):
    root = ddq(get(client, edt_account, f"{DDQ}/UPDD/214"))
    (element,) = root.findall("DataElements/DataElement")
    assert [child.tag for child in element] == [
        "Name",
        "FieldIdentifier",
        "CERSDataRegistryID",
        "DataStandard",
        "Section",
        "Description",
        "XMLTag",
        "Instructions",
        "FieldFormat",
        "GenericDataType",
        "DataLength",
        "CERSMinimallyRequiredField",
        "LastUpdated",
        "Values",
    ]
    assert element.findtext("Name") == "Physical state"
    assert element.findtext("CERSDataRegistryID") == "214"
    assert element.findtext("DataStandard") == "Unified Program Data Dictionary"
    assert element.findtext("Section") == "Hazardous Materials Inventory"
    assert element.findtext("XMLTag") == "PhysicalState"
    assert element.findtext("Instructions") == (
        "Hazardous Materials Inventory: Chemicals/Chemical/PhysicalState"
    )
    assert element.findtext("GenericDataType") == "Code"
    assert element.findtext("DataLength") == "1"
    assert element.findtext("CERSMinimallyRequiredField") == "true"
    assert [(v.get("code"), v.text) for v in element.findall("Values/Value")] == [
        ("a", "Solid"),
        ("b", "Liquid"),
        ("c", "Gas"),
    ]


@pytest.mark.parametrize(
    ("path", "registry_id", "length"),
    [
        ("UPDD/205", "205", "500"),
        ("UPDD/216CC", "216", "1"),
        ("UPDD/490-47", "490", "10"),
        ("UPDD/464e1", "464", "35"),
        ("System/20.0010", "20.0010", None),
    ],
)
def test_ddq_finds_one_field_by_its_identifier(client, edt_account, path, registry_id, length):
    root = ddq(get(client, edt_account, f"{DDQ}/{path}"))
    (element,) = root.findall("DataElements/DataElement")
    assert element.findtext("FieldIdentifier") == path.split("/")[1].lower()
    assert element.findtext("CERSDataRegistryID") == registry_id
    assert element.findtext("DataLength") == length


def test_ddq_writes_a_date_time_field_with_its_format_and_no_values(client, edt_account):
    root = ddq(get(client, edt_account, f"{DDQ}/System/20.0010"))
    (element,) = root.findall("DataElements/DataElement")
    assert element.findtext("DataStandard") == "CERS System Fields"
    assert element.findtext("FieldFormat") == "YYYY-MM-DDThh:mm:ss"
    assert element.findtext("Section") == "Every submittal element"
    assert element.find("Values") is None


@pytest.mark.parametrize("path", ["UPDD/20.0010", "System/205", "UPDD/9999", "Supplemental/1"])
def test_ddq_answers_a_field_not_in_that_dictionary_with_nothing(client, edt_account, path):
    assert identifiers(ddq(get(client, edt_account, f"{DDQ}/{path}"))) == []


@pytest.mark.parametrize("path", [DDQ, f"{DDQ}/Title27", f"{DDQ}/Violations/205"])
def test_ddq_refuses_an_unknown_dictionary_naming_the_three(client, edt_account, path):
    response = get(client, edt_account, path)
    assert response.status_code == 400
    for name in (b"UPDD", b"System", b"Supplemental"):
        assert name in response.content


def test_ddq_refuses_more_than_one_identifier(client, edt_account):
    response = get(client, edt_account, f"{DDQ}/UPDD/205/206")
    assert response.status_code == 400
    assert b"Name one field after the dictionary" in response.content


def test_ddq_json_answers_the_same_fields(client, edt_account):
    xml_numbers = identifiers(ddq(get(client, edt_account, f"{DDQ}/UPDD")))
    data = json_body(get(client, edt_account, f"{DDQ}/UPDD", accept="application/json"))
    assert (data["schema"], data["version"], data["root"]) == (
        "DictionaryDataQuery",
        "1/05",
        "DictionaryData",
    )
    assert [e["FieldIdentifier"] for e in data["DataElement"]] == xml_numbers
    state = next(e for e in data["DataElement"] if e["FieldIdentifier"] == "214")
    assert state["Values"][0] == {"@code": "a", "#text": "Solid"}
    assert state["CERSMinimallyRequiredField"] == "true"


def test_ddq_refuses_a_dictionary_above_the_ceiling(client, edt_account, settings):
    settings.EDT_QUERY_MAX_RESULTS = 10
    response = get(client, edt_account, f"{DDQ}/UPDD")
    assert response.status_code == 413
    assert f"{len(numbers_in(dictionary.Dictionary.UPDD))} data dictionary fields".encode() in (
        response.content
    )
    assert identifiers(ddq(get(client, edt_account, f"{DDQ}/UPDD/205"))) == ["205"]


# Authentication (account, grant), the transaction row, the accepted mark: the dictionary is
# read from the registry in memory.
DICTIONARY_QUERIES = 4


def test_ddq_runs_the_same_queries_for_one_field_or_a_dictionary(
    client, edt_account, django_assert_num_queries
):
    with django_assert_num_queries(DICTIONARY_QUERIES):
        assert len(identifiers(ddq(get(client, edt_account, f"{DDQ}/UPDD/205")))) == 1
    with django_assert_num_queries(DICTIONARY_QUERIES):
        assert len(identifiers(ddq(get(client, edt_account, f"{DDQ}/UPDD")))) > 100


def test_clq_writes_a_percentage_as_a_plain_decimal(client, edt_account):
    library_services.create_chemical(
        actor=None,
        ccl_id=9200,
        chemical_name="Concentrate",
        physical_state="b",
        hm_type="b",
        components=[{"name": "Active agent", "percent_by_weight": "1e2"}],
    )
    (chemical,) = clq(get(client, edt_account, f"{CLQ}/CCL-9200")).findall("Chemical")
    assert chemical.findtext("Component1Percent") == "100"
    assert chemical.findtext("Component1EHS") == "N"
