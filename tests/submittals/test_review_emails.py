"""The review e-mails written in Python (``submittals.services._review_mail`` and
``_reviews_mail``) are, byte for byte, those the templates they replaced rendered: the
templates' text and the contexts built for them are kept here, and both ways write the same
subject and body for varied actions (every status, comments or none, characters a template
could escape, long and unnormalized names, times across a change of daylight saving time,
one action or several of an agency or two, a summary cut short, numbers grouped or not)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import engines
from django.utils import timezone

from core.elements import SubmittalElement
from core.services import _outbound
from submittals import services
from submittals.models import ElementStatus
from submittals.services import _review_mail, _reviews_mail, _Summary, _Told

OLD_TEMPLATES = {
    "review_subject": (
        "{% autoescape off %}CERS: {{ element }} for {{ facility.name }} (CERS ID "
        "{{ facility.cers_id }}) is {{ status }}{% endautoescape %}\n"
    ),
    "review_body": (
        "{% autoescape off %}{{ regulator.name }} ({{ regulator.code }}) changed the status of a "
        "submittal element.\n\nFacility: {{ facility.name }}, {{ facility.address }}\nCERS ID: "
        "{{ facility.cers_id }}\nOrganization: {{ organization.name }}\nElement: {{ element }}, "
        'submitted {{ record.submitted_at|date:"DATE_FORMAT" }}\nStatus: {{ status }}\n'
        "Reviewed by: {{ record.action_agent_name }} <{{ record.action_agent_email }}>, "
        '{{ record.action_at|date:"DATETIME_FORMAT" }}\n{% if comments %}\nRegulator\'s '
        "comments:\n{{ comments }}\n{% endif %}{% if record.status == 5 %}\nThis element was "
        "not accepted. Start a new draft of it, make the corrections the regulator asks for, "
        "and submit it again.\n{% endif %}{% endautoescape %}\n"
    ),
    "reviews_subject": (
        "{% autoescape off %}CERS: the status of {{ count }} submittal elements of "
        "{{ organization.name|truncatechars:120 }} changed{% endautoescape %}\n"
    ),
    "reviews_body": (
        '{% autoescape off %}{{ regulators|join:", " }} changed the status of {{ count }} '
        "submittal elements of {{ organization.name }}.\n{{ counts }}\n{% if not_accepted %}\n"
        '{{ not_accepted }} element{{ not_accepted|pluralize:" was,s were" }} not accepted '
        "(listed first). Start a new draft of each, make the corrections the regulator asks "
        "for, and submit it again.\n{% endif %}{{ lines }}{% if unlisted %}\nAnd {{ unlisted }} "
        "more element{{ unlisted|pluralize }}: the organization's submittals in CERS show each "
        "one's status.\n{% endif %}{% endautoescape %}\n"
    ),
}


def old_mail(name: str, context: dict) -> tuple[str, str]:
    """What ``core.services.queue_emails`` wrote from the templates: the subject on one line."""
    engine = engines["django"]
    subject = engine.from_string(OLD_TEMPLATES[f"{name}_subject"]).render(context)
    body = engine.from_string(OLD_TEMPLATES[f"{name}_body"]).render(context)
    return " ".join(subject.split()), body


def new_mail(written: tuple[str, str]) -> tuple[str, str]:
    """What ``core.services.queue_written_emails`` writes of a subject and body."""
    row = _outbound(["to@acme.example"], *written, "")
    return row.subject, row.body


def one_review_context(line: _Told) -> dict:
    """The context the one-action template was given."""
    return {
        "record": {
            "submitted_at": line.submitted_at,
            "status": line.status,
            "action_agent_name": line.agent_name,
            "action_agent_email": line.agent_email,
            "action_at": line.action_at,
        },
        "facility": {
            "name": line.facility_name,
            "address": line.facility_address,
            "cers_id": line.cers_id,
        },
        "organization": {"name": line.organization_name},
        "element": SubmittalElement(line.element).label,
        "status": ElementStatus(line.status).label,
        "regulator": {"name": line.regulator_name, "code": line.regulator_code},
        "comments": line.comments,
    }


def reviews_context(summary: _Summary) -> dict:
    """The context the summary template was given."""
    first = summary.lines[0]
    zone = timezone.get_current_timezone()
    return {
        "organization": {"name": first.organization_name},
        "lines": "".join(f"\n{line.summary(zone)}\n" for line in summary.lines),
        "unlisted": summary.count - len(summary.lines),
        "count": summary.count,
        "counts": "".join(
            f"\n{ElementStatus(value).label}: {n}" for value, n in sorted(summary.counts.items())
        ),
        "regulators": [label for _number, label in sorted(summary.regulators.values())],
        "not_accepted": summary.not_accepted,
    }


LONG_NAME = "Établissements Pétroliers & Fils <Sacramento> " * 4  # past 120 characters
NAMES = [
    "Acme Fuels",
    "Cafe\u0301 \u201cRoyal\u201d  & <Sons>",  # not NFC, two spaces, quotes
    LONG_NAME,
    "x" * 120,
    "y" * 121,
]
STATUSES = [
    ElementStatus.UNDER_REVIEW,
    ElementStatus.ACCEPTED,
    ElementStatus.NOT_ACCEPTED,
    ElementStatus.NOT_APPLICABLE,
]
COMMENTS = ["", "The site map is missing.", 'Fix <b>"this"</b> & that\nline two\t{{ x }} %}']
# Around the end of daylight saving time in California (2026-11-01 09:00 UTC).
MOMENTS = [
    datetime(2026, 11, 1, 8, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 9, 30, tzinfo=UTC),
    datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC),
]


def told(n: int, organization: str = "Acme Fuels", regulator: int = 1) -> _Told:
    status = STATUSES[n % len(STATUSES)]
    return _Told(
        organization_id=7,
        later=0 if status == ElementStatus.NOT_ACCEPTED else 1,
        cers_id=10_000_000 + n * 1_234_567,
        element=list(SubmittalElement)[n % len(SubmittalElement)],
        number=n,
        submitter_email="approver@acme.example",
        status=int(status),
        comments=COMMENTS[n % len(COMMENTS)] if status != ElementStatus.NOT_ACCEPTED else "Why",
        action_at=MOMENTS[n % len(MOMENTS)],
        agent_name=["Rita Reviewer", "O\u2019Brien & <Co>", ""][n % 3],
        agent_email="reviewer@sac-cupa.example",
        regulator_id=regulator,
        regulator_name=["Sacramento County EMD", "City of Sacramento FD & \u201cPA\u201d"][
            regulator - 1
        ],
        regulator_code=["1001", "1002"][regulator - 1],
        facility_name=NAMES[n % len(NAMES)],
        facility_address=f"{n} Main St.,  Sacramento, CA 95814",
        submitted_at=MOMENTS[(n + 1) % len(MOMENTS)] - timedelta(days=n),
        organization_name=organization,
    )


def summary_of(lines) -> _Summary:
    summary = _Summary()
    for line in sorted(lines):
        summary.add(line)
    return summary


@pytest.fixture(params=[False, True], ids=["plain", "grouped"])
def numbers(request, settings):
    """Numbers as the settings print them: plain, or with thousand separators."""
    settings.USE_THOUSAND_SEPARATOR = request.param


def test_the_e_mail_of_one_action_is_the_templates(numbers):
    lines = [told(n) for n in range(2 * len(STATUSES) * len(COMMENTS) * len(NAMES))]
    assert {line.status for line in lines} == {int(s) for s in STATUSES}
    for line in lines:
        assert new_mail(_review_mail(line)) == old_mail("review", one_review_context(line))


@pytest.mark.parametrize("organization", NAMES)
@pytest.mark.parametrize("how_many", [2, 3, 7])
def test_a_summary_is_the_templates(numbers, organization, how_many):
    lines = [told(n, organization, regulator=1 + (n % 2)) for n in range(how_many)]
    summary = summary_of(lines)
    assert new_mail(_reviews_mail(summary)) == old_mail("reviews", reviews_context(summary))


@pytest.mark.parametrize("unlisted", [1, 2, 1500])
def test_a_summary_cut_short_is_the_templates(numbers, monkeypatch, unlisted):
    monkeypatch.setattr(services, "SUMMARY_MAX_LINES", 2)
    summary = summary_of(told(n) for n in range(2 + unlisted))
    assert summary.count - len(summary.lines) == unlisted
    assert new_mail(_reviews_mail(summary)) == old_mail("reviews", reviews_context(summary))


def test_one_not_accepted_among_several_is_worded_in_the_singular():
    summary = summary_of([told(2), told(1)])  # one Not Accepted, one Accepted
    subject, body = new_mail(_reviews_mail(summary))
    assert "\n1 element was not accepted (listed first)." in body
    assert (subject, body) == old_mail("reviews", reviews_context(summary))
