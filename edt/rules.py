"""What an EDT account may do: what its agency's granted tiers allow.

The EDT services check the tier of each endpoint, in the environment called, when the call
authenticates. The services behind the processors ask again through ``core.access``: this
module tells it which agency an EDT account acts for and whether the agency holds an approved
grant (in any environment: the environment of the call was checked at its door) of a tier that
includes the action. Which facilities and elements the agency may touch is each app's rule.
"""

from __future__ import annotations

from core import access

from .tiers import Tier

# The tiers whose endpoints do each action. A Facility Submittal Submit may carry the
# regulator's action on the elements it stores (tier 6), as an action notification does
# (tier 4); due dates arrive with action notifications, facility metadata and submittals;
# the rest of a facility's metadata only with facility create and metadata (tier 5).
ACTION_TIERS: dict[str, frozenset[int]] = {
    "cme.record": frozenset({Tier.CME}),
    "submittals.review": frozenset({Tier.REVIEW, Tier.SUBMITTAL}),
    "submittals.submit": frozenset({Tier.SUBMITTAL}),
    "submittals.edit": frozenset({Tier.SUBMITTAL}),
    "facilities.set_due_dates": frozenset({Tier.REVIEW, Tier.FACILITY, Tier.SUBMITTAL}),
    "facilities.create": frozenset({Tier.FACILITY}),
    "facilities.set_metadata": frozenset({Tier.FACILITY}),
}


def _grants(actor):
    """The account's agency and the tiers it holds, read once per actor object (an upload
    asks for every record it stores)."""
    cached = getattr(actor, "_edt_grants", None)
    if cached is None:
        from .models import EdtAccount, TierGrant

        account = (
            EdtAccount.objects.filter(user=actor, is_active=True)
            .select_related("regulator")
            .first()
        )
        if account is None:
            cached = (None, frozenset())
        else:
            tiers = TierGrant.objects.approved().filter(regulator=account.regulator)
            cached = (account.regulator, frozenset(tiers.values_list("tier", flat=True)))
        actor._edt_grants = cached
    return cached


def acting_agency(actor, action: str):
    """``core.access``'s resolver: the EDT account's agency, when it holds a tier of
    ``action``."""
    agency, tiers = _grants(actor)
    if agency is not None and ACTION_TIERS.get(action, frozenset()) & tiers:
        return agency
    return None


def register() -> None:
    access.register_agency_resolver(acting_agency)
