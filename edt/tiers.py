"""EDT tiers and environments: the vocabulary every access rule speaks.

A tier is a group of endpoints (CERS numbers them 1-6); access is granted per agency, per tier and
per environment. A Participating Agency may hold tiers 1 and 2 only.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


class Tier(models.IntegerChoices):
    LIBRARY = 1, "Tier 1: libraries and authentication test"
    QUERY = 2, "Tier 2: queries"
    CME = 3, "Tier 3: CME submit"
    REVIEW = 4, "Tier 4: submittal action notifications"
    FACILITY = 5, "Tier 5: facility create and metadata"
    SUBMITTAL = 6, "Tier 6: facility submittal submit"


class Environment(models.TextChoices):
    TESTING = "testing", "Testing"
    PRODUCTION = "production", "Production"


PA_HIGHEST_TIER = Tier.QUERY


def parse_tiers(text: str) -> list[int]:
    """``"1-4"``, ``"1,2,5"`` or ``"3"`` -> a sorted list of tier numbers; anything else is an
    error naming what was wrong."""
    tiers: set[int] = set()
    for part in str(text).replace(" ", "").split(","):
        if not part:
            continue
        low, _, high = part.partition("-")
        try:
            first, last = int(low), int(high or low)
        except ValueError:
            raise ValidationError(
                f"'{part}' is not a tier or a range of tiers (write e.g. 1-4 or 1,2)."
            ) from None
        if first > last:
            raise ValidationError(f"'{part}' runs backwards; write the lower tier first.")
        tiers.update(range(first, last + 1))
    if not tiers:
        raise ValidationError("Name at least one tier (1-6).")
    outside = sorted(t for t in tiers if t not in Tier.values)
    if outside:
        raise ValidationError(f"There is no tier {outside[0]}: the tiers are 1 to 6.")
    return sorted(tiers)


def parse_environments(text: str) -> list[str]:
    """``"testing"``, ``"production"`` or ``"both"`` -> the list of environments."""
    value = str(text).strip().lower()
    if value == "both":
        return [Environment.TESTING, Environment.PRODUCTION]
    if value in Environment.values:
        return [value]
    raise ValidationError(f"'{text}' is not an environment: use testing, production or both.")
