"""Organizations (businesses), memberships with roles, invitations and join requests."""

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models.functions import Lower
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .querysets import (
    InvitationQuerySet,
    JoinRequestQuerySet,
    MembershipQuerySet,
    OrganizationQuerySet,
)
from .roles import Role

# How an organization was created when not in the business portal: the "how" of its
# organization.created audit event (EDT queries answer it as the organization's origin).
CREATED_BY_LEGACY_IMPORT = "legacy import"
CREATED_BY_EDT = "EDT"


class Organization(models.Model):
    """A CERS organization (a business). Every facility belongs to exactly one."""

    code = models.PositiveIntegerField(
        unique=True, help_text="Organization code, 8-9 digits, allocated in order."
    )
    name = models.CharField(max_length=200)
    headquarters = models.CharField(max_length=255, blank=True)
    lead_regulator = models.ForeignKey(
        "regulators.Regulator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="lead_organizations",
        help_text="The CUPA holding most of the organization's facilities.",
    )
    # The automatic rule (facilities.services.refresh_lead_regulator) gives the largest
    # organizations to the state agency; this is set when the state administrator takes one
    # over by hand, and the rule then leaves ``lead_regulator`` alone.
    lead_regulator_pinned = models.BooleanField(
        default=False,
        help_text="The state administrator took the organization over; its lead regulator "
        "stays the state agency as facilities move.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        # The lists' order (seeking a page by its last row's key reads from here).
        indexes = [models.Index(fields=["name", "id"], name="organization_list_order")]
        permissions = [
            ("edit_drafts", "Prepare and edit submittal drafts"),
            ("submit_submittals", "Submit and certify submittals"),
            ("manage_facilities", "Add and manage the organization's facilities"),
            ("manage_users", "Manage the organization's people and roles"),
        ]

    def __str__(self) -> str:
        return self.name


class OrganizationUserObjectPermission(UserObjectPermissionBase):
    """Direct foreign-key object permission of a user on an organization (django-guardian)."""

    # guardian's field, looked up through its unique (user, permission, content object).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Organization, on_delete=models.CASCADE)


class OrganizationGroupObjectPermission(GroupObjectPermissionBase):
    """Direct foreign-key object permission of a group on an organization (django-guardian)."""

    # guardian's field, looked up through its unique (group, permission, content object).
    group = models.ForeignKey(Group, on_delete=models.CASCADE, db_index=False)
    content_object = models.ForeignKey(Organization, on_delete=models.CASCADE)


class Membership(models.Model):
    """A user's role in an organization. The role's permissions are granted with it, by
    ``organizations.services`` only."""

    # Looked up through one_membership_per_org (user, organization).
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organization__name", "user__email"]
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_membership_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} is {self.get_role_display()} of {self.organization}"


class Invitation(models.Model):
    """An invitation, by e-mail, to join an organization with a role.

    Only a SHA-256 digest of the token sent in the link is stored.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        ACCEPTED = "accepted", "Accepted"
        REVOKED = "revoked", "Revoked"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    # Who the Lead User says the person is (as CERS's Add Person asks): the e-mail greets them
    # by name and a new account's sign-up starts with these details.
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    title = models.CharField("job title", max_length=100, blank=True)
    role = models.CharField(max_length=10, choices=Role)
    token_digest = models.CharField(max_length=64, unique=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "organization",
                condition=models.Q(status="pending"),
                name="one_pending_invitation_per_email",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation of {self.email} to {self.organization}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class JoinRequest(models.Model):
    """A user's request to join an organization, approved or declined by a Lead User."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="join_requests"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="join_requests"
    )
    message = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = JoinRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"],
                condition=models.Q(status="pending"),
                name="one_pending_join_request",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} asks to join {self.organization}"
