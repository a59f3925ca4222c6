"""Admin for regulator agencies. Agencies, staff roles and requests to join a staff change
only through ``regulators.services`` (a staff role and its object permissions move together,
with an audit event), so those are read-only here; service areas are plain configuration."""

from django.contrib import admin

from .models import Regulator, ServiceArea, StaffAccessRequest, StaffMembership


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Regulator)
class RegulatorAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["code", "name", "kind", "county", "parent"]
    list_filter = ["kind"]
    list_select_related = ["parent"]
    search_fields = ["=code", "name", "county"]


@admin.register(StaffMembership)
class StaffMembershipAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "regulator", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "regulator"]
    search_fields = ["user__email", "regulator__name", "=regulator__code"]


@admin.register(StaffAccessRequest)
class StaffAccessRequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["user", "regulator", "role", "status", "created_at", "answered_at"]
    list_filter = ["status", "role"]
    list_select_related = ["user", "regulator"]
    search_fields = ["user__email", "regulator__name", "=regulator__code"]


@admin.register(ServiceArea)
class ServiceAreaAdmin(admin.ModelAdmin):
    list_display = ["zip_code", "regulator", "element"]
    list_filter = ["element"]
    list_select_related = ["regulator"]
    search_fields = ["=zip_code", "regulator__name", "=regulator__code"]
    autocomplete_fields = ["regulator"]
