"""The EDT program's public pages: the vendors by tier, the Terms of Use and the
announcement archive, open to everyone; and the implementers' list, for signed-in regulator
staff (the state administrator also manages it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.utils.functional import cached_property
from django.views.generic import TemplateView

from core.pagination import paginate
from core.views import RegulatorPortalMixin
from regulators.querysets import is_state_edt_administrator

from ...models import Announcement, Subscriber, Vendor
from ...tiers import Tier
from .. import services
from ..forms import SubscriberForm


class VendorTableView(TemplateView):
    """Vendors by tier: a mark where the state administrator has authorized the vendor for
    the tier in production."""

    template_name = "edt/public/vendors.html"

    def get_context_data(self, **kwargs):
        vendors = Vendor.objects.prefetch_related("authorizations").order_by("name")
        rows = []
        for vendor in vendors:
            authorized = set(vendor.authorized_tiers())
            rows.append({"vendor": vendor, "marks": [t in authorized for t in Tier.values]})
        return super().get_context_data(tiers=Tier.choices, rows=rows, **kwargs)


class TermsView(TemplateView):
    """The EDT Terms of Use, in the version a request accepts."""

    template_name = "edt/public/terms.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(version=settings.EDT_TERMS_VERSION, **kwargs)


class AnnouncementListView(TemplateView):
    """The archive of announcements to the implementers' list, newest first."""

    template_name = "edt/public/announcement_list.html"

    def get_context_data(self, **kwargs):
        announcements = Announcement.objects.order_by("-posted_at", "-id")
        return super().get_context_data(page=paginate(self.request, announcements), **kwargs)


class AnnouncementDetailView(TemplateView):
    template_name = "edt/public/announcement_detail.html"

    def get_context_data(self, **kwargs):
        announcement = get_object_or_404(Announcement, pk=self.kwargs["pk"])
        return super().get_context_data(announcement=announcement, **kwargs)


class ImplementersView(RegulatorPortalMixin, TemplateView):
    """Regulator staff join or leave the implementers' list themselves; the state
    administrator also sees the list, adds vendor contacts and removes anyone. Each change is
    a POST with ``action`` = subscribe, unsubscribe, add or remove."""

    template_name = "edt/public/implementers.html"

    @cached_property
    def is_state_admin(self) -> bool:
        return is_state_edt_administrator(self.request.user)

    def own_subscription(self):
        return Subscriber.objects.filter(email__iexact=self.request.user.email).first()

    def get_context_data(self, **kwargs):
        page = None
        if self.is_state_admin:
            subscribers = Subscriber.objects.select_related("vendor").order_by("email")
            page = paginate(self.request, subscribers)
            kwargs.setdefault("add_form", SubscriberForm())
        return super().get_context_data(
            subscription=self.own_subscription(),
            is_state_admin=self.is_state_admin,
            page=page,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        action = request.POST.get("action", "")
        user = request.user
        try:
            if action == "subscribe":
                services.subscribe(actor=user, email=user.email, name=user.get_full_name())
                messages.success(request, "You are on the EDT implementers' list.")
            elif action == "unsubscribe":
                subscription = self.own_subscription()
                if subscription is not None:
                    services.unsubscribe(actor=user, subscriber=subscription)
                messages.success(request, "You have left the EDT implementers' list.")
            elif action == "add" and self.is_state_admin:
                form = SubscriberForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(add_form=form))
                subscriber = services.subscribe(actor=user, **form.cleaned_data)
                messages.success(request, f"{subscriber.email} is on the implementers' list.")
            elif action == "remove" and self.is_state_admin:
                wanted = request.POST.get("subscriber", "")
                subscriber = get_object_or_404(
                    Subscriber, pk=int(wanted) if wanted.isdigit() else 0
                )
                services.unsubscribe(actor=user, subscriber=subscriber)
                messages.success(request, f"{subscriber.email} was removed from the list.")
            else:
                messages.error(request, "Choose what to do.")
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        return redirect("edt_program:implementers")
