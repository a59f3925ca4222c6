"""A CUPA administrator's legacy import stays in the agency's jurisdiction: facilities only in
the ZIP codes the agency serves (the rule of EDT Facility Create), into new organizations or
organizations it already regulates. Every refused row is listed; nothing is stored."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import reverse

from core.models import AuditEvent
from facilities.legacy import LegacyImportError, import_legacy_facilities
from facilities.models import Facility, FacilityRegulator
from facilities.services import add_facility
from organizations.models import Organization

URL = reverse("regulator:legacy_import")

# Line 2 is in Sacramento County CUPA's ZIP code, line 3 in Yolo County CUPA's.
MIXED = (
    "legacy_key,name,street,city,zip_code\n"
    "S-1,Corner Gas,1 Legacy Way,Sacramento,95814\n"
    "S-2,Valley Farm Supply,2 Legacy Way,Davis,95616\n"
)
SACRAMENTO = "legacy_key,name,street,city,zip_code\nS-1,Corner Gas,1 Legacy Way,Sacramento,95814\n"


def csv_file(text: str, name: str = "legacy.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def stored():
    return (
        Organization.objects.count(),
        Facility.objects.count(),
        FacilityRegulator.objects.count(),
        AuditEvent.objects.count(),
    )


def mapping_to(organization) -> str:
    return f"legacy_key,organization_name,organization_code\nS-1,,{organization.code}\n"


# --- refused ---------------------------------------------------------------------------------


def test_a_row_in_another_cupas_zip_code_is_refused_and_nothing_is_stored(cast, cupa_admin):
    before = stored()
    with pytest.raises(LegacyImportError) as refused:
        import_legacy_facilities(csv_file(MIXED), actor=cupa_admin, regulator=cast.cupa)

    [error] = refused.value.errors
    assert (error.file, error.line) == ("facilities", 3)
    assert "ZIP code 95616 is outside the jurisdiction of Sacramento County CUPA" in error.message
    assert "Yolo County CUPA (1002) handles it" in error.message
    assert "Remove this row" in error.message  # what to do
    assert stored() == before  # not even the Sacramento row


def test_the_page_lists_the_refused_rows_and_imports_nothing(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    before = stored()
    response = client.post(URL, {"file": csv_file(MIXED)})

    assert response.status_code == 200
    assert [(e.file, e.line) for e in response.context["errors"]] == [("facilities", 3)]
    assert b"Nothing was imported" in response.content
    assert b"outside the jurisdiction" in response.content
    assert stored() == before


def test_an_organization_outside_the_jurisdiction_is_refused_like_an_unknown_one(cast, cupa_admin):
    # Other Co's only facility is in Yolo: Sacramento's import may not add to it, and is told
    # no more than about a code that does not exist.
    before = stored()
    answers = []
    for code in (cast.other_org.code, 99999999):
        mapping = f"legacy_key,organization_name,organization_code\nS-1,,{code}\n"
        with pytest.raises(LegacyImportError) as refused:
            import_legacy_facilities(
                csv_file(SACRAMENTO), csv_file(mapping), actor=cupa_admin, regulator=cast.cupa
            )
        [error] = refused.value.errors
        assert (error.file, error.line) == ("mapping", 2)
        assert "leave organization_code empty" in error.message
        answers.append(error.message.replace(str(code), "CODE"))
    assert answers[0] == answers[1]
    assert "Other Co" not in answers[0]
    assert stored() == before
    assert not cast.other_org.facilities.filter(name="Corner Gas").exists()


def test_every_refused_row_of_both_files_is_listed(cast, cupa_admin):
    facilities = MIXED + "S-3,Delta Feed,3 Legacy Way,Davis,95616\n"
    mapping = (
        "legacy_key,organization_name,organization_code\n"
        f"S-1,,{cast.other_org.code}\n"
        "S-2,Valley Group,\n"
    )
    with pytest.raises(LegacyImportError) as refused:
        import_legacy_facilities(
            csv_file(facilities), csv_file(mapping), actor=cupa_admin, regulator=cast.cupa
        )
    assert [(e.file, e.line) for e in refused.value.errors] == [
        ("facilities", 3),
        ("facilities", 4),
        ("mapping", 2),
    ]


def test_a_pa_administrator_imports_nothing(cast, pa_admin):
    # A PA handles some elements of a ZIP code; it never adds the facility (the CUPA does).
    before = stored()
    with pytest.raises(LegacyImportError) as refused:
        import_legacy_facilities(csv_file(SACRAMENTO), actor=pa_admin, regulator=cast.pa)
    [error] = refused.value.errors
    assert "outside the jurisdiction of Sacramento City Fire PA" in error.message
    assert stored() == before


def test_the_service_itself_refuses_a_facility_outside_the_importing_agency(cast):
    # The import's check is add_facility's own, so no other caller gets round it.
    before = stored()
    with pytest.raises(ValidationError, match="outside the jurisdiction"), transaction.atomic():
        add_facility(
            actor=None,
            organization=cast.org,
            name="Yolo Yard",
            street="9 Elm Street",
            city="Davis",
            zip_code="95616",
            importing_agency=cast.cupa,
        )
    assert stored() == before


# --- allowed ---------------------------------------------------------------------------------


def test_a_cupa_imports_its_own_zip_codes_into_a_new_organization(cast, cupa_admin):
    result = import_legacy_facilities(csv_file(SACRAMENTO), actor=cupa_admin, regulator=cast.cupa)

    [facility] = result.created
    assert facility.legacy_key == "S-1"
    assert facility.organization.name == "Corner Gas"
    assert FacilityRegulator.objects.filter(facility=facility, regulator=cast.cupa).exists()


def test_a_cupa_adds_to_an_organization_it_regulates(cast, cupa_admin):
    # Acme has a facility in Sacramento (and one in Yolo).
    result = import_legacy_facilities(
        csv_file(SACRAMENTO), csv_file(mapping_to(cast.org)), actor=cupa_admin, regulator=cast.cupa
    )
    [facility] = result.created
    assert facility.organization == cast.org


def test_the_state_administrator_imports_anywhere_into_any_organization(cast):
    result = import_legacy_facilities(
        csv_file(MIXED),
        csv_file(mapping_to(cast.other_org)),
        actor=cast.state_admin,
        regulator=cast.state,
    )
    by_key = {f.legacy_key: f for f in result.created}
    assert set(by_key) == {"S-1", "S-2"}
    assert by_key["S-1"].organization == cast.other_org
    assert FacilityRegulator.objects.filter(facility=by_key["S-2"], regulator=cast.cupa2).exists()


def test_a_legacy_key_taken_elsewhere_is_refused_not_grouped_with(cast, cupa_admin):
    # An earlier import put "S-9" in Davis (Yolo's). Sacramento's file uses the same key,
    # grouped with a new row: it is neither skipped as Sacramento's own, nor does the new row
    # join the Davis facility's organization.
    import_legacy_facilities(
        csv_file("legacy_key,name,street,city,zip_code\nS-9,Davis Feed,9 Elm Street,Davis,95616\n")
    )
    yolo_organization = Facility.objects.get(legacy_key="S-9").organization
    facilities = SACRAMENTO + "S-9,Corner Gas East,9 Legacy Way,Sacramento,95814\n"
    mapping = "legacy_key,organization_name\nS-1,Corner Group\nS-9,Corner Group\n"
    before = stored()

    with pytest.raises(LegacyImportError) as refused:
        import_legacy_facilities(
            csv_file(facilities), csv_file(mapping), actor=cupa_admin, regulator=cast.cupa
        )

    [error] = refused.value.errors
    assert (error.file, error.line) == ("facilities", 3)
    assert "outside Sacramento County CUPA (1001)'s jurisdiction" in error.message
    assert stored() == before
    assert yolo_organization.facilities.count() == 1
