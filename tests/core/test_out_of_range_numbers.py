"""A number past the database's integer range, sent where a key or a number is read, is
answered as any other unknown value (a form error, a page of the list): the database never
sees it (SQLite's driver refuses it with OverflowError, a server error)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from core.pagination import encode_key, paginate
from facilities.models import Facility
from tests.test_access_matrix import _bulk_review, _cme_inspection, _draft

OUT_OF_RANGE = ["9223372036854775808", "99999999999999999999999", "-9223372036854775809"]
pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_edt_administrators_out_of_range_is_a_form_error(number, client, cupa_admin):
    client.force_login(cupa_admin)
    response = client.post(reverse("regulator:edt_request_new"), {"edt_administrators": number})
    assert response.status_code == 200
    assert "An EDT administrator must be on the agency" in response.content.decode()


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_drafts_to_submit_out_of_range_is_a_form_error(number, cast, client):
    _draft(cast)
    client.force_login(cast.lead)
    url = reverse("business:submit", args=[cast.facility.cers_id])
    response = client.post(url, {"elements": [number]})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_facilities_to_certify_out_of_range(number, cast, client):
    client.force_login(cast.lead)
    url = reverse("business:certify_no_changes")
    assert client.get(url, {"facility": number}).status_code == 200
    response = client.post(url, {"facilities": [number]})
    assert response.status_code == 200


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_enforcement_violations_out_of_range_is_a_form_error(number, cast, client):
    client.force_login(cast.cupa_reviewer)
    url = reverse("regulator:cme_enforcement_create", args=_cme_inspection(cast))
    response = client.post(
        url, {"enforcement_type": "b", "occurred_on": "2024-05-02", "violations": [number]}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_bulk_review_selection_out_of_range(number, cast, client):
    data = _bulk_review(cast, 1)
    seen = data["elements"][0].partition(":")[2]
    client.force_login(cast.cupa_reviewer)
    response = client.post(
        reverse("regulator:review_queue_bulk"), {"status": 4, "elements": [f"{number}:{seen}"]}
    )
    assert response.status_code in (200, 302)
    if response.status_code == 302:
        response = client.get(response["Location"])
    assert response.status_code == 200


@pytest.mark.parametrize("number", OUT_OF_RANGE)
def test_sort_key_out_of_range_in_a_foreign_key_gives_the_first_page(number, cast, rf):
    queryset = Facility.objects.order_by("organization", "pk")
    facility = queryset.first()
    facility.organization_id = int(number)  # a token as a hand-made link could carry it
    token = encode_key(facility, ["organization", "pk"])
    page = paginate(rf.get("/", {"after": token}), queryset, per_page=1)
    assert [row.pk for row in page] == [queryset.first().pk]


def test_every_form_choosing_several_rows_uses_the_bounded_field():
    """Django's own ``ModelMultipleChoiceField`` passes any number to ``key IN (...)``; the
    project's (``core.forms``) refuses one past its column first."""
    root = Path(__file__).resolve().parents[2]
    apps = [d for d in root.iterdir() if (d / "apps.py").exists() or (d / "urls.py").exists()]
    assert {"core", "edt", "submittals", "cme"} <= {app.name for app in apps}
    offenders = [
        str(path.relative_to(root))
        for app in apps
        for path in app.rglob("*.py")
        if path != root / "core" / "forms.py"
        and "forms.ModelMultipleChoiceField" in path.read_text()
    ]
    assert not offenders, f"use core.forms.ModelMultipleChoiceField in {offenders}"
