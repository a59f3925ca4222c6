"""The user account shared by business users, regulator staff and EDT service accounts."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    """Creates users keyed by a case-insensitively unique e-mail address."""

    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create_user(self, email, password, **extra):
        if not email:
            raise ValueError("An e-mail address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra)
        if password is None:
            user.set_unusable_password()
        else:
            user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, is_active=True)
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A CERS account. One person, one account, one e-mail address.

    ``is_service_account`` marks a dedicated EDT account: it authenticates only to the EDT
    services and can never sign in to either portal.
    """

    email = models.EmailField("e-mail address", max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    phone = models.CharField(max_length=30, blank=True)
    title = models.CharField(max_length=100, blank=True)
    is_active = models.BooleanField(
        default=True,
        help_text="False until the e-mail address is confirmed, and for an account disabled.",
    )
    # Set once, the first time the account is saved active; never cleared. An inactive account
    # without it waits for its activation link; with it, it was disabled, and only an operator
    # makes it active again.
    activated_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the account was first active (its address confirmed, or set active).",
    )
    is_staff = models.BooleanField(default=False, help_text="May use the Django admin site.")
    is_service_account = models.BooleanField(
        default=False, help_text="An EDT service account: never signs in to a portal."
    )
    date_joined = models.DateTimeField(default=timezone.now)
    # The sign-in before ``last_login`` (CERS keeps both): shown on the person's account page,
    # so that a sign-in they did not make stands out.
    previous_login = models.DateTimeField(
        "previous sign-in",
        null=True,
        blank=True,
        editable=False,
        help_text="When the account signed in before its last sign-in.",
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def save(self, *args, **kwargs):
        if self.is_active and self.activated_at is None:
            self.activated_at = timezone.now()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "activated_at"}
        super().save(*args, **kwargs)

    @property
    def awaits_activation(self) -> bool:
        """Inactive because its address was never confirmed (not disabled after it was)."""
        return not self.is_active and self.activated_at is None

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email


class AgreementAcceptance(models.Model):
    """A person's acceptance of one version of a portal's user agreement
    (``accounts.agreements``). Kept for every version accepted: a new version is accepted
    again, beside the old one, and the account page lists them all."""

    class Portal(models.TextChoices):
        BUSINESS = "business", "Business portal"
        REGULATOR = "regulator", "Regulator portal"

    # Served by the unique constraint, whose first column it is.
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="agreement_acceptances", db_index=False
    )
    portal = models.CharField(max_length=20, choices=Portal.choices)
    version = models.CharField(max_length=20, help_text="The version of the agreement accepted.")
    accepted_at = models.DateTimeField("accepted", default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "portal", "version"], name="accounts_agreement_accepted_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_portal_display()} agreement, version {self.version}"
