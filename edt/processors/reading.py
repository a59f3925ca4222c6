"""Reading values out of an uploaded EDT document, the same way in every processor.

The document has passed CalEPA's schema before a processor sees it, so these only turn text
into values; the callers decide what an absent element means (``default``) and whether a date
that cannot be read is a problem (``required``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from lxml import etree


def text(parent: etree._Element | None, path: str, *, default: str | None = "") -> str | None:
    """The stripped text of ``path`` under ``parent`` ("" for an empty element); ``default``
    when the element, or ``parent`` itself, is absent."""
    element = parent.find(path) if parent is not None else None
    if element is None:
        return default
    return (element.text or "").strip()


def moment(value: str | None, *, required: bool = False) -> datetime | None:
    """An xs:dateTime as an aware datetime (one without a zone is in the project's time zone).

    Empty or unreadable: None, or with ``required`` a ``ValueError`` naming the value. A value
    shaped like a date but impossible (a 13th month), or one past the moments UTC holds
    (9999-12-31T23:59:59-12:00), raises ``ValueError`` either way."""
    value = (value or "").strip()
    parsed = parse_datetime(value) if value else None
    if parsed is None:
        if required:
            raise ValueError(f"'{value}' is not a date and time")
        return None
    parsed = timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
    try:
        parsed.astimezone(UTC)  # as the database holds it
    except OverflowError:
        raise ValueError(
            f"'{value}' lies outside the moments CERS holds (years 1 to 9999 in UTC)"
        ) from None
    return parsed


def day(value: str | None) -> date | None:
    """An xs:date as a date: the day it names, whatever time zone follows it ("2027-06-30Z",
    "2027-06-30-07:00", as Java's JAXB writes one). Empty: None; unreadable: ``ValueError``."""
    value = (value or "").strip()
    return date.fromisoformat(value[:10]) if value else None


def in_the_future(what: str, value: datetime, now: datetime) -> str:
    """The refusal of a moment after ``now``, both as Pacific clock readings, saying how a
    time without a zone is read (a system writing UTC without one is hours ahead)."""
    form = "%Y-%m-%d %H:%M %Z"
    return (
        f"{what} {timezone.localtime(value):{form}} is in the future (now "
        f"{timezone.localtime(now):{form}}); a time without a zone is Pacific time."
    )
