"""CME's periodic work: the reporting deadline's reminder (``services.send_deadline_reminders``).

The beat runs it every ``CERS_DUE_REMINDER_SECONDS``, as the businesses' due date reminders;
running it more often than once a day costs a query or two and sends nothing twice, since each
reminder sent is a ``DeadlineReminder`` row.
"""

from celery import shared_task

from . import services


@shared_task
def send_deadline_reminders() -> int:
    return services.send_deadline_reminders()
