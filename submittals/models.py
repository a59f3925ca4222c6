"""Facility submittals and their submittal elements: draft -> submitted -> reviewed.

A business prepares each submittal element as a draft; submitting certifies a group of drafts
as one facility submittal and routes each element to the regulator that handles that element
for the facility. From then on the business can never change the element: only the
regulator's review fields (CDR 20.0005-20.0009) change. Corrections are new submittals.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

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

# The statuses of the elements waiting for their agency to act on them: the review queue's
# default, the dashboard's count and RFSQ's ``status`` filter
# (``SubmittalElementRecord.objects.awaiting_review()``).
AWAITING_STATUSES = (ElementStatus.SUBMITTED, ElementStatus.UNDER_REVIEW)


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

    # Looked up through submittal_facility_status (facility, status).
    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="submittals", db_index=False
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
    # The facility's FacilityID (CDR 1) and FacilityRegulatorKey (20.0084) as an EDT upload
    # (RFS) sent them with this submittal; blank when not sent (RFSQ then gives the facility's).
    facility_local_id = models.CharField(max_length=13, blank=True)
    facility_regulator_key = models.CharField(max_length=36, blank=True)

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
        indexes = [
            models.Index(fields=["facility", "status"], name="submittal_facility_status"),
            # The Facility Submittal Query's order: its first rows come without a sort.
            models.Index(fields=["submitted_at", "id"], name="submittal_submitted_order"),
        ]

    def __str__(self) -> str:
        when = timezone.localdate(self.submitted_at).isoformat() if self.submitted_at else "draft"
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
    # Looked up through facility_element_status (facility, element, status).
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.PROTECT,
        related_name="submittal_elements",
        db_index=False,
    )
    element = models.PositiveSmallIntegerField(choices=SubmittalElement)
    key = models.UUIDField(
        default=uuid.uuid4,
        unique=True,
        editable=False,
        help_text="The element's CERS unique key (CDR 20.0074): how EDT names it.",
    )
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
    saved_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a person last changed the draft (its data, rows or documents): its "
        "page shows what is missing only from the first change on.",
    )

    # Set when submitted. Looked up through review_queue (regulator, status, submitted_at).
    regulator = models.ForeignKey(
        "regulators.Regulator",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="submittal_elements",
        db_index=False,
        help_text="The agency the element was routed to when submitted.",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The submitter an EDT upload (RFS) names in the element's header (CDR 20.0011-20.0013,
    # 20.0093), kept as sent whether or not the e-mail is a CERS account's; blank for the
    # portal's submittals, whose submitter is ``submitted_by``.
    submitter_first_name = models.CharField(max_length=80, blank=True)
    submitter_last_name = models.CharField(max_length=80, blank=True)
    submitter_email = models.CharField(max_length=254, blank=True)
    submitter_comments = models.TextField(max_length=1500, blank=True)

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
            # The statewide queue (no regulator to narrow by), in its order: status, then
            # oldest (or newest) first, the id breaking ties.
            models.Index(fields=["status", "submitted_at", "id"], name="review_queue_statewide"),
            # The last accepted (or submitted) element of a facility.
            models.Index(fields=["facility", "element", "status"], name="facility_element_status"),
        ]

    def __str__(self) -> str:
        # The enums' labels, not get_*_display(): ten times faster, and a batch of reviews
        # writes one audit event (naming the element) per element.
        return (
            f"{SubmittalElement(self.element).label} ({ElementStatus(self.status).label}) "
            f"of CERS ID {self.facility.cers_id}"
        )

    @property
    def is_draft(self) -> bool:
        return self.status == ElementStatus.DRAFT


class HazardousMaterial(models.Model):
    """One chemical of a Hazardous Materials Inventory element (one ``Chemical`` row).

    The fields the portals list and search are columns; every field of the row, keyed by
    its data-dictionary number (``core.registry``), is kept in ``data`` so the EDT
    services export exactly what was entered. Mixture components (HC1-HC5) are
    ``MixtureComponent`` rows.
    """

    # Looked up through one_material_per_position (record, position).
    record = models.ForeignKey(
        SubmittalElementRecord, on_delete=models.CASCADE, related_name="materials", db_index=False
    )
    position = models.PositiveIntegerField(help_text="Order within the inventory, from 1.")
    common_name = models.CharField("common name", max_length=500)  # 207
    chemical_name = models.CharField("chemical name", max_length=500, blank=True)  # 205
    cas_number = models.CharField("CAS number", max_length=15, blank=True)  # 209
    chemical = models.ForeignKey(
        "libraries.Chemical",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The chemical library entry it was picked from (CCL ID, 250).",
    )
    physical_state = models.CharField(max_length=10, blank=True)  # 214
    maximum_daily_amount = models.DecimalField(  # 218
        max_digits=16, decimal_places=4, null=True, blank=True
    )
    units = models.CharField(max_length=10, blank=True)  # 221
    location = models.CharField(max_length=140, blank=True)  # 201
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["record", "position"]
        constraints = [
            models.UniqueConstraint(fields=["record", "position"], name="one_material_per_position")
        ]

    def __str__(self) -> str:
        return self.common_name


class MixtureComponent(models.Model):
    """One of up to five hazardous components of a mixture (HC1-HC5)."""

    # Looked up through one_component_per_position (material, position).
    material = models.ForeignKey(
        HazardousMaterial, on_delete=models.CASCADE, related_name="components", db_index=False
    )
    position = models.PositiveSmallIntegerField(help_text="1 to 5 (HC1-HC5).")
    name = models.CharField(max_length=500, blank=True)
    cas_number = models.CharField("CAS number", max_length=15, blank=True)
    percent_by_weight = models.DecimalField(max_digits=7, decimal_places=4, null=True, blank=True)
    ehs = models.CharField("EHS", max_length=1, blank=True)

    class Meta:
        ordering = ["material", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["material", "position"], name="one_component_per_position"
            ),
            models.CheckConstraint(
                condition=Q(position__gte=1, position__lte=5), name="component_position_1_to_5"
            ),
        ]

    def __str__(self) -> str:
        return f"HC{self.position} {self.name}"


class DocumentSource(models.IntegerChoices):
    """How a document slot is satisfied (CERS ``DocumentSource``)."""

    EXEMPT = 1, "Exempt"
    PROVIDED_TO_REGULATOR = 2, "Provided to regulator"
    PROVIDED_IN_OTHER_ELEMENT = 3, "Provided in another submittal element"
    PUBLIC_URL = 4, "Public internet URL"
    UPLOAD = 5, "Uploaded document"
    STORED_AT_FACILITY = 6, "Stored at facility"


class ElementDocument(models.Model):
    """One document slot of an element (a registry group whose ``document`` flag is set,
    e.g. ``SiteMapDocuments``) and how the business provides it."""

    # Looked up through one_answer_per_slot (record, slot).
    record = models.ForeignKey(
        SubmittalElementRecord, on_delete=models.CASCADE, related_name="documents", db_index=False
    )
    slot = models.CharField(max_length=100, help_text="The slot's XML tag in the registry.")
    source = models.PositiveSmallIntegerField(choices=DocumentSource)
    comment = models.CharField(max_length=500, blank=True)
    date_provided = models.DateField(null=True, blank=True)  # 20.0025
    other_element = models.PositiveSmallIntegerField(  # 20.0071
        choices=SubmittalElement, null=True, blank=True
    )
    url = models.URLField("public URL", max_length=1000, blank=True)  # 20.0024

    class Meta:
        ordering = ["record", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["record", "slot"], name="one_answer_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.slot}: {self.get_source_display()}"


def _document_path(instance, filename: str) -> str:
    return f"documents/{instance.key}/{filename}"


class DocumentFile(models.Model):
    """An uploaded file of a document slot. ``key`` is its CERS unique key, by which EDT
    clients download it."""

    document = models.ForeignKey(ElementDocument, on_delete=models.CASCADE, related_name="files")
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to=_document_path, max_length=400)
    file_name = models.CharField(max_length=254)
    title = models.CharField(max_length=300)  # 20.0021
    description = models.CharField(max_length=500, blank=True)  # 20.0022
    date_authored = models.DateField(null=True, blank=True)  # 20.0023
    # What an EDT upload (RFS) sent, given back as sent by RFSQ: DateAuthored is a date and
    # time with its zone (the portal asks for a date only), DocumentRegulatorKey the
    # regulator's own key of the file.
    authored_as = models.CharField(max_length=40, blank=True)  # 20.0023, as sent
    regulator_key = models.CharField(max_length=36, blank=True)  # DocumentRegulatorKey
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["document", "uploaded_at"]

    def __str__(self) -> str:
        return self.file_name


class OwnerOperator(models.Model):
    """The Business Owner/Operator Identification of a Facility Information element, as
    columns regulators list and search (owner, operator, emergency contacts).

    Kept in step with the element's ``data`` (the whole form, by field number) by
    ``submittals.services``, so neither drifts from the other.
    """

    record = models.OneToOneField(
        SubmittalElementRecord, on_delete=models.CASCADE, related_name="owner_operator"
    )
    owner_name = models.CharField(max_length=80, blank=True)  # 111
    owner_phone = models.CharField(max_length=25, blank=True)  # 112
    operator_name = models.CharField(max_length=80, blank=True)  # 109
    operator_phone = models.CharField(max_length=25, blank=True)  # 110
    primary_contact_name = models.CharField(max_length=80, blank=True)  # 123
    primary_contact_phone = models.CharField(max_length=25, blank=True)  # 126 (24-hour)
    secondary_contact_name = models.CharField(max_length=80, blank=True)  # 128
    secondary_contact_phone = models.CharField(max_length=25, blank=True)  # 131 (24-hour)

    # field number in the element's data -> column
    FIELDS = {
        "111": "owner_name",
        "112": "owner_phone",
        "109": "operator_name",
        "110": "operator_phone",
        "123": "primary_contact_name",
        "126": "primary_contact_phone",
        "128": "secondary_contact_name",
        "131": "secondary_contact_phone",
    }

    def __str__(self) -> str:
        return self.owner_name or self.operator_name or f"Owner/operator of {self.record_id}"
