"""Who may prepare, submit and review submittal elements (``core.access``).

Business roles act per organization, through django-guardian object permissions
(``organizations.roles``): Editors and above prepare drafts (``submittals.edit``), Approvers
and Lead Users submit and certify (``submittals.submit``). Regulator staff review the
submitted elements routed to their agency, the state agency's any element
(``submittals.review``, the scope of the review queue), so a PA reviews its own elements only.

An EDT account acts for its agency (``core.access.acting_agency``): a Facility Submittal Submit
stores and submits the elements of a facility whose Facility Information the agency handles
(tier 6), and the agency's system reviews the elements routed to it or to its PAs (tiers 4
and 6). EDT accounts never touch a business's drafts.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from core.access import acting_agency, is_service_account, rule
from core.elements import SubmittalElement
from facilities.models import Facility, FacilityRegulator
from facilities.rules import agency_and_pas
from organizations.models import Organization
from organizations.roles import EDIT_DRAFTS, SUBMIT
from regulators.models import Regulator
from regulators.roles import REVIEW

from .models import ElementStatus, SubmittalElementRecord


def _holds(actor, codename: str, organization, message: str) -> bool:
    if actor is None or not actor.has_perm(f"organizations.{codename}", organization):
        raise PermissionDenied(message)
    return True


@rule("submittals.edit", Facility)
def may_prepare_drafts(actor, facility: Facility) -> bool:
    """Start drafts of the facility's elements."""
    return _holds(
        actor,
        EDIT_DRAFTS,
        facility.organization,
        "Your role in this organization does not allow preparing drafts.",
    )


@rule("submittals.edit", SubmittalElementRecord)
def may_edit(actor, record: SubmittalElementRecord) -> bool:
    """Change an element's data, inventory or documents (that it is still a draft is the
    service's check: a state, not a right). An EDT account changes no draft: it stores the
    content of the elements its agency's Facility Submittal Submit hands over, elements it
    created as submitted and nobody has acted on yet."""
    if is_service_account(actor):
        if record.created_by_id != actor.pk or record.status != ElementStatus.SUBMITTED:
            raise PermissionDenied("An EDT account stores only the elements it submits.")
        return _receives(actor, record.facility, "submittals.edit")
    return _holds(
        actor,
        EDIT_DRAFTS,
        record.facility.organization,
        "Your role in this organization does not allow editing.",
    )


@rule("submittals.submit", Facility)
def may_submit(actor, facility: Facility) -> bool:
    """Certify and submit the facility's elements."""
    if is_service_account(actor):
        return _receives(actor, facility, "submittals.submit")
    return _holds(
        actor,
        SUBMIT,
        facility.organization,
        "Only Approvers and Lead Users may submit and certify submittals.",
    )


@rule("submittals.submit", Organization)
def may_submit_for(actor, organization: Organization) -> bool:
    """Certify and submit for the organization's facilities (the pages that act on many of
    them at once, such as certify no changes; each facility is asked again by the service).
    Business people only: an EDT account submits per facility."""
    if is_service_account(actor):
        raise PermissionDenied("An EDT account submits for one facility at a time.")
    return _holds(
        actor,
        SUBMIT,
        organization,
        "Only Approvers and Lead Users may submit and certify submittals.",
    )


def _receives(actor, facility: Facility, action: str) -> bool:
    """An EDT account submits for a facility whose Facility Information its agency handles
    (each element then goes to the agency or one of its PAs, which the upload checks)."""
    agency = acting_agency(actor, action)
    if agency is None:
        return False
    if not FacilityRegulator.objects.filter(
        facility=facility, element=SubmittalElement.FACILITY_INFORMATION, regulator=agency
    ).exists():
        raise PermissionDenied(f"CERS ID {facility.cers_id} is not in {agency}'s jurisdiction.")
    return True


@rule("submittals.review", Regulator)
def may_review_for(actor, regulator: Regulator) -> bool:
    """Review the elements routed to ``regulator``, as its staff: the review queue asks it
    before offering its bulk action (each element is then asked on its own). An EDT account
    reviews through the action notification, element by element."""
    if actor is None or not actor.has_perm(f"regulators.{REVIEW}", regulator):
        raise PermissionDenied("Your role at this agency does not allow reviewing submittals.")
    return True


@rule("submittals.review", SubmittalElementRecord)
def may_review(actor, record: SubmittalElementRecord) -> bool:
    """Set a submitted element's review status."""
    message = "Only reviewers of the agency this element was sent to may review it."
    if is_service_account(actor):
        agency = acting_agency(actor, "submittals.review")
        if agency is None or record.is_draft or record.regulator_id not in agency_and_pas(agency):
            raise PermissionDenied(message)
        return True
    # The same scope the review queue lists: never a draft, only elements routed to the
    # actor's agencies where they may review (any element for the state agency).
    if not SubmittalElementRecord.objects.for_user(actor, "review").filter(pk=record.pk).exists():
        raise PermissionDenied(message)
    return True
