"""Who may read and change the libraries.

The libraries are statewide reference data that belong to no organization or agency, so the
scope is the same for every row: every signed-in portal user may ``view`` all of them (the
violation library, which CalEPA publishes, anyone at all), and only the state administrator
may ``manage`` them. EDT service accounts read the libraries
through the EDT library queries, never through these querysets.
"""

from __future__ import annotations

from django.db import connections, models

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


class ChemicalQuerySet(LibraryQuerySet):
    """Rows of the chemical library."""

    def with_ccl_ids(self, ccl_ids):
        """The chemicals with these CCL IDs. An ID beyond what the CCL ID column holds on
        this database (the schema sets no upper bound) names none: it is left out of the
        query, which SQLite would refuse (its integers stop at 2**63 - 1)."""
        field = self.model._meta.get_field("ccl_id")
        low, high = connections[self.db].ops.integer_field_range(field.get_internal_type())
        return self.filter(
            ccl_id__in=[
                ccl_id
                for ccl_id in ccl_ids
                if (low is None or ccl_id >= low) and (high is None or ccl_id <= high)
            ]
        )


class ViolationTypeQuerySet(LibraryQuerySet):
    """Rows of the violation library. CalEPA publishes it to everyone: ``view`` holds every
    row for anybody, signed in or not (an EDT service account still reads it through EDT)."""

    def for_user(self, user, action: str = "view"):
        if action == "view":
            return self.none() if getattr(user, "is_service_account", False) else self
        return super().for_user(user, action)

    def valid_on(self, day):
        """Types that may be cited for a violation that occurred on ``day``."""
        return self.filter(
            models.Q(begin_date__lte=day)
            & (models.Q(end_date__isnull=True) | models.Q(end_date__gte=day))
        )
