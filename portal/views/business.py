"""Business portal pages that combine several apps: the organization's home (its members,
its facilities, and the regulators' recent moves and merges that touched it), and each
user's notifications (what needs their action, recent alerts, the e-mails sent to them).

Access is decided by ``BusinessPortalMixin`` (signed in, the current organization); every
count starts from a ``for_user`` queryset narrowed to the current organization.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Exists, OuterRef, Q
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.generic import TemplateView

from core.models import OutboundEmail
from core.views import BusinessPortalMixin
from facilities.models import DueReminder, Facility, FacilityRegulator, FacilityTransfer
from facilities.services import due_elements
from organizations.models import JoinRequest, Membership, Organization
from organizations.querysets import organizations_with
from organizations.views.business import OrganizationPageMixin
from submittals.models import ElementStatus, SubmittalElementRecord

TRANSFER_NOTICE_DAYS = 90
# How far back the notifications page lists alerts (reviews, reminders) and not accepted
# elements still waiting for a new submittal.
ALERT_DAYS = 30
NOT_ACCEPTED_DAYS = 365
EMAILS_SHOWN = 50


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
            can_edit_organization=self.can("organizations.edit"),
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


class NotificationsView(BusinessPortalMixin, TemplateView):
    """What needs the signed-in user's action in every organization they belong to (elements
    due or overdue, elements not accepted and not yet submitted again, join requests to
    decide), the recent alerts (reviews, reminders), and the e-mails the outbox sent them.

    Every list starts from a ``for_user`` queryset, narrowed to the organizations the user is
    a member of (a consultant sees all of theirs; regulator staff, none: their work is in the
    regulator portal); the e-mails are only those addressed to the user's own address, shown
    without their secret links."""

    template_name = "portal/notifications.html"
    requires_organization = False  # the e-mails are the user's own, with or without one

    def get_context_data(self, **kwargs):
        user = self.request.user
        now = timezone.now()
        today = timezone.localdate()
        organizations = organizations_with(user, "view")
        facilities = Facility.objects.for_user(user, "view").filter(organization__in=organizations)
        due = due_elements(
            FacilityRegulator.objects.filter(facility__in=facilities).order_by(
                "next_due_date", "facility__name", "element"
            ),
            today,
        )
        records = SubmittalElementRecord.objects.for_user(user, "view").filter(
            facility__in=facilities
        )
        resubmitted = SubmittalElementRecord.objects.filter(
            facility=OuterRef("facility"),
            element=OuterRef("element"),
            status__gt=ElementStatus.DRAFT,
            submitted_at__gt=OuterRef("submitted_at"),
        )
        not_accepted = list(
            records.filter(
                status=ElementStatus.NOT_ACCEPTED,
                action_at__gte=now - timedelta(days=NOT_ACCEPTED_DAYS),
            )
            .filter(~Exists(resubmitted))
            .select_related("facility", "regulator")
            .order_by("-action_at", "-pk")[:100]
        )
        reviews = list(
            records.filter(action_at__gte=now - timedelta(days=ALERT_DAYS))
            .select_related("facility", "regulator")
            .order_by("-action_at", "-pk")[:50]
        )
        reminders = list(
            DueReminder.objects.filter(
                facility_element__facility__in=facilities,
                sent_at__gte=now - timedelta(days=ALERT_DAYS),
            )
            .select_related("facility_element__facility")
            .order_by("-sent_at", "-pk")[:50]
        )
        join_requests = list(
            JoinRequest.objects.for_user(user, "manage_users")
            .filter(
                organization__in=organizations_with(user, "manage_users"),
                status=JoinRequest.Status.PENDING,
            )
            .select_related("organization", "user")
            .order_by("created_at", "pk")
        )
        emails = list(OutboundEmail.objects.for_user(user)[:EMAILS_SHOWN])
        return super().get_context_data(
            due=[
                {
                    "row": row,
                    "overdue": kind == DueReminder.OVERDUE,
                    "days": (row.next_due_date - today).days,
                }
                for row, kind in due
            ],
            not_accepted=not_accepted,
            join_requests=join_requests,
            reviews=reviews,
            reminders=reminders,
            emails=emails,
            **kwargs,
        )
