"""The EDT program's public pages, open to everyone: the vendors by tier, the Terms of Use,
the announcement archive, and the implementers' list: asking to join it, and the links its
e-mails carry to confirm an address and to leave the list. (Regulator staff join with their
own account, and the state administrator manages the list, in the regulator portal.)"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import TemplateView

from core.pagination import paginate
from core.ratelimit import by_address, by_field, rate_limited

from ...models import Announcement, Vendor
from ...tiers import Tier
from .. import services
from ..forms import SubscribeForm


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


# Each request may e-mail a link: limited per client address, and per address written to (with
# the other pages that e-mail an address anyone types, so it is not flooded from many clients).
IMPLEMENTERS_LIMIT = rate_limited(
    "join the list of EDT implementers", ("implementers", by_address), ("email", by_field("email"))
)


@method_decorator(IMPLEMENTERS_LIMIT, name="post")
class ImplementersView(TemplateView):
    """Anyone asks to receive the implementers' list's announcements: a link to confirm is
    e-mailed to the address. The answer is the same whether the address is new, waiting for
    confirmation or on the list already, so the form tells nobody who is on it."""

    template_name = "edt/public/implementers.html"

    def get_context_data(self, **kwargs):
        kwargs.setdefault("form", SubscribeForm())
        return super().get_context_data(**kwargs)

    def post(self, request, *args, **kwargs):
        form = SubscribeForm(request.POST)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form))
        actor = request.user if request.user.is_authenticated else None
        services.request_subscription(actor=actor, **form.cleaned_data)
        messages.success(request, REQUESTED.format(email=form.cleaned_data["email"]))
        return redirect("edt_program:implementers")


REQUESTED = (
    "Thank you. Unless {email} is on the list already, a message with a link to confirm it is "
    "on its way; nothing else is sent to the address until the link is followed."
)


@method_decorator(csrf_exempt, name="dispatch")
class _LinkView(TemplateView):
    """A link from an e-mail: GET shows what it will do with one button, POST does it (a
    mail scanner that opens links does nothing). The signed token is the authority, so the
    POST needs neither a session nor a CSRF cookie; a damaged, forged or expired link answers
    a page that says so (400)."""

    purpose = ""
    template_name = "edt/public/implementers_link.html"

    def link_error(self, error):
        context = self.get_context_data(purpose=self.purpose, error=str(error))
        return self.render_to_response(context, status=400)

    def get(self, request, *args, **kwargs):
        try:
            subscriber = services.subscriber_for_link(self.kwargs["token"], purpose=self.purpose)
        except services.InvalidLink as error:
            return self.link_error(error)
        context = self.get_context_data(purpose=self.purpose, subscriber=subscriber)
        return self.render_to_response(context)


class ConfirmView(_LinkView):
    purpose = "confirm"

    def post(self, request, *args, **kwargs):
        try:
            subscriber = services.confirm_subscription(token=self.kwargs["token"])
        except services.InvalidLink as error:
            return self.link_error(error)
        context = self.get_context_data(purpose=self.purpose, done=True, subscriber=subscriber)
        return self.render_to_response(context)


class UnsubscribeView(_LinkView):
    purpose = "unsubscribe"

    def post(self, request, *args, **kwargs):
        try:
            email = services.unsubscribe_by_link(token=self.kwargs["token"])
        except services.InvalidLink as error:
            return self.link_error(error)
        context = self.get_context_data(purpose=self.purpose, done=True, removed=email)
        return self.render_to_response(context)
