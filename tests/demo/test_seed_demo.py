"""``manage.py seed_demo``: the demo data ``make run`` serves."""

import io

from django.core.management import call_command
from django.http import HttpRequest
from django.urls import reverse

from accounts.models import AgreementAcceptance, User
from core.models import AuditEvent, OutboundEmail
from demo.management.commands.seed_demo import DEMO_PASSWORD
from edt.models import EdtAccount, TierGrant, Vendor
from facilities.models import Facility, FacilityRegulator
from organizations.models import Invitation, Membership, Organization
from regulators.models import Regulator, ServiceArea, StaffMembership

COUNTED = [
    User,
    AgreementAcceptance,
    Organization,
    Facility,
    FacilityRegulator,
    StaffMembership,
    Membership,
    Invitation,
    Regulator,
    ServiceArea,
    OutboundEmail,
    AuditEvent,
    EdtAccount,
    TierGrant,
    Vendor,
]


def row_counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_creates_nothing_the_second_time(db):
    seed()
    first = row_counts()
    assert first["accounts.User"] == 13  # 12 people and the demo EDT account
    assert first["edt.EdtAccount"] == 1
    assert first["edt.TierGrant"] == 10  # tiers 1-5 in both environments
    assert first["organizations.Organization"] == 2
    # Valley Fuel's 6 (3 with the cycle's states beside them), Delta's Midtown shop and its
    # 300 plain branches (issue 16: the demo shows the yearly cycle and a large organization).
    assert first["facilities.Facility"] == 307
    assert first["regulators.StaffMembership"] == 7
    # Valley Fuel: lead, approver, editor, viewer, consultant; Delta: lead, consultant.
    assert first["organizations.Membership"] == 7

    output = seed()

    assert row_counts() == first
    assert "nothing created" in output


def test_it_prints_the_sign_ins_and_the_demo_lead_can_sign_in(db, client):
    output = seed()

    assert "lead@demo.cers.example" in output
    assert "state-admin@demo.cers.example" in output
    assert DEMO_PASSWORD in output
    assert "Authorization: user sac_edt_demo:" in output
    # django-axes needs the request it throttles by.
    assert client.login(
        request=HttpRequest(), username="lead@demo.cers.example", password=DEMO_PASSWORD
    )


def test_signing_in_opens_each_portal_straight_away(db, client, settings):
    """Each demo person accepted their portal's user agreement; a later version is accepted
    by the next run, so ``make run`` signs in straight to the portal again."""
    seed()

    for email, home in (
        ("lead@demo.cers.example", "business:home"),
        ("consultant@demo.cers.example", "business:home"),
        ("cupa-admin@demo.cers.example", "regulator:home"),
        ("pa-viewer@demo.cers.example", "regulator:home"),
    ):
        client.force_login(User.objects.get(email=email))
        assert client.get(reverse(home)).status_code == 200, email

    settings.CERS_BUSINESS_AGREEMENT_VERSION = "2099-1"
    output = seed()

    assert "Business portal user agreement, version 2099-1, accepted by lead@" in output
    client.force_login(User.objects.get(email="lead@demo.cers.example"))
    assert client.get(reverse("business:home")).status_code == 200


def test_every_demo_account_is_active_and_takes_the_demo_password(db):
    seed()

    users = User.objects.filter(email__endswith="@demo.cers.example")
    assert users.count() == 12
    for user in users:
        assert user.is_active, user.email
        assert user.check_password(DEMO_PASSWORD), user.email


def test_the_consultant_works_for_two_organizations(db):
    seed()

    consultant = User.objects.get(email="consultant@demo.cers.example")
    assert set(consultant.memberships.values_list("organization__name", "role")) == {
        ("Valley Fuel Distributors", "editor"),
        ("Delta Dry Cleaners", "approver"),
    }
    assert Facility.objects.for_user(consultant).count() == 307


def test_valley_fuel_spans_both_cupas_and_the_pa(db):
    seed()

    valley = Organization.objects.get(name="Valley Fuel Distributors")
    codes = set(
        FacilityRegulator.objects.filter(facility__organization=valley).values_list(
            "regulator__code", flat=True
        )
    )
    assert codes == {"1001", "1002", "1101"}
    assert valley.lead_regulator.code == "1001"

    pa_viewer = User.objects.get(email="pa-viewer@demo.cers.example")
    assert list(Facility.objects.for_user(pa_viewer).values_list("name", flat=True)) == [
        "Valley Fuel Sacramento Terminal"
    ]
    yolo_reviewer = User.objects.get(email="yolo-reviewer@demo.cers.example")
    assert list(Facility.objects.for_user(yolo_reviewer).values_list("name", flat=True)) == [
        "Valley Fuel Davis Yard"
    ]
    state_admin = User.objects.get(email="state-admin@demo.cers.example")
    assert Facility.objects.for_user(state_admin).count() == 307


def test_it_finishes_a_partial_run(db):
    seed()
    Facility.objects.filter(name="Delta Dry Cleaners Midtown").delete()
    Membership.objects.filter(
        user__email="viewer@demo.cers.example", organization__name="Valley Fuel Distributors"
    ).delete()

    output = seed()

    assert "facility Delta Dry Cleaners Midtown" in output
    assert "membership viewer@demo.cers.example" in output
    assert Facility.objects.filter(name="Delta Dry Cleaners Midtown").count() == 1


def test_the_sacramento_cupa_has_a_submittal_waiting_for_review(db):
    from submittals.models import ElementStatus, SubmittalElementRecord

    seed()
    waiting = SubmittalElementRecord.objects.filter(status=ElementStatus.SUBMITTED)
    assert sorted(waiting.values_list("element", "regulator__code")) == [(1, "1001"), (2, "1001")]
    assert waiting.get(element=2).materials.count() == 3


def test_the_demo_cupa_has_a_tier_left_to_request(db, client):
    """The EDT access request can be tried: the demo CUPA's EDT administrator is offered
    tier 6, which it does not hold yet."""
    from edt.access.forms import AccessRequestForm

    seed()
    held = set(TierGrant.objects.filter(regulator__code="1001").values_list("tier", flat=True))
    assert held == {1, 2, 3, 4, 5}
    admin = User.objects.get(email="edt-admin@demo.cers.example")
    client.force_login(admin)
    page = client.get(reverse("regulator:edt_request_new"))
    form = page.context["form"]
    assert isinstance(form, AccessRequestForm)
    assert [value for value, _ in form.fields["tiers"].choices] == [6]


def test_the_lead_user_finds_a_facility_at_each_point_of_the_yearly_cycle(db):
    """Issue 16: accepted last year and due next month, overdue, not accepted with the
    reviewer's comments, one with underground and one with aboveground storage tanks."""
    import datetime

    from django.utils import timezone

    from core.elements import SubmittalElement as E
    from facilities.schedule import attach_status_grids
    from submittals.models import ElementStatus, SubmittalElementRecord

    seed()
    today = timezone.localdate()
    lead = User.objects.get(email="lead@demo.cers.example")
    mine = Facility.objects.for_user(lead)

    def information(name):
        return SubmittalElementRecord.objects.get(
            facility__name=name, element=E.FACILITY_INFORMATION
        )

    def due(name):
        return FacilityRegulator.objects.get(
            facility__name=name, element=E.FACILITY_INFORMATION
        ).next_due_date

    arden = information("Valley Fuel Arden Cardlock")
    assert arden.status == ElementStatus.ACCEPTED
    assert (today - timezone.localdate(arden.action_at)).days > 300
    assert today < due("Valley Fuel Arden Cardlock") <= today + datetime.timedelta(days=31)
    assert information("Valley Fuel Davis Yard").status == ElementStatus.ACCEPTED
    assert due("Valley Fuel Davis Yard") < today
    rejected = information("Valley Fuel Midtown Station")
    assert rejected.status == ElementStatus.NOT_ACCEPTED
    assert "24-hour" in rejected.action_comments
    assert mine.filter(name__startswith="Valley Fuel").count() == 6

    ust = FacilityRegulator.objects.get(
        facility__name="Valley Fuel Broadway Station", element=E.UST
    )
    apsa = FacilityRegulator.objects.get(
        facility__name="Valley Fuel Richards Bulk Plant", element=E.APSA
    )
    assert information("Valley Fuel Broadway Station").data["5"] == "Y"
    assert information("Valley Fuel Richards Bulk Plant").data["8"] == "Y"
    assert ust.regulator.code == apsa.regulator.code == "1001"

    # The status grid the facility pages show marks them as the Lead User should find them.
    grids = {
        f.name: {row.element: row for row in f.status_grid}
        for f in attach_status_grids(
            mine.filter(name__startswith="Valley Fuel").prefetch_related("regulators__regulator"),
            include_drafts=True,
        )
    }
    assert grids["Valley Fuel Arden Cardlock"][E.FACILITY_INFORMATION].mark == "due soon"
    assert grids["Valley Fuel Davis Yard"][E.FACILITY_INFORMATION].mark == "overdue"
    assert grids["Valley Fuel Broadway Station"][E.UST].required
    assert not grids["Valley Fuel Broadway Station"][E.APSA].required
    assert grids["Valley Fuel Richards Bulk Plant"][E.APSA].required
    assert not grids["Valley Fuel Richards Bulk Plant"][E.UST].required


def test_the_demo_submittals_were_made_before_they_were_reviewed(db, client):
    """A demo element accepted months ago was submitted then, not on the day of the seed: its
    history reads as a real one, and what is due is what the Lead User's notifications list
    and the reminders send (an element submitted within the year before its due date counts
    as reported for it)."""
    from core.elements import SubmittalElement as E
    from submittals.models import SubmittalElementRecord

    seed()
    reviewed = SubmittalElementRecord.objects.filter(action_at__isnull=False)
    assert reviewed.count() >= 5
    for record in reviewed.select_related("facility_submittal"):
        assert record.submitted_at <= record.action_at, record.facility
        assert record.facility_submittal.submitted_at == record.submitted_at

    client.force_login(User.objects.get(email="lead@demo.cers.example"))
    due = {
        (item["row"].facility.name, item["row"].element): item["overdue"]
        for item in client.get(reverse("business:notifications")).context["due"]
    }
    assert due == {
        ("Valley Fuel Arden Cardlock", E.FACILITY_INFORMATION): False,
        ("Valley Fuel Davis Yard", E.FACILITY_INFORMATION): True,
    }


def test_the_consultants_largest_organization_has_hundreds_of_routed_facilities(db):
    seed()

    delta = Organization.objects.get(name="Delta Dry Cleaners")
    assert delta.facilities.count() == 301
    branches = delta.facilities.filter(name__startswith="Delta Dry Cleaners #")
    assert branches.count() == 300
    # Routed as a facility added one by one is: every element of each has its regulator.
    assert FacilityRegulator.objects.filter(facility__in=branches).count() == 300 * len(
        FacilityRegulator.objects.filter(facility__name="Delta Dry Cleaners Midtown")
    )
    cers_ids = sorted(Facility.objects.values_list("cers_id", flat=True))
    assert len(set(cers_ids)) == 307
    # The next facility added through the service gets the next free CERS ID.
    from facilities.services import create_facility

    lead = User.objects.get(email="lead@demo.cers.example")
    added = create_facility(
        actor=lead,
        organization=delta,
        name="Delta Dry Cleaners Land Park",
        street="1 Land Park Drive",
        city="Sacramento",
        zip_code="95816",
        county="Sacramento",
    )
    assert added.cers_id == cers_ids[-1] + 1


def test_bulk_demo_facilities_take_a_lead_user(db):
    """``demo.facilities.bulk_facilities`` asks what adding one facility asks: the consultant,
    an Approver of Delta Dry Cleaners, may not add its facilities; nothing is written."""
    import pytest
    from django.core.exceptions import PermissionDenied

    from demo.facilities import bulk_facilities
    from demo.management.commands.seed_demo import FacilitySpec

    seed()
    delta = Organization.objects.get(name="Delta Dry Cleaners")
    before = Facility.objects.count()
    spec = FacilitySpec("Delta Dry Cleaners #999", "999 Broadway", "Sacramento", "95816", "")
    consultant = User.objects.get(email="consultant@demo.cers.example")
    with pytest.raises(PermissionDenied):
        bulk_facilities(actor=consultant, organization=delta, facilities=[spec])
    assert Facility.objects.count() == before

    lead = User.objects.get(email="lead@demo.cers.example")
    assert bulk_facilities(actor=lead, organization=delta, facilities=[spec]) == 1
    assert bulk_facilities(actor=lead, organization=delta, facilities=[spec]) == 0  # by name
