"""Importing legacy facilities without an organization: from a file, with an optional mapping
file grouping them into organizations; all or nothing, and harmless to run again."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from core.models import AuditEvent
from facilities.legacy import LegacyImportError, import_legacy_facilities
from facilities.models import Facility, FacilityRegulator
from organizations.models import Organization

URL = reverse("regulator:legacy_import")

FACILITIES = (
    "legacy_key,name,street,city,zip_code,county\n"
    "L-1,Corner Gas,1 Legacy Way,Sacramento,95814,Sacramento\n"
    "L-2,Valley Farm Supply,2 Legacy Way,Davis,95616,Yolo\n"
    "L-3,Corner Gas North,3 Legacy Way,Sacramento,95814-1234,\n"
)
MAPPING = "legacy_key,organization_name\nL-1,Corner Gas Inc\nL-3,Corner Gas Inc\n"


def csv_file(text: str, name: str = "legacy.csv"):
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def counts():
    return Organization.objects.count(), Facility.objects.count()


def test_each_facility_becomes_an_organization_of_its_own(cast):
    organizations, facilities = counts()
    result = import_legacy_facilities(csv_file(FACILITIES))
    assert len(result.created) == 3 and not result.skipped
    assert counts() == (organizations + 3, facilities + 3)
    for facility in Facility.objects.filter(legacy_key__startswith="L-"):
        assert facility.organization.facilities.count() == 1
        assert facility.organization.name == facility.name
        assert not facility.organization.memberships.exists()
    depot = Facility.objects.get(legacy_key="L-1")
    assert depot.county == "Sacramento"
    # Through create_facility: regulators assigned and the lead regulator set.
    assert FacilityRegulator.objects.filter(facility=depot).exists()
    assert depot.organization.lead_regulator == cast.cupa
    assert AuditEvent.objects.filter(action="facility.legacy_import").count() == 1


def test_the_mapping_puts_two_facilities_into_one_organization(cast):
    organizations, facilities = counts()
    result = import_legacy_facilities(csv_file(FACILITIES), mapping=csv_file(MAPPING))
    assert len(result.created) == 3
    assert counts() == (organizations + 2, facilities + 3)
    corner = Organization.objects.get(name="Corner Gas Inc")
    assert set(corner.facilities.values_list("legacy_key", flat=True)) == {"L-1", "L-3"}
    assert Facility.objects.get(legacy_key="L-2").organization.facilities.count() == 1


def test_the_mapping_can_name_an_existing_organization(cast):
    mapping = f"legacy_key,organization_name,organization_code\nL-2,,{cast.other_org.code}\n"
    import_legacy_facilities(csv_file(FACILITIES), mapping=csv_file(mapping))
    assert Facility.objects.get(legacy_key="L-2").organization == cast.other_org


def test_running_again_creates_nothing(cast):
    import_legacy_facilities(csv_file(FACILITIES), mapping=csv_file(MAPPING))
    before = counts()
    result = import_legacy_facilities(csv_file(FACILITIES), mapping=csv_file(MAPPING))
    assert not result.created and sorted(result.skipped) == ["L-1", "L-2", "L-3"]
    assert counts() == before


def test_a_new_row_joins_its_group_imported_earlier(cast):
    import_legacy_facilities(csv_file(FACILITIES), mapping=csv_file(MAPPING))
    more = FACILITIES + "L-4,Corner Gas South,4 Legacy Way,Sacramento,95814,\n"
    mapping = MAPPING + "L-4,Corner Gas Inc\n"
    result = import_legacy_facilities(csv_file(more), mapping=csv_file(mapping))
    assert [f.legacy_key for f in result.created] == ["L-4"]
    assert Organization.objects.get(name="Corner Gas Inc").facilities.count() == 3


def test_a_bad_row_names_its_line_and_nothing_is_imported(cast):
    bad = FACILITIES.replace("95814-1234", "9581")
    before = counts()
    with pytest.raises(LegacyImportError) as caught:
        import_legacy_facilities(csv_file(bad))
    assert [(e.line, e.file) for e in caught.value.errors] == [(4, "facilities")]
    bad = FACILITIES.replace("2 Legacy Way,Davis,95616", "2 Legacy Way,Davis,ABCDE")
    with pytest.raises(LegacyImportError) as caught:
        import_legacy_facilities(csv_file(bad))
    assert [e.line for e in caught.value.errors] == [3]
    assert "ZIP" in caught.value.errors[0].message
    assert counts() == before
    assert not AuditEvent.objects.filter(action="facility.legacy_import").exists()


def test_every_problem_is_reported(cast):
    bad = (
        "legacy_key,name,street,city,zip_code\n"
        "L-1,A,1 Way,Sacramento,95814\n"
        "L-1,B,2 Way,Sacramento,95814\n"
        "L-3,,3 Way,Sacramento,95814\n"
    )
    mapping = "legacy_key,organization_name\nL-9,Nobody\n"
    with pytest.raises(LegacyImportError) as caught:
        import_legacy_facilities(csv_file(bad), mapping=csv_file(mapping))
    assert [(e.file, e.line) for e in caught.value.errors] == [
        ("facilities", 3),
        ("facilities", 4),
        ("mapping", 2),
    ]


def test_missing_columns_are_reported(cast):
    with pytest.raises(LegacyImportError) as caught:
        import_legacy_facilities(csv_file("legacy_key,name\nL-1,A\n"))
    assert "street" in caught.value.errors[0].message


def test_a_duplicate_address_is_a_row_error_and_nothing_is_imported(cast):
    existing = cast.facility
    rows = FACILITIES + (f"L-4,Copy,{existing.street},{existing.city},{existing.zip_code},\n")
    before = counts()
    with pytest.raises(LegacyImportError) as caught:
        import_legacy_facilities(csv_file(rows))
    [error] = caught.value.errors
    assert error.line == 5
    assert str(existing.cers_id) in error.message
    assert counts() == before


def test_the_command_imports_and_reports_counts(cast, tmp_path, capsys):
    path = tmp_path / "legacy.csv"
    path.write_text(FACILITIES)
    mapping = tmp_path / "mapping.csv"
    mapping.write_text(MAPPING)
    call_command("import_legacy_facilities", str(path), "--mapping", str(mapping))
    out = capsys.readouterr().out
    assert "Created 3 facilities in 2 new organizations; skipped 0" in out
    call_command("import_legacy_facilities", str(path), "--mapping", str(mapping))
    assert "Created 0 facilities" in capsys.readouterr().out


def test_the_command_fails_on_a_bad_row(cast, tmp_path, capsys):
    path = tmp_path / "legacy.csv"
    path.write_text(FACILITIES.replace("95616", "9561"))
    before = counts()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_legacy_facilities", str(path))
    assert "facilities line 3" in capsys.readouterr().err
    assert counts() == before


def test_an_administrator_uploads_the_file(cast, client, cupa_admin):
    # The CUPA's own ZIP code only: the Davis row is Yolo's (tests/security).
    sacramento = FACILITIES.replace("L-2,Valley Farm Supply,2 Legacy Way,Davis,95616,Yolo\n", "")
    client.force_login(cupa_admin)
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"file": csv_file(sacramento), "mapping": csv_file(MAPPING)})
    assert response.status_code == 200
    assert response.context["result"] is not None
    assert Facility.objects.filter(legacy_key__startswith="L-").count() == 2
    assert AuditEvent.objects.get(action="facility.legacy_import").actor == cupa_admin


def test_the_page_shows_the_errors(cast, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(URL, {"file": csv_file(FACILITIES.replace("95616", "9561"))})
    assert response.status_code == 200
    assert [e.line for e in response.context["errors"]] == [3]
    assert b"Nothing was imported" in response.content
    assert not Facility.objects.filter(legacy_key__startswith="L-").exists()


def test_a_reviewer_gets_403(cast, client):
    client.force_login(cast.cupa_reviewer)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"file": csv_file(FACILITIES)}).status_code == 403
    assert not Facility.objects.filter(legacy_key__startswith="L-").exists()
