"""Scoped querysets for facilities."""

from django.db import models
from django.db.models import Exists, OuterRef, Q

from core.scoping import organizations_with, regulators_with


class FacilityQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Facilities ``user`` may act on with ``action``.

        Business users: the facilities of organizations where their role grants the action.
        Regulator staff: facilities for which their agency regulates at least one element
        (so a PA sees a facility when it handles one of its elements); the state agency's
        staff see every facility.
        """
        from regulators.models import Regulator

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
            | Q(Exists(agencies.filter(kind=Regulator.Kind.STATE)))
        )


def organizations_in_jurisdiction(queryset, regulator):
    """Narrow an organization queryset to those with at least one facility in
    ``regulator``'s jurisdiction; every organization for the state agency.

    It lives with the facilities because jurisdiction is a facility's: organizations sit
    below facilities and never look at them."""
    from regulators.models import Regulator

    from .models import FacilityRegulator

    if regulator.kind == Regulator.Kind.STATE:
        return queryset
    return queryset.filter(
        Exists(
            FacilityRegulator.objects.filter(
                facility__organization=OuterRef("pk"), regulator=regulator
            )
        )
    )


def organizations_regulated_by(agencies) -> Q:
    """The organizations with a facility for which one of ``agencies`` handles an element, as
    a condition on an organization queryset: their staff see those organizations
    (registered into ``organizations.hooks.regulated_by``, as organizations stand below
    facilities)."""
    from .models import FacilityRegulator

    return Q(
        Exists(
            FacilityRegulator.objects.filter(
                facility__organization=OuterRef("pk"), regulator__in=agencies
            )
        )
    )
