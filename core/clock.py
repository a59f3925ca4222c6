"""California's clock: the one home of the time zone the state's dates are read in.

Dates the law sets (a CME quarter's deadline) and times an agency's system sends without a
zone (EDT queries) are California's, whatever the server's own ``TIME_ZONE`` says: named here,
so they do not move if that setting ever does.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.utils import timezone

CALIFORNIA = ZoneInfo("America/Los_Angeles")


def california_today(now: datetime.datetime | None = None) -> datetime.date:
    """The date in California at ``now`` (the present moment when not given)."""
    return timezone.localdate(now, timezone=CALIFORNIA)
