"""What submittals do for the apps below them, through their hooks (``core.hooks``);
``SubmittalsConfig.ready`` registers each function here.

The facility merge and the chemical library's rules need the submittals' rows, but
facilities and libraries stand below submittals and never import them.
"""

from __future__ import annotations

from .models import ElementStatus, FacilitySubmittal, HazardousMaterial, SubmittalElementRecord


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


def elements_reported(rows) -> set[tuple[int, int]]:
    """Of facility elements with a due date, those submitted (whatever the review said) on
    or after ``due date - REPORTING_PERIOD``: reported for that date, so not reminded."""
    from django.db.models import Max
    from django.utils import timezone

    from facilities.hooks import REPORTING_PERIOD

    if not rows:
        return set()
    since = min(row.next_due_date for row in rows) - REPORTING_PERIOD
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
        and latest[row.facility_id, row.element] >= row.next_due_date - REPORTING_PERIOD
    }
