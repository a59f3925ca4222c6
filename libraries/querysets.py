"""Who may read and change the libraries.

The libraries are statewide reference data that belong to no organization or agency, so the
scope is the same for every row: every signed-in portal user may ``view`` all of them, and
only the state administrator may ``manage`` them. EDT service accounts read the libraries
through the EDT library queries, never through these querysets.
"""

from __future__ import annotations

from django.db import models

from regulators.querysets import is_state_administrator


def can_read_libraries(user) -> bool:
    """A signed-in, active portal user (not an EDT service account)."""
    return (
        getattr(user, "is_authenticated", False)
        and user.is_active
        and not getattr(user, "is_service_account", False)
    )


class LibraryQuerySet(models.QuerySet):
    """Rows of a statewide library."""

    def for_user(self, user, action: str = "view"):
        """Every row for a reader (``view``) or for the state administrator (``manage``);
        nothing otherwise. ``view`` costs no query."""
        if action == "view":
            return self if can_read_libraries(user) else self.none()
        if action == "manage":
            return self if is_state_administrator(user) else self.none()
        return self.none()


class ViolationTypeQuerySet(LibraryQuerySet):
    """Rows of the violation library."""

    def valid_on(self, day):
        """Types that may be cited for a violation that occurred on ``day``."""
        return self.filter(
            models.Q(begin_date__lte=day)
            & (models.Q(end_date__isnull=True) | models.Q(end_date__gte=day))
        )
