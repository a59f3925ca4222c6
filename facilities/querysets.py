"""Scoped querysets for facilities."""

from datetime import timedelta

from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone

from organizations.querysets import organizations_with
from regulators.querysets import regulators_with, statewide

# A facility certifies its Facility Information at least once a year.
FACILITY_INFORMATION_OVERDUE_AFTER = timedelta(days=365)


class FacilityQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Facilities ``user`` may act on with ``action``.

        Business users: the facilities of organizations where their role grants the action.
        Regulator staff: facilities for which their agency regulates at least one element
        (so a PA sees a facility when it handles one of its elements); the state agency's
        staff see every facility.
        """
        from .models import FacilityRegulator

        agencies = regulators_with(user, action)
        return self.filter(
            Q(organization__in=organizations_with(user, action).values("pk"))
            | Q(
                Exists(
                    FacilityRegulator.objects.filter(
                        facility=OuterRef("pk"), regulator__in=agencies
                    )
                )
            )
            | statewide(agencies)
        )

    def in_jurisdiction(self, regulator):
        """The facilities in ``regulator``'s jurisdiction: those for which it handles at least
        one submittal element; every facility for the state agency."""
        from .models import FacilityRegulator

        if regulator.is_statewide:
            return self
        return self.filter(
            Exists(FacilityRegulator.objects.filter(facility=OuterRef("pk"), regulator=regulator))
        )

    def overdue(self, now=None):
        """The facilities whose Facility Information is overdue: none was submitted in the
        last year (``FACILITY_INFORMATION_OVERDUE_AFTER`` before ``now``), or none ever.

        Any submitted element counts, whatever its review says (a Not Accepted one waits in
        the review queue, which is its own action item); drafts never count. The facility's
        own elements are read whoever they were routed to: a PA, which never sees Facility
        Information, still learns whether the facilities it regulates are current.
        """
        from core.elements import SubmittalElement
        from submittals.models import ElementStatus, SubmittalElementRecord

        since = (now or timezone.now()) - FACILITY_INFORMATION_OVERDUE_AFTER
        recent = SubmittalElementRecord.objects.filter(
            facility=OuterRef("pk"),
            element=SubmittalElement.FACILITY_INFORMATION,
            status__gt=ElementStatus.DRAFT,
            submitted_at__gte=since,
        )
        return self.filter(~Exists(recent))

    def with_agency_elements(self, regulator):
        """Prefetch, as ``agency_elements``, the element rows ``regulator`` handles (one
        query)."""
        from .models import FacilityRegulator

        return self.prefetch_related(
            Prefetch(
                "regulators",
                queryset=FacilityRegulator.objects.filter(regulator=regulator),
                to_attr="agency_elements",
            )
        )
