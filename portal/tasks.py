"""The portal's periodic work: the dashboard's summaries (``services.refresh_summaries``).

The beat runs it every ``CERS_SUMMARY_SECONDS``; each run counts everything again from the
records, so a run that was missed or failed is made good by the next one.
"""

from celery import shared_task

from . import services


@shared_task
def refresh_summaries() -> int:
    return services.refresh_summaries()
