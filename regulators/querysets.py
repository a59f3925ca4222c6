"""Scoped querysets for regulator agencies and their staff."""

from django.db import models

from core.scoping import regulators_with


class RegulatorQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Agencies on which ``user`` holds the staff permission for ``action``."""
        return self.filter(pk__in=regulators_with(user, action).values("pk"))


class StaffMembershipQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Staff memberships of the agencies ``user`` may act on with ``action``."""
        return self.filter(regulator__in=regulators_with(user, action))
