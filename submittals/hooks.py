"""What submittals do for the apps below them, through their hooks (``core.hooks``);
``SubmittalsConfig.ready`` registers each function here.

The facility merge and the chemical library's rules need the submittals' rows, but
facilities and libraries stand below submittals and never import them.
"""

from __future__ import annotations

from django.db.models import F, JSONField, Value
from django.db.models.expressions import Case, When, Window
from django.db.models.functions import RowNumber

from core.elements import SubmittalElement
from facilities.schedule import ElementSubmittal, FacilitySubmittals

from .models import ElementStatus, FacilitySubmittal, HazardousMaterial, SubmittalElementRecord

# The Facility Information statuses whose Business Activities answers decide the facility's
# reporting requirements (a Not Accepted one does not count).
ACTIVITIES_STATUSES = (ElementStatus.SUBMITTED, ElementStatus.UNDER_REVIEW, ElementStatus.ACCEPTED)


def refuse_merge_while_drafting(duplicate, survivor) -> str | None:
    """A draft in progress on either facility would clash with the other's drafts."""
    drafting = list(
        SubmittalElementRecord.objects.filter(
            facility__in=[duplicate, survivor], status=ElementStatus.DRAFT
        )
        .values_list("facility__cers_id", flat=True)
        .distinct()
    )
    if drafting:
        ids = ", ".join(str(cers_id) for cers_id in sorted(drafting))
        return (
            f"A draft submittal is in progress for CERS ID {ids}. Ask the business to submit "
            "or discard it before the facilities are merged."
        )
    return None


def move_submittals_on_merge(duplicate, survivor) -> dict[str, int]:
    """Move the duplicate's submittals and elements to the survivor, inside the merge's
    transaction (``facilities.services.merge_facilities``, which writes the audit event with
    these counts)."""
    # Empty draft groups hold nothing; one would clash with the survivor's own draft group.
    FacilitySubmittal.objects.filter(
        facility=duplicate, status=FacilitySubmittal.Status.DRAFT
    ).delete()
    moved_submittals = FacilitySubmittal.objects.filter(facility=duplicate).update(
        facility=survivor
    )
    moved_elements = SubmittalElementRecord.objects.filter(facility=duplicate).update(
        facility=survivor
    )
    return {"submittals_moved": moved_submittals, "elements_moved": moved_elements}


def chemical_picked_by_inventories(chemical) -> bool:
    """Whether an inventory row picked ``chemical`` from the library."""
    return HazardousMaterial.objects.filter(chemical=chemical).exists()


def _latest(queryset, partition):
    """``queryset`` kept to the latest submitted row of each ``partition``."""
    return queryset.annotate(
        rank=Window(
            RowNumber(),
            partition_by=[F(name) for name in partition],
            order_by=[F("submitted_at").desc(), F("pk").desc()],
        )
    ).filter(rank=1)


def _activities(data) -> dict:
    """The Business Activities answers kept from a Facility Information element's data."""
    from facilities.schedule import ELEMENTS_BY_ACTIVITY

    return {number: (data or {}).get(number) for number in ELEMENTS_BY_ACTIVITY}


def counted_activities(facility_ids) -> dict[int, dict]:
    """For ``facilities.hooks.counted_activities``: the Business Activities answers that count
    (``querysets.counted_information``) of each of ``facility_ids`` that has any, by data
    dictionary number. One query, the keys sent as one array (``__any``): a state's status
    report asks for tens of thousands, past PostgreSQL's 65,535 parameters of a statement."""
    from facilities.schedule import ELEMENTS_BY_ACTIVITY

    from .querysets import answer_column, counted_answers

    numbers = list(ELEMENTS_BY_ACTIVITY)
    rows = counted_answers().filter(facility__pk__any=list(facility_ids)).order_by()
    return {
        row[0]: dict(zip(numbers, row[1:], strict=True))
        for row in rows.values_list("facility_id", *map(answer_column, numbers))
    }


def element_submittals(facility_ids, include_drafts: bool) -> dict[int, FacilitySubmittals]:
    """For ``facilities.hooks.element_submittals``: per facility, the last submitted element
    of each element, the Business Activities answers of its latest submitted (or accepted)
    Facility Information, and with ``include_drafts`` its drafts, whose Facility Information
    answers then count instead. Three queries, whatever the number of facilities."""
    found = {pk: FacilitySubmittals() for pk in facility_ids}
    if not found:
        return found
    records = SubmittalElementRecord.objects.filter(facility_id__in=found)
    last = _latest(records.filter(status__gt=ElementStatus.DRAFT), ("facility_id", "element"))
    for facility, element, status, submitted_at, pk in last.values_list(
        "facility_id", "element", "status", "submitted_at", "pk"
    ):
        found[facility].last[element] = ElementSubmittal(
            pk, ElementStatus(status).label, submitted_at
        )
    for facility, answers in counted_activities(list(found)).items():
        found[facility].activities = answers
    if include_drafts:
        drafts = records.filter(status=ElementStatus.DRAFT).annotate(
            information=Case(
                When(element=SubmittalElement.FACILITY_INFORMATION, then=F("data")),
                default=Value(None, output_field=JSONField()),
                output_field=JSONField(),
            )
        )
        for facility, element, pk, data in drafts.values_list(
            "facility_id", "element", "pk", "information"
        ):
            found[facility].drafts[element] = ElementSubmittal(pk, ElementStatus.DRAFT.label, None)
            if element == SubmittalElement.FACILITY_INFORMATION:
                found[facility].activities = _activities(data)
    return found


def submittal_history(facility, user, regulator) -> list[SubmittalElementRecord]:
    """For ``facilities.hooks.submittal_history``: the facility's submitted elements that
    ``user`` sees in ``regulator``'s jurisdiction, newest first (drafts never)."""
    return list(
        SubmittalElementRecord.objects.for_user(user, "view")
        .in_jurisdiction(regulator)
        .filter(facility=facility, status__gt=ElementStatus.DRAFT)
        .select_related("regulator")
        .order_by("-submitted_at", "-pk")
    )


def elements_reported(rows) -> set[tuple[int, int]]:
    """Of facility elements with a due date, those submitted (whatever the review said) after
    ``period_start(due date)``, a calendar year before it: reported for that date, so not
    reminded. A submittal made that day (accepted that day, the due date is its
    anniversary) reported for the date before."""
    from django.db.models import Max
    from django.utils import timezone

    from facilities.hooks import period_start, reports_for

    if not rows:
        return set()
    since = period_start(min(row.next_due_date for row in rows))
    latest = {
        (facility_id, element): timezone.localdate(submitted_at)
        for facility_id, element, submitted_at in SubmittalElementRecord.objects.filter(
            facility_id__in={row.facility_id for row in rows},
            status__gt=ElementStatus.DRAFT,
            submitted_at__date__gte=since,
        )
        .values("facility_id", "element")
        .annotate(latest=Max("submitted_at"))
        .values_list("facility_id", "element", "latest")
    }
    return {
        (row.facility_id, row.element)
        for row in rows
        if (row.facility_id, row.element) in latest
        and reports_for(row.next_due_date, latest[row.facility_id, row.element])
    }
