import re
from dataclasses import dataclass

import pytest
from django.db import transaction

from core.models import AuditEvent, OutboundEmail

# The CSRF token, masked afresh on every page: in hidden fields and in the htmx header.
CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]*"')


@dataclass
class Answer:
    """What a person at the keyboard, and the machine behind, can observe of one request."""

    status: int
    location: str
    page_status: int
    templates: list[str]
    page: bytes
    outbox_rows: int
    emails: list


def observe(client, capture, method, url, data=None) -> Answer:
    """Call ``url`` and follow its redirect, keeping what differs between two runs only if
    the product lets it: the CSRF token, masked afresh on every page, is blanked."""
    from django.core import mail

    rows = OutboundEmail.objects.count()
    sent = len(mail.outbox)
    with capture(execute=True):
        response = getattr(client, method)(url, data or {})
    location = response.get("Location", "")
    page = client.get(location) if location else response
    return Answer(
        status=response.status_code,
        location=location,
        page_status=page.status_code,
        templates=[t.name for t in page.templates],
        page=CSRF.sub(rb'\1"', page.content),
        outbox_rows=OutboundEmail.objects.count() - rows,
        emails=mail.outbox[sent:],
    )


@pytest.fixture
def rolled_back():
    """Run a block in a savepoint that is rolled back, so two runs start from one state."""

    class RolledBack:
        def __enter__(self):
            self.atomic = transaction.atomic()
            self.atomic._from_testcase = True  # lets the durable services run inside it
            self.atomic.__enter__()
            return self

        def __exit__(self, *exc):
            transaction.set_rollback(True)
            return self.atomic.__exit__(*exc)

    return RolledBack


def audit_count() -> int:
    return AuditEvent.objects.count()
