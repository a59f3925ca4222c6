"""Regulator agencies, their staff, and the areas they serve."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from core.elements import SubmittalElement

from .querysets import (
    RegulatorQuerySet,
    StaffAccessRequestQuerySet,
    StaffInvitationQuerySet,
    StaffMembershipQuerySet,
)
from .roles import (
    EDT_ADMINISTRATION_PERMISSIONS,
    MANAGE_STAFF,
    STATE_ADMINISTRATOR_PERMISSION,
    StaffRole,
    role_grants,
)

# Days before a due date when the businesses are reminded, unless the agency chose others.
DEFAULT_REMINDER_DAYS = (60, 30, 7)


def default_reminder_days() -> list[int]:
    return list(DEFAULT_REMINDER_DAYS)


def validate_reminder_days(value) -> None:
    if not isinstance(value, list) or not value:
        raise ValidationError("Give the reminder days as a list of numbers, such as [60, 30, 7].")
    for days in value:
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
            raise ValidationError(
                f"{days!r} is not a number of days from 1 to 366; give whole days before the "
                "due date, such as [60, 30, 7]."
            )


# What a CERS regulator code is (the EDT services refuse a call naming anything else).
CODE_PATTERN = r"^[1-9]\d{3}$"


class Regulator(models.Model):
    """A regulator agency: a CUPA, a Participating Agency (PA), or the state (Cal/EPA)."""

    class Kind(models.TextChoices):
        CUPA = "cupa", "CUPA"
        PA = "pa", "Participating Agency"
        STATE = "state", "State"

    code = models.CharField(
        max_length=4,
        unique=True,
        validators=[RegexValidator(CODE_PATTERN, "A regulator code is 4 digits, 1000-9999.")],
        help_text="The 4-digit CERS regulator code.",
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=5, choices=Kind)
    county = models.CharField(max_length=60, blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participating_agencies",
        help_text="For a PA, the CUPA it works under.",
    )
    email = models.EmailField(blank=True, help_text="Public contact e-mail.")
    phone = models.CharField("public phone", max_length=30, blank=True)
    website = models.URLField("web site", max_length=300, blank=True)
    reminder_days = models.JSONField(
        default=default_reminder_days,
        validators=[validate_reminder_days],
        help_text="Days before a due date of an element this agency handles when the "
        "business's Approvers and Lead Users are reminded by e-mail (once each), such as "
        "[60, 30, 7]; an overdue element is reminded once more after its due date.",
    )

    objects = RegulatorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [
            ("review_submittals", "Review submittals"),
            ("record_cme", "Record inspections, violations and enforcement"),
            ("manage_facilities", "Manage facilities and organizations in jurisdiction"),
            ("manage_staff", "Manage the agency's staff"),
            ("manage_edt", "Administer the agency's EDT access"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def is_statewide(self) -> bool:
        """The state agency's jurisdiction is the whole state: every facility, organization,
        submitted element and CME record is in it."""
        return self.kind == self.Kind.STATE


class RegulatorUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key object permission of a user on a regulator (django-guardian)."""

    # guardian's field, looked up through its unique (user, permission, content object).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Regulator, on_delete=models.CASCADE)


class RegulatorGroupObjectPermission(GroupObjectPermissionBase):
    """Direct foreign-key object permission of a group on a regulator (django-guardian)."""

    # guardian's field, looked up through its unique (group, permission, content object).
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Regulator, on_delete=models.CASCADE)


class StaffMembership(models.Model):
    """A user's staff role at a regulator agency."""

    # Looked up through one_staff_role_per_agency (user, regulator).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        db_index=False,
    )
    regulator = models.ForeignKey(Regulator, on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=20, choices=StaffRole)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = StaffMembershipQuerySet.as_manager()

    class Meta:
        ordering = ["regulator__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "regulator"], name="one_staff_role_per_agency")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} at {self.regulator}"

    # Read from the role (the permissions it carries), so pages and templates ask them of the
    # membership the portal already loaded, without a query.

    @property
    def is_state_administrator(self) -> bool:
        """Whether this membership makes its user the state administrator
        (``regulators.querysets.is_state_administrator``)."""
        return self.regulator.is_statewide and role_grants(
            self.role, STATE_ADMINISTRATOR_PERMISSION
        )

    @property
    def manages_staff(self) -> bool:
        """Whether the role manages the agency's staff (``regulators.manage_staff``): decides
        the requests to join it, which the home page counts for them."""
        return role_grants(self.role, MANAGE_STAFF)

    @property
    def administers_edt(self) -> bool:
        """Whether the role administers the agency's EDT access (an administrator or an EDT
        administrator; ``edt.access.services.can_administer``)."""
        return any(role_grants(self.role, p) for p in EDT_ADMINISTRATION_PERMISSIONS)


class StaffInvitation(models.Model):
    """An agency administrator's invitation of an existing account to the agency's staff.

    Adding someone to the staff waits for their consent: the membership, with its
    permissions, is made only when the invited user, signed in, accepts.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        CANCELLED = "cancelled", "Cancelled"

    regulator = models.ForeignKey(
        Regulator, on_delete=models.CASCADE, related_name="staff_invitations"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_invitations"
    )
    role = models.CharField(max_length=20, choices=StaffRole)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = StaffInvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_staff_invitation",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.user} to the staff of {self.regulator}"


STAFF_REQUEST_MESSAGE_MAX_LENGTH = 2000


class StaffAccessRequest(models.Model):
    """A person's request to join an agency's staff, with the role they want ("Regulator
    User Access Request", CERS action item type 6). The agency's administrators approve it,
    with a role, which makes the membership, or decline it with a reason; the person may
    withdraw it while it waits."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # Looked up through staff_request_queue (regulator, status, created_at).
    regulator = models.ForeignKey(
        Regulator, on_delete=models.CASCADE, related_name="staff_requests", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_requests"
    )
    role = models.CharField("role asked for", max_length=20, choices=StaffRole)
    message = models.TextField(blank=True, max_length=STAFF_REQUEST_MESSAGE_MAX_LENGTH)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    granted_role = models.CharField("role given", max_length=20, choices=StaffRole, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = StaffAccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The staff page's pending requests and EDT's action items, oldest first.
            models.Index(fields=["regulator", "status", "created_at"], name="staff_request_queue"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_staff_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join the staff of {self.regulator}"


class ServiceArea(models.Model):
    """A ZIP code an agency regulates, for one submittal element or (element empty) all.

    New facilities are assigned to regulators from these rows: per element, the PA that
    serves the ZIP code for that element, else the CUPA that serves the ZIP code.
    """

    # Looked up through one_area_row (regulator, zip code, element).
    regulator = models.ForeignKey(
        Regulator, on_delete=models.CASCADE, related_name="areas", db_index=False
    )
    zip_code = models.CharField(max_length=5, db_index=True)
    element = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Submittal element code 1-10; empty for every element."
    )

    class Meta:
        ordering = ["zip_code", "regulator__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "zip_code", "element"], name="one_area_row"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.regulator.code} serves {self.zip_code}"


LOCAL_REQUIREMENT_MAX_LENGTH = 4000


class LocalRequirement(models.Model):
    """What an agency asks of businesses for one submittal element beyond the state's forms:
    its local instructions, locally required documents and local code citations (CCR 15187
    has them appear in CERS). The business sees them on the element's page when the agency
    handles that element for the facility."""

    # Looked up through one_local_requirement_per_element (regulator, element).
    regulator = models.ForeignKey(
        Regulator, on_delete=models.CASCADE, related_name="local_requirements", db_index=False
    )
    element = models.PositiveSmallIntegerField(choices=SubmittalElement)
    text = models.TextField("local requirements", max_length=LOCAL_REQUIREMENT_MAX_LENGTH)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["regulator", "element"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "element"], name="one_local_requirement_per_element"
            ),
        ]

    def __str__(self) -> str:
        return f"Local requirements of {self.regulator.code} for element {self.element}"
