"""Scoped querysets for facility submittals and their elements.

Business users see their organizations' submittals, drafts included. Regulator staff never
see a draft, and see a submitted element only when it was routed to one of their agencies:
jurisdiction is per element, so a PA handling a facility's UST element sees that element and
not the facility's inventory. The state agency's staff see every submitted element.
"""

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from core.elements import SubmittalElement
from facilities.hooks import FACILITY_INFORMATION_OVERDUE_AFTER
from organizations.querysets import organization_ids
from regulators.querysets import agency_scope


def _business(user, action: str) -> Q:
    """The business side of ``Facility.objects.for_user``: the facilities of organizations
    where the user's role grants ``action``. The regulator side is not used here, because
    regulators see elements per element, never drafts."""
    organizations = organization_ids(user, action)
    return Q(facility__organization_id__in=organizations) if organizations else Q(pk__in=[])


def _routed_to_agencies(user, action: str) -> Q:
    """Submitted elements routed to an agency where the user holds ``action``; all submitted
    elements for the state agency's staff."""
    from .models import ElementStatus

    agencies = agency_scope(user, action)
    if agencies.statewide:
        return ~Q(status=ElementStatus.DRAFT)
    if not agencies:
        return Q(pk__in=[])
    return ~Q(status=ElementStatus.DRAFT) & Q(regulator_id__in=agencies.pks)


class FacilitySubmittalQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Facility submittals ``user`` may act on with ``action``.

        Business users: those of their organizations' facilities, drafts included.
        Regulator staff: submitted ones with at least one element routed to their agency
        (every submitted one for the state agency). Which of its elements they see is
        ``SubmittalElementRecord.objects.for_user``'s answer.
        """
        from .models import FacilitySubmittal, SubmittalElementRecord

        routed = SubmittalElementRecord.objects.filter(
            Q(facility_submittal=OuterRef("pk")) & _routed_to_agencies(user, action)
        )
        return self.filter(
            _business(user, action)
            | (Q(status=FacilitySubmittal.Status.SUBMITTED) & Q(Exists(routed)))
        )

    def in_jurisdiction(self, regulator):
        """The submitted facility submittals with at least one element routed to
        ``regulator`` (every submitted one for the state agency)."""
        from .models import SubmittalElementRecord

        routed = SubmittalElementRecord.objects.filter(
            facility_submittal=OuterRef("pk")
        ).in_jurisdiction(regulator)
        return self.filter(Exists(routed))


class SubmittalElementRecordQuerySet(models.QuerySet):
    def lock(self, record, *, locking: bool = True):
        """``record``'s row read again, and locked for the rest of the transaction unless
        ``locking`` is off. A draft discarded meanwhile, by someone else or by the first of
        two clicks, is refused with a message instead of a server error."""
        rows = self.select_for_update(of=("self",)) if locking else self
        found = rows.filter(pk=record.pk).first()
        if found is None:
            label = record.get_element_display() if record.element else "element"
            raise ValidationError(
                f"This {label} draft was discarded meanwhile; nothing was changed."
            )
        return found

    def for_user(self, user, action: str = "view"):
        """Submittal elements ``user`` may act on with ``action``.

        Business users ("view", "edit", "submit"): every element of their organizations'
        facilities, drafts included. Regulator staff ("view", "review"): submitted elements
        routed to one of their agencies; every submitted element for the state agency.
        """
        return self.filter(_business(user, action) | _routed_to_agencies(user, action))

    def in_jurisdiction(self, regulator):
        """The submitted elements routed to ``regulator`` (an element's jurisdiction is the
        agency it was routed to); every submitted element for the state agency. Drafts are
        never a regulator's to see (the scoped queryset of a user who is also a business
        member holds their organizations' drafts)."""
        from .models import ElementStatus

        elements = self.exclude(status=ElementStatus.DRAFT)
        if regulator.is_statewide:
            return elements
        return elements.filter(regulator=regulator)

    def awaiting_review(self):
        """The elements waiting for their agency to act on them (Submitted, Under Review)."""
        from .models import AWAITING_STATUSES

        return self.filter(status__in=AWAITING_STATUSES)

    def last_accepted(self, facility, element: int):
        """The facility's most recently submitted element of this type that was accepted."""
        from .models import ElementStatus

        return (
            self.filter(facility=facility, element=element, status=ElementStatus.ACCEPTED)
            .order_by("-submitted_at", "-pk")
            .first()
        )

    def last_accepted_in_organization(self, organization, element: int):
        """The organization's most recently submitted element of this type that was
        accepted, at any of its facilities."""
        from .models import ElementStatus

        return (
            self.filter(
                facility__organization=organization,
                element=element,
                status=ElementStatus.ACCEPTED,
            )
            .select_related("facility")
            .order_by("-submitted_at", "-pk")
            .first()
        )


def overdue_facilities(queryset, now=None):
    """Narrow a facility queryset to the facilities whose Facility Information is overdue:
    none was submitted in the last year (365 days before ``now``), or none ever.

    Any submitted element counts, whatever its review says (a Not Accepted one waits in the
    review queue, which is its own action item); drafts never count. The facility's own
    elements are read whoever they were routed to: a PA, which never sees Facility
    Information, still learns whether the facilities it regulates are current. The
    regulator's facility list asks it through ``facilities.hooks.overdue_facilities``.
    """
    from .models import ElementStatus, SubmittalElementRecord

    since = (now or timezone.now()) - FACILITY_INFORMATION_OVERDUE_AFTER
    recent = SubmittalElementRecord.objects.filter(
        facility=OuterRef("pk"),
        element=SubmittalElement.FACILITY_INFORMATION,
        status__gt=ElementStatus.DRAFT,
        submitted_at__gte=since,
    )
    return queryset.filter(~Exists(recent))


def counted_information():
    """The Facility Information elements whose Business Activities answers count, one per
    facility that has one: its latest submitted, under review or accepted (a Not Accepted one
    does not count), the latest by ``submitted_at`` then key. The one definition the status
    grid (``hooks.element_submittals``), the facility list's filters (``answered_yes``), the
    reminders and RFQ (``counted_answers``) read.

    A newer counted one is looked for by ``facility_element_status``, an anti-join: narrowed
    to some facilities, nothing is read but theirs."""
    from .hooks import ACTIVITIES_STATUSES
    from .models import SubmittalElementRecord

    counted = SubmittalElementRecord.objects.filter(
        element=SubmittalElement.FACILITY_INFORMATION, status__in=ACTIVITIES_STATUSES
    )
    newer = counted.filter(facility_id=OuterRef("facility_id")).filter(
        Q(submitted_at__gt=OuterRef("submitted_at"))
        | Q(submitted_at=OuterRef("submitted_at"), pk__gt=OuterRef("pk"))
    )
    return counted.filter(~Exists(newer))


def answer_column(number: str) -> str:
    """The name ``counted_answers`` gives the answer to question ``number``."""
    return f"answer_{number}"


def counted_answers():
    """``counted_information`` with only the Business Activities answers that switch elements
    on (``facilities.schedule.ELEMENTS_BY_ACTIVITY``), each as an annotation named by
    ``answer_column``: a batch reads a few short texts per facility, not the element's data."""
    from core.expressions import KeyText
    from facilities.schedule import ELEMENTS_BY_ACTIVITY

    return counted_information().annotate(
        **{answer_column(number): KeyText("data", number) for number in ELEMENTS_BY_ACTIVITY}
    )


def facilities_answering_yes(numbers):
    """For ``facilities.hooks.answered_yes``: the ``facility_id`` of every facility whose
    Business Activities answers that count (``counted_information``) answer Yes to one of the
    questions ``numbers``.

    No row is read per facility: the Facility Information elements answering Yes come from
    the GIN index of their data (``fi_counted_data``, PostgreSQL: ``data @> '{"5": "Y"}'``),
    and a newer counted one is looked for by ``facility_element_status``, an anti-join."""
    from core.expressions import KeyIs

    yes = Q()
    for number in numbers:
        yes |= Q(KeyIs("data", number, "Y"))
    return counted_information().filter(yes).order_by().values("facility_id")
