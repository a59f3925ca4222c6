"""Read-only admin for EDT access: every change goes through ``edt.access.services`` so it keeps its
audit event (and credentials are never typed in here)."""

from django.contrib import admin

from .models import (
    AccessRequest,
    AgencyVendor,
    Announcement,
    ApiToken,
    EdtAccount,
    Subscriber,
    TierGrant,
    Vendor,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Vendor)
class VendorAdmin(ReadOnlyAdmin):
    list_display = ["name", "contact_email", "created_at"]
    search_fields = ["name"]


@admin.register(AgencyVendor)
class AgencyVendorAdmin(ReadOnlyAdmin):
    list_display = ["regulator", "vendor", "own_system", "changed_at"]
    list_select_related = ["regulator", "vendor"]


@admin.register(EdtAccount)
class EdtAccountAdmin(ReadOnlyAdmin):
    list_display = ["username", "regulator", "is_active", "secret_set_at"]
    list_select_related = ["regulator"]
    search_fields = ["username", "regulator__code"]
    exclude = ["legacy_digest"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "prefix", "account", "expires_at", "revoked_at", "last_used_at"]
    list_select_related = ["account"]
    exclude = ["token_hash"]


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "regulator", "filed_by", "filed_at", "terms_version"]
    list_select_related = ["regulator", "filed_by"]


@admin.register(TierGrant)
class TierGrantAdmin(ReadOnlyAdmin):
    list_display = ["regulator", "environment", "tier", "status", "decided_at"]
    list_filter = ["status", "environment", "tier"]
    list_select_related = ["regulator"]
    search_fields = ["regulator__code"]


@admin.register(Subscriber)
class SubscriberAdmin(ReadOnlyAdmin):
    list_display = ["email", "name", "vendor", "subscribed_at"]
    list_select_related = ["vendor"]


@admin.register(Announcement)
class AnnouncementAdmin(ReadOnlyAdmin):
    list_display = ["subject", "posted_at", "recipients"]
