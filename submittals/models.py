"""Facility submittals and their submittal elements: draft -> submitted -> reviewed.

A business prepares each submittal element as a draft; submitting certifies a group of drafts
as one facility submittal and routes each element to the regulator that handles that element
for the facility. From then on the business can never change the element: only the
regulator's review fields (CDR 20.0005-20.0009) change. Corrections are new submittals.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from core.elements import SubmittalElement

from .querysets import FacilitySubmittalQuerySet, SubmittalElementRecordQuerySet


class ElementStatus(models.IntegerChoices):
    """Submittal element status (CDR 20.0005). Drafts are never shown to regulators."""

    DRAFT = 1, "Draft"
    SUBMITTED = 2, "Submitted"
    UNDER_REVIEW = 3, "Under Review"
    ACCEPTED = 4, "Accepted"
    NOT_ACCEPTED = 5, "Not Accepted"
    NOT_APPLICABLE = 6, "Not Applicable"


# The statuses a regulator may set (never back to Draft or Submitted).
REVIEW_STATUSES = frozenset(
    {
        ElementStatus.UNDER_REVIEW,
        ElementStatus.ACCEPTED,
        ElementStatus.NOT_ACCEPTED,
        ElementStatus.NOT_APPLICABLE,
    }
)


class SubmittalType(models.IntegerChoices):
    """How an element reached CERS (CDR 20.0121)."""

    PORTAL = 1, "CERS portal"
    PASS_THROUGH = 2, "Pass-Through"
    PROXY = 3, "Proxy"


class FacilitySubmittal(models.Model):
    """A facility submittal: the submittal elements a business certifies and submits together.

    While the business prepares it, it is the facility's one draft submittal, holding the
    element drafts in progress. Submitting certifies the chosen drafts and stamps the group;
    drafts left out stay in progress in a new draft group.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="submittals"
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    certifier_name = models.CharField(max_length=200, blank=True)
    certifier_title = models.CharField(max_length=200, blank=True)
    submitter_comments = models.TextField(blank=True)

    objects = FacilitySubmittalQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility"],
                condition=Q(status="draft"),
                name="one_draft_submittal_per_facility",
            ),
            models.CheckConstraint(
                condition=Q(status="draft", submitted_at__isnull=True)
                | Q(status="submitted", submitted_at__isnull=False),
                name="submittal_submitted_at_matches_status",
            ),
        ]
        indexes = [models.Index(fields=["facility", "status"], name="submittal_facility_status")]

    def __str__(self) -> str:
        when = self.submitted_at.date().isoformat() if self.submitted_at else "draft"
        return f"Facility submittal {self.pk} of CERS ID {self.facility.cers_id} ({when})"


class SubmittalElementRecord(models.Model):
    """One submittal element of a facility submittal, with its data and its review.

    ``facility`` repeats the facility submittal's facility so the database itself can hold
    one draft per facility and element. ``regulator`` is set at submit time from the
    facility's per-element jurisdiction (``FacilityRegulator``) and is the agency that
    reviews it.
    """

    facility_submittal = models.ForeignKey(
        FacilitySubmittal, on_delete=models.CASCADE, related_name="elements"
    )
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="submittal_elements"
    )
    element = models.PositiveSmallIntegerField(choices=SubmittalElement)
    status = models.PositiveSmallIntegerField(choices=ElementStatus, default=ElementStatus.DRAFT)
    submittal_type = models.PositiveSmallIntegerField(
        choices=SubmittalType, default=SubmittalType.PORTAL
    )
    data = models.JSONField(
        default=dict, blank=True, help_text="The element's structured data (its forms)."
    )
    based_on = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The earlier element this one was started from.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Set when submitted.
    regulator = models.ForeignKey(
        "regulators.Regulator",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submittal_elements",
        help_text="The agency the element was routed to when submitted.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    # The regulator's action (CDR 20.0005-20.0009): the only fields that change after submit.
    action_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action_at = models.DateTimeField("action date", null=True, blank=True)
    action_agent_name = models.CharField("agent name", max_length=200, blank=True)
    action_agent_email = models.EmailField("agent e-mail", max_length=240, blank=True)
    action_comments = models.TextField("comments", max_length=1500, blank=True)

    objects = SubmittalElementRecordQuerySet.as_manager()

    class Meta:
        ordering = ["facility_submittal", "element"]
        verbose_name = "submittal element"
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "element"],
                condition=Q(status=ElementStatus.DRAFT),
                name="one_draft_per_facility_element",
            ),
            # A draft is nobody's to review; anything past Draft was submitted and routed.
            models.CheckConstraint(
                condition=Q(
                    status=ElementStatus.DRAFT,
                    regulator__isnull=True,
                    submitted_at__isnull=True,
                )
                | Q(
                    status__gt=ElementStatus.DRAFT,
                    regulator__isnull=False,
                    submitted_at__isnull=False,
                ),
                name="element_routed_once_submitted",
            ),
        ]
        indexes = [
            # The review queue: an agency's elements in a status, oldest first.
            models.Index(fields=["regulator", "status", "submitted_at"], name="review_queue"),
            # The last accepted (or submitted) element of a facility.
            models.Index(fields=["facility", "element", "status"], name="facility_element_status"),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_element_display()} ({self.get_status_display()}) "
            f"of CERS ID {self.facility.cers_id}"
        )

    @property
    def is_draft(self) -> bool:
        return self.status == ElementStatus.DRAFT
