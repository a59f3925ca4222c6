"""The user agreements of the two portals: what a person promises before they use the business
or the regulator portal, in which version, and the question every portal page asks first.

Each portal's pages (``core.views.BusinessPortalMixin``, ``RegulatorPortalMixin``) ask the
``core.hooks.portal_entry`` hook before anything else; ``ask_for_agreement`` answers it here.
A signed-in person who has not accepted the portal's current version is sent to its
acceptance page, which brings them back to the page they asked for. The public pages, the
account pages and the EDT services (no session, no portal mixin) never ask.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect

from .models import AgreementAcceptance


@dataclass(frozen=True)
class Agreement:
    portal: str  # AgreementAcceptance.Portal
    title: str
    setting: str  # the name of the setting holding the current version
    home: str  # the URL name of the portal's first page

    @property
    def version(self) -> str:
        return getattr(settings, self.setting)

    @property
    def portal_label(self) -> str:
        """ "Business portal", "Regulator portal"."""
        return AgreementAcceptance.Portal(self.portal).label

    @property
    def text_template(self) -> str:
        return f"accounts/agreements/{self.portal}.html"

    @property
    def annotation(self) -> str:
        """The name under which ``PortalBackend`` reads, with the user, whether they
        accepted the current version."""
        return f"accepted_{self.portal}_agreement"


AGREEMENTS = {
    agreement.portal: agreement
    for agreement in (
        Agreement(
            AgreementAcceptance.Portal.BUSINESS.value,
            "Business portal user agreement",
            "CERS_BUSINESS_AGREEMENT_VERSION",
            "business:home",
        ),
        Agreement(
            AgreementAcceptance.Portal.REGULATOR.value,
            "Regulator portal user agreement",
            "CERS_REGULATOR_AGREEMENT_VERSION",
            "regulator:home",
        ),
    )
}


def agreement_for(portal: str) -> Agreement:
    """The agreement of ``portal``; ``LookupError`` for any other name."""
    try:
        return AGREEMENTS[portal]
    except KeyError:
        raise LookupError(f"No portal named {portal!r} has a user agreement.") from None


def accepted_annotations() -> dict:
    """For each agreement, whether the user accepted its current version: read with the user
    (one query, the unique constraint's index answering each), so that a portal page asks
    nothing more of the database."""
    return {
        agreement.annotation: Exists(
            AgreementAcceptance.objects.filter(
                user=OuterRef("pk"), portal=agreement.portal, version=agreement.version
            )
        )
        for agreement in AGREEMENTS.values()
    }


def has_accepted(user, portal: str) -> bool:
    """Whether ``user`` accepted the current version of ``portal``'s agreement: as read with
    the user where ``PortalBackend`` read them (each request's signed-in user), else asked."""
    agreement = agreement_for(portal)
    accepted = getattr(user, agreement.annotation, None)
    if accepted is not None:
        return accepted
    return AgreementAcceptance.objects.filter(
        user=user, portal=agreement.portal, version=agreement.version
    ).exists()


def local_next(url: str | None) -> str:
    """``url`` if it is a path of this site ("/business/..."), else "": never another host,
    a scheme, or a path a browser reads as one ("//host", "/\\host")."""
    if not url or not url.startswith("/") or url.startswith(("//", "/\\")):
        return ""
    if not url_has_allowed_host_and_scheme(url, allowed_hosts=set()):
        return ""
    return url


def accept_url(portal: str, next_url: str = "") -> str:
    url = reverse("accounts:agreement_accept", args=[portal])
    next_url = local_next(next_url)
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def ask_for_agreement(request, portal: str):
    """``core.hooks.portal_entry``: a signed-in person who has not accepted the current
    version of the portal's agreement goes to its acceptance page, which returns them to the
    page asked for (a form posted is not kept: its page opens again). An htmx request is told
    to load the acceptance page as a whole page, not as a fragment of one."""
    if has_accepted(request.user, portal):
        return None
    url = accept_url(portal, request.get_full_path())
    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return redirect(url)
