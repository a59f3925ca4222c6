"""Workers that stay up (issue 17): the Celery settings that put back the task of a dead pool
process and replace the process, and the systemd units that restart a dead worker, beat and
web server. Checked here so a change to either is a deliberate one."""

import configparser
from pathlib import Path

import pytest
from django.conf import settings

from cers import celery as cers_celery
from cers.celery import app

UNITS = Path(settings.BASE_DIR) / "deploy" / "systemd"


def test_a_task_is_put_back_when_its_worker_dies_and_pool_processes_are_renewed():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.worker_max_tasks_per_child and conf.worker_max_tasks_per_child > 0
    assert conf.worker_cancel_long_running_tasks_on_connection_loss is True


def test_the_visibility_timeout_outlasts_the_longest_task_and_the_sweeps_run_often():
    """A message redelivered while its task still runs would be a wasted claim; the sweeps,
    not the broker's timeout, recover a dead worker's work within seconds."""
    visibility = app.conf.broker_transport_options["visibility_timeout"]
    assert visibility > app.conf.task_time_limit
    sweeps = {name: e for name, e in app.conf.beat_schedule.items() if name.startswith("sweep-")}
    assert set(sweeps) == {"sweep-outbound-email", "sweep-edt-uploads"}
    for entry in sweeps.values():
        assert entry["schedule"] <= 15
    assert app.conf.task_time_limit < settings.EDT_CLAIM_LEASE


def test_a_worker_that_starts_sweeps_at_once(monkeypatch):
    enqueued = []
    monkeypatch.setattr("core.tasks.enqueue", lambda task, *args: enqueued.append(task.name))

    cers_celery.sweep_when_a_worker_starts()

    assert sorted(enqueued) == ["core.tasks.sweep_outbound_email", "edt.tasks.sweep_edt_uploads"]


@pytest.mark.parametrize(
    ("unit", "command"),
    [
        ("cers-web.service", "gunicorn cers.wsgi"),
        ("cers-edt.service", "gunicorn cers.wsgi"),
        ("cers-worker.service", "celery -A cers worker"),
        ("cers-beat.service", "celery -A cers beat"),
    ],
)
def test_every_process_has_a_systemd_unit_that_restarts_it(unit, command):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(UNITS / unit)
    service = parser["Service"]
    assert service["Restart"] == "always"
    assert command in service["ExecStart"]
    assert service["EnvironmentFile"]
    assert parser["Install"]["WantedBy"] == "multi-user.target"


def test_the_edt_processes_outlast_their_longest_answer():
    """The EDT gunicorn's timeout is sized for the largest query answers (README, Deployment),
    well above gunicorn's default 30 s that killed them mid-answer."""
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.read(UNITS / "cers-edt.service")
    command = parser["Service"]["ExecStart"].split()
    timeout = int(command[command.index("--timeout") + 1])
    assert timeout >= 120
    assert int(parser["Service"]["TimeoutStopSec"]) > timeout
