"""``manage.py seed_demo``: the demo data that ``make run`` serves.

Creates, through the same service functions the portals use, the state agency, two CUPAs and
a Participating Agency with their service areas; a person for every business and regulator
role, who has accepted their portal's user agreement; and two organizations with facilities.
Every account gets the same known password, and the command ends by printing the sign-in
table.

Idempotent: everything is looked up first (regulators by code, people by e-mail address,
organizations by name, facilities by name within their organization) and only what is missing
is created, so a second run creates nothing. Each service call is its own transaction, so a run
that stops half-way is completed by the next one.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.agreements import AGREEMENTS, has_accepted
from accounts.models import User
from accounts.services import accept_agreement
from core.elements import SubmittalElement
from core.models import OutboundEmail
from core.services import record_event
from demo.facilities import bulk_facilities
from facilities.services import create_facility
from organizations.models import Membership, Organization
from organizations.roles import Role
from organizations.services import accept_invitation, create_organization, invite
from portal.services import refresh_summaries
from regulators.models import Regulator, ServiceArea, StaffMembership
from regulators.roles import StaffRole
from regulators.services import create_regulator, set_staff_role

# Published on purpose: the demo's accounts are for trying the portals, never for real data.
DEMO_PASSWORD = "cers-demo-2026!"  # noqa: S105
DEMO_EDT_USERNAME = "sac_edt_demo"
DEMO_EDT_TIERS = range(1, 6)  # tier 6 left to request
DEMO_EDT_SECRET = "cers-demo-edt-2026!"  # noqa: S105 - published demo secret
DEMO_VENDOR = "Delta Data Systems (demo)"
DEMO_DOMAIN = "demo.cers.example"


@dataclass(frozen=True)
class AgencySpec:
    code: str
    name: str
    kind: str
    county: str = ""
    parent: str | None = None
    # (ZIP code, submittal element or None for every element)
    areas: tuple[tuple[str, int | None], ...] = ()


@dataclass(frozen=True)
class PersonSpec:
    handle: str  # the part of the e-mail address before the @
    first_name: str
    last_name: str

    @property
    def email(self) -> str:
        return f"{self.handle}@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class FacilitySpec:
    name: str
    street: str
    city: str
    zip_code: str
    county: str


@dataclass(frozen=True)
class OrganizationSpec:
    name: str
    headquarters: str
    lead: str  # handle of the person who creates it and is its first Lead User
    members: tuple[tuple[str, str], ...] = ()  # (handle, role)
    facilities: tuple[FacilitySpec, ...] = field(default=())


AGENCIES = (
    AgencySpec("1000", "California Environmental Protection Agency", Regulator.Kind.STATE),
    AgencySpec(
        "1001",
        "Sacramento County Environmental Management Department",
        Regulator.Kind.CUPA,
        county="Sacramento",
        areas=(("95814", None), ("95815", None), ("95816", None)),
    ),
    AgencySpec(
        "1002",
        "Yolo County Environmental Health",
        Regulator.Kind.CUPA,
        county="Yolo",
        areas=(("95616", None), ("95618", None)),
    ),
    AgencySpec(
        "1101",
        "Sacramento Fire Department PA",
        Regulator.Kind.PA,
        county="Sacramento",
        parent="1001",
        areas=(("95814", SubmittalElement.UST), ("95814", SubmittalElement.APSA)),
    ),
)

PEOPLE = (
    PersonSpec("lead", "Lena", "Lead"),
    PersonSpec("approver", "Arturo", "Approver"),
    PersonSpec("editor", "Erin", "Editor"),
    PersonSpec("viewer", "Victor", "Viewer"),
    PersonSpec("consultant", "Consuelo", "Consultant"),
    PersonSpec("cupa-admin", "Carmen", "Administrator"),
    PersonSpec("cupa-reviewer", "Rafael", "Reviewer"),
    PersonSpec("cupa-viewer", "Celia", "Viewer"),
    PersonSpec("yolo-reviewer", "Yolanda", "Reviewer"),
    PersonSpec("pa-viewer", "Pablo", "Viewer"),
    PersonSpec("state-admin", "Sofia", "Administrator"),
    PersonSpec("edt-admin", "Eduardo", "EDT Administrator"),
)

# (handle, agency code, staff role)
STAFF = (
    ("cupa-admin", "1001", StaffRole.ADMINISTRATOR),
    ("cupa-reviewer", "1001", StaffRole.REVIEWER),
    ("cupa-viewer", "1001", StaffRole.VIEWER),
    ("edt-admin", "1001", StaffRole.EDT_ADMINISTRATOR),
    ("yolo-reviewer", "1002", StaffRole.REVIEWER),
    ("pa-viewer", "1101", StaffRole.VIEWER),
    ("state-admin", "1000", StaffRole.ADMINISTRATOR),
)

ORGANIZATIONS = (
    OrganizationSpec(
        "Valley Fuel Distributors",
        headquarters="Sacramento, CA",
        lead="lead",
        members=(
            ("approver", Role.APPROVER),
            ("editor", Role.EDITOR),
            ("viewer", Role.VIEWER),
            ("consultant", Role.EDITOR),
        ),
        # In both CUPAs' areas; the terminal's UST and APSA elements go to the PA.
        facilities=(
            FacilitySpec(
                "Valley Fuel Sacramento Terminal",
                "1200 Front Street",
                "Sacramento",
                "95814",
                "Sacramento",
            ),
            FacilitySpec(
                "Valley Fuel Arden Cardlock", "2450 Arden Way", "Sacramento", "95815", "Sacramento"
            ),
            FacilitySpec("Valley Fuel Davis Yard", "4500 Second Street", "Davis", "95618", "Yolo"),
        ),
    ),
    OrganizationSpec(
        "Delta Dry Cleaners",
        headquarters="Sacramento, CA",
        lead="lead",
        members=(("consultant", Role.APPROVER),),
        facilities=(
            FacilitySpec(
                "Delta Dry Cleaners Midtown", "2100 J Street", "Sacramento", "95816", "Sacramento"
            ),
        ),
    ),
)


@dataclass(frozen=True)
class CycleSpec:
    name: str
    street: str
    city: str
    zip_code: str
    county: str
    story: str  # what the seed did, as its output says
    activities: tuple[str, ...] = ()  # Business Activities answered Yes
    accepted_days_ago: int | None = None  # None: not accepted, with comments


# How long before its review a demo element accepted in the past was submitted.
SUBMITTED_DAYS_BEFORE_REVIEW = 3

NOT_ACCEPTED_COMMENTS = (
    "The emergency contact's 24-hour phone number is the office line. Give a number that "
    "answers at night and submit again."
)

# Valley Fuel's facilities at each point of the yearly cycle (its Lead User's demo). None in
# ZIP 95814, so the PA's and Yolo's demo lists stay as the sign-in table describes them.
CYCLE = (
    CycleSpec(
        "Valley Fuel Arden Cardlock",
        "2450 Arden Way",
        "Sacramento",
        "95815",
        "Sacramento",
        story="Facility Information accepted 11 months ago, due next month",
        accepted_days_ago=335,
    ),
    CycleSpec(
        "Valley Fuel Davis Yard",
        "4500 Second Street",
        "Davis",
        "95618",
        "Yolo",
        story="Facility Information accepted 13 months ago, overdue",
        accepted_days_ago=400,
    ),
    CycleSpec(
        "Valley Fuel Midtown Station",
        "1900 Capitol Avenue",
        "Sacramento",
        "95816",
        "Sacramento",
        story="Facility Information not accepted, with the reviewer's comments",
    ),
    CycleSpec(
        "Valley Fuel Broadway Station",
        "3100 Broadway",
        "Sacramento",
        "95816",
        "Sacramento",
        story="underground storage tanks reported, Facility Information accepted",
        activities=("5",),
        accepted_days_ago=20,
    ),
    CycleSpec(
        "Valley Fuel Richards Bulk Plant",
        "1500 Richards Boulevard",
        "Sacramento",
        "95815",
        "Sacramento",
        story="aboveground petroleum storage reported, Facility Information accepted",
        activities=("8",),
        accepted_days_ago=20,
    ),
)

# Delta Dry Cleaners' plain branches, so the consultant's lists and bulk actions have rows.
MANY_FACILITIES = 300


@transaction.atomic(durable=True)
def create_demo_user(person: PersonSpec) -> User:
    """An active account with the demo password (no activation e-mail: the address is fake)."""
    user = User(email=person.email, first_name=person.first_name, last_name=person.last_name)
    validate_password(DEMO_PASSWORD, user)
    user = User.objects.create_user(
        person.email,
        DEMO_PASSWORD,
        first_name=person.first_name,
        last_name=person.last_name,
        is_active=True,
    )
    record_event(None, "account.created", user, after={"email": user.email, "how": "demo data"})
    return user


@contextlib.contextmanager
def _quiet_logger(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


class Command(BaseCommand):
    help = (
        "Create the demo agencies, people, organizations and facilities (idempotent) and print "
        "the demo sign-ins."
    )

    def handle(self, *args, **options):
        emails_before = OutboundEmail.objects.count()
        self.created: list[str] = []
        # Invitations queue e-mail like any other. With the console backend and eager tasks (the
        # embedded default) they are "sent" to stdout, and Celery logs each task, during seeding;
        # keep that off the screen so the sign-in table stays readable. The outbox rows record
        # every message.
        with contextlib.redirect_stdout(io.StringIO()), _quiet_logger("celery.app.trace"):
            try:
                agencies = self.seed_agencies()
                people = self.seed_people()
                self.seed_agreements(people)
                self.seed_staff(agencies, people)
                self.seed_organizations(people)
                self.seed_submittal(people)
                self.seed_cycle(people)
                self.seed_many(people)
                self.seed_edt(agencies)
                # The agencies' dashboards, counted now rather than at beat's next run.
                refresh_summaries()
            except ValidationError as exc:
                raise CommandError(f"Demo data rejected: {'; '.join(exc.messages)}") from exc

        if self.created:
            self.stdout.write(f"Created {len(self.created)} demo object(s):")
            for line in self.created:
                self.stdout.write(f"  {line}")
        else:
            self.stdout.write("Demo data already present; nothing created.")
        queued = OutboundEmail.objects.count() - emails_before
        if queued:
            self.stdout.write(
                f"{queued} e-mail(s) went to the outbox (invitations, submittal receipts, reviews)."
            )
        self.stdout.write("")
        self.print_logins(people)

    # -- seeding ------------------------------------------------------------------------------

    def seed_agencies(self) -> dict[str, Regulator]:
        agencies: dict[str, Regulator] = {}
        for spec in AGENCIES:
            regulator = Regulator.objects.filter(code=spec.code).first()
            if regulator is None:
                regulator = create_regulator(
                    actor=None,
                    code=spec.code,
                    name=spec.name,
                    kind=spec.kind,
                    county=spec.county,
                    parent=agencies[spec.parent] if spec.parent else None,
                )
                self.created.append(f"agency {regulator}")
            for zip_code, element in spec.areas:
                # Service areas carry no permissions: plain rows, as the admin would add them.
                _area, made = ServiceArea.objects.get_or_create(
                    regulator=regulator, zip_code=zip_code, element=element
                )
                if made:
                    self.created.append(f"service area {regulator.code} {zip_code} {element}")
            agencies[spec.code] = regulator
        return agencies

    def seed_people(self) -> dict[str, User]:
        people: dict[str, User] = {}
        for person in PEOPLE:
            user = User.objects.filter(email__iexact=person.email).first()
            if user is None:
                user = create_demo_user(person)
                self.created.append(f"user {user.email}")
            people[person.handle] = user
        return people

    def seed_agreements(self, people: dict[str, User]) -> None:
        """Each demo person accepts the current user agreement of the portal they use (agency
        staff the regulator portal's, the others the business portal's), so that signing in
        opens the portal straight away; a later version is accepted by the next run."""
        staff = {handle for handle, _code, _role in STAFF}
        for handle, user in people.items():
            agreement = AGREEMENTS["regulator" if handle in staff else "business"]
            if not has_accepted(user, agreement.portal):
                accept_agreement(actor=user, portal=agreement.portal, version=agreement.version)
                self.created.append(
                    f"{agreement.title}, version {agreement.version}, accepted by {user.email}"
                )

    def seed_staff(self, agencies: dict[str, Regulator], people: dict[str, User]) -> None:
        for handle, code, role in STAFF:
            user, regulator = people[handle], agencies[code]
            if not StaffMembership.objects.filter(regulator=regulator, user=user).exists():
                set_staff_role(actor=None, regulator=regulator, user=user, role=role)
                self.created.append(f"staff role {role} of {user.email} at {regulator.code}")

    def seed_organizations(self, people: dict[str, User]) -> None:
        for spec in ORGANIZATIONS:
            lead = people[spec.lead]
            organization = Organization.objects.filter(name=spec.name).first()
            if organization is None:
                organization = create_organization(
                    actor=lead, name=spec.name, headquarters=spec.headquarters
                )
                self.created.append(f"organization {organization} ({organization.code})")
            for handle, role in spec.members:
                user = people[handle]
                if organization.memberships.filter(user=user).exists():
                    continue
                # The path a Lead User takes: invite by e-mail, the person accepts.
                inviter = organization.memberships.filter(role=Role.LEAD).first().user
                invitation = invite(
                    actor=inviter, organization=organization, email=user.email, role=role
                )
                accept_invitation(user=user, token=invitation.token)
                self.created.append(f"membership {user.email} as {role} of {organization}")
            for facility in spec.facilities:
                if organization.facilities.filter(name=facility.name).exists():
                    continue
                made = create_facility(
                    actor=lead,
                    organization=organization,
                    name=facility.name,
                    street=facility.street,
                    city=facility.city,
                    zip_code=facility.zip_code,
                    county=facility.county,
                )
                self.created.append(f"facility {made}")

    def seed_submittal(self, people: dict[str, User]) -> None:
        """A submitted Facility Information and inventory for the Sacramento terminal, so the
        CUPA reviewer's queue has work in it."""
        from facilities.models import Facility
        from libraries.models import Chemical
        from submittals import services as submittals
        from submittals.documents import set_document_answer
        from submittals.inventory import add_material
        from submittals.models import DocumentSource, SubmittalElementRecord

        facility = Facility.objects.filter(name="Valley Fuel Sacramento Terminal").first()
        if facility is None or SubmittalElementRecord.objects.filter(facility=facility).exists():
            return
        editor, approver = people["editor"], people["approver"]
        information = submittals.start_draft(actor=editor, facility=facility, element=1)
        submittals.save_draft_data(
            actor=editor, record=information, data=demo_facility_information(facility)
        )
        inventory = submittals.start_draft(actor=editor, facility=facility, element=2)
        for name, state, amount, units in (
            ("Diesel", "b", "12000", "a"),
            ("Gasoline", "b", "20000", "a"),
            ("Propane", "c", "2000", "c"),
        ):
            chemical = Chemical.objects.filter(common_name__iexact=name).first()
            add_material(
                actor=editor,
                record=inventory,
                values={
                    "207": name,
                    "208": "N",
                    "214": state,
                    "218": amount,
                    "221": units,
                    "201": "Tank farm",
                    **({"250": chemical.ccl_id} if chemical and chemical.ccl_id else {}),
                },
            )
        set_document_answer(
            actor=editor,
            record=inventory,
            slot="SiteMapDocuments",
            source=DocumentSource.STORED_AT_FACILITY,
        )
        submittals.submit(
            actor=approver,
            facility=facility,
            elements=[information, inventory],
            certifier_name=approver.get_full_name(),
            certifier_title="Terminal Manager",
        )
        self.created.append(f"submittal of Facility Information and inventory for {facility}")

    def seed_cycle(self, people: dict[str, User]) -> None:
        """Facilities at each point of the yearly cycle, through the portals' services: the
        Lead User finds one accepted last year and due next month, one overdue, one whose
        Facility Information was not accepted (with the reviewer's comments), a facility with
        underground storage tanks and one with aboveground petroleum storage tanks."""
        from facilities.models import Facility
        from submittals.models import SubmittalElementRecord

        organization = Organization.objects.get(name="Valley Fuel Distributors")
        for spec in CYCLE:
            facility = Facility.objects.filter(organization=organization, name=spec.name).first()
            if facility is None:
                facility = create_facility(
                    actor=people["lead"],
                    organization=organization,
                    name=spec.name,
                    street=spec.street,
                    city=spec.city,
                    zip_code=spec.zip_code,
                    county=spec.county,
                )
                self.created.append(f"facility {facility}")
            if SubmittalElementRecord.objects.filter(facility=facility).exists():
                continue
            self.submit_and_review(facility, spec, people)
            self.created.append(f"{spec.story} for {facility}")

    def submit_and_review(self, facility, spec: CycleSpec, people: dict[str, User]) -> None:
        from submittals import services as submittals
        from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord

        approver = people["approver"]
        information = submittals.start_draft(actor=approver, facility=facility, element=1)
        data = demo_facility_information(facility)
        data.update({"4": "N", **dict.fromkeys(spec.activities, "Y")})
        submittals.save_draft_data(actor=approver, record=information, data=data)
        group = submittals.submit(
            actor=approver,
            facility=facility,
            elements=[information],
            certifier_name=approver.get_full_name(),
            certifier_title="Operations Manager",
        )
        if spec.accepted_days_ago is not None:
            # Submitted shortly before the review the story dates, not on the day of the seed:
            # an element submitted within the year before its due date counts as reported
            # for it, so a submittal dated today would hide the due and overdue elements
            # from the notifications and the reminders.
            submitted_at = timezone.now() - timedelta(
                days=spec.accepted_days_ago + SUBMITTED_DAYS_BEFORE_REVIEW
            )
            FacilitySubmittal.objects.filter(pk=group.pk).update(submitted_at=submitted_at)
            SubmittalElementRecord.objects.filter(facility_submittal=group).update(
                submitted_at=submitted_at
            )
        reviewer = people[
            "yolo-reviewer" if facility.zip_code.startswith("956") else "cupa-reviewer"
        ]
        information.refresh_from_db()
        if spec.accepted_days_ago is None:
            submittals.review(
                actor=reviewer,
                record=information,
                status=ElementStatus.NOT_ACCEPTED,
                comments=NOT_ACCEPTED_COMMENTS,
            )
        else:
            submittals.review(
                actor=reviewer,
                record=information,
                status=ElementStatus.ACCEPTED,
                action_at=timezone.now() - timedelta(days=spec.accepted_days_ago),
            )

    def seed_many(self, people: dict[str, User]) -> None:
        """Delta Dry Cleaners' plain branches (``MANY_FACILITIES`` of them), so its lists, filters
        and bulk actions have rows to page through; written at once (``demo.bulk_facilities``)
        so the seed stays fast."""
        organization = Organization.objects.get(name="Delta Dry Cleaners")
        made = bulk_facilities(
            actor=people["lead"],
            organization=organization,
            facilities=[
                FacilitySpec(
                    f"Delta Dry Cleaners #{n:03}",
                    f"{100 + n} Broadway",
                    "Sacramento",
                    "95816" if n % 2 else "95815",
                    "Sacramento",
                )
                for n in range(1, MANY_FACILITIES + 1)
            ],
        )
        if made:
            self.created.append(f"{made} plain facilities of {organization}")

    # -- output -------------------------------------------------------------------------------

    def seed_edt(self, agencies: dict[str, Regulator]) -> None:
        """An authorized vendor, and an EDT account of the Sacramento CUPA with tiers 1-5 in
        both environments, so the EDT services can be tried at once. Tier 6 (Facility
        Submittal Submit) is left for the CUPA's EDT administrator to request in the portal,
        so the access request can be tried too (in production the demo vendor, authorized for
        tiers 1-4, is refused it; testing, or the agency's own system, goes through)."""
        from edt.access import services as edt_services
        from edt.models import EdtAccount, Vendor

        if not Vendor.objects.filter(name=DEMO_VENDOR).exists():
            vendor = edt_services.register_vendor(actor=None, name=DEMO_VENDOR)
            edt_services.set_vendor_tiers(actor=None, vendor=vendor, tiers=[1, 2, 3, 4])
            self.created.append(f"EDT vendor {DEMO_VENDOR} (authorized for tiers 1-4)")
        if not EdtAccount.objects.filter(username=DEMO_EDT_USERNAME).exists():
            cupa = Regulator.objects.get(code="1001")
            edt_services.create_edt_account(
                actor=None,
                regulator=cupa,
                username=DEMO_EDT_USERNAME,
                tiers=DEMO_EDT_TIERS,
                environments=["testing", "production"],
                secret=DEMO_EDT_SECRET,
            )
            self.created.append(
                f"EDT account {DEMO_EDT_USERNAME} of {cupa.name} (tiers 1-5; tier 6 to request)"
            )

    def describe(self, user: User) -> str:
        """What the person is, read back from the database (so the table never lies)."""
        roles = [
            f"{m.get_role_display()} of {m.organization.name}"
            for m in Membership.objects.filter(user=user).select_related("organization")
        ]
        roles += [
            f"{s.get_role_display()} at {s.regulator.name} ({s.regulator.code})"
            for s in StaffMembership.objects.filter(user=user).select_related("regulator")
        ]
        return "; ".join(roles) or "no role"

    def print_logins(self, people: dict[str, User]) -> None:
        rows = [(user.email, self.describe(user)) for user in people.values()]
        width = max(len(email) for email, _ in rows)
        self.stdout.write(self.style.MIGRATE_HEADING(f"Demo sign-ins at {settings.SITE_URL}/"))
        password_width = len(DEMO_PASSWORD)
        self.stdout.write(f"  {'e-mail'.ljust(width)}  {'password'.ljust(password_width)}  role")
        for email, what in rows:
            self.stdout.write(f"  {email.ljust(width)}  {DEMO_PASSWORD}  {what}")
        from edt.credentials import legacy_value

        self.stdout.write(
            f"EDT services at {settings.SITE_URL}/EDT/ (testing: /Staging/): account "
            f"{DEMO_EDT_USERNAME}, secret {DEMO_EDT_SECRET}, header "
            f"'Authorization: user {DEMO_EDT_USERNAME}:{legacy_value(DEMO_EDT_SECRET)}'"
        )


def demo_facility_information(facility) -> dict:
    """Facility Information for a demo facility, complete enough to submit (field numbers)."""
    return {
        "3": facility.name,
        "103": facility.street,
        "104": facility.city,
        "105": facility.zip_code,
        "105a": 34,
        **dict.fromkeys(["4a", "5", "8", "9", "10", "11", "12", "13", "14", "14a", "14b"], "N"),
        "4": "Y",
        "102": "916-555-0100",
        "107a": 424710,
        "108a": "PO Box 1200",
        "108b": "Sacramento",
        "108c": "CA",
        "109": "Valley Fuel Distributors",
        "110": "916-555-0101",
        "111": "Valley Fuel Distributors LLC",
        "112": "916-555-0102",
        "113": "1200 Front Street",
        "114": "Sacramento",
        "117": "Erin Editor",
        "118": "916-555-0103",
        "119": "1200 Front Street",
        "120": "Sacramento",
        "123": "Pat Responder",
        "124": "Terminal Manager",
        "125": "916-555-0104",
        "126": "916-555-0199",
        "140": "Accounts Payable",
        "141": "916-555-0105",
        "143": "PO Box 1200",
        "144": "Sacramento",
    }
