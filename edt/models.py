"""EDT access: requests, tier grants per environment, vendors, EDT accounts and credentials,
and the implementers' list.

Every change goes through ``edt.access.services``; rows here are the state, the audit events in
``core`` are the history.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .access.querysets import (
    AccessRequestQuerySet,
    EdtAccountQuerySet,
    EdtTransactionQuerySet,
    TierGrantQuerySet,
)
from .tiers import Environment, Tier


class Vendor(models.Model):
    """A data services vendor whose system exchanges data with CERS for its agencies."""

    name = models.CharField(max_length=200, unique=True)
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    website = models.URLField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def authorized_tiers(self) -> list[int]:
        return sorted(a.tier for a in self.authorizations.all())


class VendorAuthorization(models.Model):
    """The vendor completed testing for ``tier`` and is authorized to use it in production."""

    # Looked up through one_authorization_per_tier, which leads with it.
    vendor = models.ForeignKey(
        Vendor, on_delete=models.CASCADE, related_name="authorizations", db_index=False
    )
    tier = models.PositiveSmallIntegerField(choices=Tier)
    authorized_at = models.DateTimeField(default=timezone.now)
    authorized_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["vendor__name", "tier"]
        constraints = [
            models.UniqueConstraint(fields=["vendor", "tier"], name="one_authorization_per_tier")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} authorized for tier {self.tier}"


class AgencyVendor(models.Model):
    """The one vendor an agency works with, or the record that it runs its own system."""

    regulator = models.OneToOneField(
        "regulators.Regulator", on_delete=models.CASCADE, related_name="edt_vendor"
    )
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="agencies"
    )
    own_system = models.BooleanField(
        default=False, help_text="The agency runs its own system instead of a vendor's."
    )
    changed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(vendor__isnull=True, own_system=True)
                | Q(vendor__isnull=False, own_system=False),
                name="vendor_or_own_system",
            )
        ]

    def __str__(self) -> str:
        return f"{self.regulator}: {'own system' if self.own_system else self.vendor}"

    def authorizes(self, tier: int) -> bool:
        """May this agency's system use ``tier`` in production?"""
        if self.own_system:
            return True
        return self.vendor.authorizations.filter(tier=tier).exists()


username_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{2,59}$",
    "An EDT username is 3 to 60 letters, digits, '.', '_' or '-', starting with a letter or digit.",
)


class EdtAccount(models.Model):
    """An agency's dedicated EDT account: a service user that authenticates only to the EDT
    services (``User.is_service_account``), never to a portal.

    ``legacy_digest`` is a keyed hash (HMAC-SHA256) of the value CalEPA's clients send,
    ``BASE64(SHA1(secret))``; the secret itself is generated, shown once, and never stored.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="edt_account"
    )
    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="edt_accounts"
    )
    username = models.CharField(max_length=60, validators=[username_validator])
    legacy_digest = models.CharField(max_length=64, blank=True, editable=False)
    secret_set_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EdtAccountQuerySet.as_manager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("username"), name="edt_username_ci_unique"
            )
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def has_secret(self) -> bool:
        return bool(self.legacy_digest)


class ApiToken(models.Model):
    """A named, expiring, revocable token for an EDT account, scoped to environments and tiers.

    Only the SHA-256 of the token is stored (tokens carry 256 random bits, so a fast hash is
    enough); ``prefix`` lets people tell their tokens apart.
    """

    account = models.ForeignKey(EdtAccount, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    environments = models.JSONField(default=list)
    tiers = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}...)"

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class AccessRequest(models.Model):
    """An agency's request for EDT access, filed by one of its administrators.

    What is asked for lives in the request's ``TierGrant`` rows (one per environment and tier),
    which the state administrator approves or declines one by one.
    """

    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="edt_requests"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    filed_at = models.DateTimeField(auto_now_add=True)
    authority_confirmed = models.BooleanField(
        help_text="The filer stated they have authority to commit the agency."
    )
    terms_version = models.CharField(max_length=20, help_text="The Terms of Use accepted.")
    edt_administrators = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="AccessRequestAdministrator", related_name="+"
    )
    edt_account = models.ForeignKey(
        EdtAccount,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The dedicated EDT account created with this request, if any.",
    )
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    own_system = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    objects = AccessRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-filed_at", "-id"]

    def __str__(self) -> str:
        return f"EDT access request #{self.pk} for {self.regulator}"

    @property
    def is_pending(self) -> bool:
        return any(g.status == TierGrant.Status.REQUESTED for g in self.grants.all())


class AccessRequestAdministrator(models.Model):
    """One of the EDT administrators an access request names: the many-to-many field's own
    table, as a model so that the request's column has no index besides the unique pair's."""

    # Looked up through the unique (request, user) pair, which leads with it.
    accessrequest = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        # The table the many-to-many field had before it got this model; the same pair once.
        db_table = "edt_accessrequest_edt_administrators"
        unique_together = [("accessrequest", "user")]

    def __str__(self) -> str:
        return f"User #{self.user_id} administers EDT access request #{self.accessrequest_id}"


class TierGrant(models.Model):
    """One tier in one environment for one agency: requested, then approved or declined; an
    approved grant can be suspended (and reinstated) or revoked. Only an approved grant lets
    the agency's EDT accounts call that tier's endpoints there."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        APPROVED = "approved", "Approved"
        DECLINED = "declined", "Declined"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"

    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="edt_grants"
    )
    request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="grants"
    )
    environment = models.CharField(max_length=10, choices=Environment)
    tier = models.PositiveSmallIntegerField(choices=Tier)
    status = models.CharField(max_length=10, choices=Status, default=Status.REQUESTED)
    reason = models.TextField(blank=True, help_text="Why it was declined, suspended or revoked.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = TierGrantQuerySet.as_manager()

    # A tier in an environment is asked for, held or on hold at most once at a time.
    LIVE_STATUSES = (Status.REQUESTED, Status.APPROVED, Status.SUSPENDED)

    class Meta:
        ordering = ["regulator__code", "environment", "tier"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "environment", "tier"],
                condition=Q(status__in=["requested", "approved", "suspended"]),
                name="one_live_grant_per_tier_and_environment",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.regulator.code} tier {self.tier} in {self.environment}: "
            f"{self.get_status_display()}"
        )


class SubscriberQuerySet(models.QuerySet):
    def confirmed(self):
        """The addresses announcements go to: their owner confirmed them."""
        return self.filter(confirmed_at__isnull=False)


class Subscriber(models.Model):
    """Someone on the EDT implementers' list: regulator staff or a vendor's contact. An
    address receives announcements once its owner has confirmed it (``confirmed_at``): staff
    joining with their account's address at once, anyone else through the link e-mailed to
    them."""

    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.CASCADE, related_name="subscribers"
    )
    subscribed_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    objects = SubscriberQuerySet.as_manager()

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"), name="one_subscription_per_email"
            )
        ]

    def __str__(self) -> str:
        return self.email


class Announcement(models.Model):
    """A message from the state administrator to the implementers' list; the archive is public."""

    subject = models.CharField(max_length=200)
    body = models.TextField()
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    posted_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-posted_at", "-id"]

    def __str__(self) -> str:
        return self.subject


class EdtTransaction(models.Model):
    """One call to the EDT services: who, which endpoint, in which environment, with what
    arguments, and how it ended. Uploads are processed from this row (the outbox of queued
    work); queries and refused calls are logged here too, so an agency sees all its traffic.
    """

    class Status(models.IntegerChoices):
        # CalEPA's EDTTransactionStatus numbers.
        QUEUED = 1, "Queued"
        ACCEPTED = 2, "Accepted"
        IN_PROCESS = 3, "InProcess"
        REJECTED = 4, "Rejected"
        ERROR_PROCESSING = 5, "ErrorProcessing"

    key = models.UUIDField(unique=True, editable=False)
    endpoint = models.CharField(max_length=8, db_index=True)
    environment = models.CharField(max_length=10, choices=Environment)
    account = models.ForeignKey(
        EdtAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="transactions"
    )
    # Looked up through the (regulator, received_at) index, which leads with it.
    regulator = models.ForeignKey(
        "regulators.Regulator",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="edt_transactions",
        db_index=False,
    )
    client_key = models.CharField(
        max_length=36, blank=True, help_text="The client's RegulatorTransactionKey."
    )
    # Uploads only: what tells a retry of the same upload from another document that reuses
    # the client's key (see ``edt.uploads.receive``).
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="SHA-256 of the upload's body, in hexadecimal."
    )
    mode = models.CharField(
        max_length=6, blank=True, help_text="The upload's Trial or Commit mode (RFC only)."
    )
    status = models.PositiveSmallIntegerField(choices=Status, db_index=True)
    authentication_result = models.PositiveSmallIntegerField(null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(default=200)
    arguments = models.JSONField(default=dict, blank=True)
    messages = models.JSONField(default=list, blank=True)
    result_count = models.PositiveIntegerField(null=True, blank=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # Ordered and filtered through edt_transaction_log_order (received_at, id).
    received_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Uploads only: the document as received, processed later from here (the row is the
    # record of the upload, not the broker message), and what processing produced.
    payload = models.FileField(upload_to="edt/uploads/%Y/%m/", blank=True)
    payload_bytes = models.PositiveBigIntegerField(default=0)
    is_zip = models.BooleanField(default=False)
    schema_version = models.CharField(max_length=5, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its processing was last handed to the broker; empty if that failed.",
    )
    result_xml = models.TextField(
        blank=True, help_text="Endpoint-specific parts of the response (e.g. a created CERS ID)."
    )

    objects = EdtTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(fields=["regulator", "-received_at"]),
            # The log's order, read backwards (newest first), for every agency's log.
            models.Index(fields=["received_at", "id"], name="edt_transaction_log_order"),
        ]
        constraints = [
            # A client's key is recorded, not trusted: only the same account sending the same
            # key with the same body (hence the same mode) to the same endpoint and environment
            # is a retry, answered with the first transaction; two retries arriving together
            # meet here and only one is processed. Any other document is processed on its own.
            models.UniqueConstraint(
                fields=["content_hash", "client_key", "account", "endpoint", "environment", "mode"],
                condition=~Q(client_key=""),
                name="one_transaction_per_retried_upload",
            )
        ]

    def __str__(self) -> str:
        return f"{self.endpoint} {self.key} {self.get_status_display()}"


class EdtEntityKey(models.Model):
    """One entity key of an accepted upload: a record it stored, named by the resource, the
    client's own key and CERS's unique key, at its place in the answer's EntityKeys. Written a
    chunk at a time as the upload runs (``edt.uploads.EntityKeys``) and read back in batches
    by the answer, so neither holds every key of a large upload."""

    # Read through the (transaction, position) constraint, which leads with it.
    transaction = models.ForeignKey(
        EdtTransaction, on_delete=models.CASCADE, related_name="entity_keys", db_index=False
    )
    position = models.PositiveIntegerField()
    # Text as the answer writes it: what a client or a processor gave, without a new limit.
    resource = models.TextField()
    regulator_key = models.TextField(blank=True)
    cers_unique_key = models.TextField()

    class Meta:
        ordering = ["transaction", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "position"], name="one_entity_key_per_position"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.cers_unique_key}"
