"""Large uploads: the check streams (its memory does not grow with the document), the RFSAN
processing costs the same queries for 10 notifications as for 200, and one bad record at the
end of a large document still stores nothing. A facility submittal's chemicals are never all
held in a tree, and one bad chemical late in a large inventory rejects the upload at its
line."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from core import xmlsafe
from core.models import AuditEvent, OutboundEmail
from edt.processors import review as review_processor
from edt.processors import submittal as submittal_processor
from edt.uploads import UploadContext
from facilities.models import Facility
from submittals import inventory
from submittals import services as submittal_services
from submittals.models import (
    ElementStatus,
    FacilitySubmittal,
    HazardousMaterial,
    SubmittalElementRecord,
)
from tests import factories
from tests.submittals.data import submit

from . import test_rfs as rfs
from .conftest import content, legacy_header
from .test_rfsan import NS, URL, document, notification, post

SCHEMA = "RegulatorFacilitySubmittalActionNotification"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def synthetic(count: int, *, last: str = "") -> bytes:
    """An RFSAN document of ``count`` well-formed, valid notifications (keys made up: the check
    does not look them up), ``last`` appended inside the list."""
    record = (
        '<SubmittalElement code="1"><CERSUniqueKey>{key}</CERSUniqueKey><CERSID>10{n:06d}'
        "</CERSID><RegulatorCode>1001</RegulatorCode><SubmittalAction>3</SubmittalAction>"
        "<SubmittalActionOn>2026-01-05T10:00:00</SubmittalActionOn>"
        "<SubmittalActionAgentName>Rita</SubmittalActionAgentName>"
        "<SubmittalActionAgentEmail>rita@example.com</SubmittalActionAgentEmail>"
        "</SubmittalElement>"
    )
    records = "".join(record.format(key=uuid.uuid4(), n=n) for n in range(count))
    return (
        f'<cers:RegulatorFacilitySubmittalActionNotifications xmlns:cers="{NS}">'
        f"<RegulatorTransactionKey>client-1</RegulatorTransactionKey>"
        f"<SubmittalElements>{records}{last}</SubmittalElements>"
        "</cers:RegulatorFacilitySubmittalActionNotifications>"
    ).encode()


# --- the streaming check ----------------------------------------------------------------------


def whole(data: bytes):
    """What the check answered before it streamed: the whole tree parsed, then validated."""
    try:
        parsed = xmlsafe.parse_document(data, expected_schema=SCHEMA)
    except xmlsafe.XmlRejected as error:
        return ("rejected", str(error))
    return (
        "problems",
        [(m.message, m.location) for m in xmlsafe.validate(parsed, parsed.schema())],
    )


def streamed(data: bytes):
    try:
        checked = xmlsafe.check_document(data, expected_schema=SCHEMA)
    except xmlsafe.XmlRejected as error:
        return ("rejected", str(error))
    return ("problems", [(m.message, m.location) for m in checked.problems])


VALID = synthetic(50)
CASES = {
    "valid": VALID,
    # lxml's iterparse with a schema takes a document cut short for a complete one.
    "cut short at the end": VALID[:-5],
    "cut short in a record": VALID[: len(VALID) // 2],
    "an unknown element last": synthetic(50, last="<Unexpected/>"),
    "a value of the wrong type": VALID.replace(
        b"<SubmittalAction>3</SubmittalAction>", b"<SubmittalAction>x</SubmittalAction>", 1
    ),
    "a required element missing in the last record": synthetic(
        50, last='<SubmittalElement code="1"><CERSID>1</CERSID></SubmittalElement>'
    ),
    "trailing content": VALID + b"<more/>",
    "another schema": VALID.replace(b"ActionNotification/1/05/", b"ActionNotification/9/99/"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_streaming_check_answers_as_the_whole_document_check(name):
    assert streamed(CASES[name]) == whole(CASES[name])


def test_the_check_finds_what_the_upload_reads_aside():
    def aside(element):
        if element.tag == "RegulatorTransactionKey":
            return element.text
        return None

    checked = xmlsafe.check_document(synthetic(3), expected_schema=SCHEMA, collect=aside)
    assert (checked.schema_name, checked.version, checked.problems) == (SCHEMA, "1/05", [])
    assert checked.collected == ["client-1"]


def most_elements_held(count: int) -> int:
    """The largest number of elements the parsed tree holds at any moment of the check."""
    held = 0

    def count_tree(element):
        nonlocal held
        root = element.getroottree().getroot()
        held = max(held, sum(1 for _ in root.iter()))

    xmlsafe.check_document(synthetic(count), expected_schema=SCHEMA, collect=count_tree)
    return held


def test_the_check_holds_one_read_of_the_parser_whatever_the_length():
    # The parser reads the document some 32 kB at a time and reports the elements of each read
    # together: those of one read are held, never those of the document.
    assert most_elements_held(10) == 83  # the whole of a small document: one read
    held = most_elements_held(5_000)
    assert held < 1_000
    assert held - most_elements_held(500) < 50


CHILD = """
import json, sys
import django
django.setup()
from core import xmlsafe

def status(name):  # kB, from Linux's accounting of this process's memory
    for line in open("/proc/self/status"):
        if line.startswith(name + ":"):
            return int(line.split()[1])

data = open(sys.argv[1], "rb").read()
open("/proc/self/clear_refs", "w").write("5")  # the peak starts again from here
before = status("VmRSS")
if sys.argv[2] == "stream":
    assert not xmlsafe.check_document(data).problems
else:
    parsed = xmlsafe.parse_document(data)
    assert not xmlsafe.validate(parsed, parsed.schema())
print(json.dumps((status("VmHWM") - before) / 1024))
"""


def peak_growth_mb(path: Path, how: str) -> float:
    """Growth of a fresh process's peak memory while it checks the document at ``path`` (the
    parser's memory is libxml2's, which tracemalloc does not see: the process's peak does; the
    peak is reset first, as a child process starts with its parent's)."""
    environment = os.environ | {"DJANGO_SETTINGS_MODULE": "cers.settings", "PYTHONPATH": str(ROOT)}
    output = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", CHILD, str(path), how],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
        env=environment,
    )
    return json.loads(output.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="Linux's /proc")
def test_the_memory_of_the_check_does_not_grow_with_the_document(tmp_path):
    path = tmp_path / "data.xml"
    path.write_bytes(synthetic(40_000))  # about 16 MB
    stream, tree = peak_growth_mb(path, "stream"), peak_growth_mb(path, "whole")
    assert stream < 5
    assert tree > 20  # the measure sees a tree when there is one


# --- processing many notifications ------------------------------------------------------------


@pytest.fixture
def many(cast):
    """Two hundred and eleven submitted Facility Information elements, each at its own facility:
    one submitted through the services, cloned."""
    template = submit(cast)[1]
    facility = Facility.objects.get(pk=template.facility_id)
    group = FacilitySubmittal.objects.get(pk=template.facility_submittal_id)
    facilities, groups, records = [], [], []
    for n in range(1, 212):
        clone = copy.copy(facility)
        clone.pk, clone.cers_id = None, 90_000_000 + n
        clone.name, clone.address_key = f"Depot {n}", f"depot-{n}"
        facilities.append(clone)
    Facility.objects.bulk_create(facilities)
    for clone in facilities:
        copied = copy.copy(group)
        copied.pk, copied.facility = None, clone
        groups.append(copied)
    FacilitySubmittal.objects.bulk_create(groups)
    for clone, copied in zip(facilities, groups, strict=True):
        element = SubmittalElementRecord.objects.get(pk=template.pk)
        element.pk, element.key = None, uuid.uuid4()
        element.facility, element.facility_submittal = clone, copied
        records.append(element)
    SubmittalElementRecord.objects.bulk_create(records)
    return list(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in records])
        .select_related("facility")
        .order_by("pk")
    )


def test_the_queries_of_an_action_notification_upload_do_not_grow_with_its_records(
    client, edt_account, many, django_assert_max_num_queries
):
    post(client, edt_account, document(notification(many[0], status=4)))  # warm caches
    with CaptureQueriesContext(connection) as ten:
        root = post(client, edt_account, document(*(notification(r, status=4) for r in many[1:11])))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    with django_assert_max_num_queries(len(ten)):
        root = post(
            client, edt_account, document(*(notification(r, status=4) for r in many[11:211]))
        )
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in many[11:211]]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.ACCEPTED}
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 211


def test_the_queries_do_not_grow_with_the_organizations_told(
    client, edt_account, many, django_assert_max_num_queries
):
    """Each facility its own organization: every notification is an e-mail of its own, and
    the e-mails are written together, 100 as 110 (both written as many at once are)."""
    from organizations.models import Organization

    owners = []
    for record in many:
        owner = copy.copy(record.facility.organization)
        owner.pk, owner.code = None, 50_000 + record.pk
        owner.name = f"Owner of {record.facility.name}"
        owners.append(owner)
    Organization.objects.bulk_create(owners)
    for record, owner in zip(many, owners, strict=True):
        Facility.objects.filter(pk=record.facility_id).update(organization=owner)
    post(client, edt_account, document(notification(many[0], status=4)))  # warm caches
    OutboundEmail.objects.all().delete()
    with CaptureQueriesContext(connection) as hundred:
        root = post(client, edt_account, document(*(notification(r) for r in many[1:101])))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert OutboundEmail.objects.count() == 100
    with django_assert_max_num_queries(len(hundred)):
        root = post(client, edt_account, document(*(notification(r) for r in many[101:211])))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    told = OutboundEmail.objects.exclude(pk__in=OutboundEmail.objects.order_by("pk")[:100])
    assert sorted(email.subject.split(" for ")[1] for email in told) == sorted(
        f"Depot {n} (CERS ID {90_000_000 + n}) is Accepted" for n in range(102, 212)
    )


def test_one_bad_record_at_the_end_of_a_large_upload_stores_nothing(client, edt_account, many):
    OutboundEmail.objects.all().delete()
    good = [notification(r, status=4) for r in many[:200]]
    bad = notification(many[200], status=5)  # Not Accepted without comments
    root = post(client, edt_account, document(*good, bad))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [message] = root.findall("GuidanceMessages/GuidanceMessage")
    assert message.get("guidanceCode") == "1013"
    assert "[SubmittalElement 201 " in message.text
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in many]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.SUBMITTED}
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()
    assert not OutboundEmail.objects.exists()


@pytest.fixture
def small_batches(monkeypatch):
    """Seven notifications a batch, and the e-mails' lines beyond five moved out of memory
    (into a temporary table, on PostgreSQL): a small upload takes the paths of a large one."""
    monkeypatch.setattr(review_processor, "RECORDS_PER_BATCH", 7)
    monkeypatch.setattr(submittal_services, "HELD_LINES", 5)


def test_an_upload_read_in_batches_is_stored_and_told_as_one(
    client, cast, edt_account, many, small_batches
):
    OutboundEmail.objects.all().delete()
    first = many[0]
    notifications = [notification(first, status=3)]  # acted on again in a later batch
    notifications += [notification(r, status=4) for r in many[1:40]]
    notifications.insert(10, notification(first, status=4))
    root = post(client, edt_account, document(*notifications))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"

    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in many[:40]]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.ACCEPTED}
    history = AuditEvent.objects.filter(action="submittal.reviewed", object_id=str(first.pk))
    assert [(e.before["status"], e.after["status"]) for e in history.order_by("id")] == [
        (2, 3),
        (3, 4),
    ]
    assert AuditEvent.objects.filter(action="submittal.reviewed").count() == 41
    # The Lead User and the submitter of every element: one e-mail of all 41 actions, every
    # line listed in its order (by facility), each batch's.
    [summary] = OutboundEmail.objects.all()
    assert sorted(summary.to) == ["approver@acme.example", "lead@acme.example"]
    assert "41 submittal elements of Acme Fuels" in summary.subject
    assert "Accepted: 40" in summary.body and "Under Review: 1" in summary.body
    listed = [line for line in summary.body.splitlines() if line.startswith("Facility Info")]
    assert len(listed) == 41
    facilities = [line.split(" of ")[1].split(",")[0] for line in listed]
    assert facilities[:2] == ["Depot 1", "Depot 1"]
    assert facilities[2:] == [f"Depot {n}" for n in range(2, 41)]


def test_a_bad_record_in_a_later_batch_stores_nothing_and_names_its_position(
    client, edt_account, many, small_batches
):
    OutboundEmail.objects.all().delete()
    good = [notification(r, status=4) for r in many[:30]]
    bad = notification(many[30], status=5)  # Not Accepted without comments
    root = post(client, edt_account, document(*good, bad, notification(many[31], status=4)))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    [message] = root.findall("GuidanceMessages/GuidanceMessage")
    assert "[SubmittalElement 31 " in message.text
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in many]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.SUBMITTED}
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()
    assert not OutboundEmail.objects.exists()


def test_an_upload_cut_short_is_refused_whole(client, edt_account, many):
    body = document(*(notification(r, status=4) for r in many[:50]))
    response = client.post(
        URL,
        body[:-40],
        content_type="text/xml",
        **legacy_header(edt_account),
    )
    root = etree.fromstring(content(response))
    assert root.findtext("Transaction/TransactionStatus") == "Rejected"
    assert "not well-formed" in root.findtext("GuidanceMessages/GuidanceMessage")
    assert not AuditEvent.objects.filter(action="submittal.reviewed").exists()


# --- a facility submittal's chemicals ----------------------------------------------------------


def with_chemicals(client, account, cast, facility, count: int) -> bytes:
    """An RFS document for ``facility`` carrying the cast's submitted inventory with its first
    chemical ``count`` times (each with its own key)."""
    query = rfs.exported(client, account, cast.facility)
    document = etree.fromstring(rfs.to_rfs(query, facility.cers_id))
    chemical = document.find("FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical")
    for other in chemical.itersiblings("Chemical"):
        other.getparent().remove(other)
    for _ in range(count - 1):
        twin = copy.deepcopy(chemical)
        twin.find("ChemicalRegulatorKey").text = str(uuid.uuid4())
        chemical.addnext(twin)
    return etree.tostring(document)


def test_the_queries_of_a_facility_submittal_do_not_grow_with_its_chemicals(
    client, cast, edt_account, django_assert_max_num_queries
):
    submit(cast, 2)
    few, many_chemicals = (
        factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")
        for _ in range(2)
    )
    with CaptureQueriesContext(connection) as two:
        root = rfs.post(client, edt_account, with_chemicals(client, edt_account, cast, few, 2))
    assert rfs.status(root) == "Accepted", rfs.texts(root)
    with django_assert_max_num_queries(len(two)):
        root = rfs.post(
            client, edt_account, with_chemicals(client, edt_account, cast, many_chemicals, 40)
        )
    assert rfs.status(root) == "Accepted", rfs.texts(root)
    stored = HazardousMaterial.objects.filter(record__facility=many_chemicals)
    assert list(stored.values_list("position", flat=True).order_by("position")) == list(
        range(1, 41)
    )
    assert (
        AuditEvent.objects.filter(
            action="inventory.material_added", object_id__in=[str(m.pk) for m in stored]
        ).count()
        == 40
    )


def test_an_action_notification_upload_never_builds_the_documents_tree(
    client, edt_account, many, monkeypatch
):
    def whole_tree(*args, **kwargs):
        raise AssertionError("the whole tree was parsed")

    monkeypatch.setattr(xmlsafe, "parse_document", whole_tree)
    root = post(client, edt_account, document(*(notification(r, status=3) for r in many[:20])))
    assert root.findtext("Transaction/TransactionStatus") == "Accepted"
    assert set(
        SubmittalElementRecord.objects.filter(pk__in=[r.pk for r in many[:20]]).values_list(
            "status", flat=True
        )
    ) == {ElementStatus.UNDER_REVIEW}


def whole_tree(*args, **kwargs):
    raise AssertionError("the whole tree was parsed")


def test_a_facility_submittals_chemicals_are_never_all_held_in_a_tree(
    client, cast, edt_account, monkeypatch, settings
):
    """The document's tree (``context.root``) is never parsed; the tree the elements are read
    from holds no chemical, and the tree the chemicals are read from holds as many at most for
    1,200 chemicals as for 300: what the parser reads in one go."""
    settings.EDT_INLINE_MAX_BYTES = 4 * 1024 * 1024
    submit(cast, 2)
    in_elements_tree: list[int] = []
    most_held: list[int] = []
    read_element, read_chemical = (
        submittal_processor.read_element,
        submittal_processor._read_chemical,
    )

    def counted_element(element, container, *args):
        in_elements_tree.append(sum(1 for _ in container.getroottree().iter("Chemical")))
        return read_element(element, container, *args)

    def counted_chemical(chemical, reading):
        held = sum(1 for _ in chemical.getroottree().iter("Chemical"))
        most_held[-1] = max(most_held[-1], held)
        return read_chemical(chemical, reading)

    for count in (300, 1200):
        facility = factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")
        body = with_chemicals(client, edt_account, cast, facility, count)
        most_held.append(0)
        with monkeypatch.context() as patched:
            patched.setattr(xmlsafe, "parse_document", whole_tree)
            patched.setattr(submittal_processor, "read_element", counted_element)
            patched.setattr(submittal_processor, "_read_chemical", counted_chemical)
            root = rfs.post(client, edt_account, body)
        assert rfs.status(root) == "Accepted", rfs.texts(root)
        assert HazardousMaterial.objects.filter(record__facility=facility).count() == count
        inventory_key = SubmittalElementRecord.objects.get(facility=facility, element=2).key
        sent = [key.text for key in etree.fromstring(body).iter("ChemicalRegulatorKey")]
        assert [
            (key.findtext("RegulatorKey"), key.findtext("CERSUniqueKey"))
            for key in root.xpath("EntityKeys/EntityKey[EntityResource='HMI']")
        ] == [
            (regulator_key, str(uuid.uuid5(inventory_key, f"/Chemicals/Chemical[{index}]")))
            for index, regulator_key in enumerate(sent)
        ]
    assert in_elements_tree == [0, 0, 0, 0]  # Facility Information and the inventory, twice
    assert 0 < most_held[1] <= most_held[0] + 5
    assert most_held[1] < 300


def test_a_bad_chemical_late_in_a_large_inventory_rejects_the_upload_at_its_line(
    client, cast, edt_account, monkeypatch, settings
):
    """Chemical 390 of 400, its amount too large to store, read after seven batches of 50
    were written: the upload is rejected with its one message, at the line its element starts
    on, and nothing is stored."""
    settings.EDT_INLINE_MAX_BYTES = 4 * 1024 * 1024
    monkeypatch.setattr(inventory, "MATERIALS_BATCH", 50)
    submit(cast, 2)
    facility = factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")
    path = "FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical"
    document = etree.fromstring(with_chemicals(client, edt_account, cast, facility, 400))
    rfs._set_in_order(document.findall(path)[389], "MaximumDailyAmount", "9999999999999")
    etree.indent(document)  # a line for each element: the lines tell the chemicals apart
    body = etree.tostring(document)
    line = etree.fromstring(body).findall(path)[389].sourceline
    assert line > 3_000

    root = rfs.post(client, edt_account, body)
    assert rfs.status(root) == "Rejected"
    [message] = root.xpath("GuidanceMessages/GuidanceMessage[@level='Required']")
    assert message.get("guidanceCode") == "1012"
    assert message.text.startswith("Chemical 390: Maximum daily amount")
    assert message.text.endswith(f" [line {line} (/RegulatorFacilitySubmittals/{path})]")
    assert not FacilitySubmittal.objects.filter(facility=facility).exists()
    assert not SubmittalElementRecord.objects.filter(facility=facility).exists()
    assert not HazardousMaterial.objects.filter(record__facility=facility).exists()
    assert not AuditEvent.objects.filter(actor=edt_account.user).exists()


def test_the_chemicals_read_streaming_are_located_as_in_the_whole_tree():
    """Each chemical's line as the whole tree gives it, past line 65,535 too (where libxml2
    finds it in the text around the element), and a tree left without chemicals."""
    namespace = rfs.RFS_NS.format("1/10")
    fields = "".join(f"<Field{n}>{n}</Field{n}>" for n in range(12))
    document = etree.fromstring(
        f'<cers:RegulatorFacilitySubmittals xmlns:cers="{namespace}"><FacilitySubmittal>'
        "<CERSID>1</CERSID><HazardousMaterialsInventory><Chemicals>"
        f"{f'<Chemical>{fields}</Chemical>' * 6_000}"
        "</Chemicals></HazardousMaterialsInventory></FacilitySubmittal>"
        "</cers:RegulatorFacilitySubmittals>"
    )
    etree.indent(document)
    body = etree.tostring(document)
    whole = [chemical.sourceline for chemical in etree.fromstring(body).iter("Chemical")]
    assert whole[-1] > 80_000

    tree, found = submittal_processor.read_document(body)
    assert (found.count, found.path) == (6_000, f"/RegulatorFacilitySubmittals/{PATH}")
    assert tree.find(".//Chemical") is None
    assert tree.find(".//Chemicals") is not None
    rows = found.rows()
    assert sum(1 for _chemical in rows) == 6_000
    assert list(rows.lines) == whole


PATH = "FacilitySubmittal/HazardousMaterialsInventory/Chemicals/Chemical"


def test_a_large_inventorys_progress_is_reported_as_its_chemicals_are_read(
    client, cast, edt_account, monkeypatch, settings
):
    """The transaction log shows how far a long facility submittal has come: a report every
    ``PROGRESS_EVERY`` chemicals read, and one when all are."""
    settings.EDT_INLINE_MAX_BYTES = 4 * 1024 * 1024
    monkeypatch.setattr(submittal_processor, "PROGRESS_EVERY", 100)
    reports: list[tuple[int, int]] = []
    monkeypatch.setattr(
        UploadContext, "progress", lambda context, done, total: reports.append((done, total))
    )
    submit(cast, 2)
    facility = factories.make_facility(cast.org, name="Acme Sacramento Depot", zip_code="95814")
    root = rfs.post(client, edt_account, with_chemicals(client, edt_account, cast, facility, 250))
    assert rfs.status(root) == "Accepted", rfs.texts(root)
    assert reports == [(100, 250), (200, 250), (250, 250)]
