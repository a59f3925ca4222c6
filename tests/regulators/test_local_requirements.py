"""An agency's local requirements per submittal element (CCR 15187): written by its
administrators, read by the businesses on the element's page when the agency handles it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from core.elements import SubmittalElement
from core.models import AuditEvent
from regulators.models import LocalRequirement
from regulators.services import set_local_requirements
from submittals import services as submittals
from tests.factories import add_staff, make_user

PAGE = reverse("regulator:local_requirements")
FI = SubmittalElement.FACILITY_INFORMATION
UST = SubmittalElement.UST

pytestmark = pytest.mark.django_db


@pytest.fixture
def cupa_admin(cast):
    admin = make_user("admin@sac-cupa.example", first_name="Ada")
    add_staff(cast.cupa, admin, "administrator")
    return admin


def element_page(client, user, record):
    client.force_login(user)
    return client.get(reverse("business:element", args=[record.pk]))


def test_the_administrator_writes_the_agencys_local_requirements(client, cast, cupa_admin):
    client.force_login(cupa_admin)
    assert client.get(PAGE).status_code == 200

    response = client.post(
        PAGE,
        {
            f"element_{FI}": " Attach the county's Form 12. See SCC 6.95.030. ",
            f"element_{UST}": "Monitoring plans on the county's template.",
        },
    )

    assert response.status_code == 302
    rows = {row.element: row for row in LocalRequirement.objects.filter(regulator=cast.cupa)}
    assert rows[FI].text == "Attach the county's Form 12. See SCC 6.95.030."
    assert rows[FI].updated_by == cupa_admin
    assert set(rows) == {FI, UST}
    events = AuditEvent.objects.filter(action="regulators.local_requirements_set")
    assert events.count() == 2
    assert {event.regulator_id for event in events} == {cast.cupa.pk}
    assertContains(client.get(PAGE), "Form 12")


def test_an_emptied_text_removes_it_and_an_unchanged_one_records_nothing(cast, cupa_admin):
    set_local_requirements(actor=cupa_admin, regulator=cast.cupa, texts={FI: "Form 12", UST: "X"})

    changed = set_local_requirements(
        actor=cupa_admin, regulator=cast.cupa, texts={FI: "Form 12", UST: "  "}
    )

    assert changed == 1
    assert list(LocalRequirement.objects.values_list("element", flat=True)) == [FI]
    assert AuditEvent.objects.filter(action="regulators.local_requirements_set").count() == 3


def test_too_long_a_text_is_refused_beside_its_element(client, cast, cupa_admin):
    client.force_login(cupa_admin)

    response = client.post(PAGE, {f"element_{FI}": "x" * 4001})

    assert response.status_code == 200
    assert response.context["form"].errors[f"element_{FI}"]
    assert not LocalRequirement.objects.exists()
    with pytest.raises(ValidationError):
        set_local_requirements(actor=cupa_admin, regulator=cast.cupa, texts={FI: "x" * 4001})
    with pytest.raises(ValidationError):
        set_local_requirements(actor=cupa_admin, regulator=cast.cupa, texts={11: "Other"})


def test_reviewers_read_them_but_only_administrators_write_them(client, cast, cupa_admin):
    set_local_requirements(actor=cupa_admin, regulator=cast.cupa, texts={FI: "Form 12"})
    client.force_login(cast.cupa_reviewer)

    response = client.get(PAGE)

    assertContains(response, "Form 12")
    assert response.context.get("form") is None
    assert client.post(PAGE, {f"element_{FI}": "Changed"}).status_code == 403
    with pytest.raises(PermissionDenied):
        set_local_requirements(actor=cast.cupa_reviewer, regulator=cast.cupa, texts={FI: "No"})
    with pytest.raises(PermissionDenied):
        set_local_requirements(actor=cupa_admin, regulator=cast.cupa2, texts={FI: "No"})
    assert LocalRequirement.objects.get().text == "Form 12"


def test_the_business_reads_the_requirements_of_the_agency_handling_the_element(
    client, cast, cupa_admin
):
    set_local_requirements(
        actor=cupa_admin, regulator=cast.cupa, texts={FI: "Attach Form 12.", UST: "CUPA tanks."}
    )
    pa_admin = make_user("admin@sac-pa.example")
    add_staff(cast.pa, pa_admin, "administrator")
    set_local_requirements(actor=pa_admin, regulator=cast.pa, texts={UST: "PA tank rules."})
    fi = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=FI)
    ust = submittals.start_draft(actor=cast.editor, facility=cast.facility, element=UST)

    fi_page = element_page(client, cast.viewer, fi)
    ust_page = element_page(client, cast.editor, ust)

    assertContains(fi_page, "Local requirements of Sacramento County CUPA")
    assertContains(fi_page, "Attach Form 12.")
    # The facility's tanks are the PA's (ZIP 95814): its text, not the CUPA's.
    assertContains(ust_page, "Local requirements of Sacramento City Fire PA")
    assertContains(ust_page, "PA tank rules.")
    assertNotContains(ust_page, "CUPA tanks.")


def test_another_facilitys_agency_is_not_shown_and_none_written_shows_nothing(
    client, cast, cupa_admin
):
    set_local_requirements(actor=cupa_admin, regulator=cast.cupa, texts={FI: "Attach Form 12."})
    yolo = submittals.start_draft(actor=cast.editor, facility=cast.facility_yolo, element=FI)

    response = element_page(client, cast.editor, yolo)

    assertNotContains(response, "Local requirements of")
    assertNotContains(response, "Form 12")
