"""The Django admin for accounts: users keyed by e-mail address."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .forms import AdminUserAddForm, AdminUserChangeForm
from .models import AgreementAcceptance, User


class AgreementAcceptanceInline(admin.TabularInline):
    """The user agreements the person accepted: kept as written by
    ``accounts.services.accept_agreement``, never changed here."""

    model = AgreementAcceptance
    fields = ("portal", "version", "accepted_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    ordering = ("-accepted_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, reshaped for the e-mail login and the EDT service-account flag."""

    form = AdminUserChangeForm
    add_form = AdminUserAddForm
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "phone", "title")}),
        (
            "Access",
            {
                "fields": (
                    "is_active",
                    "is_service_account",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (
            "Important dates",
            {"fields": ("last_login", "previous_login", "date_joined", "activated_at")},
        ),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = ("email", "first_name", "last_name", "is_active", "is_service_account")
    list_filter = ("is_active", "is_service_account", "is_staff", "is_superuser", "groups")
    search_fields = ("email", "first_name", "last_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "previous_login", "date_joined", "activated_at")
    inlines = [AgreementAcceptanceInline]

    def get_inline_instances(self, request, obj=None):
        # A user being added has accepted nothing yet.
        return super().get_inline_instances(request, obj) if obj is not None else []
