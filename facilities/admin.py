"""Admin for facilities: read-only. Facilities are added, moved and merged through
``facilities.services``, which allocate CERS IDs, assign jurisdiction and write the audit
trail; the admin must not bypass that."""

from django.contrib import admin

from .models import Facility, FacilityRegulator


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class FacilityRegulatorInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = FacilityRegulator
    fields = ["element", "regulator"]
    extra = 0


@admin.register(Facility)
class FacilityAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["cers_id", "name", "organization", "street", "city", "zip_code"]
    list_select_related = ["organization"]
    search_fields = ["=cers_id", "name", "street", "city", "organization__name"]
    inlines = [FacilityRegulatorInline]
