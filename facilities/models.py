"""Facilities and their per-element regulators."""

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.code_lists import FACILITY_LOCATION_CODES
from core.elements import SubmittalElement

from .querysets import FacilityQuerySet, FacilityRegulatorQuerySet

CERS_ID_FIRST = 10_000_001
CERS_ID_LAST = 999_999_999


class ReportingRequirement(models.IntegerChoices):
    """Whether a facility must report a submittal element (CDR 20.0088)."""

    NOT_APPLICABLE = 1, "Not Applicable"
    APPLICABLE = 2, "Applicable"
    ALWAYS_APPLICABLE = 3, "Always Applicable"


def _location_choices(number: str) -> list[tuple[int, str]]:
    """The codes of a geographic point field with their labels (``core.code_lists``)."""
    return [(int(code), label) for code, label in FACILITY_LOCATION_CODES[number].items()]


# How a facility's geographic point was collected (CERS supplemental field 21.0004) and what
# place of the facility it marks (21.0005): the codes CalEPA's schemas allow, labelled in
# ``core.code_lists`` (the one table of code labels).
HORIZONTAL_COLLECTION_METHODS = _location_choices("21.0004")
GEOGRAPHIC_REFERENCE_POINTS = _location_choices("21.0005")


class HorizontalReferenceDatum(models.TextChoices):
    """The datum of a facility's geographic point (21.0006)."""

    NAD27 = "NAD27", "NAD27"
    NAD83 = "NAD83", "NAD83"
    WGS84 = "WGS84", "WGS84"


class Facility(models.Model):
    """A regulated site. Belongs to exactly one organization; keeps its CERS ID for life."""

    cers_id = models.PositiveIntegerField(
        "CERS ID",
        unique=True,
        validators=[MinValueValidator(CERS_ID_FIRST), MaxValueValidator(CERS_ID_LAST)],
        help_text="8-9 digits, allocated in order from 10000001.",
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="facilities"
    )
    name = models.CharField(max_length=200)
    street = models.CharField("street address", max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, default="CA")
    zip_code = models.CharField("ZIP code", max_length=10)
    county = models.CharField(max_length=60, blank=True)
    # Upper-cased, abbreviation-folded street + city + 5-digit ZIP, for duplicate detection.
    address_key = models.CharField(max_length=400, db_index=True, editable=False)
    # The key of the facility in the legacy system it was imported from (facilities.legacy).
    legacy_key = models.CharField(max_length=60, null=True, blank=True, unique=True, editable=False)
    # Set by the facility's CUPA (EDT facility create and metadata; CDR 1, 20.0084, 2).
    local_facility_id = models.CharField(
        "facility ID", max_length=13, blank=True, help_text="The CUPA's own facility ID."
    )
    regulator_key = models.CharField(
        "facility regulator key",
        max_length=36,
        blank=True,
        help_text="The key of the facility in the CUPA's data system.",
    )
    epa_id = models.CharField("EPA ID", max_length=12, blank=True)
    # The geographic point (CERS supplemental fields 21.0001-21.0007); all empty when unknown.
    latitude = models.DecimalField(max_digits=11, decimal_places=8, null=True, blank=True)
    longitude = models.DecimalField(max_digits=12, decimal_places=8, null=True, blank=True)
    horizontal_accuracy = models.DecimalField(
        "horizontal accuracy (m)", max_digits=12, decimal_places=3, null=True, blank=True
    )
    horizontal_collection_method = models.PositiveSmallIntegerField(
        choices=HORIZONTAL_COLLECTION_METHODS, null=True, blank=True
    )
    geographic_reference_point = models.PositiveSmallIntegerField(
        choices=GEOGRAPHIC_REFERENCE_POINTS, null=True, blank=True
    )
    horizontal_reference_datum = models.CharField(
        max_length=5, choices=HorizontalReferenceDatum, blank=True
    )
    location_collected_on = models.DateField("location data collected on", null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the business closes the facility: it no longer reports, and is kept, with its
    # submittals, as history (``facilities.services.close_facility``).
    closed_at = models.DateTimeField("closed on", null=True, blank=True)
    closed_reason = models.TextField("reason for closing", blank=True)

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["name", "cers_id"]
        verbose_name_plural = "facilities"
        # The lists' order: a page of the statewide list reads its rows from the index in
        # order instead of sorting every facility.
        indexes = [models.Index(fields=["name", "cers_id"], name="facility_list_order")]

    def __str__(self) -> str:
        return f"{self.name} ({self.cers_id})"

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class FacilityRegulator(models.Model):
    """The one regulator (CUPA or PA) that handles one submittal element of a facility."""

    # Looked up through one_regulator_per_element (facility, element).
    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="regulators", db_index=False
    )
    element = models.PositiveSmallIntegerField(choices=SubmittalElement)
    # Looked up through the (regulator, facility) and agency_element_facility indexes.
    regulator = models.ForeignKey(
        "regulators.Regulator",
        on_delete=models.PROTECT,
        related_name="facility_elements",
        db_index=False,
    )
    # Set only by the regulator (EDT facility create and metadata). Empty: nothing was set, and
    # the element applies once the business reports it (Facility Information always does).
    reporting_requirement = models.PositiveSmallIntegerField(
        choices=ReportingRequirement, null=True, blank=True
    )
    next_due_date = models.DateField(null=True, blank=True)

    objects = FacilityRegulatorQuerySet.as_manager()

    class Meta:
        ordering = ["facility", "element"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "element"], name="one_regulator_per_element"
            ),
        ]
        indexes = [
            # An agency's facilities (the facility scopes: ``regulator_id IN (...)``).
            models.Index(fields=["regulator", "facility"]),
            # An agency's facilities for some elements (the CME scopes, per program element):
            # read from the index alone.
            models.Index(
                fields=["regulator", "element", "facility"], name="agency_element_facility"
            ),
            # The facilities whose regulator set an element's requirement (the facility list's
            # "must report" filter, ``FacilityQuerySet.must_report``): the few rows holding a
            # setting, most hold none.
            models.Index(
                fields=["element", "reporting_requirement", "facility"],
                name="element_requirement_set",
                condition=Q(reporting_requirement__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility.cers_id} element {self.element}: {self.regulator.code}"


class DueReminder(models.Model):
    """A reminder e-mailed to a business about one element's due date: before it (``kind``
    the days of the agency's threshold reached, "60", "30", "7") or once it passed
    ("overdue"). Written in the transaction that queues the e-mails, and unique per element,
    due date and kind, so no reminder is ever sent twice (``services.send_due_reminders``).
    """

    OVERDUE = "overdue"

    # Looked up through one_reminder_per_due_date, which leads with it.
    facility_element = models.ForeignKey(
        FacilityRegulator, on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    due_date = models.DateField()
    kind = models.CharField(max_length=10)
    recipients = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility_element", "due_date", "kind"], name="one_reminder_per_due_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.facility_element_id} due {self.due_date}: {self.kind}"

    @property
    def is_overdue(self) -> bool:
        return self.kind == self.OVERDUE


def _transfer_letter_path(instance, filename: str) -> str:
    # The uploader's file name is not kept in the path: it is untrusted and may leak names.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"facility-transfers/{uuid.uuid4().hex}.{suffix[:5]}"


class FacilityTransferQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Transfers ``user`` may see with ``action``: those touching an organization where
        their role grants it; for regulator staff, those of facilities in their scope
        (every transfer for the state agency's staff)."""
        from organizations.querysets import organization_ids
        from regulators.querysets import agency_scope

        if agency_scope(user, action).statewide:
            return self.all()
        organizations = organization_ids(user, action)
        return self.filter(
            Q(from_organization_id__in=organizations)
            | Q(to_organization_id__in=organizations)
            | Q(facility__in=Facility.objects.for_user(user, action).values("pk"))
        )

    def in_jurisdiction(self, regulator):
        """The transfers of the facilities in ``regulator``'s jurisdiction (every one for the
        state agency)."""
        return self.filter(facility__in=Facility.objects.in_jurisdiction(regulator).values("pk"))


class FacilityTransfer(models.Model):
    """A regulator's move of a facility to another organization, merge of a duplicate
    facility into another, or merge of one organization into another.

    The facility and the source organization may be gone afterwards (a merged duplicate, a
    merged-away organization), so their CERS ID, code and name are kept here as well.
    """

    class Kind(models.TextChoices):
        MOVE = "move", "Moved to another organization"
        MERGE_FACILITY = "merge_facility", "Merged into another facility"
        MERGE_ORGANIZATION = "merge_organization", "Organization merged"

    kind = models.CharField(max_length=20, choices=Kind)
    facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="transfers"
    )
    facility_cers_id = models.PositiveIntegerField("CERS ID", null=True, blank=True)
    facility_name = models.CharField(max_length=200, blank=True)
    from_organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="transfers_out",
    )
    from_organization_code = models.PositiveIntegerField()
    from_organization_name = models.CharField(max_length=200)
    to_organization = models.ForeignKey(
        "organizations.Organization",
        null=True,
        on_delete=models.SET_NULL,
        related_name="transfers_in",
    )
    merged_into_facility = models.ForeignKey(
        Facility, null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    reason = models.TextField()
    letter = models.FileField(
        upload_to=_transfer_letter_path,
        max_length=200,
        blank=True,
        help_text="The business's request on letterhead (required for a move).",
    )
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    performed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = FacilityTransferQuerySet.as_manager()

    class Meta:
        ordering = ["-performed_at", "-pk"]
        constraints = [
            # A move or a facility merge names its facility for good: RFTQ and RAIQ answer
            # its CERS ID, which their schemas require, after the facility is gone.
            models.CheckConstraint(
                condition=Q(kind="merge_organization") | Q(facility_cers_id__isnull=False),
                name="facility_transfer_keeps_cers_id",
                violation_error_message="A move or a facility merge keeps its facility's CERS ID.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.facility_cers_id or self.from_organization_code}"


class FacilityTransferRequestQuerySet(models.QuerySet):
    def for_user(self, user, action: str = "view"):
        """Requests ``user`` may see with ``action``: those of their organizations' facilities
        where their role grants it; for regulator staff, those of facilities in their scope."""
        from organizations.querysets import organization_ids

        return self.filter(
            Q(from_organization_id__in=organization_ids(user, action))
            | Q(facility__in=Facility.objects.for_user(user, action).values("pk"))
        )

    def in_jurisdiction(self, regulator):
        """The requests about facilities in ``regulator``'s jurisdiction."""
        return self.filter(facility__in=Facility.objects.in_jurisdiction(regulator).values("pk"))

    def pending(self):
        """The requests nobody has answered yet (no move, no withdrawal, no refusal)."""
        return self.filter(status=FacilityTransferRequest.Status.PENDING)


class FacilityTransferRequest(models.Model):
    """A business's request, made by a Lead User in the portal, that the facility's CUPA move
    it to another organization. The regulator's move page starts from it; the move answers it
    (``transfer``, status done), or the regulator declines it with a reason, or the business
    withdraws it. The receiving organization is kept as the code the business typed: the
    business learns nothing of which codes exist, and the regulator checks it when moving."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for the regulator"
        DONE = "done", "Done: the facility was moved"
        DECLINED = "declined", "Declined by the regulator"
        WITHDRAWN = "withdrawn", "Withdrawn by the business"

    facility = models.ForeignKey(
        Facility, on_delete=models.CASCADE, related_name="transfer_requests"
    )
    from_organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+"
    )
    to_organization_code = models.PositiveIntegerField("receiving organization's code")
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    transfer = models.OneToOneField(
        FacilityTransfer,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="request",
        help_text="The move that answered the request.",
    )
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    # Who answered it otherwise than by a move, and when: the regulator who declined it (with
    # the reason told to the business) or the business's user who withdrew it.
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.TextField("reason for declining", blank=True)

    objects = FacilityTransferRequestQuerySet.as_manager()

    class Meta:
        ordering = ["requested_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility"],
                condition=Q(status="pending"),
                name="one_pending_transfer_request_per_facility",
            )
        ]

    def __str__(self) -> str:
        return f"Transfer request of CERS ID {self.facility.cers_id} to {self.to_organization_code}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING


class FacilityClosure(models.Model):
    """One closing of a facility, and its reopening once it reports again: the history that
    ``Facility.closed_at`` (the current state) does not keep. Written by
    ``services.close_facility`` and completed by ``services.reopen_facility``."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="closures")
    closed_at = models.DateTimeField("closed on")
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.TextField("reason for closing")
    reopened_at = models.DateTimeField("reopened on", null=True, blank=True)
    reopened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reopen_reason = models.TextField("reason for reopening", blank=True)

    class Meta:
        ordering = ["-closed_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility"],
                condition=Q(reopened_at__isnull=True),
                name="one_open_closure_per_facility",
            )
        ]

    def __str__(self) -> str:
        return f"Closure of facility {self.facility_id} on {self.closed_at:%Y-%m-%d}"


# The Hazardous Materials Business Plan: the elements a facility handling hazardous materials
# certifies together each year.
HMBP_ELEMENTS = frozenset(
    {
        SubmittalElement.FACILITY_INFORMATION,
        SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY,
        SubmittalElement.EMERGENCY_RESPONSE,
    }
)


class DueDateRule(models.Model):
    """How an agency schedules the next due date of the elements it handles when it accepts
    one (``facilities.services.schedule_after_acceptance``). An agency without a row follows
    the defaults of the fields."""

    regulator = models.OneToOneField(
        "regulators.Regulator", on_delete=models.CASCADE, related_name="due_date_rule"
    )
    hmbp_yearly = models.BooleanField(
        "HMBP elements due yearly",
        default=True,
        help_text=(
            "An accepted Facility Information, Hazardous Materials Inventory or Emergency "
            "Response and Training Plans element is next due on the anniversary of its "
            "acceptance."
        ),
    )

    def __str__(self) -> str:
        return f"Due date rule of {self.regulator_id}"
