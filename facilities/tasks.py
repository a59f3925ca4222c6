"""The facilities' periodic work: the due date reminders (``services.send_due_reminders``).

The beat runs it every ``CERS_DUE_REMINDER_SECONDS``; running it more often than once a day
costs a query and sends nothing twice, since each reminder sent is a ``DueReminder`` row.
"""

from celery import shared_task

from . import services


@shared_task
def send_due_reminders() -> int:
    return services.send_due_reminders()
