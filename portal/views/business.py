"""Business portal pages that combine several apps: the organization's home (its members,
its facilities, and the regulators' recent moves and merges that touched it).

Access is decided by ``BusinessPortalMixin`` (signed in, the current organization); every
count starts from a ``for_user`` queryset narrowed to the current organization.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from facilities.models import Facility, FacilityTransfer
from organizations.models import JoinRequest, Membership, Organization
from organizations.views.business import OrganizationPageMixin

TRANSFER_NOTICE_DAYS = 90


def recent_transfers(user, organization: Organization) -> list[FacilityTransfer]:
    """Regulators' moves and merges that touched ``organization`` in the last 90 days."""
    since = timezone.now() - timedelta(days=TRANSFER_NOTICE_DAYS)
    return list(
        FacilityTransfer.objects.for_user(user, "manage_users")
        .filter(
            Q(from_organization=organization) | Q(to_organization=organization),
            performed_at__gte=since,
        )
        .select_related("to_organization", "merged_into_facility")[:20]
    )


class OrganizationHomeView(OrganizationPageMixin, TemplateView):
    """The dashboard of the organization the user is working in."""

    template_name = "portal/business_home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        organization = get_object_or_404(
            Organization.objects.for_user(user).select_related("lead_regulator"),
            pk=self.organization.pk,
        )
        can_manage_users = context["can_manage_users"]
        context.update(
            organization=organization,
            facility_count=self.scoped(Facility).count(),
            member_count=self.scoped(Membership).count(),
            can_manage_facilities=self.can("facilities.create"),
            recent_transfers=recent_transfers(user, organization) if can_manage_users else [],
            pending_join_requests=(
                self.scoped(JoinRequest, "manage_users")
                .filter(status=JoinRequest.Status.PENDING)
                .count()
                if can_manage_users
                else 0
            ),
        )
        return context
