"""The submittal field registry: coverage of every element, facts read from CalEPA's schema by
hand, value validation, and the committed data matching what the generator makes today."""

import importlib.util
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from core import registry
from core.elements import SubmittalElement as E
from core.registry import FIELD_TYPES, FieldLookupError, field, schema_for, validate_value

ROOT = Path(__file__).resolve().parents[2]
# CalEPA's schema files, where the service reads them (edt/schemas/ in the repository).
XSD_DIR = Path(settings.EDT_SCHEMA_DIR)
XSD_1_10 = XSD_DIR / "cers3" / "RegulatorFacilitySubmittal.xsd"
XSD_1_05 = XSD_DIR / "1.05" / "RegulatorFacilitySubmittal.xsd"


def load_generator():
    spec = importlib.util.spec_from_file_location(
        "build_registry", ROOT / "tools" / "build_registry.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The nine elements FacilitySubmittalType (1/10) places, with their container tags. CalARP (10)
# is only declared as a type the facility submittal never uses.
CONTAINER_TAGS = {
    E.FACILITY_INFORMATION: "FacilityInformation",
    E.HAZARDOUS_MATERIALS_INVENTORY: "HazardousMaterialsInventory",
    E.EMERGENCY_RESPONSE: "EmergencyResponseTrainingPlans",
    E.UST: "UndergroundStorageTanks",
    E.TIERED_PERMITTING: "OnsiteHazardousWasteTreatmentNotification",
    E.RECYCLABLE_MATERIALS: "RecyclableMaterialsReport",
    E.REMOTE_WASTE_CONSOLIDATION: "RemoteWasteConsolidationsAnnualNotification",
    E.HW_TANK_CLOSURE: "HWTankClosureCertification",
    E.APSA: "AbovegroundPetroleumStorageTanks",
}

# (at least this many fields in all, at least this many outside header and document slots).
# ERTP, RMR, HW tank closure and CalARP are documents only in this schema version.
MIN_FIELDS = {
    E.FACILITY_INFORMATION: (110, 80),
    E.HAZARDOUS_MATERIALS_INVENTORY: (150, 100),
    E.EMERGENCY_RESPONSE: (55, 0),
    E.UST: (300, 200),
    E.TIERED_PERMITTING: (350, 230),
    E.RECYCLABLE_MATERIALS: (45, 0),
    E.REMOTE_WASTE_CONSOLIDATION: (50, 14),
    E.HW_TANK_CLOSURE: (45, 0),
    E.APSA: (50, 5),
    E.CALARP: (25, 0),
}

DOCUMENT_OPTIONS = {
    "Exempt",
    "ProvidedToRegulator",
    "StoredAtFacility",
    "ProvidedInOtherSubmittalElement",
    "PublicInternetUri",
    "Attachments",
}


# -- coverage ---------------------------------------------------------------------------------


def test_every_submittal_element_has_a_schema():
    assert [s.element for s in registry.all_schemas()] == list(E)


@pytest.mark.parametrize("element", list(E))
def test_each_element_has_at_least_its_known_number_of_fields(element):
    schema = schema_for(element)
    at_least, data_at_least = MIN_FIELDS[element]
    assert len(schema.fields) >= at_least
    assert len(schema.data_fields) >= data_at_least
    assert len(schema.header_fields) == 15
    assert schema.document_slots


def test_nine_elements_are_placed_in_the_facility_submittal_under_their_container_tags():
    placed = {s.element: s.xml_tag for s in registry.all_schemas() if s.in_facility_submittal}
    assert placed == CONTAINER_TAGS


def test_calarp_is_a_declared_type_the_facility_submittal_never_carries():
    calarp = schema_for(E.CALARP)
    assert calarp.xml_tag == ""
    assert not calarp.in_facility_submittal
    assert calarp.xsd_type == "CaliforniaAccidentalReleaseProgramType"
    assert [g.tag for g in calarp.document_slots] == ["CalARPLocallyCollectedDocument"]


@pytest.mark.parametrize("element", list(E))
def test_fields_are_well_formed(element):
    schema = schema_for(element)
    for f in schema.fields:
        assert f.type in FIELD_TYPES, f.key
        if f.type == "code":
            assert f.codes, f.key
        elif f.codes:  # whole numbers that are codes: labelled, exactly the schema's range
            assert f.type == "integer", f.key
            span = range(int(f.min_value), int(f.max_value) + 1)
            assert f.code_values == tuple(str(n) for n in span), f.key
        assert f.label and f.label[0].isupper(), f.key
        assert f.path[-1] == f.tag
        assert f.group == (f.path[-2] if len(f.path) > 1 else schema.xml_tag)
    # Outside the shared header and document slots every field has its own number.
    numbers = [f.number for f in schema.data_fields]
    assert all(numbers)
    assert len(numbers) == len(set(numbers))


def test_every_document_slot_offers_the_six_ways_to_provide_a_document():
    for schema in registry.all_schemas():
        for slot in schema.document_slots:
            options = {g.tag for g in schema.groups if g.path[:-1] == slot.path}
            options |= {f.tag for f in schema.fields if f.path[:-1] == slot.path}
            assert options == DOCUMENT_OPTIONS, (schema.element, slot.key)


# -- facts read from RegulatorFacilitySubmittal.xsd 1/10 ----------------------------------------


def test_inventory_chemical_name():
    f = field(E.HAZARDOUS_MATERIALS_INVENTORY, "ChemicalName")
    assert f.number == "205"
    assert f.path == ("Chemicals", "Chemical", "ChemicalName")
    assert f.group == "Chemical"
    assert (f.type, f.max_length, f.required) == ("string", 500, False)
    assert field(E.HAZARDOUS_MATERIALS_INVENTORY, "205") is f


def test_inventory_rows_repeat_and_common_name_is_required_in_each():
    inventory = schema_for(E.HAZARDOUS_MATERIALS_INVENTORY)
    assert inventory.group_at("Chemicals/Chemical").repeats
    common = inventory.get("207")
    assert (common.tag, common.required, common.min_length, common.max_length) == (
        "CommonName",
        True,
        1,
        500,
    )
    assert inventory.record_path(common) == ("Chemicals", "Chemical")


def test_inventory_physical_state_and_units_code_lists():
    state = field(E.HAZARDOUS_MATERIALS_INVENTORY, "PhysicalState")
    assert state.number == "214"
    assert state.required
    assert state.codes == (("a", "Solid"), ("b", "Liquid"), ("c", "Gas"))
    units = field(E.HAZARDOUS_MATERIALS_INVENTORY, "221")
    assert units.code_values == ("a", "b", "c", "d")


def test_inventory_amounts_and_mixture_components():
    maximum = field(E.HAZARDOUS_MATERIALS_INVENTORY, "MaximumDailyAmount")
    assert (maximum.number, maximum.type, maximum.total_digits, maximum.required) == (
        "218",
        "decimal",
        15,
        True,
    )
    percent = field(E.HAZARDOUS_MATERIALS_INVENTORY, "HC1PercentByWeight")
    assert percent.number == "226"
    assert (percent.total_digits, percent.fraction_digits) == (6, 2)
    assert (percent.min_value, percent.max_value) == ("0.01", "100.00")
    fifth_cas = field(E.HAZARDOUS_MATERIALS_INVENTORY, "245")
    assert (fifth_cas.tag, fifth_cas.max_length) == ("HC5CAS", 15)
    days = field(E.HAZARDOUS_MATERIALS_INVENTORY, "DaysOnSite")
    assert (days.type, days.total_digits) == ("integer", 3)


def test_inventory_change_flag_is_an_attribute_of_chemicals():
    flag = field(E.HAZARDOUS_MATERIALS_INVENTORY, "changedFromLastSubmittal")
    assert flag.attribute
    assert flag.path == ("Chemicals", "changedFromLastSubmittal")
    assert (flag.number, flag.default, flag.code_values) == ("20.0105", "0", ("0", "1", "2"))


def _coded_fields():
    for schema in registry.all_schemas():
        yield from ((schema.element, f) for f in schema.fields if f.codes or f.type == "code")
    yield from ((None, f) for f in registry.facility_submittal_fields() if f.codes)


def test_every_code_list_is_labelled_in_words():
    """No form, page or message shows a bare code: each code of every code list (and of the
    whole-number fields whose values are codes) has a label that is not the code itself. A
    new code list in a new schema fails here (and in the generator) until it is labelled in
    core.code_lists."""
    bare = [
        (element, f.key, value)
        for element, f in _coded_fields()
        for value, label in f.codes
        if label.strip().casefold() == value.strip().casefold() or not re.search("[A-Za-z]", label)
    ]
    assert bare == []
    assert sum(1 for _ in _coded_fields()) > 60


def test_fire_code_hazard_classes_and_counties_are_labelled_code_lists():
    for number in ("210a", "210b", "210c", "210d", "210e", "210f", "210g", "210h"):
        f = field(E.HAZARDOUS_MATERIALS_INVENTORY, number)
        assert (f.type, f.xsd_type, len(f.codes)) == ("integer", "FireCodeHazardClassType", 39)
        assert f.code_label("8") == "Flammable gas"
        assert f.code_label("39") == "Other"
    assert validate_value(field(E.HAZARDOUS_MATERIALS_INVENTORY, "210a"), "8") == (8, None)
    assert validate_value(field(E.HAZARDOUS_MATERIALS_INVENTORY, "210a"), "40")[1]
    county = field(E.FACILITY_INFORMATION, "105a")
    assert (county.code_label("1"), county.code_label("34"), county.code_label("58")) == (
        "Alameda",
        "Sacramento",
        "Yuba",
    )
    assert field(E.UST, "430").code_label("8") == "UST removed"
    assert field(E.TIERED_PERMITTING, "607").code_label("d") == "Permit by rule (PBR)"


def test_the_generator_refuses_a_code_list_without_labels(monkeypatch):
    tool = load_generator()
    monkeypatch.setattr(tool, "CODE_LABELS", {})
    rows = [{"tag": "NewList", "number": "999", "type": "code", "codes": [["1", "1"]]}]
    with pytest.raises(tool.SchemaError, match="no labels"):
        tool._apply_code_labels(rows)
    rows = [{"tag": "Rank", "type": "integer", "min_value": "1", "max_value": "3"}]
    monkeypatch.setattr(tool, "CODE_LABELS", {"Rank": {"1": "One", "2": "Two"}})
    with pytest.raises(tool.SchemaError, match="range"):
        tool._apply_code_labels(rows)


def test_regulator_action_status_codes_leave_out_submitted():
    status = field(E.UST, "20.0005")
    assert status.path == ("SubmittalElementHeader", "RegulatorSubmittalAction", "Status")
    assert status.code_values == ("1", "3", "4", "5", "6")
    assert status.code_label("4") == "Accepted"


def test_header_fields():
    header = schema_for(E.APSA)
    assert header.get("ReportingRequirement").codes == (
        ("1", "Not applicable"),
        ("2", "Applicable"),
        ("3", "Always applicable"),
    )
    assert header.get("20.0121").code_values == ("2", "3")
    key = header.get("SubmittalElementRegulatorKey")
    assert (key.number, key.min_length, key.max_length) == ("20.0004", 36, 36)
    assert key.pattern
    regulator = header.get("20.0001")
    assert (regulator.type, regulator.min_value, regulator.max_value) == ("integer", "1001", "9999")


def test_document_slot_fields():
    inventory = schema_for(E.HAZARDOUS_MATERIALS_INVENTORY)
    site_maps = inventory.group_at("SiteMapDocuments")
    assert site_maps.document and site_maps.required
    exempt = inventory.get("SiteMapDocuments/Exempt/Comment")
    assert (exempt.min_length, exempt.max_length, exempt.required) == (5, 500, True)
    uri = inventory.get("SiteMapDocuments/PublicInternetUri")
    assert (uri.number, uri.min_length, uri.max_length, uri.choice) == ("20.0024", 10, 1000, True)
    assert not uri.required
    other = inventory.get("SiteMapDocuments/ProvidedInOtherSubmittalElement/SubmittalElementCode")
    assert (other.number, other.min_value, other.max_value) == ("20.0071", "1", "10")
    stored = inventory.get("SiteMapDocuments/StoredAtFacility/CERSID")
    assert stored.number == "1a"
    attachment = inventory.group_at("SiteMapDocuments/Attachments/Attachment")
    assert attachment.repeats
    title = inventory.get("SiteMapDocuments/Attachments/Attachment/DocumentTitle")
    assert (title.number, title.max_length) == ("20.0021", 300)


def test_facility_information_business_activities_and_owner_operator():
    info = schema_for(E.FACILITY_INFORMATION)
    assert info.group_at("BusinessActivities").required
    assert info.group_at("OwnerOperatorInformation").required
    hm_on_site = info.get("4")
    assert (hm_on_site.tag, hm_on_site.codes) == ("HMOnSite", (("Y", "Yes"), ("N", "No")))
    assert info.get("BusinessName").max_length == 70
    employees = info.get("171")
    assert (employees.tag, employees.locally_collected) == ("NumberOfEmployees", True)
    assert employees.path[0] == "OwnerOperatorInformation"


def test_ust_tanks_monitoring_and_installation():
    ust = schema_for(E.UST)
    assert ust.get("400").path == ("USTFacilityInformation", "TypeOfAction")
    assert ust.get("400").code_values == ("1", "3", "5", "6", "7", "9")
    assert ust.group_at("USTTanks/USTTank").repeats
    assert ust.group_at("USTTanks/USTTank/MonitoringPlan").required
    assert ust.group_at(
        "USTCertificationOfInstallationModifications/USTCertificationOfInstallationModification"
    ).repeats
    # The tank's own type of action shares the facility's tag: ask by number or path.
    with pytest.raises(FieldLookupError, match="ask by path"):
        ust.get("TypeOfAction")
    assert ust.get("USTTanks/USTTank/TypeOfAction").number == "430"
    assert any("repeating xs:choice" in note for note in ust.notes)


def test_apsa_facility_information():
    assert field(E.APSA, "ConditionallyExempt").required
    capacity = field(E.APSA, "802")
    assert capacity.tag == "TotalAbovegroundStorageCapacityOfPetroleum"
    assert (capacity.type, capacity.total_digits, capacity.min_value) == ("integer", 12, "1")
    assert capacity.nillable


def test_facility_submittal_fields():
    fields = {f.tag: f for f in registry.facility_submittal_fields()}
    assert set(fields) == {"CERSID", "FacilityID", "FacilityRegulatorKey"}
    assert (fields["CERSID"].min_value, fields["CERSID"].max_value) == ("10000001", "99999999")
    assert (fields["FacilityID"].number, fields["FacilityID"].max_length) == ("1", 13)


# -- lookups ----------------------------------------------------------------------------------


def test_lookup_by_tag_number_path_and_plain_int_element():
    by_tag = field(2, "ChemicalName")
    assert field(E.HAZARDOUS_MATERIALS_INVENTORY, "205") is by_tag
    assert field(2, "Chemicals/Chemical/ChemicalName") is by_tag


def test_lookup_of_unknown_field_or_element_fails_clearly():
    with pytest.raises(FieldLookupError, match="no field 'NoSuchTag'"):
        field(E.APSA, "NoSuchTag")
    with pytest.raises(FieldLookupError):
        schema_for(11)


def test_lookup_of_a_shared_tag_names_every_path():
    with pytest.raises(FieldLookupError) as excinfo:
        field(E.HAZARDOUS_MATERIALS_INVENTORY, "Comment")
    assert "SiteMapDocuments/Exempt/Comment" in str(excinfo.value)


# -- validate_value ---------------------------------------------------------------------------


def hmi(name):
    return field(E.HAZARDOUS_MATERIALS_INVENTORY, name)


def test_validate_accepts_good_values_and_cleans_them():
    assert validate_value(hmi("ChemicalName"), "  Acetone ") == ("Acetone", None)
    assert validate_value(hmi("PhysicalState"), "b") == ("b", None)
    assert validate_value(hmi("DaysOnSite"), "365") == (365, None)
    assert validate_value(hmi("MaximumDailyAmount"), "1500.25") == (Decimal("1500.25"), None)
    assert validate_value(hmi("HC1PercentByWeight"), "100.00") == (Decimal("100.00"), None)
    due = schema_for(E.APSA).get("NextDueDate")
    assert validate_value(due, "2025-03-01") == (date(2025, 3, 1), None)
    assert validate_value(due, date(2025, 3, 1)) == (date(2025, 3, 1), None)
    submitted = schema_for(E.APSA).get("SubmittedOn")
    assert validate_value(submitted, "2013-01-02T10:30:00Z") == (
        datetime(2013, 1, 2, 10, 30, tzinfo=UTC),
        None,
    )


def test_validate_blank_is_absent_unless_required():
    assert validate_value(hmi("ChemicalName"), "   ") == (None, None)
    assert validate_value(hmi("ChemicalName"), None) == (None, None)
    assert validate_value(hmi("CommonName"), "") == (None, "Common name: required.")


def test_validate_rejects_too_long_and_too_short_strings():
    assert validate_value(hmi("ChemicalName"), "x" * 501) == (
        None,
        "Chemical name: at most 500 characters (now 501).",
    )
    exempt = hmi("SiteMapDocuments/Exempt/Comment")
    assert validate_value(exempt, "n/a") == (None, "Comment: at least 5 characters (now 3).")


def test_validate_rejects_bad_codes_naming_the_choices():
    value, error = validate_value(hmi("PhysicalState"), "d")
    assert value is None
    assert error == "Physical state: choose one of a (Solid), b (Liquid), c (Gas)."
    _, error = validate_value(field(E.UST, "20.0005"), "2")
    assert error.startswith("Status: choose one of 1 (Draft), 3 (Under review)")


def test_validate_rejects_bad_dates():
    due = schema_for(E.APSA).get("NextDueDate")
    assert validate_value(due, "2025-02-30") == (None, "Next due date: enter a date as YYYY-MM-DD.")
    assert validate_value(due, "03/01/2025")[1] == "Next due date: enter a date as YYYY-MM-DD."
    assert validate_value(due, "2100-01-01") == (None, "Next due date: on or before 2099-12-31.")
    submitted = schema_for(E.APSA).get("SubmittedOn")
    assert validate_value(submitted, "2013-01-02")[1] == (
        "Submitted on: enter a date and time as YYYY-MM-DDThh:mm:ss."
    )


def test_validate_rejects_non_numeric_and_oversized_numbers():
    assert validate_value(hmi("DaysOnSite"), "ten") == (None, "Days on site: enter a whole number.")
    assert validate_value(hmi("DaysOnSite"), "1.5")[1] == "Days on site: enter a whole number."
    assert validate_value(hmi("DaysOnSite"), "1000") == (None, "Days on site: at most 3 digits.")
    amount = hmi("MaximumDailyAmount")
    assert validate_value(amount, "1e5")[1] == "Maximum daily amount: enter a number, such as 12.5."
    assert validate_value(amount, "1" * 16)[1] == "Maximum daily amount: at most 15 digits."
    percent = hmi("HC1PercentByWeight")
    assert validate_value(percent, "12.345")[1] == (
        "Component 1 percent by weight: at most 2 decimal places."
    )
    assert validate_value(percent, "0.00")[1] == "Component 1 percent by weight: at least 0.01."
    assert validate_value(percent, "100.01")[1] == "Component 1 percent by weight: at most 100.00."


def test_validate_checks_ranges_and_patterns():
    cers_id = registry.facility_submittal_fields()[0]
    assert validate_value(cers_id, "10000001") == (10000001, None)
    assert validate_value(cers_id, "9999999") == (None, "CERS ID: at least 10000001.")
    key = schema_for(E.APSA).get("SubmittalElementRegulatorKey")
    assert validate_value(key, "0f8fad5b-d9cb-469f-a165-70867728950e")[1] is None
    _, error = validate_value(key, "0f8fad5b-d9cb-469f-a165-70867728950Z")
    assert error.startswith("Submittal element regulator key: enter a GUID")
    _, error = validate_value(key, "too short")
    assert error == "Submittal element regulator key: exactly 36 characters (now 9)."


def test_decimal_digit_counting_follows_the_xsd_facets():
    # totalDigits 6, fractionDigits 2: trailing fraction zeros do not count, as in XSD.
    percent = hmi("HC1PercentByWeight")
    assert validate_value(percent, "99.990")[1] is None
    assert validate_value(percent, "0.01")[1] is None


# -- the generator and the committed data -------------------------------------------------------


def test_labels_are_derived_from_tags():
    label = load_generator().label_from_tag
    assert label("ChemicalName") == "Chemical name"
    assert label("CERSID") == "CERS ID"
    assert label("HC2PercentByWeight") == "Component 2 percent by weight"
    assert label("SCSteelDrum") == "Container: steel drum"
    assert label("CalARPRegulatedSubstances") == "CalARP regulated substances"
    assert label("AWInorganicpHAdjustment") == "AW inorganic pH adjustment"


def test_committed_registry_data_matches_the_schema():
    generator = load_generator()
    assert generator.DEFAULT_XSD == XSD_1_10  # run without an argument, it reads this file
    assert generator.DEFAULT_ALSO == (XSD_1_05,)  # and keeps the fields only 1/05 has
    expected = generator.build(XSD_1_10, also=(XSD_1_05,))
    committed = {p.name: p.read_text(encoding="utf-8") for p in registry.DATA_DIR.glob("*.json")}
    assert sorted(committed) == sorted(expected), "data files differ; run tools/build_registry.py"
    for name, text in expected.items():
        assert committed[name] == text, (
            f"{name} is out of date: run python tools/build_registry.py {XSD_1_10}"
        )


def test_generator_reads_the_2013_schema_too():
    files = load_generator().build(XSD_1_05)
    inventory = json.loads(files["02_hazardous_materials_inventory.json"])
    assert inventory["namespace"].endswith("/RegulatorFacilitySubmittal/1/05/")
    names = {row["tag"] for row in inventory["fields"]}
    assert "ChemicalName" in names
    assert "FHCPhysicalFlammable" not in names  # the GHS hazard categories came later


# Numbers in the facility submittal schemas that are not an element's data: the envelope's
# transaction key and status, and the facility's geographic information and parsed street
# (21.x), which the facility, not an element, holds.
NOT_ELEMENT_DATA = re.compile(r"20\.0003|20\.0082|20\.0088|21\.[0-9]+")


@pytest.mark.parametrize(
    "schema_file",
    [
        "cers3/RegulatorFacilitySubmittal.xsd",
        "1.05/RegulatorFacilitySubmittal.xsd",
        "cers3/RegulatorFacilitySubmittalQuery.xsd",
        "1.05/RegulatorFacilitySubmittalQuery.xsd",
    ],
)
def test_every_numbered_field_of_every_served_schema_is_in_the_registry(schema_file):
    """No version's data field is dropped because the newest upload schema lacks it (the UST
    element's TotalUSTAtFacility, 404, is only in 1/05's upload and both query schemas)."""
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    known = {f.number for s in registry.all_schemas() for f in s.fields if f.number}
    known |= {g.number for s in registry.all_schemas() for g in s.groups if g.number}
    known |= {f.number for f in registry.facility_submittal_fields() if f.number}
    missing = {}
    for declared in etree.parse(str(XSD_DIR / schema_file)).iter(f"{xs}element", f"{xs}attribute"):
        doc = declared.findtext(f"{xs}annotation/{xs}documentation") or ""
        number = doc.split("(")[0].strip()
        if not re.fullmatch(r"[0-9][0-9A-Za-z.\-]*", number) or NOT_ELEMENT_DATA.fullmatch(number):
            continue
        if number not in known:
            missing[number] = declared.get("name")
    assert missing == {}
    assert field(E.UST, "404").tag == "TotalUSTAtFacility"
    assert not field(E.UST, "404").required  # 1/10 uploads cannot carry it


def test_text_check_decides_as_validate_value_does():
    """``text_check``, the writers' fast check, accepts exactly the non-blank texts that
    ``validate_value`` accepts, for every field of every element."""
    samples = [
        "1",
        "2",
        "Y",
        "N",
        "true",
        "0",
        "-5",
        "12.50",
        "1e3",
        "2024-06-03",
        "2024-06-03T10:00:00",
        "95814",
        "95814-1234",
        "(916) 555-0100",
        "a" * 5,
        "a" * 40,
        "a" * 300,
        "CA",
        "Acme Fuels",
        "0f8fad5b-d9cb-469f-a165-70867728950e",
    ]
    checked = 0
    for schema in registry.all_schemas():
        for f in schema.fields:
            fits = registry.text_check(f)
            codes = [value for value, _ in f.codes][:3]
            for text in samples + codes:
                assert fits(text) == (validate_value(f, text)[1] is None), (f.key, text)
                checked += 1
    assert checked > 1000
