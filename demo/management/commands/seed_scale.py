"""``manage.py seed_scale --facilities N``: a state-sized synthetic data set on PostgreSQL.

What people do goes through the services, as in the portals: the agencies, their staff (each
persona's guardian permissions granted by ``regulators.services.set_staff_role``), each
persona's acceptance of its portal's user agreement, and the
Lead User's organization (``organizations.services.create_organization``). The bulk rows
(organizations, facilities and their per-element regulators, a year of submittals in every
status, inspections, violations and enforcement) are written with COPY in one transaction,
with the values the services would give them: each facility's element regulators are
``facilities.services.default_regulators`` of its ZIP code, and each organization's lead
regulator follows ``refresh_lead_regulator``'s rule. The bulk organizations have no people
(as organizations created by a regulator over EDT have none until someone joins).

About N / 3.3 organizations; at 50,000 facilities or more one of them (the Lead User's) has
5,000 or more. Each submitted Facility Information answers the Business Activities questions
(``ACTIVITY_SHARES``: half say Yes to hazardous materials, one in ten to underground tanks, one
in five to hazardous waste, ...); six facilities in ten have a next due date on every element
(some past, some to come), and one in twenty a regulator's setting on its tanks' rows (half
Applicable, half Not Applicable), so that the reporting rule (``facilities.schedule``) has
something to decide. 20 CUPAs with 20 ZIP codes each, unequal in size, each with three PAs: one
for underground tanks and aboveground petroleum, one for every element but Facility
Information, one for the inventory and the emergency plans, each in a few of its ZIP codes.

Refuses SQLite, and a database that already holds facilities unless ``--force``.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from accounts.agreements import AGREEMENTS, has_accepted
from accounts.models import User
from accounts.services import accept_agreement
from cme.models import (
    Enforcement,
    EnforcementViolation,
    Inspection,
    InspectionType,
    ProgramElement,
    Violation,
    ViolationClass,
)
from core.elements import SubmittalElement
from core.models import Sequence
from core.services import record_event
from demo.bulk import copy_rows, next_id, reset_sequences
from facilities.models import CERS_ID_FIRST, Facility, FacilityRegulator, ReportingRequirement
from facilities.services import default_regulators, is_large_organization
from libraries.models import ViolationType
from organizations.models import Organization
from organizations.services import ORGANIZATION_CODE_FIRST, create_organization
from portal.services import refresh_summaries
from regulators.models import Regulator, ServiceArea, StaffMembership
from regulators.roles import StaffRole
from regulators.services import create_regulator, set_staff_role
from submittals.models import ElementStatus, FacilitySubmittal, SubmittalElementRecord

SCALE_PASSWORD = "cers-scale-2026!"  # noqa: S105 - synthetic data set, published on purpose
SCALE_DOMAIN = "scale.cers.example"
CUPA_COUNT = 20
ZIPS_PER_CUPA = 20
BIG_ORGANIZATION_FROM = 50_000  # facilities in the data set
BIG_ORGANIZATION_SIZE = 5_200
STATE_CODE = "1000"

# (handle, the agency: "state", "cupa" (the first, largest CUPA) or "pa" (its PA for every
# element but Facility Information), role)
STAFF = (
    ("cupa-reviewer", "cupa", StaffRole.REVIEWER),
    ("cupa-admin", "cupa", StaffRole.ADMINISTRATOR),
    ("pa-reviewer", "pa", StaffRole.REVIEWER),
    ("state-admin", "state", StaffRole.ADMINISTRATOR),
)
LEAD = "lead"
SUBMITTER = "submitter"  # submits for the organizations that have no people

# Submitted elements' statuses, as weights.
STATUS_WEIGHTS = {
    ElementStatus.SUBMITTED: 20,
    ElementStatus.UNDER_REVIEW: 10,
    ElementStatus.ACCEPTED: 55,
    ElementStatus.NOT_ACCEPTED: 10,
    ElementStatus.NOT_APPLICABLE: 5,
}
# The elements a submittal carries besides Facility Information, with their likelihood.
OTHER_ELEMENTS = {
    SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY: 0.5,
    SubmittalElement.EMERGENCY_RESPONSE: 0.3,
    SubmittalElement.UST: 0.1,
    SubmittalElement.APSA: 0.1,
}

# The share of facilities answering Yes to each Business Activities question in their Facility
# Information (the others answer No); a generator of its own, so that the rest of the data
# set is what it was before the answers were added.
ACTIVITY_SHARES = {
    "4": 0.5,  # hazardous materials
    "4a": 0.02,  # CalARP
    "5": 0.1,  # underground storage tanks
    "8": 0.1,  # aboveground petroleum
    "9": 0.2,  # hazardous waste generator
    "10": 0.03,  # recyclable materials
    "11": 0.01,  # on-site treatment
    "12": 0.01,
    "13": 0.005,
    "14": 0.005,
    "14a": 0.02,
}
DUE_DATE_SHARE = 0.6  # facilities whose element rows have a next due date
SETTING_SHARE = 0.05  # facilities whose tank rows (UST, APSA) hold a regulator's setting

WORDS = [
    "Valley",
    "Golden",
    "Pacific",
    "Sierra",
    "Delta",
    "Coastal",
    "Summit",
    "Redwood",
    "Harbor",
    "Mission",
    "Central",
    "Eagle",
    "Canyon",
    "Orchard",
    "Bayside",
    "Sunset",
    "Granite",
    "Cedar",
    "Oak",
    "Pioneer",
]
TRADES = (
    "Fuel",
    "Cleaners",
    "Auto Repair",
    "Dairy",
    "Farms",
    "Chemical",
    "Plating",
    "Printing",
    "Logistics",
    "Hospital",
    "Water District",
    "Metal Works",
)
STREETS = [
    "Main",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Elm",
    "Front",
    "Market",
    "Mission",
    "Harbor",
    "Industrial",
    "Airport",
]


class Command(BaseCommand):
    help = (
        "Build a synthetic state-sized data set on PostgreSQL with COPY: agencies, staff "
        "personas, organizations, facilities, submittals and CME records."
    )

    def add_arguments(self, parser):
        parser.add_argument("--facilities", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=2026, help="random seed")
        parser.add_argument(
            "--force",
            action="store_true",
            help="add the data set even though the database already holds facilities",
        )

    def handle(self, *args, facilities: int, seed: int, force: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "seed_scale loads its rows with PostgreSQL's COPY and measures PostgreSQL: "
                f"this database is {connection.vendor}. Point DATABASE_URL at a PostgreSQL "
                "database (postgres://user@host:5432/cers_scale)."
            )
        if facilities < 100:
            raise CommandError("Ask for at least 100 facilities (--facilities 100).")
        existing = Facility.objects.count()
        if existing and not force:
            raise CommandError(
                f"This database already holds {existing} facilities: seed_scale adds "
                "synthetic ones beside them. Use an empty database, or --force to add them "
                "anyway."
            )
        started = time.monotonic()
        self.rng = random.Random(seed)
        # The answers, due dates and settings: drawn apart from the rest.
        self.rule_rng = random.Random(seed + 1)
        self.now = timezone.now()
        agencies = self.seed_agencies()
        people = self.seed_people(agencies)
        counts = self.seed_bulk(facilities, agencies, people)
        # COPY goes around the services: the dashboards are counted once it is all in.
        counts["agency dashboards"] = refresh_summaries()
        self.stdout.write(
            f"Seeded in {time.monotonic() - started:.0f} s: "
            + ", ".join(f"{n:,} {what}" for what, n in counts.items())
        )
        self.stdout.write(f"Personas (password {SCALE_PASSWORD}):")
        for user in people.values():
            self.stdout.write(f"  {user.email}  {describe(user)}")

    # -- through the services ---------------------------------------------------------------

    def seed_agencies(self) -> dict:
        """The state agency, the CUPAs and their PAs (looked up by code first), with their
        service areas. Returns the agencies by role and the ZIP codes with their weights."""

        def agency(code, name, kind, county="", parent=None):
            found = Regulator.objects.filter(code=code).first()
            return found or create_regulator(
                actor=None, code=code, name=name, kind=kind, county=county, parent=parent
            )

        state = Regulator.objects.statewide().order_by("code").first() or agency(
            STATE_CODE, "California Environmental Protection Agency", Regulator.Kind.STATE
        )
        cupas, pas, zips, weights = [], [], [], []
        areas = []
        for i in range(CUPA_COUNT):
            county = f"{WORDS[i]} County"
            cupa = agency(f"{3001 + i}", f"{county} CUPA", Regulator.Kind.CUPA, county)
            cupa_zips = [f"{90000 + i * 50 + k}" for k in range(ZIPS_PER_CUPA)]
            areas += [ServiceArea(regulator=cupa, zip_code=z) for z in cupa_zips]
            tanks = agency(f"{4001 + 3 * i}", f"{county} Fire PA", Regulator.Kind.PA, county, cupa)
            every = agency(f"{4002 + 3 * i}", f"{county} City PA", Regulator.Kind.PA, county, cupa)
            plans = agency(
                f"{4003 + 3 * i}", f"{county} HazMat PA", Regulator.Kind.PA, county, cupa
            )
            areas += [
                ServiceArea(regulator=tanks, zip_code=z, element=e)
                for z in cupa_zips[0:4]
                for e in (SubmittalElement.UST, SubmittalElement.APSA)
            ]
            areas += [ServiceArea(regulator=every, zip_code=z) for z in cupa_zips[4:7]]
            areas += [
                ServiceArea(regulator=plans, zip_code=z, element=e)
                for z in cupa_zips[7:9]
                for e in (
                    SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
                    SubmittalElement.EMERGENCY_RESPONSE,
                )
            ]
            cupas.append(cupa)
            pas += [tanks, every, plans]
            # CUPAs of unequal size: the first serves about one facility in seven.
            zips.append(cupa_zips)
            weights.append(1 / (i + 1) ** 0.5)
        ServiceArea.objects.bulk_create(areas, ignore_conflicts=True)
        return {
            "state": state,
            "cupa": cupas[0],
            "pa": pas[1],
            "cupas": cupas,
            "zips": zips,
            "weights": weights,
        }

    def seed_people(self, agencies: dict) -> dict[str, User]:
        people = {}
        for handle, where, role in STAFF:
            user = self.person(handle)
            regulator = agencies[where]
            if not StaffMembership.objects.filter(regulator=regulator, user=user).exists():
                set_staff_role(actor=None, regulator=regulator, user=user, role=role)
            people[handle] = user
        people[LEAD] = self.person(LEAD)
        people[SUBMITTER] = self.person(SUBMITTER)
        # Each persona has accepted its portal's user agreement, so the benchmarks sign in
        # straight to the pages they measure.
        for handle, user in people.items():
            agreement = AGREEMENTS["business" if handle in (LEAD, SUBMITTER) else "regulator"]
            if not has_accepted(user, agreement.portal):
                accept_agreement(actor=user, portal=agreement.portal, version=agreement.version)
        return people

    def person(self, handle: str) -> User:
        email = f"{handle}@{SCALE_DOMAIN}"
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            with transaction.atomic(durable=True):
                user = User.objects.create_user(
                    email, SCALE_PASSWORD, first_name=handle.title(), is_active=True
                )
                record_event(None, "account.created", user, after={"email": email, "how": "scale"})
        return user

    # -- COPY ---------------------------------------------------------------------------------

    def seed_bulk(self, n: int, agencies: dict, people: dict[str, User]) -> dict[str, int]:
        rng = self.rng
        lead_org = create_organization(
            actor=people[LEAD], name=f"Statewide {rng.choice(WORDS)} Stations", headquarters="CA"
        )
        big = BIG_ORGANIZATION_SIZE if n >= BIG_ORGANIZATION_FROM else max(1, n // 20)
        org_count = max(2, round(n / 3.3))
        routing = {
            z: {e: r.pk for e, r in default_regulators(z).items()}
            for zs in agencies["zips"]
            for z in zs
        }
        state = agencies["state"]
        cupa_of_zip = {z: routing[z][SubmittalElement.FACILITY_INFORMATION] for z in routing}
        counts: dict[str, int] = {}
        with transaction.atomic():
            organizations = self.copy_organizations(org_count - 1)
            # Facilities: the Lead User's organization's first, then one for each other
            # organization, then the rest to organizations picked with a long tail (a few
            # chains with hundreds of sites, most with one or two).
            owners = [lead_org.pk] * big + organizations
            while len(owners) < n:
                owners.append(organizations[int(len(organizations) * rng.random() ** 2)])
            owners = owners[:n]
            home = {}
            facilities = []  # (id, organization id, zip)
            facility_id = next_id(Facility)
            cers_id = self.take("cers_id", CERS_ID_FIRST, n)
            rows = []
            for i, owner in enumerate(owners):
                if owner not in home:
                    home[owner] = rng.choices(range(CUPA_COUNT), agencies["weights"])[0]
                spread = owner == lead_org.pk or rng.random() < 0.2
                c = (
                    rng.choices(range(CUPA_COUNT), agencies["weights"])[0]
                    if spread
                    else home[owner]
                )
                zip_code = rng.choice(agencies["zips"][c])
                name = f"{rng.choice(WORDS)} {rng.choice(TRADES)} {i + 1}"
                street = f"{100 + i} {rng.choice(STREETS)} St"
                city = f"{WORDS[c]} City"
                key = f"{street.upper()}|{city.upper()}|{zip_code}"
                facilities.append((facility_id + i, owner, zip_code))
                rows.append(
                    (facility_id + i, cers_id + i, owner, name, street, city, "CA", zip_code)
                    + (WORDS[c] + " County", key, self.now - timedelta(days=rng.randint(0, 3000)))
                )
            counts["facilities"] = copy_rows(
                Facility,
                [
                    "id",
                    "cers_id",
                    "organization_id",
                    "name",
                    "street",
                    "city",
                    "state",
                    "zip_code",
                    "county",
                    "address_key",
                    "created_at",
                ],
                rows,
            )
            counts["facility element regulators"] = copy_rows(
                FacilityRegulator,
                [
                    "facility_id",
                    "element",
                    "regulator_id",
                    "next_due_date",
                    "reporting_requirement",
                ],
                self.element_rows(facilities, routing),
            )
            counts["organizations"] = len(organizations) + 1
            self.set_lead_regulators(facilities, cupa_of_zip, state, lead_org)
            # The Lead User submits for their organization; one account stands for the people
            # of all the others, which have no members here.
            submitters = {lead_org.pk: people[LEAD].pk, None: people[SUBMITTER].pk}
            counts.update(self.copy_submittals(facilities, routing, submitters))
            counts.update(self.copy_cme(facilities, routing))
            reset_sequences(
                Organization,
                Facility,
                FacilityRegulator,
                FacilitySubmittal,
                SubmittalElementRecord,
                Inspection,
                Violation,
                Enforcement,
                EnforcementViolation,
            )
        with connection.cursor() as cursor:
            # The planner would otherwise plan for the tables it saw before the load.
            cursor.execute("ANALYZE")
        return counts

    def element_rows(self, facilities, routing):
        """Each facility's element rows (its routing), with a next due date on every row for
        ``DUE_DATE_SHARE`` of the facilities (from half a year past to a year ahead) and a
        regulator's setting on the tank rows for ``SETTING_SHARE``."""
        rng = self.rule_rng
        today = self.now.date()
        tanks = (SubmittalElement.UST, SubmittalElement.APSA)
        for fid, _owner, z in facilities:
            due = None
            if rng.random() < DUE_DATE_SHARE:
                due = today + timedelta(days=rng.randint(-180, 365))
            setting = None
            if rng.random() < SETTING_SHARE:
                setting = rng.choice(
                    [ReportingRequirement.APPLICABLE, ReportingRequirement.NOT_APPLICABLE]
                )
            for element, regulator in routing[z].items():
                yield fid, element, regulator, due, setting if element in tanks else None

    def activities(self) -> dict[str, str]:
        """One Facility Information's Business Activities answers (``ACTIVITY_SHARES``)."""
        rng = self.rule_rng
        return {n: "Y" if rng.random() < share else "N" for n, share in ACTIVITY_SHARES.items()}

    def take(self, name: str, start: int, count: int) -> int:
        """Reserve ``count`` numbers of the named sequence (``core.services.next_value``'s),
        returning the first."""
        Sequence.objects.get_or_create(name=name, defaults={"last_value": start - 1})
        sequence = Sequence.objects.select_for_update().get(name=name)
        first = sequence.last_value + 1
        Sequence.objects.filter(name=name).update(last_value=sequence.last_value + count)
        return first

    def copy_organizations(self, count: int) -> list[int]:
        rng = self.rng
        first_id = next_id(Organization)
        code = self.take("organization_code", ORGANIZATION_CODE_FIRST, count)
        copy_rows(
            Organization,
            ["id", "code", "name", "headquarters", "created_at"],
            (
                (
                    first_id + i,
                    code + i,
                    f"{rng.choice(WORDS)} {rng.choice(TRADES)} Co. {i + 1}",
                    "CA",
                    self.now - timedelta(days=rng.randint(0, 4000)),
                )
                for i in range(count)
            ),
        )
        return list(range(first_id, first_id + count))

    def set_lead_regulators(self, facilities, cupa_of_zip, state, lead_org) -> None:
        """``facilities.services.refresh_lead_regulator``'s rule, for every organization at
        once: the state agency for the largest, else the CUPA with most of its facilities
        (ties to the lower code)."""
        code = dict(Regulator.objects.values_list("pk", "code"))
        per_org: dict[int, Counter] = {}
        for _fid, owner, z in facilities:
            per_org.setdefault(owner, Counter())[cupa_of_zip[z]] += 1
        leads: dict[int, list[int]] = {}
        for owner, counter in per_org.items():
            if is_large_organization(sum(counter.values())):
                lead = state.pk
            else:
                lead = min(counter.items(), key=lambda item: (-item[1], code[item[0]]))[0]
            leads.setdefault(lead, []).append(owner)
        for lead, owners in leads.items():
            for start in range(0, len(owners), 10_000):
                Organization.objects.filter(pk__in=owners[start : start + 10_000]).update(
                    lead_regulator_id=lead
                )

    def copy_submittals(self, facilities, routing, submitters) -> dict[str, int]:
        """A year of submittals: most facilities submitted once, with Facility Information
        and a few other elements, in every status; one in ten has a draft in progress."""
        rng = self.rng
        statuses, weights = zip(*STATUS_WEIGHTS.items(), strict=True)
        submittal_id = next_id(FacilitySubmittal)
        submittals, elements = [], []
        for fid, owner, z in facilities:
            by = submitters.get(owner, submitters[None])
            if rng.random() < 0.85:
                submitted_at = self.now - timedelta(seconds=rng.randint(0, 365 * 86400))
                submittals.append(
                    (submittal_id, fid, "submitted", submitted_at, submitted_at, by, by)
                )
                chosen = [SubmittalElement.FACILITY_INFORMATION] + [
                    e for e, p in OTHER_ELEMENTS.items() if rng.random() < p
                ]
                for element in chosen:
                    status = rng.choices(statuses, weights)[0]
                    data = (
                        self.activities()
                        if element == SubmittalElement.FACILITY_INFORMATION
                        else {}
                    )
                    reviewed = status not in (ElementStatus.SUBMITTED,)
                    action_at = submitted_at + timedelta(days=rng.randint(1, 30))
                    elements.append(
                        (submittal_id, fid, element, uuid.uuid4(), status, data, submitted_at)
                        + (submitted_at, routing[z][element], submitted_at, by, by)
                        + ((min(action_at, self.now), "Scale Reviewer") if reviewed else (None, ""))
                    )
                submittal_id += 1
            if rng.random() < 0.1:
                created = self.now - timedelta(days=rng.randint(0, 60))
                submittals.append((submittal_id, fid, "draft", None, created, by, None))
                elements.append(
                    (submittal_id, fid, SubmittalElement.FACILITY_INFORMATION, uuid.uuid4())
                    + (ElementStatus.DRAFT, {}, created, created, None, None, by, None, None, "")
                )
                submittal_id += 1
        copy_rows(
            FacilitySubmittal,
            [
                "id",
                "facility_id",
                "status",
                "submitted_at",
                "created_at",
                "created_by_id",
                "submitted_by_id",
            ],
            submittals,
        )
        copy_rows(
            SubmittalElementRecord,
            [
                "facility_submittal_id",
                "facility_id",
                "element",
                "key",
                "status",
                "data",
                "created_at",
                "updated_at",
                "regulator_id",
                "submitted_at",
                "created_by_id",
                "submitted_by_id",
                "action_at",
                "action_agent_name",
            ],
            elements,
        )
        submitted = sum(1 for row in elements if row[4] != ElementStatus.DRAFT)
        return {
            "facility submittals": len(submittals),
            "submitted elements": submitted,
            "draft elements": len(elements) - submitted,
        }

    def copy_cme(self, facilities, routing) -> dict[str, int]:
        """Inspections of one facility in four over the year by its CUPA; a third found
        violations (some still open past their return-to-compliance date); a tenth of those
        led to a notice of violation."""
        rng = self.rng
        types = list(ViolationType.objects.values_list("pk", flat=True))
        if not types:
            raise CommandError("The violation library is empty: run the migrations first.")
        programs = [ProgramElement.HMRRP, ProgramElement.UST, ProgramElement.HW_GENERATOR]
        inspection_id, violation_id = next_id(Inspection), next_id(Violation)
        enforcement_id = next_id(Enforcement)
        inspections, violations, enforcements, links = [], [], [], []
        today = self.now.date()
        for fid, _owner, z in facilities:
            if rng.random() >= 0.25:
                continue
            on = today - timedelta(days=rng.randint(0, 365))
            regulator = routing[z][SubmittalElement.FACILITY_INFORMATION]
            inspections.append(
                (inspection_id, fid, regulator, rng.choice(programs), InspectionType.ROUTINE)
                + (on, "Scale Inspector", uuid.uuid4())
            )
            if rng.random() < 0.33:
                found = []
                for _ in range(rng.randint(1, 3)):
                    scheduled = on + timedelta(days=30)
                    returned = scheduled if rng.random() < 0.7 else None
                    violations.append(
                        (violation_id, inspection_id, rng.choice(types), ViolationClass.CLASS_II)
                        + (on, scheduled, returned, uuid.uuid4())
                    )
                    found.append(violation_id)
                    violation_id += 1
                if rng.random() < 0.1:
                    enforcements.append((enforcement_id, fid, regulator, "a", on, uuid.uuid4()))
                    links += [(enforcement_id, v, uuid.uuid4()) for v in found]
                    enforcement_id += 1
            inspection_id += 1
        copy_rows(
            Inspection,
            [
                "id",
                "facility_id",
                "regulator_id",
                "program_element",
                "inspection_type",
                "occurred_on",
                "inspector_name",
                "cers_key",
            ],
            inspections,
        )
        copy_rows(
            Violation,
            [
                "id",
                "inspection_id",
                "violation_type_id",
                "violation_class",
                "occurred_on",
                "scheduled_rtc_on",
                "return_to_compliance_on",
                "cers_key",
            ],
            violations,
        )
        copy_rows(
            Enforcement,
            ["id", "facility_id", "regulator_id", "enforcement_type", "occurred_on", "cers_key"],
            enforcements,
        )
        copy_rows(EnforcementViolation, ["enforcement_id", "violation_id", "cers_key"], links)
        return {
            "inspections": len(inspections),
            "violations": len(violations),
            "enforcements": len(enforcements),
        }


def describe(user: User) -> str:
    roles = [
        f"{m.get_role_display()} of {m.organization.name}"
        for m in user.memberships.select_related("organization")
    ]
    roles += [
        f"{s.get_role_display()} at {s.regulator.name} ({s.regulator.code})"
        for s in user.staff_memberships.select_related("regulator")
    ]
    return "; ".join(roles)
