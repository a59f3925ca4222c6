"""The integration suite: real PostgreSQL, real Redis, a real Celery worker process.

Run by ``CI=true make test`` or ``TEST_SERVICES=1 make test`` (``pytest -m integration`` with
``DATABASE_URL`` and ``REDIS_URL`` set). These tests never skip: run on the embedded default
they fail, loudly, so a CI run that silently tested less cannot pass.

``celery_worker`` starts ``celery -A cers worker`` as a subprocess once per session, after
pytest-django has created the test database, pointed at that database, the same Redis, and a
file mail backend writing into a temporary folder. Tests that use it need ``transactional_db``:
the worker is another process and sees committed rows only.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.conf import settings

from cers.celery import app as celery_app

BASE_DIR = Path(settings.BASE_DIR)
WORKER_START_TIMEOUT = 30.0
WORKER_STOP_TIMEOUT = 20.0
TASK_TIMEOUT = 30.0


@pytest.fixture(scope="session", autouse=True)
def real_services_configured():
    """Fail (never skip) unless the settings point at PostgreSQL and Redis."""
    engine = settings.DATABASES["default"]["ENGINE"]
    problems = []
    if engine != "django.db.backends.postgresql":
        problems.append(f"DATABASE_URL must name PostgreSQL (the database engine is {engine})")
    if not settings.REDIS_URL:
        problems.append("REDIS_URL must be set (tasks would run eagerly, with no worker)")
    if celery_app.conf.task_always_eager:
        problems.append("Celery is in eager mode")
    if problems:
        pytest.fail(
            "The integration suite needs real services: "
            + "; ".join(problems)
            + ". Run it with `TEST_SERVICES=1 make test` (PostgreSQL on 127.0.0.1:5432 and "
            "Redis on 127.0.0.1:6379), or set DATABASE_URL and REDIS_URL yourself.",
            pytrace=False,
        )


@dataclass
class Worker:
    """A running Celery worker process and where its output goes."""

    process: subprocess.Popen
    name: str
    mail_dir: Path
    log_path: Path
    media_dir: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def mail_files(self) -> list[Path]:
        return sorted(p for p in self.mail_dir.iterdir() if p.is_file())

    def task_result(self, task_id: str, timeout: float = TASK_TIMEOUT) -> str:
        """Wait for the worker to finish the task with this id; return its result's repr.

        Results are not stored (``task_ignore_result``), so this reads the worker's log, where
        Celery writes ``Task name[id] succeeded in 0.01s: 'sent'``.
        """
        marker = f"[{task_id}]"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if marker not in line:
                    continue
                succeeded = re.search(r" succeeded in [^:]+: (?P<result>.*)$", line)
                if succeeded:
                    return succeeded.group("result").strip()
                if " raised " in line:
                    pytest.fail(f"Task {task_id} failed in the worker:\n{self.log_tail()}")
            self.check_alive()
            time.sleep(0.1)
        pytest.fail(f"Task {task_id} did not finish in {timeout:.0f} s:\n{self.log_tail()}")

    def wait_for_startup_sweeps(self, timeout: float = TASK_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        names = ("core.tasks.sweep_outbound_email[", "edt.tasks.sweep_edt_uploads[")
        while time.monotonic() < deadline:
            done = [line for line in self.log().splitlines() if " succeeded in " in line]
            if all(any(name in line for line in done) for name in names):
                return
            self.check_alive()
            time.sleep(0.1)
        pytest.fail(f"The worker's start-up sweeps did not finish:\n{self.log_tail()}")

    def pool_processes(self) -> list[int]:
        """The process ids of a prefork worker's pool (its child processes)."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            pytest.fail(
                f"The Celery worker exited with status {self.process.returncode}:\n"
                f"{self.log_tail()}"
            )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # warm shutdown: finish the current task, then exit
    try:
        process.wait(timeout=WORKER_STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def start_worker(
    tmp_path_factory,
    *,
    name: str,
    queues: str = "",
    mail_dir: Path | None = None,
    media_dir: Path | None = None,
    pool: str = "solo",
) -> Worker:
    """Start ``celery -A cers worker`` on the test database and the same Redis; wait until it
    answers a ping. ``queues``: the queues it consumes (default: Celery's own); ``pool``: solo
    (the worker process runs the tasks) or prefork (one pool process runs them)."""
    from django.db import connection

    # pytest-django has created the test database and renamed the connection to it.
    test_database = connection.settings_dict["NAME"]
    database_url = urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{test_database}")

    mail_dir = mail_dir or tmp_path_factory.mktemp("mail")
    # Uploaded files the worker reads (EDT uploads): tests point MEDIA_ROOT here too.
    media_dir = media_dir or tmp_path_factory.mktemp("media")
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    env = os.environ | {
        "DJANGO_SETTINGS_MODULE": "cers.settings",
        "DATABASE_URL": urlunsplit(database_url),
        "REDIS_URL": settings.REDIS_URL,
        # Four slashes: django-environ drops one, and the path must stay absolute.
        "EMAIL_URL": f"filemail:///{mail_dir}",
        "CERS_MEDIA_ROOT": str(media_dir),
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "cers",
        "worker",
        f"--pool={pool}",
        "--concurrency=1",
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
        f"--hostname={name}",
        *([f"--queues={queues}"] if queues else []),
    ]
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line
            command,
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(
        process=process, name=name, mail_dir=mail_dir, log_path=log_path, media_dir=media_dir
    )
    try:
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while True:
            worker.check_alive()
            replies = celery_app.control.ping(destination=[name], timeout=1.0)
            if any(name in reply for reply in replies):
                return worker
            if time.monotonic() > deadline:
                pytest.fail(
                    f"The Celery worker did not answer a ping in {WORKER_START_TIMEOUT:.0f} s:\n"
                    f"{worker.log_tail()}"
                )
    except BaseException:
        _stop(process)
        raise


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, tmp_path_factory, real_services_configured):
    """A real worker process on the test database, the same Redis and a file mail backend."""
    # Messages left in the test Redis by an earlier, interrupted run would name rows of a
    # database that no longer exists, or worse, rows of this one.
    celery_app.control.purge()
    worker = start_worker(tmp_path_factory, name=f"integration-{os.getpid()}@localhost")
    try:
        # A worker sweeps when it starts (cers/celery.py); let that finish before the tests
        # write rows, so it cannot take a row a test means to leave stranded.
        worker.wait_for_startup_sweeps()
        yield worker
    finally:
        # Stop it before pytest-django drops the test database it is connected to.
        _stop(worker.process)
