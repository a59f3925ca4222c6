"""The Celery application.

Reliability settings (DESIGN.md, "Runtime"): a task is acknowledged only after it ran
(``acks_late``) and is put back when its worker dies (``task_reject_on_worker_lost``); each
worker process takes one message at a time; tasks carry JSON only and have time limits. The
database row a task works on is the record of the work, so a lost message is recovered by the
periodic sweeps, and a redelivered one is harmless because every task claims its row first.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cers.settings")

app = Celery("cers")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
