"""The Celery application.

Reliability settings (``cers/settings.py``, README "Deployment"): a task is acknowledged only
after it ran (``acks_late``) and is put back when its pool process dies
(``task_reject_on_worker_lost``); each worker process takes one message at a time; tasks carry
JSON only and have time limits. The database row a task works on is the record of the work, so
a lost message is recovered by the periodic sweeps (and by the sweep a worker runs when it
starts), and a redelivered one is harmless because every task claims its row first.
"""

import os

from celery import Celery
from celery.signals import worker_ready

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")

app = Celery("cers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_ready.connect
def sweep_when_a_worker_starts(sender=None, **kwargs) -> None:
    """A worker that starts (often: one that replaces a worker that died) sweeps at once, so
    the work a dead worker held is taken up in seconds, not at the next beat."""
    from core.tasks import enqueue, sweep_outbound_email
    from edt.tasks import sweep_edt_uploads

    for sweep in (sweep_edt_uploads, sweep_outbound_email):
        enqueue(sweep)
