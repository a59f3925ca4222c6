"""The fault harness: real processes, real faults, and a count of what every upload became.

    .venv/bin/python tools/faults.py --kills 50 --redis-restarts 20     (``make faults``)
    .venv/bin/python tools/faults.py --kills 3 --redis-restarts 2 --short  (the CI version)

It needs PostgreSQL (``--database-url``, default ``postgres://root@127.0.0.1:5432/cers_faults``:
that database is dropped and created again, then migrated) and ``redis-server`` on PATH: it
starts a Redis of its own on a free port, with its data in a temporary folder, never the
machine's Redis. It seeds a CUPA with one facility and an EDT account (tier 3: CME submit), then
starts, each on ports found free at run time:

- gunicorn (``cers.wsgi``, two processes, bound to 127.0.0.1),
- a Celery worker (prefork, concurrency 2),
- Celery beat (the sweeps every ``CERS_SWEEP_SECONDS``, the default 10 s),

all with the default settings but ``EDT_INLINE_MAX_BYTES=0`` (every upload is queued) and the
worker's ``CERS_FAULT_HOOK`` (``edt.uploads.fault_point``: the worker logs and pauses a moment
after its claim, before its commit and after it, so a kill can be aimed there). A queued upload
whose message was lost is enqueued again by the first sweep after ``CERS_MESSAGE_GRACE`` (10 s)
once the broker's queue is empty, and after ``EDT_QUEUED_STRANDED`` (120 s) in any case. The
harness is their supervisor: a process that dies is started again, as systemd would.

Each trial posts uploads over HTTP (CME submits, each with its own ``RECORDS`` inspections under
keys no other upload uses), injects one fault at a random moment, restores what the fault broke,
then polls each upload's status over HTTP until it is final. The fault classes:

- ``kill pool process``: SIGKILL to a random pool process of the worker (prefork replaces it);
- ``kill worker``: SIGKILL to the worker's main process and its pool (what systemd does to a
  unit whose main process died), then a new worker;
- ``kill at commit``: SIGKILL to the pool process paused just before or just after the commit
  of the effects and the final status (the hook's ``before-commit`` / ``after-commit``);
- ``redis restart (AOF)`` / ``redis restart (no AOF)``: SIGKILL to Redis mid-trial, started
  again after a moment with ``--appendonly yes`` (the queue survives) or ``no`` (it is lost);
- ``redis down at upload``: the uploads are posted while Redis is down, Redis starts after;
- ``duplicate keys``: one document (the same key and body) posted by three clients at once;
- ``concurrent reviews``: a business submits its Facility Information (through the services,
  as the portal does), then two action notifications reviewing that element, Accepted and Not
  Accepted a second later, arrive at the same moment: the later must end as the element's
  status, with one review stored per accepted notification;
- ``submit racing review``: in the portal, a business submits a new Facility Information of a
  facility while two reviewers, who both opened the review page of the one submitted before,
  act on it (Accepted and Not Accepted) at the same moment, each a thread of this process
  through the services the pages call: the submit must be stored whole, and the stale-review
  check must let exactly one review in (both stored: duplicated; none: lost).

Then, per upload, in the database: **lost** (never final within the wait, or final without its
records: ErrorProcessing, Rejected), **duplicated** (an inspection stored twice, or recorded by
two transactions), **partial** (some of its inspections but not all, or a status other than
Accepted with data stored) and **late** (final more than ``LATE_SECONDS``, a minute, after the
fault ended). It prints one
row per fault class and exits 1 on any lost, duplicated, partial or late upload.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = secrets.token_urlsafe(24)  # a new one each run
USERNAME = "faults_edt"
CME_NS = "http://cersservices.calepa.ca.gov/Schemas/RegulatorCMESubmit/1/05/"
UPLOAD_PATH = "/EDT/Regulator/CME/Submit?regulatorCode=1001"
RFSAN_NS = (
    "http://cersservices.calepa.ca.gov/Schemas/RegulatorFacilitySubmittalActionNotification/1/05/"
)
REVIEW_PATH = "/EDT/Regulator/FacilitySubmittal/ActionNotification?regulatorCode=1001"
# The promise checked: every upload final within a minute of its fault's end, with the default
# settings (the harness sets neither CERS_SWEEP_SECONDS nor CERS_MESSAGE_GRACE nor
# EDT_QUEUED_STRANDED: a lost message waits the grace and one sweep, 10 s + 10 s).
LATE_SECONDS = 60
WAIT_SECONDS = LATE_SECONDS + 60  # after this an upload not final is lost
FAULT_HOOK = "claimed=0.3,before-commit=1.5,after-commit=1.5"
FINAL = {"Accepted", "Rejected", "ErrorProcessing"}


def log(message: str) -> None:
    stamp = time.strftime("%H:%M:%S", time.gmtime())
    print(f"[{stamp} UTC] {message}", file=sys.stderr, flush=True)


def percentile(ordered: list[float], wanted: float) -> float:
    """The nearest-rank percentile of an ordered, non-empty list."""
    rank = max(1, -(-len(ordered) * wanted // 100))
    return ordered[int(rank) - 1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the processes ----------------------------------------------------------------------------


@dataclass
class Service:
    """A process the harness starts, supervises (restarts when it died) and kills."""

    name: str
    command: list[str]
    env: dict
    logs: Path
    process: subprocess.Popen | None = None
    starts: int = 0
    restarts: int = 0

    @property
    def log_path(self) -> Path:
        return self.logs / f"{self.name}-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(  # noqa: S603 - fixed command lines
                self.command,
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def supervise(self) -> None:
        if self.process is not None and not self.alive():
            log(f"{self.name} exited ({self.process.returncode}): started again")
            self.restarts += 1
            self.start()

    def children(self) -> list[int]:
        if not self.alive():
            return []
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []

    def kill_all(self) -> None:
        """SIGKILL the process and everything in its session (its pool)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if not self.alive():
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.kill_all()

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, pattern: str, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(pattern, self.log_text())
            if found:
                return found
            time.sleep(0.05)
        return None


class Redis(Service):
    def __init__(self, logs: Path, data: Path, port: int):
        super().__init__("redis", [], dict(os.environ), logs)
        self.data, self.port, self.aof = data, port, True

    def start(self) -> None:
        self.command = [
            "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data),
            "--save",
            "",
            "--appendonly",
            "yes" if self.aof else "no",
            "--appendfsync",
            "everysec",
            "--daemonize",
            "no",
        ]
        super().start()
        deadline = time.monotonic() + 20
        while not self.ping():
            if time.monotonic() > deadline or not self.alive():
                raise SystemExit(f"redis-server did not start:\n{self.log_text()}")
            time.sleep(0.05)

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def switch(self, aof: bool) -> None:
        """Run with AOF on or off from now on: a clean restart, not a fault."""
        if aof == self.aof and self.alive():
            return
        self.stop()  # SIGTERM: Redis writes its AOF and exits
        self.aof = aof
        self.start()


# --- uploads ----------------------------------------------------------------------------------


def document(prefix: str, cers_id: int, records: int) -> bytes:
    inspections = "".join(
        "<Inspection><InspectionHeader><RegulatorCode>1001</RegulatorCode>"
        "<RegulatorActionDateTime>2024-05-02T09:00:00</RegulatorActionDateTime>"
        "<CMEDataStatus>2</CMEDataStatus></InspectionHeader>"
        f"<CERSID>{cers_id}</CERSID><InspectionRegulatorKey>{prefix}-{n}</InspectionRegulatorKey>"
        "<ProgramElement>a</ProgramElement><OccurredOn>2024-05-01</OccurredOn><Type>a</Type>"
        "</Inspection>"
        for n in range(records)
    )
    return (
        f'<?xml version="1.0"?><cers:CMESubmittals xmlns:cers="{CME_NS}">'
        f"<RegulatorTransactionKey>{prefix}</RegulatorTransactionKey>"
        f"<Inspections>{inspections}</Inspections></cers:CMESubmittals>"
    ).encode()


def review_document(prefix: str, record, status: int, when, comments: str = "") -> bytes:
    """An action notification (RFSAN) setting ``record``'s review status as of ``when``."""
    from django.utils import timezone

    at = timezone.localtime(when).replace(tzinfo=None).isoformat(timespec="seconds")
    comment = f"<SubmittalActionComments>{comments}</SubmittalActionComments>" if comments else ""
    return (
        f'<cers:RegulatorFacilitySubmittalActionNotifications xmlns:cers="{RFSAN_NS}">'
        f"<RegulatorTransactionKey>{prefix}</RegulatorTransactionKey><SubmittalElements>"
        f'<SubmittalElement code="{record.element}"><CERSUniqueKey>{record.key}</CERSUniqueKey>'
        f"<CERSID>{record.facility.cers_id}</CERSID><RegulatorCode>1001</RegulatorCode>"
        f"<SubmittalAction>{status}</SubmittalAction><SubmittalActionOn>{at}</SubmittalActionOn>"
        "<SubmittalActionAgentName>Fault Harness</SubmittalActionAgentName>"
        "<SubmittalActionAgentEmail>reviewer@faults.example</SubmittalActionAgentEmail>"
        f"{comment}</SubmittalElement></SubmittalElements>"
        "</cers:RegulatorFacilitySubmittalActionNotifications>"
    ).encode()


@dataclass
class Upload:
    prefix: str  # the client's transaction key, and the prefix of its inspections' keys
    key: str = ""  # CERS's transaction key
    detail_uri: str = ""  # where its status is asked for (the answer's DetailUri)
    http_status: int = 0
    answered: str = ""  # the status in the answer to the POST
    final_status: str = ""
    final_at: float | None = None


@dataclass
class Trial:
    fault: str
    uploads: list[Upload] = field(default_factory=list)
    fault_ended: float = 0.0
    note: str = ""
    record: object = None  # concurrent reviews: the submitted element both review
    race: dict | None = None  # submit racing review: what each action did


class Harness:
    def __init__(self, args):
        self.args = args
        self.random = random.Random(args.seed)
        self.tmp = Path(tempfile.mkdtemp(prefix="cers-faults-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.run_id = uuid.uuid4().hex[:6]
        self.counter = 0
        self.trials: list[Trial] = []
        self.services: list[Service] = []

    # -- set-up --

    def setup(self) -> None:
        url = self.args.database_url
        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        import psycopg

        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{name}"')

        self.redis = Redis(self.logs, self.tmp / "redis", free_port())
        self.redis.data.mkdir()
        self.redis.start()
        self.web_port = free_port()
        media = self.tmp / "media"
        media.mkdir()
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "CELERY_", "EDT_", "CERS_"))
        }
        env |= {
            "DJANGO_SETTINGS_MODULE": "cers.settings",
            "DJANGO_DEBUG": "False",
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis.port}/0",
            "EMAIL_URL": "dummymail://",
            "CERS_MEDIA_ROOT": str(media),
            "CERS_SITE_URL": f"http://127.0.0.1:{self.web_port}",
            "EDT_INLINE_MAX_BYTES": "0",
            "PYTHONUNBUFFERED": "1",
        }
        self.env = env

        # Django in this process: migrate, seed, and later count what each upload stored.
        os.environ.update(env)
        os.environ.pop("REDIS_URL")  # seeding runs its tasks here, eagerly
        import django

        django.setup()
        from django.core.management import call_command

        log(f"migrating {name}")
        call_command("migrate", verbosity=0)
        self.seed()

        python = sys.executable
        self.web = Service(
            "gunicorn",
            [
                python,
                "-m",
                "gunicorn",
                "cers.wsgi",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--timeout",
                "120",
            ],
            env,
            self.logs,
        )
        self.worker = Service(
            "worker",
            [
                python,
                "-m",
                "celery",
                "-A",
                "cers",
                "worker",
                "--pool=prefork",
                "--concurrency=2",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                f"--hostname=faults-{self.run_id}@localhost",
            ],
            env | {"CERS_FAULT_HOOK": FAULT_HOOK},
            self.logs,
        )
        self.beat = Service(
            "beat",
            [
                python,
                "-m",
                "celery",
                "-A",
                "cers",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.tmp / 'beat-schedule'}",
            ],
            env,
            self.logs,
        )
        self.services = [self.redis, self.web, self.worker, self.beat]
        for service in (self.web, self.worker, self.beat):
            service.start()
        if not self.worker.wait_for_log(r"ready\.", 60):
            raise SystemExit(f"the worker did not start:\n{self.worker.log_text()}")
        deadline = time.monotonic() + 60
        while not self.web_answers():
            if time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{self.web.log_text()}")
            time.sleep(0.2)
        log(
            f"PostgreSQL {name}, Redis :{self.redis.port}, gunicorn :{self.web_port}, "
            f"worker, beat; logs in {self.logs}"
        )

    def seed(self) -> None:
        from django.core.management import call_command

        from tests import factories

        factories.make_regulator("1000", "Cal/EPA", "state")
        cupa = factories.make_regulator("1001", "Faults CUPA", "cupa", zip_codes=["95814"])
        lead = factories.make_user("lead@faults.example")
        organization = factories.make_organization(lead, "Faults Fuels")
        self.lead, self.organization = lead, organization
        self.cers_id = factories.make_facility(organization, zip_code="95814").cers_id
        self.reviewers = []
        for n in (1, 2):
            reviewer = factories.make_user(f"reviewer{n}@faults.example")
            factories.add_staff(cupa, reviewer, "reviewer")
            self.reviewers.append(reviewer)
        call_command(
            "create_edt_account",
            "--regulator=1001",
            f"--username={USERNAME}",
            "--tiers=3-4",
            "--environment=production",
            f"--secret={SECRET}",
            stdout=open(os.devnull, "w"),  # noqa: SIM115
        )
        from edt.credentials import legacy_value

        self.authorization = f"user {USERNAME}:{legacy_value(SECRET)}"

    def web_answers(self) -> bool:
        try:
            with urllib.request.urlopen(  # noqa: S310 - our own server
                f"http://127.0.0.1:{self.web_port}/health/", timeout=5
            ) as response:
                return response.status == 200
        except (OSError, urllib.error.URLError):
            return False

    # -- HTTP --

    def request(self, url: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
        request = urllib.request.Request(  # noqa: S310 - our own server
            url,
            data=body,
            method="POST" if body is not None else "GET",
            headers={"Authorization": self.authorization, "Content-Type": "text/xml"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def new_upload(self) -> Upload:
        self.counter += 1
        return Upload(prefix=f"F{self.run_id}-{self.counter}")

    def post(self, upload: Upload, body: bytes | None = None, path: str = UPLOAD_PATH) -> None:
        body = body or document(upload.prefix, self.cers_id, self.args.records)
        try:
            status, headers, content = self.request(f"http://127.0.0.1:{self.web_port}{path}", body)
        except OSError as error:
            upload.http_status, upload.answered = 0, f"no answer: {error}"
            return
        upload.http_status = status
        upload.key = headers.get("X-CERS-Transaction-Key", "")
        detail = re.search(rb"<DetailUri>([^<]+)</DetailUri>", content)
        upload.detail_uri = detail.group(1).decode().replace("&amp;", "&") if detail else ""
        found = re.search(rb"<TransactionStatus[^>]*>(\w+)<", content)
        upload.answered = (
            found.group(1).decode() if found else content[:200].decode(errors="replace")
        )

    def status(self, upload: Upload) -> str:
        try:
            status, _, content = self.request(upload.detail_uri)
        except OSError:
            return ""
        found = re.search(rb"<TransactionStatus[^>]*>(\w+)<", content)
        return found.group(1).decode() if status == 200 and found else ""

    def wait_final(self, trial: Trial) -> None:
        """Poll every upload of the trial over HTTP until final (or given up), supervising the
        processes meanwhile."""
        deadline = trial.fault_ended + WAIT_SECONDS
        pending = [u for u in trial.uploads if u.detail_uri]
        while pending and time.monotonic() < deadline:
            for service in self.services:
                if service is self.redis:
                    if not service.alive():
                        log("redis exited: started again")
                        service.restarts += 1
                        service.start()
                else:
                    service.supervise()
            for upload in list(pending):
                status = self.status(upload)
                if status in FINAL:
                    upload.final_status, upload.final_at = status, time.monotonic()
                    pending.remove(upload)
            time.sleep(0.25)

    # -- faults --

    def post_uploads(self, trial: Trial, count: int) -> None:
        for _ in range(count):
            upload = self.new_upload()
            self.post(upload)
            trial.uploads.append(upload)

    def kill_pool_process(self, trial: Trial) -> None:
        self.post_uploads(trial, 2)
        time.sleep(self.random.uniform(0, self.args.window))
        children = self.worker.children()
        if children:
            victim = self.random.choice(children)
            os.kill(victim, signal.SIGKILL)
            trial.note = f"pool process {victim}"
        trial.fault_ended = time.monotonic()  # prefork replaces it by itself

    def kill_worker(self, trial: Trial) -> None:
        self.post_uploads(trial, 2)
        time.sleep(self.random.uniform(0, self.args.window))
        trial.note = f"worker {self.worker.process.pid} and its pool {self.worker.children()}"
        self.worker.kill_all()
        self.worker.start()
        trial.fault_ended = time.monotonic()

    def kill_at_commit(self, trial: Trial) -> None:
        point = self.random.choice(["before-commit", "after-commit"])
        log_before = self.worker.log_text()
        self.post_uploads(trial, 1)
        # Find the pool process paused at the point for this upload (its row's id is in the
        # log line; the harness does not know it, so it takes the first new line).
        deadline = time.monotonic() + 30
        victim = None
        while time.monotonic() < deadline and victim is None:
            new = self.worker.log_text()[len(log_before) :]
            found = re.search(rf"fault point {point} reached: upload \d+, process (\d+)", new)
            if found:
                victim = int(found.group(1))
            else:
                time.sleep(0.02)
        if victim is not None:
            os.kill(victim, signal.SIGKILL)
            trial.note = f"{point}, pool process {victim}"
        else:
            trial.note = f"{point} never reached"
        trial.fault_ended = time.monotonic()

    def redis_restart(self, trial: Trial, aof: bool) -> None:
        self.redis.switch(aof)
        self.post_uploads(trial, 2)
        time.sleep(self.random.uniform(0, self.args.window))
        self.redis.kill_all()
        down = self.random.uniform(0.5, 2.0)
        time.sleep(down)
        self.redis.start()
        trial.note = f"down {down:.1f} s"
        trial.fault_ended = time.monotonic()

    def redis_down_at_upload(self, trial: Trial) -> None:
        self.redis.kill_all()
        self.post_uploads(trial, 2)
        time.sleep(self.random.uniform(0.5, 2.0))
        self.redis.start()
        trial.fault_ended = time.monotonic()

    def duplicate_keys(self, trial: Trial) -> None:
        uploads = [self.new_upload() for _ in range(3)]
        prefix = uploads[0].prefix
        body = document(prefix, self.cers_id, self.args.records)
        for upload in uploads:
            upload.prefix = prefix
        threads = [threading.Thread(target=self.post, args=(u, body)) for u in uploads]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        keys = {u.key for u in uploads}
        trial.note = f"{len(keys)} transaction key(s) answered"
        trial.uploads.extend(uploads)
        trial.fault_ended = time.monotonic()

    def submitted_element(self):
        """A facility of its own with its Facility Information submitted, as a business does
        in the portal; returns the submitted element."""
        from submittals import services
        from submittals.models import SubmittalElementRecord
        from tests import factories
        from tests.submittals.data import answer_required_documents, complete_facility_information

        facility = factories.make_facility(self.organization, zip_code="95814")
        record = services.start_draft(actor=self.lead, facility=facility, element=1)
        record = services.save_draft_data(
            actor=self.lead, record=record, data=complete_facility_information(f3=facility.name)
        )
        answer_required_documents(self.lead, record)
        services.submit(
            actor=self.lead,
            facility=facility,
            elements=[record],
            certifier_name="Fault Harness",
            certifier_title="Runner",
        )
        return SubmittalElementRecord.objects.get(pk=record.pk)

    def concurrent_reviews(self, trial: Trial) -> None:
        """Two reviewers' systems send different reviews of one element at the same moment:
        Accepted as of one second, Not Accepted as of the next. Both are applied in the order
        of their dates, or the earlier one is refused once the later is in (1052); the later
        one always ends as the element's status."""
        from datetime import timedelta

        from django.utils import timezone

        trial.record = self.submitted_element()
        # Both after the submission (in whole seconds) and neither in the future.
        first = trial.record.submitted_at.replace(microsecond=0) + timedelta(seconds=1)
        second = first + timedelta(seconds=1)
        time.sleep(max(0.0, (second - timezone.now()).total_seconds() + 0.5))
        earlier, later = self.new_upload(), self.new_upload()
        bodies = [
            (earlier, review_document(earlier.prefix, trial.record, 4, first)),
            (
                later,
                review_document(later.prefix, trial.record, 5, second, comments="Map missing."),
            ),
        ]
        threads = [
            threading.Thread(target=self.post, args=(upload, body, REVIEW_PATH))
            for upload, body in bodies
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        trial.uploads.extend([earlier, later])
        trial.fault_ended = time.monotonic()

    def submit_racing_review(self, trial: Trial) -> None:
        """The business submits a new Facility Information while two reviewers, who both
        opened the review page of the one submitted before, act on it: three threads, each
        with its own database connection, released together. The submit is stored whole;
        the stale-review check lets exactly one review in (the other is told to reload)."""
        from django.core.exceptions import ValidationError
        from django.db import connection

        from submittals import services
        from submittals.models import ElementStatus
        from tests.submittals.data import answer_required_documents, complete_facility_information

        reviewed = self.submitted_element()
        facility = reviewed.facility
        seen = services.review_seen(reviewed)  # what both review pages carry
        draft = services.start_draft(actor=self.lead, facility=facility, element=1)
        draft = services.save_draft_data(
            actor=self.lead,
            record=draft,
            data=complete_facility_information(f3=facility.name),
        )
        answer_required_documents(self.lead, draft)
        start = threading.Barrier(3)
        actions: dict[str, str] = {}
        done: dict[str, float] = {}

        def act(name, work):
            try:
                start.wait(timeout=30)
                work()
                actions[name] = "done"
            except ValidationError as error:
                actions[name] = f"refused: {' '.join(error.messages)[:80]}"
            except Exception as error:  # noqa: BLE001 - counted as lost, with its reason
                actions[name] = f"error: {type(error).__name__}: {error}"[:200]
            finally:
                done[name] = time.monotonic()
                connection.close()

        def submit():
            services.submit(
                actor=self.lead,
                facility=facility,
                elements=[draft],
                certifier_name="Fault Harness",
                certifier_title="Runner",
            )

        def review(reviewer, status, comments=""):
            return lambda: services.review(
                actor=reviewer, record=reviewed, status=status, comments=comments, seen=seen
            )

        threads = [
            threading.Thread(target=act, args=("submit", submit)),
            threading.Thread(
                target=act, args=("accept", review(self.reviewers[0], ElementStatus.ACCEPTED))
            ),
            threading.Thread(
                target=act,
                args=(
                    "not accept",
                    review(self.reviewers[1], ElementStatus.NOT_ACCEPTED, "Map missing."),
                ),
            ),
        ]
        began = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        trial.race = {
            "reviewed": reviewed.pk,
            "draft": draft.pk,
            "actions": actions,
            "took": max(done.values()) - began,
        }
        trial.note = "; ".join(f"{name} {outcome}" for name, outcome in sorted(actions.items()))
        trial.fault_ended = time.monotonic()

    def race_problems(self, trial: Trial) -> list[str]:
        """What went wrong with a submit racing two reviews ("class: detail")."""
        from core.models import AuditEvent
        from submittals.models import ElementStatus, SubmittalElementRecord

        race = trial.race
        actions = race["actions"]
        reviewed = SubmittalElementRecord.objects.get(pk=race["reviewed"])
        submitted = SubmittalElementRecord.objects.select_related("facility_submittal").get(
            pk=race["draft"]
        )
        problems = [
            f"lost: {name} failed ({outcome})"
            for name, outcome in actions.items()
            if outcome.startswith("error")
        ]
        # The submit: the new element Submitted, its submittal with one submitted event.
        group = submitted.facility_submittal
        events = AuditEvent.objects.filter(
            action="submittal.submitted", object_id=str(group.pk)
        ).count()
        if actions.get("submit") != "done" or submitted.status != ElementStatus.SUBMITTED:
            problems.append(
                f"lost: the submit ({actions.get('submit')}) left the new element "
                f"{submitted.get_status_display()}"
            )
        elif events != 1:
            kind = "duplicated" if events > 1 else "partial"
            problems.append(f"{kind}: {events} submitted events for one submit")
        # The reviews: exactly one in, the element's status the one applied, one event.
        applied = [name for name in ("accept", "not accept") if actions.get(name) == "done"]
        refused = [n for n in ("accept", "not accept") if actions.get(n, "").startswith("refused")]
        reviews = AuditEvent.objects.filter(
            action="submittal.reviewed", object_id=str(reviewed.pk)
        ).count()
        expected = {"accept": ElementStatus.ACCEPTED, "not accept": ElementStatus.NOT_ACCEPTED}
        if len(applied) > 1 or reviews > 1:
            problems.append(f"duplicated: {len(applied)} reviews applied, {reviews} stored")
        elif not applied:
            problems.append(f"lost: no review applied ({', '.join(refused) or 'none refused'})")
        elif reviews != 1 or reviewed.status != expected[applied[0]]:
            problems.append(
                f"partial: {applied[0]} applied, {reviews} stored, the element "
                f"{reviewed.get_status_display()}"
            )
        if submitted.action_at is not None:
            problems.append("partial: a review of the old element changed the new one")
        return problems

    # -- the run --

    def plan(self) -> list[tuple[str, callable]]:
        kills, restarts = self.args.kills, self.args.redis_restarts
        commit_kills = max(1, kills // 5) if kills else 0
        pool_kills = (kills - commit_kills + 1) // 2
        main_kills = kills - commit_kills - pool_kills
        aof = (restarts + 1) // 2
        plan = (
            [("kill pool process", self.kill_pool_process)] * pool_kills
            + [("kill worker", self.kill_worker)] * main_kills
            + [("kill at commit", self.kill_at_commit)] * commit_kills
        )
        self.random.shuffle(plan)
        # AOF first, then without (one clean switch between them).
        plan += [("redis restart (AOF)", lambda t: self.redis_restart(t, True))] * aof
        plan += [("redis restart (no AOF)", lambda t: self.redis_restart(t, False))] * (
            restarts - aof
        )
        plan += [("redis down at upload", self.redis_down_at_upload)] * self.args.redis_down
        plan += [("duplicate keys", self.duplicate_keys)] * self.args.duplicates
        plan += [("concurrent reviews", self.concurrent_reviews)] * self.args.reviews
        plan += [("submit racing review", self.submit_racing_review)] * self.args.races
        return plan

    def run(self) -> int:
        plan = self.plan()
        for number, (fault, inject) in enumerate(plan, 1):
            trial = Trial(fault)
            inject(trial)
            self.wait_final(trial)
            self.trials.append(trial)
            outcome = ", ".join(
                f"{u.prefix}: {u.final_status or 'NOT FINAL'}"
                + (f" after {max(0.0, u.final_at - trial.fault_ended):.1f} s" if u.final_at else "")
                for u in trial.uploads
            )
            log(f"trial {number}/{len(plan)} {fault} ({trial.note}): {outcome}")
        return self.report()

    def report(self) -> int:
        from django.db import connection

        from cme.models import Inspection
        from core.models import AuditEvent
        from edt.models import EdtTransaction

        connection.close()  # a fresh connection: the worker wrote everything we count
        Status = EdtTransaction.Status
        classes: dict[str, dict] = {}
        failures = []
        records = self.args.records
        for trial in self.trials:
            row = classes.setdefault(
                trial.fault,
                {
                    "trials": 0,
                    "uploads": 0,
                    "lost": 0,
                    "duplicated": 0,
                    "partial": 0,
                    "late": 0,
                    "times": [],
                },
            )
            row["trials"] += 1
            if trial.race is not None:
                for problem in self.race_problems(trial):
                    row[problem.split(":")[0]] += 1
                    failures.append(f"{trial.fault}: {problem}")
                row["uploads"] += len(trial.race["actions"])
                row["times"].append(trial.race["took"])
                if trial.race["took"] > LATE_SECONDS:
                    row["late"] += 1
                    failures.append(f"{trial.fault}: late: {trial.race['took']:.1f} s")
                continue
            if trial.record is not None:
                for problem in self.review_problems(trial):
                    row[problem.split(":")[0]] += 1
                    failures.append(f"{trial.fault}: {problem}")
                row["uploads"] += len(trial.uploads)
                row["times"].extend(
                    max(0.0, u.final_at - trial.fault_ended) for u in trial.uploads if u.final_at
                )
                continue
            seen = set()
            for upload in trial.uploads:
                if upload.prefix in seen:
                    continue  # duplicate-key posts of one document count as one upload
                seen.add(upload.prefix)
                row["uploads"] += 1
                inspections = Inspection.objects.filter(
                    regulator_key__startswith=f"{upload.prefix}-"
                )
                stored = inspections.count()
                keys = inspections.values("regulator_key").distinct().count()
                recorded = AuditEvent.objects.filter(
                    action="cme.inspection.recorded",
                    object_id__in=[str(pk) for pk in inspections.values_list("pk", flat=True)],
                ).count()
                processed = EdtTransaction.objects.filter(
                    client_key=upload.prefix, status=Status.ACCEPTED
                ).count()
                final = [u for u in trial.uploads if u.prefix == upload.prefix and u.final_at]
                problems = []
                if not final or (upload.final_status != "Accepted" and stored == 0):
                    problems.append("lost")
                if stored > records or keys < stored or recorded > records or processed > 1:
                    problems.append("duplicated")
                if 0 < stored < records or (stored and upload.final_status != "Accepted"):
                    problems.append("partial")
                if final:
                    took = max(0.0, min(u.final_at for u in final) - trial.fault_ended)
                    row["times"].append(took)
                    if took > LATE_SECONDS:
                        problems.append("late")
                for problem in problems:
                    row[problem] += 1
                if problems:
                    failures.append(
                        f"{trial.fault}: {upload.prefix} ({upload.key or 'no key'}): "
                        f"{', '.join(problems)}; answered {upload.http_status} "
                        f"{upload.answered}, final {upload.final_status or '-'}, "
                        f"{stored}/{records} inspections, {recorded} recorded, "
                        f"{processed} accepted transaction(s)"
                    )
        not_final = EdtTransaction.objects.filter(
            status__in=[Status.QUEUED, Status.IN_PROCESS]
        ).count()

        header = (
            "| fault | trials | uploads | lost | duplicated | partial | late | "
            "time to final: median | p95 | max |"
        )
        lines = [header, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for fault, row in classes.items():
            times = sorted(row["times"])
            median = f"{statistics.median(times):.1f} s" if times else "-"
            p95 = f"{percentile(times, 95):.1f} s" if times else "-"
            longest = f"{max(times):.1f} s" if times else "-"
            lines.append(
                f"| {fault} | {row['trials']} | {row['uploads']} | {row['lost']} | "
                f"{row['duplicated']} | {row['partial']} | {row['late']} | {median} | {p95} | "
                f"{longest} |"
            )
        print("\n".join(lines))
        restarts = (
            ", ".join(f"{s.name} {s.restarts}" for s in self.services if s.restarts) or "none"
        )
        print(
            f"\n{self.args.records} inspections per upload; late means final more than "
            f"{LATE_SECONDS} s after the fault ended (default CERS_SWEEP_SECONDS, "
            f"CERS_MESSAGE_GRACE and EDT_QUEUED_STRANDED); uploads still not final at the "
            f"end: {not_final}; processes restarted by the supervisor after exiting: {restarts}."
        )
        for failure in failures:
            print(f"FAILED {failure}")
        return 1 if failures or not_final else 0

    def review_problems(self, trial: Trial) -> list[str]:
        """What went wrong with a trial of concurrent reviews ("class: detail")."""
        from core.models import AuditEvent
        from submittals.models import ElementStatus

        earlier, later = trial.uploads
        record = type(trial.record).objects.get(pk=trial.record.pk)
        reviews = AuditEvent.objects.filter(
            action="submittal.reviewed", object_id=str(record.pk)
        ).count()
        accepted = sum(u.final_status == "Accepted" for u in trial.uploads)
        problems = []
        for upload in trial.uploads:
            if not upload.final_at:
                problems.append(f"lost: {upload.prefix} never final")
            elif upload.final_at - trial.fault_ended > LATE_SECONDS:
                problems.append(f"late: {upload.prefix}")
        if later.final_status != "Accepted" or record.status != ElementStatus.NOT_ACCEPTED:
            problems.append(
                f"lost: the later review ({later.final_status or '-'}) is not the element's "
                f"status ({record.get_status_display()})"
            )
        if reviews > accepted:
            problems.append(f"duplicated: {reviews} reviews stored for {accepted} accepted")
        elif reviews < accepted:
            problems.append(f"partial: {reviews} reviews stored for {accepted} accepted")
        return problems

    def close(self) -> None:
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as error:  # noqa: BLE001 - stopping everything matters more
                log(f"could not stop {service.name}: {error}")
        if self.args.keep_logs:
            log(f"logs kept in {self.logs}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50, help="worker kills (default 50)")
    parser.add_argument(
        "--redis-restarts", type=int, default=20, help="Redis restarts, half with AOF"
    )
    parser.add_argument("--redis-down", type=int, default=None, help="uploads with Redis down")
    parser.add_argument("--duplicates", type=int, default=None, help="duplicate-key trials")
    parser.add_argument("--reviews", type=int, default=None, help="concurrent-review trials")
    parser.add_argument(
        "--races", type=int, default=None, help="trials of a submit racing two reviews"
    )
    parser.add_argument("--records", type=int, default=None, help="inspections per upload")
    parser.add_argument("--short", action="store_true", help="small uploads, fewer extra trials")
    parser.add_argument(
        "--window", type=float, default=None, help="faults land within this many seconds"
    )
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("FAULTS_DATABASE_URL", "postgres://root@127.0.0.1:5432/cers_faults"),
        help="a PostgreSQL database to drop, create and use (FAULTS_DATABASE_URL)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    args = parser.parse_args(argv)
    short = args.short
    args.redis_down = args.redis_down if args.redis_down is not None else (1 if short else 5)
    args.duplicates = args.duplicates if args.duplicates is not None else (1 if short else 5)
    args.reviews = args.reviews if args.reviews is not None else (1 if short else 5)
    args.races = args.races if args.races is not None else (1 if short else 10)
    args.records = args.records or (20 if short else 100)
    args.window = args.window if args.window is not None else (2.0 if short else 4.0)
    args.seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    if not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must name a PostgreSQL database")
    if shutil.which("redis-server") is None:
        parser.error("redis-server is not on PATH (apt-get install redis-server)")
    log(f"seed {args.seed}")
    harness = Harness(args)
    try:
        harness.setup()
        return harness.run()
    finally:
        harness.close()


if __name__ == "__main__":
    sys.exit(main())
