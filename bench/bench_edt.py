"""EDT benchmarks on PostgreSQL: the Facility Submittal Query (RFSQ) streaming rate and memory,
and the upload processing rate, each beside the raw limit measured in the same run.

    DATABASE_URL=postgres://root@127.0.0.1:5432/cers_bench .venv/bin/python bench/bench_edt.py

(``make bench`` does this.) The database named in DATABASE_URL is dropped and created again.

- RFSQ: the endpoint over Django's test client (the whole view: authentication, transaction row,
  COUNT, batched prefetching, the registry-driven XML writer) at 1,000 and 100,000 submitted
  elements: elements per second, the first byte (the root, written before any row is read),
  the first record, after one warm-up call for a single facility (what a process does once is
  not the query's cost), and the megabytes written. Raw limit (``measure_raw_query``): the same
  rows through one server-side cursor, BATCH_SIZE rows at a time as the endpoint reads them,
  and an lxml ``xmlfile`` writing a document of the answer's shape (header columns, a key per
  element, stored values nested as stored, document answers, location) without layout or
  checks, as text; beside it the same document built as lxml elements, and the first, flat
  raw limit (one element per stored string field).
- With ``--rfq``: the whole agency's Facility Query (RFQ) at each size, a facility per element
  (5,200 of them one organization's from 50,000 up): time, first record, memory, megabytes
  written, beside its raw limit (``measure_raw_rfq``: the same facilities joined to their
  organizations through a server-side cursor, BATCH_SIZE rows at a time, each batch's element
  regulators, last submissions, Business Activities answers and new organizations' facts read
  by arrays of keys, and an lxml
  ``xmlfile`` writing each facility in the answer's shape).
- With ``--cme``: the whole agency's RCMEQ, RAIQ and RFTQ at each size, on as many CME
  records, transfers and elements awaiting review (``seed_cme``): time, first record, memory,
  each beside a raw limit (``RAW_AGENCY_SQL`` through a server-side cursor, BATCH_SIZE rows at
  a time, and an lxml ``xmlfile`` writing the columns).
- Uploads: an RFSAN document (review actions) for 1,000 and 10,000 elements through the
  request's check (``xmlsafe.check_document``: well-formed, validated streaming) and the
  worker's code path (``edt.uploads.process``: parse, check every notification, apply the
  reviews with their audit events and e-mails), after a warm-up of what a worker does once
  (the schema, the e-mail templates). Raw limit: lxml parsing the same document, XSD validation
  of the tree, and PostgreSQL COPY of one row per notification; beside it, the writes a review
  must make in plain SQL on the same tables, rolled back. The database is seeded with enough
  elements for every upload size when the RFSQ sizes did not.
- CME submit (``--cme``): an RCMES document adding inspections, one at each seeded facility,
  through the same check and ``edt.uploads.process``, beside its raw limit (parse, validate,
  COPY) and its floor (``measure_cme_floor``: the writes it must make in plain SQL, rolled
  back).
- Facility submittal submit (``--rfs-uploads``): an RFS document of one facility whose
  inventory holds the given number of chemicals, through the same check and
  ``edt.uploads.process``, beside its raw limit (parse, validate, COPY) and its floor
  (``measure_rfs_floor``, as RCMES's); then its status
  answer, in XML and in JSON, each in a process of its own: its entity keys, one per
  chemical, read from their table as the answer is written.
- The check alone, at 1,000 to 100,000 notifications (made-up keys: nothing is looked up):
  streaming beside the whole tree parsed then validated, as the check was before it streamed.
- Memory: each measurement runs in its own process; reported as the growth of peak RSS over the
  process's RSS just before the measured work (the check alone: Linux's peak, reset just
  before).

Figures are for comparing runs on one machine, as ratios: never assert on them in tests.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-secret-0123456789"
LARGE_FROM, LARGE_ORGANIZATION = 50_000, 5_200  # one organization of 5,200 facilities


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")
    os.environ["EDT_QUERY_MAX_RESULTS"] = "10000000"
    os.environ["EDT_INLINE_MAX_BYTES"] = "0"
    os.environ.pop("REDIS_URL", None)
    os.environ["EMAIL_URL"] = "dummymail://"
    # DEBUG keeps every query's SQL in memory; production runs without it.
    os.environ["DJANGO_DEBUG"] = "False"
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
    import django

    django.setup()
    # Tasks (the e-mail a review sends) are published, as to a broker, and not run here:
    # processing an upload is measured, not sending its mail.
    from cers.celery import app

    app.conf.task_always_eager = False


# --- the data set ---------------------------------------------------------------------------


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def seed(size: int, cme: bool = False) -> None:
    """Migrate, then one submitted Facility Information through the services, cloned to
    ``size`` facilities with bulk_create (one organization for 3 facilities, and from 50,000
    up one of 5,200; each facility's Facility Information routed to the CUPA); with ``cme``,
    ``size`` CME records and transfers besides (``seed_cme``)."""
    setup_django()
    from django.core.management import call_command
    from django.db import transaction
    from django.db.models import F

    from facilities.models import Facility, FacilityRegulator
    from organizations.models import Organization
    from submittals import services
    from submittals.models import FacilitySubmittal, SubmittalElementRecord
    from tests import factories
    from tests.submittals.data import answer_required_documents, complete_facility_information

    call_command("migrate", verbosity=0)
    cupa = factories.make_regulator("1001", "Bench CUPA", "cupa", zip_codes=["95814"])
    factories.make_regulator("1000", "Cal/EPA", "state")
    lead = factories.make_user("lead@bench.example")
    organization = factories.make_organization(lead, "Bench Fuels")
    facility = factories.make_facility(organization, name="Bench Depot 0", zip_code="95814")
    record = services.start_draft(actor=lead, facility=facility, element=1)
    record = services.save_draft_data(
        actor=lead, record=record, data=complete_facility_information(f3=facility.name)
    )
    answer_required_documents(lead, record)
    services.submit(
        actor=lead,
        facility=facility,
        elements=[record],
        certifier_name="Bench",
        certifier_title="Runner",
    )
    # Dated an hour back: an action notification dated a few seconds before now
    # (``_notifications``) must be later than the submission, however soon after seeding.
    earlier = F("submitted_at") - timedelta(hours=1)
    SubmittalElementRecord.objects.filter(pk=record.pk).update(submitted_at=earlier)
    FacilitySubmittal.objects.filter(facility=facility).update(submitted_at=earlier)
    call_command(
        "create_edt_account",
        "--regulator=1001",
        "--username=bench_edt",
        "--tiers=1-6",
        "--environment=production",
        f"--secret={SECRET}",
        stdout=open(os.devnull, "w"),  # noqa: SIM115
    )
    template_facility = Facility.objects.get(pk=facility.pk)
    template_organization = Organization.objects.get(pk=organization.pk)
    template_group = FacilitySubmittal.objects.get(facility=facility)
    template_element = SubmittalElementRecord.objects.get(pk=record.pk)
    batch = 5000
    for start in range(1, size, batch):
        numbers = range(start, min(start + batch, size))
        with transaction.atomic():
            # One organization for 3 facilities (seed_scale has one for 3.3).
            # From 50,000 facilities up, the first 5,200 are the template's organization's,
            # as seed_scale has one organization that large.
            owners, new_owners = {}, []
            for n in numbers:
                if size >= LARGE_FROM and n < LARGE_ORGANIZATION:
                    owners[n] = template_organization
                elif n % 3 == 0 or owners.get(n - 1, template_organization) is (
                    template_organization
                ):
                    owner = copy.copy(template_organization)
                    owner.pk, owner.name = None, f"Bench {n}"
                    owner.code = template_organization.code + n
                    owners[n] = owner
                    new_owners.append(owner)
                else:
                    owners[n] = owners[n - 1]
            Organization.objects.bulk_create(new_owners)
            facilities = []
            for n in numbers:
                clone = copy.copy(template_facility)
                clone.pk = None
                clone.organization = owners[n]
                clone.cers_id = template_facility.cers_id + n
                clone.name = f"Bench Depot {n}"
                clone.street = f"{n} Bench Street"
                clone.address_key = f"bench-{n}"
                facilities.append(clone)
            Facility.objects.bulk_create(facilities)
            groups = []
            for clone in facilities:
                group = copy.copy(template_group)
                group.pk, group.facility = None, clone
                groups.append(group)
            FacilitySubmittal.objects.bulk_create(groups)
            elements = []
            for clone, group in zip(facilities, groups, strict=True):
                element = copy.copy(template_element)
                element.pk, element.facility, element.facility_submittal = None, clone, group
                element.key = uuid.uuid4()
                elements.append(element)
            SubmittalElementRecord.objects.bulk_create(elements)
            # Its Facility Information routed to the CUPA: the facility is in its jurisdiction.
            FacilityRegulator.objects.bulk_create(
                [
                    FacilityRegulator(facility=clone, element=1, regulator=cupa)
                    for clone in facilities
                ]
            )
    # What autovacuum does soon after a bulk load: without it the planner still sees the
    # tables as they were before it, nearly empty.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"seeded {size:,} submitted elements for CUPA {cupa.code}", file=sys.stderr)
    if cme:
        seed_cme(size)


# The CME, transfer and action-item data of ``--cme``: per 10 CME records, 4 inspections, 3
# violations, 2 enforcement actions and 1 link.
CME_SHARES = {"inspections": 4, "violations": 3, "enforcements": 2, "links": 1}


def cme_counts(size: int) -> dict[str, int]:
    return {entity: size * share // 10 for entity, share in CME_SHARES.items()}


def seed_cme(size: int) -> None:
    """CME records for the whole agency's RCMEQ, ``size`` in all (``CME_SHARES``), on the
    facilities ``seed`` made, in plain SQL (``INSERT ... SELECT`` from ``generate_series``: no
    row passes through Python): each facility's Hazardous Materials Inventory routed to the
    CUPA too, so its business plan inspections are the CUPA's; every other record as RCMES
    leaves it (with the action time the agency's system sent), the rest as the portal does
    (one audit event when recorded, a second for every third: an edit); as many other audit
    events of facilities beside them. And one move to another organization per facility, for
    the whole agency's RFTQ. RAIQ lists ``seed``'s submitted elements, every one awaiting
    review."""
    from django.db import connection

    counts = cme_counts(size)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM regulators_regulator WHERE code = '1001'")
        [cupa] = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM libraries_violationtype")
        [violation_type] = cursor.fetchone()
        statements = [
            # The facilities' inventories routed to the CUPA: their inspections are its own.
            """INSERT INTO facilities_facilityregulator (facility_id, element, regulator_id)
            SELECT facility_id, 2, regulator_id FROM facilities_facilityregulator
            WHERE element = 1 ON CONFLICT DO NOTHING""",
            """CREATE TEMP TABLE bench_site AS SELECT id, organization_id, cers_id, name,
            row_number() OVER (ORDER BY id) - 1 AS n FROM facilities_facility""",
            """INSERT INTO cme_inspection (regulator_key, cers_key, regulator_action_at,
            facility_id, regulator_id, program_element, inspection_type, occurred_on,
            inspector_name, ust_operational_compliance, comments, created_at)
            SELECT CASE WHEN g %% 2 = 0 THEN 'I-' || g ELSE '' END, gen_random_uuid(),
            CASE WHEN g %% 2 = 0 THEN now() - g * interval '1 minute' END, s.id, %(cupa)s, 'a',
            'a', date '2024-01-01' + g %% 700, 'Bench Inspector', '', 'Routine visit.',
            now() - g * interval '1 minute'
            FROM generate_series(0, %(inspections)s - 1) g
            JOIN bench_site s ON s.n = g %% (SELECT count(*) FROM bench_site)""",
            """CREATE TEMP TABLE bench_inspection AS SELECT id, facility_id, occurred_on,
            row_number() OVER (ORDER BY id) - 1 AS n FROM cme_inspection""",
            """INSERT INTO cme_violation (regulator_key, cers_key, regulator_action_at,
            inspection_id, violation_type_id, violation_class, occurred_on, comments)
            SELECT CASE WHEN g %% 2 = 0 THEN 'V-' || g ELSE '' END, gen_random_uuid(),
            CASE WHEN g %% 2 = 0 THEN now() - g * interval '1 minute' END, i.id,
            %(violation_type)s, (ARRAY[1, 2, 9])[g %% 3 + 1], i.occurred_on, 'Found.'
            FROM generate_series(0, %(violations)s - 1) g JOIN bench_inspection i ON i.n = g""",
            """INSERT INTO cme_enforcement (regulator_key, cers_key, regulator_action_at,
            facility_id, regulator_id, enforcement_type, formal_type, occurred_on,
            red_tag_issued, red_tag_number, docket_number, comments, created_at)
            SELECT CASE WHEN g %% 2 = 0 THEN 'E-' || g ELSE '' END, gen_random_uuid(),
            CASE WHEN g %% 2 = 0 THEN now() - g * interval '1 minute' END, i.facility_id,
            %(cupa)s, 'a', '', i.occurred_on, '', '', '', 'Notice issued.',
            now() - g * interval '1 minute'
            FROM generate_series(0, %(enforcements)s - 1) g JOIN bench_inspection i ON i.n = g""",
            """INSERT INTO cme_enforcement_violations (regulator_key, cers_key,
            regulator_action_at, enforcement_id, violation_id)
            SELECT CASE WHEN e.n %% 2 = 0 THEN 'L-' || e.n ELSE '' END, gen_random_uuid(),
            CASE WHEN e.n %% 2 = 0 THEN now() END, e.id, v.id
            FROM (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM cme_enforcement) e
            JOIN (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM cme_violation) v
            ON v.n = e.n WHERE e.n < %(links)s""",
        ]
        # What the portal records: an audit event per record not sent by RCMES, a second one
        # for every third (an edit), and as many events of other records.
        for table, label in (
            ("cme_inspection", "cme.inspection"),
            ("cme_violation", "cme.violation"),
            ("cme_enforcement", "cme.enforcement"),
            ("cme_enforcement_violations", "cme.enforcementviolation"),
        ):
            statements.append(
                f"""INSERT INTO core_auditevent (action, object_type, object_id, object_repr,
                regulator_id, created_at)
                SELECT '{label}.recorded', '{label}', r.id::text, '', %(cupa)s,
                now() - interval '1 day' + e * interval '1 hour'
                FROM {table} r CROSS JOIN generate_series(0, 1) e
                WHERE r.regulator_action_at IS NULL AND (e = 0 OR r.id %% 3 = 0)"""
            )
        statements += [
            """INSERT INTO core_auditevent (action, object_type, object_id, object_repr,
            regulator_id, created_at)
            SELECT 'facility.updated', 'facilities.facility', (g %% 100000)::text, '',
            %(cupa)s, now() - g * interval '1 second'
            FROM generate_series(1, %(size)s) g""",
            # One move per facility, oldest first: the whole agency's RFTQ.
            """INSERT INTO facilities_facilitytransfer (kind, facility_id, facility_cers_id,
            facility_name, from_organization_code, from_organization_name, to_organization_id,
            reason, letter, performed_at)
            SELECT 'move', s.id, s.cers_id, s.name, 999, 'Bench Former Owner',
            s.organization_id, 'Sold with its business.', '',
            now() - interval '400 days' + s.n * interval '1 minute'
            FROM bench_site s""",
            "DROP TABLE bench_site",
            "DROP TABLE bench_inspection",
            "ANALYZE",
        ]
        arguments = counts | {"cupa": cupa, "violation_type": violation_type, "size": size}
        for statement in statements:
            cursor.execute(statement, arguments)
    print(f"seeded {size:,} CME records ({counts}) and {size:,} transfers", file=sys.stderr)


# --- measurements (each in its own process) -----------------------------------------------


def measure_rfsq() -> dict:
    setup_django()
    from django.test import Client

    from edt.credentials import legacy_value
    from facilities.models import Facility

    client = Client()
    header = f"user bench_edt:{legacy_value(SECRET)}"
    url = "/EDT/Regulator/FacilitySubmittal/Query?regulatorCode=1001"
    # A first call for one facility: what a process does once (schema layouts, templates,
    # the connection) is not counted against the query measured.
    one = Facility.objects.order_by("cers_id").values_list("cers_id", flat=True).first()
    b"".join(client.get(f"{url}&CERSID={one}", HTTP_AUTHORIZATION=header).streaming_content)
    before = rss_mb()
    started = time.perf_counter()
    response = client.get(url, HTTP_AUTHORIZATION=header)
    first_byte = first_record = None
    size = 0
    elements = 0
    tail = b""
    for chunk in response.streaming_content:
        if first_byte is None:
            first_byte = time.perf_counter() - started
        if first_record is None and b"<FacilitySubmittal>" in chunk:
            first_record = time.perf_counter() - started
        size += len(chunk)
        elements += (tail + chunk).count(b"<SubmittalElementHeader>")
        tail = chunk[-(len(b"<SubmittalElementHeader>") - 1) :]  # a tag cut between chunks
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return {
        "elements": elements,
        "seconds": seconds,
        "first_byte_seconds": first_byte,
        "first_record_seconds": first_record,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


def measure_rfq() -> dict:
    """The whole agency's Facility Query (RFQ): every facility of the CUPA, with its
    organization's facts and its element regulators."""
    setup_django()
    from django.test import Client

    from edt.credentials import legacy_value

    client = Client()
    header = f"user bench_edt:{legacy_value(SECRET)}"
    url = "/EDT/Regulator/Facility?regulatorCode=1001"
    b"".join(client.get(f"{url}&CERSID=0", HTTP_AUTHORIZATION=header).streaming_content)
    before = rss_mb()
    started = time.perf_counter()
    response = client.get(url, HTTP_AUTHORIZATION=header)
    first_record = None
    facilities = 0
    size = 0
    stated = None
    tail = b""  # a tag may be cut between two chunks
    for chunk in response.streaming_content:
        size += len(chunk)
        if stated is None and b"returnedResultCount" in chunk:
            stated = int(chunk.split(b'returnedResultCount="')[1].split(b'"')[0])
        if first_record is None and b"<Facility>" in chunk:
            first_record = time.perf_counter() - started
        facilities += (tail + chunk).count(b"<Facility>")
        tail = chunk[-(len(b"<Facility>") - 1) :]
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    assert facilities == stated, (facilities, stated)
    return {
        "facilities": facilities,
        "seconds": seconds,
        "first_record_seconds": first_record,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


# The raw limit of RFQ: the agency's facilities in CERS ID order, joined to their organization
# and its lead regulator, through a server-side cursor; per batch, the batch's element
# regulators, its submissions grouped per facility and element, and the facts of the
# organizations not met before (kept as RFQ keeps them).
RAW_RFQ_FACILITIES = """
SELECT f.id, f.cers_id, f.local_facility_id, f.regulator_key, f.name, f.created_at,
       f.organization_id, o.code, o.name, o.headquarters, lead.code, f.street, f.city,
       f.zip_code, f.latitude, f.longitude, f.horizontal_accuracy,
       f.horizontal_collection_method, f.geographic_reference_point,
       f.horizontal_reference_datum, f.location_collected_on
FROM facilities_facility f
JOIN organizations_organization o ON o.id = f.organization_id
LEFT JOIN regulators_regulator lead ON lead.id = o.lead_regulator_id
WHERE EXISTS (
    SELECT 1 FROM facilities_facilityregulator fr
    JOIN regulators_regulator r ON r.id = fr.regulator_id
    WHERE fr.facility_id = f.id AND r.code = %s
)
ORDER BY f.cers_id
"""
RAW_RFQ_ELEMENTS = (
    "SELECT fr.facility_id, fr.element, r.code, fr.reporting_requirement, fr.next_due_date "
    "FROM facilities_facilityregulator fr JOIN regulators_regulator r ON r.id = fr.regulator_id "
    "WHERE fr.facility_id = ANY(%s)"
)
RAW_RFQ_SUBMISSIONS = (
    "SELECT facility_id, max(submitted_at) FROM submittals_submittalelementrecord "
    "WHERE facility_id = ANY(%s) AND status > 1 GROUP BY facility_id"
)
# The Business Activities answers that count (the latest Facility Information submitted, under
# review or accepted), only the answers that switch elements on: ``{answers}`` is filled with
# them (``raw_rfq_answers``).
RAW_RFQ_ANSWERS = """
SELECT e.facility_id, {answers} FROM submittals_submittalelementrecord e
WHERE e.facility_id = ANY(%s) AND e.element = 1 AND e.status IN (2, 3, 4)
AND NOT EXISTS (
    SELECT 1 FROM submittals_submittalelementrecord n
    WHERE n.facility_id = e.facility_id AND n.element = 1 AND n.status IN (2, 3, 4)
    AND (n.submitted_at > e.submitted_at OR (n.submitted_at = e.submitted_at AND n.id > e.id))
)
"""
RAW_RFQ_FACTS = """
SELECT o.id,
       (SELECT count(*) FROM facilities_facility f WHERE f.organization_id = o.id),
       (SELECT count(*) FROM organizations_membership m WHERE m.organization_id = o.id),
       (SELECT max(e.submitted_at) FROM submittals_submittalelementrecord e
        JOIN facilities_facility f ON f.id = e.facility_id
        WHERE f.organization_id = o.id AND e.status > 1),
       (SELECT a.after ->> 'how' FROM core_auditevent a
        WHERE a.action = 'organization.created' AND a.object_type = 'organizations.organization'
        AND a.object_id = o.id::text ORDER BY a.id LIMIT 1)
FROM organizations_organization o WHERE o.id = ANY(%s)
"""
ORIGIN_CODES = {"legacy import": "5", "EDT": "1"}  # how an organization was created
RAW_RFQ_ELEMENT_TAGS = (
    "FacilityInformation",
    "HazardousMaterialsInventory",
    "EmergencyResponseTrainingPlans",
    "UndergroundStorageTanks",
    "OnsiteHazardousWasteTreatmentNotification",
    "RecyclableMaterialsReport",
    "RemoteWasteConsolidationsAnnualNotification",
    "HWTankClosureCertification",
    "AbovegroundPetroleumStorageTanks",
    "CaliforniaAccidentalReleasePrevention",
)


def measure_raw_rfq() -> dict:
    """The floor under the whole agency's RFQ: the same facilities (``RAW_RFQ_FACILITIES``)
    through a server-side cursor, ``BATCH_SIZE`` rows at a time, each batch's element
    regulators, last submissions, Business Activities answers that count and new
    organizations' facts read by arrays of keys, and each facility written through an lxml
    ``xmlfile`` in the answer's shape (its columns, its organization's columns and facts, an
    element per submittal element with its regulator, requirement (the setting, else the
    answers) and due date, its address and location), each value as it is read: no checks, no
    time zone for the dates."""
    setup_django()
    from lxml import etree

    from edt.api.base import BATCH_SIZE
    from facilities.schedule import ELEMENTS_BY_ACTIVITY

    numbers = list(ELEMENTS_BY_ACTIVITY)
    raw_answers = RAW_RFQ_ANSWERS.format(
        answers=", ".join(f"e.data ->> '{number}'" for number in numbers)
    )

    sub = etree.SubElement
    connection = _raw_connection()  # before the clock starts, as for the other raw limits
    before = rss_mb()
    started = time.perf_counter()
    first_record = None
    facilities = 0
    size = 0

    class Sink:
        def write(self, data):
            nonlocal size
            size += len(data)

    facts: dict = {}
    with (
        connection,
        connection.cursor(name="raw_rfq") as cursor,
        connection.cursor() as side,
        etree.xmlfile(Sink(), encoding="utf-8") as xf,
        xf.element("RegulatorFacilityQuery"),
    ):
        cursor.itersize = BATCH_SIZE
        cursor.execute(RAW_RFQ_FACILITIES, ["1001"])
        while rows := cursor.fetchmany(BATCH_SIZE):
            ids = [row[0] for row in rows]
            routed = _by_first(side.execute(RAW_RFQ_ELEMENTS, [ids]).fetchall())
            last = {
                facility_id: moment
                for facility_id, moment in side.execute(RAW_RFQ_SUBMISSIONS, [ids]).fetchall()
                if moment is not None
            }
            switched = {}
            for facility_id, *answers in side.execute(raw_answers, [ids]).fetchall():
                on = {1}
                for number, answer in zip(numbers, answers, strict=True):
                    if answer == "Y":
                        on.update(int(element) for element in ELEMENTS_BY_ACTIVITY[number])
                switched[facility_id] = on
            if len(facts) > 10_000:
                facts.clear()
            new = list({row[6] for row in rows} - facts.keys())
            if new:
                facts.update((row[0], row[1:]) for row in side.execute(RAW_RFQ_FACTS, [new]))
            for row in rows:
                (pk, cers_id, local_id, regulator_key, name, created_at, organization_id) = row[:7]
                code, org_name, headquarters, lead, street, city, zip_code = row[7:14]
                location = row[14:]
                elements = {r[1]: r for r in routed.get(pk, ())}
                main = elements[1][2] if 1 in elements else "1001"
                facility = etree.Element("Facility")
                sub(facility, "CERSID").text = str(cers_id)
                if local_id:
                    sub(facility, "FacilityID").text = local_id
                if regulator_key:
                    sub(facility, "FacilityRegulatorKey").text = regulator_key
                sub(facility, "RegulatorCode").text = main
                sub(facility, "Name").text = name
                if pk in last:
                    sub(facility, "LastSubmittalOn").text = str(last[pk].date())
                sub(facility, "EstablishedOn").text = str(created_at.date())
                organization = sub(facility, "Organization")
                facility_count, user_count, org_last, how = facts[organization_id]
                sub(organization, "Code").text = str(code)
                sub(organization, "Name").text = org_name
                if headquarters:
                    sub(organization, "Headquarters").text = headquarters
                sub(organization, "FacilityCount").text = str(facility_count)
                sub(organization, "UserCount").text = str(user_count)
                sub(organization, "LeadRegulatorCode").text = lead or main
                if org_last is not None:
                    sub(organization, "LastSubmittalOn").text = str(org_last.date())
                sub(organization, "Origin").text = ORIGIN_CODES.get(how, "2")
                block = sub(facility, "SubmittalElements")
                for number, tag in enumerate(RAW_RFQ_ELEMENT_TAGS, 1):
                    element = elements.get(number)
                    item = sub(block, tag, regulatorCode=element[2] if element else main)
                    if element and element[3] is not None:
                        item.set("reportingRequirement", str(element[3]))
                    else:
                        applies = number == 1 or number in switched.get(pk, ())
                        item.set("reportingRequirement", "2" if applies else "1")
                    if element and element[4] is not None:
                        item.set("nextDueDate", str(element[4]))
                address = sub(facility, "FacilityAddress")
                sub(address, "SiteAddress").text = street
                sub(address, "City").text = city
                sub(address, "ZipCode").text = zip_code
                if all(part is not None and part != "" for part in location):
                    point = sub(sub(facility, "GeographicInformation"), "CERSPoint")
                    for tag, value in zip(LOCATION_TAGS, location, strict=True):
                        sub(point, tag).text = str(value)
                xf.write(facility)
                if first_record is None:
                    first_record = time.perf_counter() - started
                facilities += 1
    return {
        "facilities": facilities,
        "seconds": time.perf_counter() - started,
        "first_record_seconds": first_record,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


RAW_RECORDS = """
SELECT fs.id, fs.submitter_comments, fs.facility_local_id, fs.facility_regulator_key,
       f.cers_id, f.local_facility_id, f.regulator_key, o.code, o.name,
       f.latitude, f.longitude, f.horizontal_accuracy, f.horizontal_collection_method,
       f.geographic_reference_point, f.horizontal_reference_datum, f.location_collected_on,
       e.id, e.element, e.key, e.data, e.status, e.submitted_at, e.submitter_first_name,
       e.submitter_last_name, e.submitter_email, e.submitter_comments, r.code, u.first_name,
       u.last_name, u.email, e.action_at, e.action_agent_name, e.action_agent_email,
       e.action_comments
FROM submittals_submittalelementrecord e
JOIN submittals_facilitysubmittal fs ON fs.id = e.facility_submittal_id
JOIN facilities_facility f ON f.id = fs.facility_id
JOIN organizations_organization o ON o.id = f.organization_id
JOIN regulators_regulator r ON r.id = e.regulator_id
LEFT JOIN accounts_user u ON u.id = e.submitted_by_id
WHERE e.status <> 1 AND e.element <> 10 AND r.code = %s
ORDER BY fs.submitted_at, fs.id, e.element, e.id
"""
RAW_DOCUMENTS = (
    "SELECT d.record_id, d.id, d.slot, d.source, d.comment, d.date_provided, d.other_element, "
    "d.url FROM submittals_elementdocument d WHERE d.record_id = ANY(%s) ORDER BY d.id"
)
RAW_FILES = (
    "SELECT document_id, key, file_name, title, description, date_authored, regulator_key "
    "FROM submittals_documentfile WHERE document_id = ANY(%s) ORDER BY uploaded_at, id"
)
RAW_MATERIALS = (
    "SELECT record_id, id, data FROM submittals_hazardousmaterial WHERE record_id = ANY(%s) "
    "ORDER BY record_id, position"
)
RAW_COMPONENTS = (
    "SELECT material_id, position, name, cas_number, percent_by_weight, ehs "
    "FROM submittals_mixturecomponent WHERE material_id = ANY(%s) ORDER BY material_id, position"
)


def _raw_connection():
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    return psycopg.connect(
        dbname=database["NAME"],
        user=database["USER"],
        host=database["HOST"],
        port=database["PORT"] or 5432,
    )


def _by_first(rows) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row[0], []).append(row)
    return grouped


def _raw_rows(connection):
    """The rows RFSQ reads, in its order, each element's row with its document answers (each
    with its files) and its inventory rows (each with its components): one server-side
    cursor read ``BATCH_SIZE`` rows at a time, as the endpoint reads them, and four queries
    per batch for what the batch's elements hold (each key list sent as one array)."""
    from edt.api.base import BATCH_SIZE

    with connection.cursor(name="raw_rfsq") as cursor, connection.cursor() as side:
        cursor.itersize = BATCH_SIZE
        cursor.execute(RAW_RECORDS, ["1001"])
        while rows := cursor.fetchmany(BATCH_SIZE):
            ids = [row[16] for row in rows]
            documents = _by_first(side.execute(RAW_DOCUMENTS, [ids]).fetchall())
            uploaded = [d[1] for ds in documents.values() for d in ds if d[3] == 6]
            files = _by_first(side.execute(RAW_FILES, [uploaded]).fetchall()) if uploaded else {}
            materials = _by_first(side.execute(RAW_MATERIALS, [ids]).fetchall())
            material_ids = [m[1] for ms in materials.values() for m in ms]
            components = (
                _by_first(side.execute(RAW_COMPONENTS, [material_ids]).fetchall())
                if material_ids
                else {}
            )
            for row in rows:
                pk = row[16]
                yield (
                    row,
                    [(d, files.get(d[1], ())) for d in documents.get(pk, ())],
                    [(m, components.get(m[1], ())) for m in materials.get(pk, ())],
                )


def _raw_names() -> tuple[dict, dict]:
    """Each element's tag, and its fields' and row groups' tags by data key: names looked up
    once, as a writer of this shape needs them."""
    from core.registry import all_schemas
    from submittals.data import data_key

    tags, containers = {}, {}
    for schema in all_schemas():
        containers[schema.element] = schema.xml_tag
        tags[schema.element] = {data_key(f): f.tag for f in schema.fields}
        for group in schema.groups:
            tags[schema.element].setdefault(group.key, group.tag)
    return tags, containers


LOCATION_TAGS = (
    "LatitudeMeasure",
    "LongitudeMeasure",
    "HorizontalAccuracyMeasure",
    "HorizontalCollectionMethod",
    "GeographicReferencePoint",
    "HorizontalReferenceDatum",
    "DataCollectionDate",
)


def measure_raw_query(how: str) -> dict:
    """The floor under RFSQ: the same rows (``_raw_rows``) and a document of the answer's
    shape written through an lxml ``xmlfile``: a FacilitySubmittal per submittal (CERSID,
    organization, the facility's keys), each element under its tag with the header's columns
    and its key, every stored value under its field's tag, rows nested as the data nests
    them, each document answer, the facility's location. No layout, no checks: each value as
    it is stored. ``how``: "text", each submittal written as XML text (escaped where a value
    needs it), as RFSQ writes it; "tree", each built as lxml elements, then written."""
    setup_django()
    from django.utils import timezone
    from lxml import etree

    from edt.api.submittal_query import escaped

    tags, containers = _raw_names()
    zone = timezone.get_current_timezone()
    # Connected and its queries run once before the clock starts (a first row read, then
    # the cursor closed), as RFSQ's are by its warm-up call for one facility.
    connection = _raw_connection()
    warm_up = _raw_rows(connection)
    next(warm_up, None)
    warm_up.close()
    connection.rollback()
    before = rss_mb()
    started = time.perf_counter()
    elements = 0
    size = 0

    class Sink:
        def write(self, data):
            nonlocal size
            size += len(data)

    sink = Sink()

    # -- as text
    def text_values(out: list, data: dict, names: dict) -> None:
        for key, value in data.items():
            if isinstance(value, list):
                *outer, inner = key.split("/")
                if outer:
                    out.append(f"<{outer[-1]}>")
                for row in value:
                    if isinstance(row, dict):
                        out.append(f"<{inner}>")
                        text_values(out, row, names)
                        out.append(f"</{inner}>")
                if outer:
                    out.append(f"</{outer[-1]}>")
            elif value is not None and value != "":
                tag = names.get(key, "Value")
                value = ("true" if value else "false") if isinstance(value, bool) else str(value)
                out.append(f"<{tag}>{escaped(value)}</{tag}>")

    def text_element(out: list, row, documents, materials) -> None:
        (_fs, fs_comments, _l, _k, _c, _lo, _r, _oc, _on, *location) = row[:16]  # fmt: skip
        (_pk, code, key, data, status, submitted_at, first, last, email, comments, regulator,
         user_first, user_last, user_email, action_at, agent_name, agent_email,
         action_comments) = row[16:]  # fmt: skip
        container = containers[code]
        out.append(f"<{container}><SubmittalElementHeader><SubmittedOn>")
        out.append(submitted_at.astimezone(zone).isoformat(timespec="seconds"))
        out.append("</SubmittedOn>")
        for tag, value in (
            ("SubmittedByFirstName", first or user_first),
            ("SubmittedByLastName", last or user_last),
            ("SubmittedByEmail", email or user_email),
            ("SubmittedByComments", comments or fs_comments),
            ("RegulatorCode", regulator),
        ):
            if value:
                out.append(f"<{tag}>{escaped(value)}</{tag}>")
        out.append(f"<SubmittalStatus>{status}</SubmittalStatus>")
        if action_at is not None:
            out.append("<SubmittalActionDetails><SubmittalActionOn>")
            out.append(action_at.astimezone(zone).isoformat(timespec="seconds"))
            out.append("</SubmittalActionOn>")
            for tag, value in (
                ("SubmittalActionAgentName", agent_name),
                ("SubmittalActionAgentEmail", agent_email),
                ("SubmittalActionComments", action_comments),
            ):
                if value:
                    out.append(f"<{tag}>{escaped(value)}</{tag}>")
            out.append("</SubmittalActionDetails>")
        out.append(f"<CERSUniqueKey>{key}</CERSUniqueKey></SubmittalElementHeader>")
        names = tags[code]
        text_values(out, data or {}, names)
        if materials:
            out.append("<Chemicals>")
            for (_record, _id, material), mixture in materials:
                out.append("<Chemical>")
                text_values(out, material or {}, names)
                for _m, position, name, cas, percent, ehs in mixture:
                    out.append(
                        f"<HC{position}Name>{escaped(name)}</HC{position}Name>"
                        f"<HC{position}CAS>{escaped(cas)}</HC{position}CAS>"
                        f"<HC{position}EHS>{escaped(ehs)}</HC{position}EHS>"
                        f"<HC{position}PercentByWeight>{percent}</HC{position}PercentByWeight>"
                    )
                out.append("</Chemical>")
            out.append("</Chemicals>")
        if location[0] is not None and code == 1:
            out.append("<GeographicInformation><CERSPoint>")
            for tag, value in zip(LOCATION_TAGS, location, strict=True):
                out.append(f"<{tag}>{escaped(str(value))}</{tag}>")
            out.append("</CERSPoint></GeographicInformation>")
        for (_record, _id, slot, source, comment, provided, other, url), files in documents:
            out.append(f"<{slot}>")
            if source == 6:
                out.append("<Attachments>")
                for _d, file_key, name, title, description, authored, upload_key in files:
                    out.append(
                        f"<Attachment><AttachmentFileName>{escaped(name)}</AttachmentFileName>"
                        f"<DocumentTitle>{escaped(title)}</DocumentTitle>"
                        f"<DocumentDescription>{escaped(description)}</DocumentDescription>"
                        f"<DateAuthored>{authored}</DateAuthored>"
                        f"<DocumentRegulatorKey>{escaped(upload_key or '')}</DocumentRegulatorKey>"
                        f"<CERSUniqueKey>{file_key}</CERSUniqueKey></Attachment>"
                    )
                out.append("</Attachments>")
            else:
                for tag, value in (
                    ("Comment", comment),
                    ("DateProvided", provided),
                    ("SubmittalElementCode", other),
                    ("PublicInternetUri", url),
                ):
                    if value:
                        out.append(f"<{tag}>{escaped(str(value))}</{tag}>")
            out.append(f"</{slot}>")
        out.append(f"</{container}>")

    # -- as lxml elements
    sub = etree.SubElement

    def tree_values(parent, data: dict, names: dict) -> None:
        for key, value in data.items():
            if isinstance(value, list):
                *outer, inner = key.split("/")
                holder = sub(parent, outer[-1]) if outer else parent
                for row in value:
                    if isinstance(row, dict):
                        tree_values(sub(holder, inner), row, names)
            elif value is not None and value != "":
                sub(parent, names.get(key, "Value")).text = (
                    ("true" if value else "false") if isinstance(value, bool) else str(value)
                )

    def tree_element(group, row, documents, materials) -> None:
        (_fs, fs_comments, _l, _k, _c, _lo, _r, _oc, _on, *location) = row[:16]  # fmt: skip
        (_pk, code, key, data, status, submitted_at, first, last, email, comments, regulator,
         user_first, user_last, user_email, action_at, agent_name, agent_email,
         action_comments) = row[16:]  # fmt: skip
        element = sub(group, containers[code])
        header = sub(element, "SubmittalElementHeader")
        sub(header, "SubmittedOn").text = submitted_at.astimezone(zone).isoformat(
            timespec="seconds"
        )
        for tag, value in (
            ("SubmittedByFirstName", first or user_first),
            ("SubmittedByLastName", last or user_last),
            ("SubmittedByEmail", email or user_email),
            ("SubmittedByComments", comments or fs_comments),
            ("RegulatorCode", regulator),
            ("SubmittalStatus", str(status)),
        ):
            if value:
                sub(header, tag).text = value
        if action_at is not None:
            action = sub(header, "SubmittalActionDetails")
            sub(action, "SubmittalActionOn").text = action_at.astimezone(zone).isoformat(
                timespec="seconds"
            )
            for tag, value in (
                ("SubmittalActionAgentName", agent_name),
                ("SubmittalActionAgentEmail", agent_email),
                ("SubmittalActionComments", action_comments),
            ):
                if value:
                    sub(action, tag).text = value
        sub(header, "CERSUniqueKey").text = str(key)
        names = tags[code]
        tree_values(element, data or {}, names)
        if materials:
            chemicals = sub(element, "Chemicals")
            for (_record, _id, material), mixture in materials:
                chemical = sub(chemicals, "Chemical")
                tree_values(chemical, material or {}, names)
                for _m, position, name, cas, percent, ehs in mixture:
                    for tag, value in (("Name", name), ("CAS", cas), ("EHS", ehs)):
                        sub(chemical, f"HC{position}{tag}").text = value
                    sub(chemical, f"HC{position}PercentByWeight").text = str(percent)
        if location[0] is not None and code == 1:
            point = sub(sub(element, "GeographicInformation"), "CERSPoint")
            for tag, value in zip(LOCATION_TAGS, location, strict=True):
                sub(point, tag).text = str(value)
        for (_record, _id, slot, source, comment, provided, other, url), files in documents:
            answer = sub(element, slot)
            if source == 6:
                attachments = sub(answer, "Attachments")
                for _d, file_key, name, title, description, authored, upload_key in files:
                    attachment = sub(attachments, "Attachment")
                    sub(attachment, "AttachmentFileName").text = name
                    sub(attachment, "DocumentTitle").text = title
                    sub(attachment, "DocumentDescription").text = description
                    sub(attachment, "DateAuthored").text = str(authored)
                    sub(attachment, "DocumentRegulatorKey").text = upload_key
                    sub(attachment, "CERSUniqueKey").text = str(file_key)
            else:
                for tag, value in (
                    ("Comment", comment),
                    ("DateProvided", provided),
                    ("SubmittalElementCode", other),
                    ("PublicInternetUri", url),
                ):
                    if value:
                        sub(answer, tag).text = str(value)

    def opening(row) -> tuple:
        (_fs, _c, fs_local, fs_key, cers_id, local, regulator_key, org_code, org_name) = row[:9]
        return (
            str(cers_id),
            str(org_code),
            org_name,
            fs_local or local or None,
            fs_key or regulator_key or None,
        )

    with (
        connection,
        etree.xmlfile(sink, encoding="utf-8") as xf,
        xf.element("RegulatorFacilitySubmittals"),
    ):
        xf.flush()
        group_id, group = None, None
        for row, documents, materials in _raw_rows(connection):
            if how == "text":
                if row[0] != group_id:
                    if group is not None:
                        group.append("</FacilitySubmittal>")
                        sink.write("".join(group).encode())
                    cers_id, org_code, org_name, local, regulator_key = opening(row)
                    group_id, group = (
                        row[0],
                        [
                            f"<FacilitySubmittal><CERSID>{cers_id}</CERSID><CERSOrganization>"
                            f"<OrganizationCode>{org_code}</OrganizationCode><OrganizationName>"
                            f"{escaped(org_name)}</OrganizationName></CERSOrganization>"
                        ],
                    )
                    if local:
                        group.append(f"<FacilityID>{escaped(local)}</FacilityID>")
                    if regulator_key:
                        group.append(
                            f"<FacilityRegulatorKey>{escaped(regulator_key)}</FacilityRegulatorKey>"
                        )
                text_element(group, row, documents, materials)
            else:
                if row[0] != group_id:
                    if group is not None:
                        xf.write(group)
                    cers_id, org_code, org_name, local, regulator_key = opening(row)
                    group_id, group = row[0], etree.Element("FacilitySubmittal")
                    sub(group, "CERSID").text = cers_id
                    organization = sub(group, "CERSOrganization")
                    sub(organization, "OrganizationCode").text = org_code
                    sub(organization, "OrganizationName").text = org_name
                    if local:
                        sub(group, "FacilityID").text = local
                    if regulator_key:
                        sub(group, "FacilityRegulatorKey").text = regulator_key
                tree_element(group, row, documents, materials)
            elements += 1
        if group is not None:
            if how == "text":
                group.append("</FacilitySubmittal>")
                sink.write("".join(group).encode())
            else:
                xf.write(group)
    return {
        "elements": elements,
        "seconds": time.perf_counter() - started,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


def measure_raw_flat() -> dict:
    """The raw limit as it was first written: one flat element per stored string field of
    each element (with its facility's CERSID and the element's key), from one cursor over
    the elements alone; about 40 % of the answer's bytes."""
    setup_django()
    from lxml import etree

    from edt.api.base import BATCH_SIZE

    connection = _raw_connection()  # before the clock starts, as for the other raw limits
    before = rss_mb()
    started = time.perf_counter()
    elements = 0
    size = 0

    class Sink:
        def write(self, data):
            nonlocal size
            size += len(data)

    with connection, connection.cursor(name="raw_flat") as cursor:
        cursor.itersize = BATCH_SIZE
        cursor.execute(
            "SELECT f.cers_id, e.key, e.data FROM submittals_submittalelementrecord e "
            "JOIN facilities_facility f ON f.id = e.facility_id WHERE e.status <> 1 "
            "ORDER BY e.facility_submittal_id"
        )
        with (
            etree.xmlfile(Sink(), encoding="utf-8") as xf,
            xf.element("RegulatorFacilitySubmittals"),
        ):
            for cers_id, key, data in cursor:
                element = etree.Element("FacilitySubmittal")
                etree.SubElement(element, "CERSID").text = str(cers_id)
                fi = etree.SubElement(element, "FacilityInformation")
                etree.SubElement(fi, "CERSUniqueKey").text = str(key)
                for name, value in (data or {}).items():
                    if isinstance(value, str):
                        etree.SubElement(fi, "F" + name.replace(".", "_")).text = value
                xf.write(element)
                elements += 1
    return {
        "elements": elements,
        "seconds": time.perf_counter() - started,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


# The whole agency's CME, action item and transfer queries (``--cme``): the path, the tag that
# opens a record (its first is the first record) and a tag each record holds once (counted).
AGENCY_QUERIES = {
    "rcmeq": ("/EDT/Regulator/CME/Query", b"<Inspection>", b"<RegulatorActionDateTime>"),
    "raiq": ("/EDT/Regulator/ActionItem", b"<ActionItem>", b"<ActionItem>"),
    "rftq": (
        "/EDT/Regulator/Faclility/Transfer",
        b"<RegulatorFacilityTransfer>",
        b"<RegulatorFacilityTransfer>",
    ),
}


def measure_agency_query(name: str) -> dict:
    """One whole-agency query over Django's test client, after a warm-up call for one
    facility that has none of its records; the run checks that it wrote as many records as its
    transaction row states it counted."""
    setup_django()
    from django.test import Client

    from edt.credentials import legacy_value
    from edt.models import EdtTransaction

    path, first_tag, counted_tag = AGENCY_QUERIES[name]
    client = Client()
    header = f"user bench_edt:{legacy_value(SECRET)}"
    url = f"{path}?regulatorCode=1001"
    warm = client.get(f"{url}&CERSID=1", HTTP_AUTHORIZATION=header)
    b"".join(warm.streaming_content)
    before = rss_mb()
    started = time.perf_counter()
    response = client.get(url, HTTP_AUTHORIZATION=header)
    first_record = None
    records = 0
    tail = b""  # a tag may be cut between two chunks
    for chunk in response.streaming_content:
        if first_record is None and first_tag in tail + chunk:
            first_record = time.perf_counter() - started
        records += (tail + chunk).count(counted_tag)
        tail = chunk[-(len(counted_tag) - 1) :]
    seconds = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    stated = EdtTransaction.objects.get(key=response["X-CERS-Transaction-Key"]).result_count
    assert records == stated, (records, stated)
    return {
        "records": records,
        "seconds": seconds,
        "first_record_seconds": first_record,
        "rss_growth_mb": rss_mb() - before,
    }


# The raw limit of each: the same main rows (each query's columns, joined to the rows it
# writes from) read through a server-side cursor, and their columns written by lxml.
RAW_AGENCY_SQL = {
    "rcmeq": [
        (
            "Inspection",
            "SELECT f.cers_id, i.regulator_key, i.cers_key, i.program_element, i.occurred_on, "
            "i.inspection_type, i.ust_operational_compliance, i.violations_rtc_on, i.comments, "
            "r.code, COALESCE(i.regulator_action_at, i.created_at) "
            "FROM cme_inspection i JOIN facilities_facility f ON f.id = i.facility_id "
            "JOIN regulators_regulator r ON r.id = i.regulator_id ORDER BY i.id",
        ),
        (
            "Enforcement",
            "SELECT f.cers_id, e.regulator_key, e.cers_key, e.red_tag_issued, "
            "e.red_tag_number, e.enforcement_type, e.occurred_on, e.formal_type, "
            "e.docket_number, e.fine_amount, e.comments, r.code, "
            "COALESCE(e.regulator_action_at, e.created_at) "
            "FROM cme_enforcement e JOIN facilities_facility f ON f.id = e.facility_id "
            "JOIN regulators_regulator r ON r.id = e.regulator_id ORDER BY e.id",
        ),
        (
            "Violation",
            "SELECT i.regulator_key, i.cers_key, v.regulator_key, v.cers_key, t.type_number, "
            "v.violation_class, v.occurred_on, v.scheduled_rtc_on, v.comments, r.code, "
            "COALESCE(v.regulator_action_at, i.created_at) "
            "FROM cme_violation v JOIN cme_inspection i ON i.id = v.inspection_id "
            "JOIN regulators_regulator r ON r.id = i.regulator_id "
            "JOIN libraries_violationtype t ON t.id = v.violation_type_id ORDER BY v.id",
        ),
        (
            "EnforcementViolation",
            "SELECT e.regulator_key, e.cers_key, v.regulator_key, v.cers_key, "
            "l.regulator_key, l.cers_key, r.code, COALESCE(l.regulator_action_at, e.created_at) "
            "FROM cme_enforcement_violations l JOIN cme_enforcement e ON e.id = l.enforcement_id "
            "JOIN cme_violation v ON v.id = l.violation_id "
            "JOIN regulators_regulator r ON r.id = e.regulator_id ORDER BY l.id",
        ),
    ],
    "raiq": [
        (
            "ActionItem",
            "SELECT e.submitted_at, e.element, e.status, e.id, f.name, f.cers_id, o.name, o.code "
            "FROM submittals_submittalelementrecord e "
            "JOIN facilities_facility f ON f.id = e.facility_id "
            "JOIN organizations_organization o ON o.id = f.organization_id "
            "JOIN regulators_regulator r ON r.id = e.regulator_id "
            "WHERE r.code = '1001' AND e.status IN (2, 3) ORDER BY e.submitted_at, e.id",
        )
    ],
    "rftq": [
        (
            "RegulatorFacilityTransfer",
            "SELECT t.facility_cers_id, t.facility_name, o.code, o.name, o.headquarters, "
            "t.performed_at, t.from_organization_code, t.from_organization_name, t.reason "
            "FROM facilities_facilitytransfer t "
            "JOIN organizations_organization o ON o.id = t.to_organization_id "
            "ORDER BY t.performed_at, t.id",
        )
    ],
}


def measure_raw_agency_query(name: str) -> dict:
    """The raw limit of one whole-agency query: ``RAW_AGENCY_SQL``'s rows, BATCH_SIZE at a
    time through a server-side cursor, each row an element of its columns in an lxml
    ``xmlfile``."""
    setup_django()
    import psycopg
    from django.conf import settings
    from lxml import etree

    from edt.api.base import BATCH_SIZE

    database = settings.DATABASES["default"]
    before = rss_mb()
    started = time.perf_counter()
    first_record = None
    records = 0

    class Sink:
        def write(self, data):
            pass

    with (
        psycopg.connect(
            dbname=database["NAME"],
            user=database["USER"],
            host=database["HOST"],
            port=database["PORT"] or 5432,
        ) as connection,
        etree.xmlfile(Sink(), encoding="utf-8") as xf,
        xf.element("Answer"),
    ):
        for tag, sql in RAW_AGENCY_SQL[name]:
            with connection.cursor(name=f"raw_{tag}") as cursor:
                cursor.itersize = BATCH_SIZE
                cursor.execute(sql)
                columns = [f"C{n}" for n in range(len(cursor.description))]
                with xf.element(f"{tag}s"):
                    for row in cursor:
                        element = etree.Element(tag)
                        for column, value in zip(columns, row, strict=True):
                            if value is not None and value != "":
                                etree.SubElement(element, column).text = str(value)
                        xf.write(element)
                        if first_record is None:
                            first_record = time.perf_counter() - started
                        records += 1
    return {
        "records": records,
        "seconds": time.perf_counter() - started,
        "first_record_seconds": first_record,
        "rss_growth_mb": rss_mb() - before,
    }


def _notifications(count: int) -> tuple[bytes, list[str]]:
    from django.utils import timezone

    from submittals.models import SubmittalElementRecord

    rows = list(
        SubmittalElementRecord.objects.filter(status=2)
        .order_by("pk")
        .values_list("key", "facility__cers_id")[:count]
    )
    if len(rows) < count:
        raise SystemExit(
            f"Only {len(rows):,} submitted elements are left to review; seed more (--sizes)."
        )
    when = (timezone.localtime() - timedelta(seconds=5)).replace(tzinfo=None, microsecond=0)
    ns = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittalActionNotification/1/05/"
    parts = [
        f'<cers:RegulatorFacilitySubmittalActionNotifications xmlns:cers="{ns}"><SubmittalElements>'
    ]
    for key, cers_id in rows:
        parts.append(
            f'<SubmittalElement code="1"><CERSUniqueKey>{key}</CERSUniqueKey>'
            f"<CERSID>{cers_id}</CERSID><RegulatorCode>1001</RegulatorCode>"
            f"<SubmittalAction>3</SubmittalAction><SubmittalActionOn>{when.isoformat()}"
            "</SubmittalActionOn><SubmittalActionAgentName>Bench</SubmittalActionAgentName>"
            "<SubmittalActionAgentEmail>bench@example.com</SubmittalActionAgentEmail>"
            "</SubmittalElement>"
        )
    parts.append("</SubmittalElements></cers:RegulatorFacilitySubmittalActionNotifications>")
    return "".join(parts).encode(), [str(k) for k, _ in rows]


RFSAN_SCHEMA = ("RegulatorFacilitySubmittalActionNotification", "1/05")


def warm_up() -> None:
    """What a worker does once, not per upload: compile the schema, load the template
    engine and the review e-mails' templates, and the URLconf (the e-mail of one action
    links to the facility's submittals)."""
    from django.template.loader import get_template
    from django.urls import get_resolver

    from core import xmlsafe

    xmlsafe.schema_for(*RFSAN_SCHEMA)
    get_resolver().reverse_dict  # noqa: B018 (imports every view module, maps the names)
    for name in ("review", "reviews"):
        for part in ("subject", "body"):
            get_template(f"submittals/email/{name}_{part}.txt")


def _queued_upload(endpoint: str, schema: tuple[str, str], body: bytes):
    """An EDT upload's transaction row, queued with ``body`` as its payload, as
    ``edt.uploads.receive`` leaves it for the worker."""
    from django.core.files.base import ContentFile

    from edt.models import EdtAccount, EdtTransaction

    account = EdtAccount.objects.select_related("regulator").get(username="bench_edt")
    row = EdtTransaction(
        key=uuid.uuid4(),
        endpoint=endpoint,
        environment="production",
        account=account,
        regulator=account.regulator,
        status=EdtTransaction.Status.QUEUED,
        schema_version=schema[1],
        payload_bytes=len(body),
    )
    row.payload.save(f"{row.key}.xml", ContentFile(body), save=False)
    row.save()
    return row


def _timed_upload(endpoint: str, schema: tuple[str, str], body: bytes, count: int) -> dict:
    """The upload's two passes, timed together: the request's check
    (``xmlsafe.check_document``, as ``edt.uploads.receive`` runs it) and the worker's
    ``edt.uploads.process``, after a warm-up of what a worker does once."""
    from core import xmlsafe
    from edt import uploads
    from edt.models import EdtTransaction

    row = _queued_upload(endpoint, schema, body)
    warm_up()
    xmlsafe.schema_for(*schema)
    before = rss_mb()
    started = time.perf_counter()
    checked = xmlsafe.check_document(body, expected_schema=schema[0])
    check_seconds = time.perf_counter() - started
    check_growth = rss_mb() - before
    assert not checked.problems, checked.problems[:3]
    uploads.process(row.pk)
    seconds = time.perf_counter() - started
    row.refresh_from_db()
    assert row.status == EdtTransaction.Status.ACCEPTED, row.messages[:3]
    return {
        "records": count,
        "seconds": seconds,
        "check_seconds": check_seconds,
        "check_rss_growth_mb": check_growth,
        "mb": len(body) / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


def _raw_limit(body: bytes, schema: tuple[str, str], table: str, tag: str, row_of) -> dict:
    """An upload's raw limit: lxml parsing ``body``, XSD validation of the tree and COPY into
    the temporary ``table`` (its columns declared) of ``row_of(element)`` for each ``tag``."""
    from django.db import connection
    from lxml import etree

    from core.xmlsafe import hardened_parser, schema_for

    validator = schema_for(*schema)
    before = rss_mb()
    started = time.perf_counter()
    root = etree.fromstring(body, hardened_parser())
    assert validator.validate(root), validator.error_log
    rows = [row_of(element) for element in root.iter(tag)]
    name = table.split(" ", 1)[0]
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {table}")
        with cursor.copy(f"COPY {name} FROM STDIN") as copy_in:  # noqa: S608 (a constant)
            for row in rows:
                copy_in.write_row(row)
    return {
        "records": len(rows),
        "seconds": time.perf_counter() - started,
        "rss_growth_mb": rss_mb() - before,
    }


def measure_upload(count: int) -> dict:
    """An RFSAN upload of ``count`` action notifications (``_timed_upload``)."""
    setup_django()
    body, _keys = _notifications(count)
    return _timed_upload("RFSAN", RFSAN_SCHEMA, body, count)


def measure_raw_upload(count: int) -> dict:
    """lxml parsing the same document, XSD validation of the tree, and COPY of one row per
    record: the floor."""
    setup_django()
    body, _keys = _notifications(count)
    return _raw_limit(
        body,
        RFSAN_SCHEMA,
        "bench_actions (key uuid, status int, action_on timestamp)",
        "SubmittalElement",
        lambda n: (
            n.findtext("CERSUniqueKey"),
            int(n.findtext("SubmittalAction")),
            n.findtext("SubmittalActionOn"),
        ),
    )


def _plain_sql(write, upload: tuple[str, tuple[str, str], bytes] | None = None) -> dict:
    """The plain-SQL floor of an upload: ``write(cursor, transaction_id)`` makes the writes
    the upload must make and returns how many records it wrote; then the deferred foreign-key
    checks COMMIT would run (``SET CONSTRAINTS ALL IMMEDIATE``), all timed, and everything
    rolled back, so the upload measured next finds the data as it was. With ``upload``
    (endpoint, schema, body), a queued transaction row for its entity keys first
    (``_queued_upload``, not timed; its stored payload deleted after the rollback)."""
    from django.db import connection, transaction

    row = None
    with transaction.atomic(), connection.cursor() as cursor:
        if upload is not None:
            row = _queued_upload(*upload)
        started = time.perf_counter()
        records = write(cursor, row.pk if row is not None else None)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        seconds = time.perf_counter() - started
        transaction.set_rollback(True)
    if row is not None:
        row.payload.delete(save=False)
    return {"records": records, "seconds": seconds}


def _copy_in(cursor, table: str, columns, rows: list, *, keys: bool = False) -> list[int]:
    """COPY ``rows`` (the values of ``columns``, names) into ``table``; with ``keys``, each row
    first given a primary key drawn from the table's sequence in one query, as
    ``core.services.insert_values`` draws them. Returns the keys drawn."""
    pks: list[int] = []
    if keys:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(rows)],
        )
        pks = sorted(key for (key,) in cursor.fetchall())
        columns = ("id", *columns)
        rows = [(pk, *row) for pk, row in zip(pks, rows, strict=True)]
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with cursor.copy(sql) as copy_in:
        for row in rows:
            copy_in.write_row(row)
    return pks


def _copy_events(cursor, events: list) -> None:
    """COPY audit events, each the columns ``core.services.record_events`` writes and its
    time."""
    from core.services import AuditRow

    _copy_in(cursor, "core_auditevent", (*AuditRow._fields, "created_at"), events)


def _copy_entity_keys(cursor, entity_keys: list) -> None:
    """COPY an answer's entity keys, the columns ``edt.uploads.EntityKeys`` writes."""
    from edt.uploads import ENTITY_KEY_COLUMNS

    _copy_in(cursor, "edt_edtentitykey", ENTITY_KEY_COLUMNS, entity_keys)


def measure_database_floor(count: int) -> dict:
    """What PostgreSQL itself spends on the writes an RFSAN upload must make, in plain SQL on
    the same tables (``_plain_sql``): lock the elements named, update their review columns
    (the table's indexes with them), COPY one audit event each."""
    setup_django()
    _body, keys = _notifications(count)

    def write(cursor, _transaction_id) -> int:
        cursor.execute(
            "SELECT id FROM submittals_submittalelementrecord WHERE key = ANY(%s::uuid[]) "
            "ORDER BY key FOR UPDATE",
            [keys],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM accounts_user ORDER BY id LIMIT 1")
        [user] = cursor.fetchone()
        cursor.execute(
            "UPDATE submittals_submittalelementrecord SET status = 3, action_by_id = %s, "
            "action_at = now(), action_agent_name = 'Bench', "
            "action_agent_email = 'bench@example.com', action_comments = '' "
            "WHERE id = ANY(%s)",
            [user, ids],
        )
        event = ("submittal.reviewed", "submittals.submittalelementrecord")
        text, before = "Facility Information (Under Review)", '{"status": 2, "comments": ""}'
        after = '{"status": 3, "comments": ""}'
        events = [(user, *event, str(pk), text, None, None, before, after, "now") for pk in ids]
        _copy_events(cursor, events)
        return len(ids)

    return _plain_sql(write)


CME_SCHEMA = ("RegulatorCMESubmit", "1/05")
CME_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorCMESubmit/1/05/"


def _inspections(count: int) -> bytes:
    """An RCMES document adding ``count`` inspections (HMRRP, each at its own facility, each
    with a new regulator key), after routing those facilities' inventory element to the CUPA:
    the CUPA then handles their HMRRP program element."""
    from facilities.models import Facility, FacilityRegulator
    from regulators.models import Regulator

    cupa = Regulator.objects.get(code="1001")
    facilities = list(Facility.objects.order_by("cers_id").values_list("pk", "cers_id")[:count])
    routed = set(
        FacilityRegulator.objects.filter(element=2, regulator=cupa).values_list(
            "facility_id", flat=True
        )
    )
    FacilityRegulator.objects.bulk_create(
        [
            FacilityRegulator(facility_id=pk, element=2, regulator=cupa)
            for pk, _cers_id in facilities
            if pk not in routed
        ],
        batch_size=5000,
    )
    run = uuid.uuid4().hex[:8]
    record = (
        "<Inspection><InspectionHeader><RegulatorCode>1001</RegulatorCode>"
        "<RegulatorActionDateTime>2024-05-02T09:00:00</RegulatorActionDateTime>"
        "<CMEDataStatus>2</CMEDataStatus></InspectionHeader><CERSID>{cers_id}</CERSID>"
        "<InspectionRegulatorKey>bench-{run}-{n}</InspectionRegulatorKey>"
        "<ProgramElement>a</ProgramElement><OccurredOn>2024-05-01</OccurredOn><Type>a</Type>"
        "</Inspection>"
    )
    return (
        f'<cers:CMESubmittals xmlns:cers="{CME_NS}"><Inspections>'
        + "".join(
            record.format(cers_id=cers_id, run=run, n=n)
            for n, (_pk, cers_id) in enumerate(facilities)
        )
        + "</Inspections></cers:CMESubmittals>"
    ).encode()


def measure_cme_upload(count: int) -> dict:
    """An RCMES upload of ``count`` new inspections (``_timed_upload``: the document read
    streaming, the records checked and written a thousand at a time by
    ``cme.services.record_cme_batch``)."""
    setup_django()
    return _timed_upload("RCMES", CME_SCHEMA, _inspections(count), count)


def measure_raw_cme(count: int) -> dict:
    """The raw limit of the same RCMES document: lxml parse, XSD validation of the tree, COPY
    of one row per inspection."""
    setup_django()
    return _raw_limit(
        _inspections(count),
        CME_SCHEMA,
        "bench_inspections (cers_id int, key text, on_ date)",
        "Inspection",
        lambda n: (
            n.findtext("CERSID"),
            n.findtext("InspectionRegulatorKey"),
            n.findtext("OccurredOn"),
        ),
    )


def measure_cme_floor(count: int) -> dict:
    """What PostgreSQL itself spends on the writes the same RCMES upload must make, in plain
    SQL on the same tables (``_plain_sql``): COPY the new inspections (every column
    ``cme.services.record_cme_batch`` writes, their keys drawn from the sequence), one audit
    event each with the ``after`` the service writes, and the answer's entity keys. The
    document is read, and the rows built from it, before the timing."""
    setup_django()
    from django.utils import timezone
    from lxml import etree

    from cme.models import Inspection
    from cme.services import INSPECTION_COLUMNS, INSPECTION_FIELDS
    from edt.models import EdtAccount
    from edt.processors.cme import EDT_INSPECTOR
    from facilities.models import Facility

    body = _inspections(count)
    account = EdtAccount.objects.select_related("regulator").get(username="bench_edt")
    regulator = account.regulator
    records = list(etree.fromstring(body).iter("Inspection"))
    facilities = dict(
        Facility.objects.filter(cers_id__in=[int(n.findtext("CERSID")) for n in records])
        .values_list("cers_id", "pk")
        .iterator()
    )
    rows, afters, texts = [], [], []
    for n in records:
        cers_id = int(n.findtext("CERSID"))
        values = {
            "program_element": n.findtext("ProgramElement"),
            "inspection_type": n.findtext("Type"),
            "occurred_on": n.findtext("OccurredOn"),
            "inspector_name": EDT_INSPECTOR,
            "ust_operational_compliance": "",
            "violations_rtc_on": None,
            "comments": "",
        }
        action_at = timezone.make_aware(
            datetime.fromisoformat(n.findtext("InspectionHeader/RegulatorActionDateTime"))
        )
        head = (uuid.uuid4(), n.findtext("InspectionRegulatorKey"), action_at)
        head += (facilities[cers_id], regulator.pk, account.user_id, "now")
        rows.append((*head, *(values[name] for name in INSPECTION_FIELDS)))
        afters.append(json.dumps({"facility": cers_id, "regulator": regulator.code, **values}))
        texts.append(Inspection.describe(values["program_element"], values["occurred_on"]))
    event = (account.user_id, "cme.inspection.recorded", "cme.inspection")

    def write(cursor, transaction_id) -> int:
        pks = _copy_in(cursor, "cme_inspection", INSPECTION_COLUMNS, rows, keys=True)
        events = [
            (*event, str(pk), text, None, regulator.pk, None, after, "now")
            for pk, text, after in zip(pks, texts, afters, strict=True)
        ]
        _copy_events(cursor, events)
        keys = [
            (transaction_id, position, "CMEI", row[1], str(row[0]))
            for position, row in enumerate(rows)
        ]
        _copy_entity_keys(cursor, keys)
        return len(pks)

    return _plain_sql(write, ("RCMES", CME_SCHEMA, body))


RFS_SCHEMA = ("RegulatorFacilitySubmittal", "1/10")


def _submit_inventory(facility) -> None:
    """Submit Facility Information and an inventory of one chemical for ``facility`` through
    the services, as its business would: what RFSQ then answers is the RFS documents' model."""
    from django.contrib.auth import get_user_model

    from submittals import services
    from submittals.inventory import add_material
    from tests.submittals.data import (
        DIESEL,
        answer_required_documents,
        complete_facility_information,
    )

    lead = get_user_model().objects.get(email="lead@bench.example")
    records = []
    for element in (1, 2):
        record = services.start_draft(actor=lead, facility=facility, element=element)
        data = complete_facility_information(f3=facility.name) if element == 1 else {}
        record = services.save_draft_data(actor=lead, record=record, data=data)
        if element == 2:
            add_material(actor=lead, record=record, values=DIESEL)
        answer_required_documents(lead, record)
        records.append(record)
    services.submit(
        actor=lead, facility=facility, elements=records, certifier_name="Bench", certifier_title="R"
    )


def _facility_submittal(count: int) -> bytes:
    """An RFS document (schema 1/10) for a facility no earlier RFS upload used: the template
    facility's Facility Information and inventory as RFSQ answers them (submitted once through
    the services, the first time), made an RFS as the tests make one (``tests.edt.test_rfs``),
    its one chemical repeated ``count`` times, each with its own regulator key. The facility's
    inventory element is routed to the CUPA first, as RCMES's facilities are."""
    import copy as copying

    from django.test import Client
    from lxml import etree

    from edt.credentials import legacy_value
    from facilities.models import Facility, FacilityRegulator
    from regulators.models import Regulator
    from tests.edt.test_rfs import to_rfs

    template = Facility.objects.get(name="Bench Depot 0")
    if not template.submittal_elements.filter(element=2).exists():
        _submit_inventory(template)
    header = f"user bench_edt:{legacy_value(SECRET)}"
    url = "/EDT/Regulator/FacilitySubmittal/Query?regulatorCode=1001&schemaVersion=1/10"
    response = Client().get(f"{url}&CERSID={template.cers_id}", HTTP_AUTHORIZATION=header)
    assert response.status_code == 200, response.status_code
    answer = etree.fromstring(b"".join(response.streaming_content))
    [query] = [
        s
        for s in answer.iter("FacilitySubmittal")
        if s.find("HazardousMaterialsInventory") is not None
    ]
    target = (
        Facility.objects.exclude(submittal_elements__element=2)
        .exclude(pk=template.pk)
        .order_by("-cers_id")
    ).first()
    FacilityRegulator.objects.get_or_create(
        facility=target, element=2, defaults={"regulator": Regulator.objects.get(code="1001")}
    )
    document = etree.fromstring(to_rfs(query, target.cers_id))
    chemical = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical")
    for _ in range(count - 1):
        twin = copying.deepcopy(chemical)
        twin.find("ChemicalRegulatorKey").text = str(uuid.uuid4())
        chemical.addnext(twin)
    chemical.find("ChemicalRegulatorKey").text = str(uuid.uuid4())
    return etree.tostring(document, xml_declaration=True, encoding="utf-8")


def measure_rfs_upload(count: int) -> dict:
    """An RFS upload of one facility submittal whose inventory holds ``count`` chemicals
    (``_timed_upload``)."""
    setup_django()
    return _timed_upload("RFS", RFS_SCHEMA, _facility_submittal(count), count)


def measure_rfs_answer(how: str) -> dict:
    """The status answer (GET on RFS's path with the transaction key, through Django's test
    client) of the latest accepted RFS upload, its entity keys, one per chemical, read from
    their table as it is written; ``how``: "xml" or "json". After a warm-up of what a process
    does once (a status query for an unknown key)."""
    setup_django()
    from django.test import Client
    from django.urls import reverse

    from edt.credentials import legacy_value
    from edt.models import EdtTransaction

    header = f"user bench_edt:{legacy_value(SECRET)}"
    accept = {"HTTP_ACCEPT": "application/json"} if how == "json" else {}
    client = Client()

    def status(key) -> tuple[int, int]:
        url = reverse("edt:rfs_one", kwargs={"CERSTransactionKey": str(key)})
        response = client.get(f"{url}?regulatorCode=1001", HTTP_AUTHORIZATION=header, **accept)
        chunks = response.streaming_content if response.streaming else [response.content]
        return response.status_code, sum(len(chunk) for chunk in chunks)

    assert status(uuid.uuid4())[0] == 404
    # The upload, not a status query (logged as RFS calls too).
    uploads = EdtTransaction.objects.filter(endpoint="RFS", status=2, payload_bytes__gt=0)
    row = uploads.latest("pk")
    before = rss_mb()
    started = time.perf_counter()
    code, size = status(row.key)
    assert code == 200, code
    return {
        "seconds": time.perf_counter() - started,
        "mb": size / 1e6,
        "rss_growth_mb": rss_mb() - before,
    }


def measure_raw_rfs(count: int) -> dict:
    """The raw limit of the same RFS document: lxml parse, XSD validation of the tree, COPY of
    one row per chemical."""
    setup_django()
    from lxml import etree

    return _raw_limit(
        _facility_submittal(count),
        RFS_SCHEMA,
        "bench_chemicals (key text, data text)",
        "Chemical",
        lambda n: (n.findtext("ChemicalRegulatorKey"), etree.tostring(n).decode()),
    )


def _copy_rows(cursor, model, pks: list[int], **changed: tuple[str, list]) -> list[tuple]:
    """INSERT ... SELECT of ``model``'s rows ``pks`` as new rows, each column as it is but
    the ``changed`` ones (column: SQL expression, its parameters). Returns each new row's
    key and the row's ``element`` (or key again)."""
    meta = model._meta
    columns = [f.column for f in meta.concrete_fields if not f.primary_key]
    picked, params = [], []
    for column in columns:
        sql, values = changed.get(column, (f'"{column}"', []))
        picked.append(sql)
        params += values
    element = "element" if "element" in columns else "id"
    cursor.execute(
        f"INSERT INTO {meta.db_table} ({', '.join(f'"{c}"' for c in columns)}) "  # noqa: S608
        f"SELECT {', '.join(picked)} FROM {meta.db_table} WHERE id = ANY(%s) "
        f"RETURNING id, {element}",
        [*params, pks],
    )
    return cursor.fetchall()


def measure_rfs_floor(count: int) -> dict:
    """What PostgreSQL itself spends on the writes the same RFS upload must make, in plain SQL
    on the same tables (``_plain_sql``): the facility submittal and its two elements (copied
    from the template facility's submitted ones, which the document was made from), COPY of
    the ``count`` materials (the template's chemical as the service stored it, each with the
    document's regulator key; it has no mixture components), an audit event for each material
    (the ``after`` the service writes), for each element and for the submittal, and the
    answer's entity keys. The document is read, and the rows built from it, before the
    timing."""
    setup_django()
    from lxml import etree

    from edt.models import EdtAccount
    from facilities.models import Facility
    from submittals.inventory import _MATERIAL_COLUMNS, REGULATOR_KEY
    from submittals.models import (
        FacilitySubmittal,
        HazardousMaterial,
        SubmittalElementRecord,
        SubmittalType,
    )

    body = _facility_submittal(count)
    document = etree.fromstring(body)
    target = Facility.objects.get(cers_id=int(document.findtext("FacilitySubmittal/CERSID")))
    chemicals = [n.text for n in document.iter("ChemicalRegulatorKey")]
    actor = EdtAccount.objects.get(username="bench_edt").user_id
    group = FacilitySubmittal.objects.filter(facility__name="Bench Depot 0").latest("pk")
    elements = dict(
        SubmittalElementRecord.objects.filter(facility_submittal=group).values_list("element", "pk")
    )
    [stored] = HazardousMaterial.objects.filter(record=elements[2]).values_list(
        *_MATERIAL_COLUMNS[2:]
    )
    data, rest = {k: v for k, v in stored[1].items() if k != REGULATOR_KEY}, stored[2:]
    texts = [json.dumps({**data, REGULATOR_KEY: key}) for key in chemicals]
    keys = {element: uuid.uuid4() for element in (1, 2)}
    hmi = [uuid.uuid5(keys[2], f"/Chemicals/Chemical[{n}]") for n in range(len(chemicals))]
    organization = target.organization_id
    # Written by the EDT account's user, submitted by no person, as the service does.
    now, mine, nobody = ("now()", []), ("%s", [actor]), ("NULL", [])
    cupa = target.regulators.get(element=2).regulator_id

    def write(cursor, transaction_id) -> int:
        [(submittal, _id)] = _copy_rows(
            cursor,
            FacilitySubmittal,
            [group.pk],
            facility_id=("%s", [target.pk]),
            created_at=now,
            submitted_at=now,
            created_by_id=mine,
            submitted_by_id=nobody,
        )
        records = {
            element: pk
            for pk, element in _copy_rows(
                cursor,
                SubmittalElementRecord,
                list(elements.values()),
                key=("(%s::uuid[])[element]", [[keys[1], keys[2]]]),
                facility_id=("%s", [target.pk]),
                facility_submittal_id=("%s", [submittal]),
                created_at=now,
                updated_at=now,
                submitted_at=now,
                saved_at=now,
                created_by_id=mine,
                submitted_by_id=nobody,
                submittal_type=("%s", [SubmittalType.PASS_THROUGH]),
            )
        }
        inventory = records[2]
        materials = [
            (inventory, position, stored[0], text, *rest)
            for position, text in enumerate(texts, start=1)
        ]
        pks = _copy_in(
            cursor, "submittals_hazardousmaterial", _MATERIAL_COLUMNS, materials, keys=True
        )
        added = ("inventory.material_added", "submittals.hazardousmaterial")
        events = [
            (
                actor,
                *added,
                str(pk),
                rest[0],
                organization,
                None,
                None,
                f'{{"record": {inventory}, "position": {position}, "data": {text}, '
                '"components": []}',
                "now",
            )
            for position, (pk, text) in enumerate(zip(pks, texts, strict=True), start=1)
        ]
        # The elements' and the submittal's own events, as small as the service's.
        events += [
            (actor, "submittal.element_submitted", "submittals.submittalelementrecord", str(pk))
            + (
                f"Element {element} (Submitted) of CERS ID {target.cers_id}",
                organization,
                cupa,
                '{"status": 1}',
            )
            + ('{"status": 2, "regulator": "1001", "submittal_type": 2}', "now")
            for element, pk in records.items()
        ]
        events += [
            (actor, action, "submittals.facilitysubmittal", str(submittal), "Facility submittal")
            + (organization, None, None, '{"via": "EDT", "elements": [1, 2]}', "now")
            for action in ("submittal.received", "submittal.submitted")
        ]
        _copy_events(cursor, events)
        entities = [
            (transaction_id, 0, "BA", str(uuid.uuid4()), str(uuid.uuid5(keys[1], "/BA"))),
            (transaction_id, 1, "BOOI", str(uuid.uuid4()), str(uuid.uuid5(keys[1], "/BOOI"))),
        ]
        entities += [
            (transaction_id, position, "HMI", key, str(cers_key))
            for position, (key, cers_key) in enumerate(zip(chemicals, hmi, strict=True), start=2)
        ]
        _copy_entity_keys(cursor, entities)
        return len(pks)

    return _plain_sql(write, ("RFS", RFS_SCHEMA, body))


def _synthetic(count: int) -> bytes:
    """An RFSAN document of ``count`` notifications with made-up keys: the check alone does
    not look them up, so its sizes need no seeded elements."""
    ns = "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittalActionNotification/1/05/"
    record = (
        '<SubmittalElement code="1"><CERSUniqueKey>{key}</CERSUniqueKey><CERSID>{n}</CERSID>'
        "<RegulatorCode>1001</RegulatorCode><SubmittalAction>3</SubmittalAction>"
        "<SubmittalActionOn>2026-01-05T10:00:00</SubmittalActionOn>"
        "<SubmittalActionAgentName>Bench</SubmittalActionAgentName>"
        "<SubmittalActionAgentEmail>bench@example.com</SubmittalActionAgentEmail>"
        "</SubmittalElement>"
    )
    return (
        f'<cers:RegulatorFacilitySubmittalActionNotifications xmlns:cers="{ns}"><SubmittalElements>'
        + "".join(record.format(key=uuid.uuid4(), n=10_000_000 + n) for n in range(count))
        + "</SubmittalElements></cers:RegulatorFacilitySubmittalActionNotifications>"
    ).encode()


def _vm(name: str) -> float:
    """This process's VmRSS or VmHWM (its peak), in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure_check(count: int, how: str) -> dict:
    """The request's check of an RFSAN document alone: streaming (``check_document``) or the
    whole tree parsed, then validated, as before it streamed. Memory: the growth of the peak
    over the memory just before (the document itself is already read)."""
    setup_django()
    from core import xmlsafe

    xmlsafe.schema_for(*RFSAN_SCHEMA)
    body = _synthetic(count)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")  # the peak starts again from here
    before = _vm("VmRSS")
    started = time.perf_counter()
    if how == "stream":
        assert not xmlsafe.check_document(body, expected_schema=RFSAN_SCHEMA[0]).problems
    else:
        parsed = xmlsafe.parse_document(body, expected_schema=RFSAN_SCHEMA[0])
        assert not xmlsafe.validate(parsed, parsed.schema())
    return {
        "records": count,
        "mb": len(body) / 1e6,
        "seconds": time.perf_counter() - started,
        "peak_growth_mb": _vm("VmHWM") - before,
    }


MEASURES = {
    "rfsq": lambda args: measure_rfsq(),
    "raw_query": lambda args: measure_raw_query("text"),
    "raw_tree": lambda args: measure_raw_query("tree"),
    "raw_flat": lambda args: measure_raw_flat(),
    "rfq": lambda args: measure_rfq(),
    "raw_rfq": lambda args: measure_raw_rfq(),
    **{name: (lambda args, n=name: measure_agency_query(n)) for name in AGENCY_QUERIES},
    **{
        f"raw_{name}": (lambda args, n=name: measure_raw_agency_query(n)) for name in AGENCY_QUERIES
    },
    "upload": lambda args: measure_upload(args.count),
    "raw_upload": lambda args: measure_raw_upload(args.count),
    "database_floor": lambda args: measure_database_floor(args.count),
    "cme_upload": lambda args: measure_cme_upload(args.count),
    "raw_cme": lambda args: measure_raw_cme(args.count),
    "cme_floor": lambda args: measure_cme_floor(args.count),
    "rfs_upload": lambda args: measure_rfs_upload(args.count),
    "raw_rfs": lambda args: measure_raw_rfs(args.count),
    "rfs_floor": lambda args: measure_rfs_floor(args.count),
    "rfs_answer_xml": lambda args: measure_rfs_answer("xml"),
    "rfs_answer_json": lambda args: measure_rfs_answer("json"),
    "check_stream": lambda args: measure_check(args.count, "stream"),
    "check_whole": lambda args: measure_check(args.count, "whole"),
}


def run(measure: str, count: int = 0) -> dict:
    output = subprocess.run(  # noqa: S603 - this script, with fixed arguments
        [sys.executable, __file__, "--measure", measure, "--count", str(count)],
        check=True,
        capture_output=True,
        text=True,
        env=os.environ,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


def report_agency_query(name: str) -> None:
    query, raw = run(name), run(f"raw_{name}")
    print(
        f"{name.upper()}, the whole agency, {query['records']:>7,} records: "
        f"{query['seconds']:.2f} s, {query['records'] / query['seconds']:,.0f} records/s "
        f"(first record {query['first_record_seconds'] * 1000:.0f} ms, peak RSS "
        f"+{query['rss_growth_mb']:.1f} MB) | raw cursor+lxml {raw['seconds']:.2f} s "
        f"(first record {raw['first_record_seconds'] * 1000:.0f} ms, "
        f"+{raw['rss_growth_mb']:.1f} MB) | ratio {query['seconds'] / raw['seconds']:.2f}x"
    )


def beside_floor(upload: dict, floor: dict) -> str:
    """An upload's line's end: its plain-SQL floor (``_plain_sql``), measured just before it,
    and its time over the floor's."""
    return (
        f" | the same writes in plain SQL {floor['records'] / floor['seconds']:>7,.0f} records/s"
        f" | ratio to the floor {upload['seconds'] / floor['seconds']:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000", help="RFSQ data set sizes ('' for none).")
    parser.add_argument("--uploads", default="1000,10000", help="Upload sizes (records).")
    parser.add_argument(
        "--checks", default="1000,10000,100000", help="Sizes of the check alone (records)."
    )
    parser.add_argument(
        "--cme-uploads",
        default="",
        help="CME submit (RCMES) upload sizes (inspections; '' for none).",
    )
    parser.add_argument(
        "--rfs-uploads",
        default="",
        help="Facility submittal submit (RFS) upload sizes (chemicals in its inventory; '' for "
        "none), one facility each.",
    )
    parser.add_argument(
        "--rfq",
        action="store_true",
        help="Also the whole agency's Facility Query (RFQ) at each size (a facility per element).",
    )
    parser.add_argument(
        "--cme",
        action="store_true",
        help="Also the whole agency's RCMEQ, RAIQ and RFTQ at each size (as many CME records, "
        "transfers and action items as elements), each beside its raw limit.",
    )
    parser.add_argument("--measure", choices=sorted(MEASURES), help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(MEASURES[args.measure](args)))
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit(
            "Set DATABASE_URL to a PostgreSQL database to (re)create, e.g. "
            "postgres://root@127.0.0.1:5432/cers_bench"
        )
    seeded = 0
    for size in [int(s) for s in args.sizes.split(",") if s]:
        recreate_database(url)
        seeded = size
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"import bench.bench_edt as b; b.seed({size}, cme={args.cme})"],
            check=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
        rfsq, raw = run("rfsq"), run("raw_query")
        tree, flat = run("raw_tree"), run("raw_flat")
        rate, raw_rate = rfsq["elements"] / rfsq["seconds"], raw["elements"] / raw["seconds"]
        tree_rate, flat_rate = (m["elements"] / m["seconds"] for m in (tree, flat))
        print(
            f"RFSQ {size:>7,} elements: {rate:>8,.0f} elements/s "
            f"(first byte {rfsq['first_byte_seconds'] * 1000:.0f} ms, first record "
            f"{rfsq['first_record_seconds'] * 1000:.0f} ms, peak RSS +"
            f"{rfsq['rss_growth_mb']:.1f} MB, {rfsq['mb']:.1f} MB written) | raw cursor+text "
            f"{raw_rate:>9,.0f} elements/s (+{raw['rss_growth_mb']:.1f} MB, {raw['mb']:.1f} MB "
            f"written) | ratio {raw_rate / rate:.2f}x | the same raw document built as lxml "
            f"elements {tree_rate:,.0f}/s ({tree['mb']:.1f} MB, ratio {tree_rate / rate:.2f}x) "
            f"| the first raw limit, flat {flat_rate:,.0f}/s ({flat['mb']:.1f} MB, ratio "
            f"{flat_rate / rate:.2f}x)"
        )
        if args.rfq:
            rfq, raw = run("rfq"), run("raw_rfq")
            assert raw["facilities"] == rfq["facilities"], (raw["facilities"], rfq["facilities"])
            print(
                f"RFQ, the whole agency, {rfq['facilities']:>7,} facilities: "
                f"{rfq['seconds']:.1f} s, {rfq['facilities'] / rfq['seconds']:,.0f} facilities/s "
                f"(first record {rfq['first_record_seconds'] * 1000:.0f} ms, peak RSS "
                f"+{rfq['rss_growth_mb']:.1f} MB, {rfq['mb']:.1f} MB written) | raw cursor+lxml "
                f"{raw['seconds']:.1f} s (first record {raw['first_record_seconds'] * 1000:.0f} "
                f"ms, +{raw['rss_growth_mb']:.1f} MB, {raw['mb']:.1f} MB written) | ratio "
                f"{rfq['seconds'] / raw['seconds']:.2f}x"
            )
        if args.cme:
            for name in AGENCY_QUERIES:
                report_agency_query(name)
    for count in [int(c) for c in args.checks.split(",") if c]:
        stream, whole = run("check_stream", count), run("check_whole", count)
        print(
            f"RFSAN check {count:>7,} records ({stream['mb']:.1f} MB): streaming "
            f"{count / stream['seconds']:>8,.0f} records/s, peak +{stream['peak_growth_mb']:.1f} MB"
            f" | whole tree {count / whole['seconds']:>8,.0f} records/s, peak "
            f"+{whole['peak_growth_mb']:.1f} MB"
        )
    counts = [int(c) for c in args.uploads.split(",") if c]
    cme_counts = [int(c) for c in args.cme_uploads.split(",") if c]
    rfs_counts = [int(c) for c in args.rfs_uploads.split(",") if c]
    # Each upload reviews elements no earlier one reviewed: seed enough for all of them (and
    # a facility for each inspection of the largest CME upload, one for each RFS upload).
    needed = max(sum(counts), *cme_counts, len(rfs_counts) + 1, 0)
    if needed and seeded < needed:
        recreate_database(url)
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", f"import bench.bench_edt as b; b.seed({needed})"],
            check=True,
            cwd=ROOT,
            env=os.environ | {"PYTHONPATH": str(ROOT)},
        )
    print(f"load average {' / '.join(f'{n:.1f}' for n in os.getloadavg())}")
    for count in counts:
        # The raw limit first: the upload reviews the elements the document names, which a
        # second document of the same size could then no longer name.
        raw, floor = run("raw_upload", count), run("database_floor", count)
        upload = run("upload", count)
        print(
            f"RFSAN upload {count:>7,} records: {count / upload['seconds']:>7,.0f} records/s "
            f"(check {upload['check_seconds']:.2f} s, peak RSS +"
            f"{upload['check_rss_growth_mb']:.1f} MB; with processing +"
            f"{upload['rss_growth_mb']:.1f} MB) | raw lxml parse+validate+COPY "
            f"{raw['records'] / raw['seconds']:>9,.0f} records/s (+{raw['rss_growth_mb']:.1f} MB)"
            f" | ratio {upload['seconds'] / raw['seconds']:.1f}x{beside_floor(upload, floor)}"
        )

    for count in cme_counts:
        raw, floor = run("raw_cme", count), run("cme_floor", count)
        upload = run("cme_upload", count)
        print(
            f"RCMES upload {count:>7,} inspections: {count / upload['seconds']:>7,.0f} records/s "
            f"(peak RSS +{upload['rss_growth_mb']:.1f} MB) | raw lxml parse+validate+COPY "
            f"{raw['records'] / raw['seconds']:>9,.0f} records/s"
            f" | ratio {upload['seconds'] / raw['seconds']:.1f}x{beside_floor(upload, floor)}"
        )

    for count in rfs_counts:
        raw, floor = run("raw_rfs", count), run("rfs_floor", count)
        upload = run("rfs_upload", count)
        print(
            f"RFS upload {count:>7,} chemicals ({upload['mb']:.1f} MB): "
            f"{count / upload['seconds']:>7,.0f} records/s, {upload['seconds']:.2f} s (peak RSS "
            f"+{upload['rss_growth_mb']:.1f} MB) | raw lxml parse+validate+COPY "
            f"{raw['records'] / raw['seconds']:>9,.0f} records/s, {raw['seconds']:.2f} s"
            f" | ratio {upload['seconds'] / raw['seconds']:.1f}x{beside_floor(upload, floor)}"
        )
        answers = {how: run(f"rfs_answer_{how}") for how in ("xml", "json")}
        print(
            "  its status answer (an entity key per chemical): "
            + ", ".join(
                f"{how.upper()} {a['mb']:.1f} MB in {a['seconds']:.2f} s (peak RSS "
                f"+{a['rss_growth_mb']:.1f} MB)"
                for how, a in answers.items()
            )
        )


if __name__ == "__main__":
    main()
