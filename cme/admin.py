"""Read-only admin for CME records: changes go through ``cme.services`` so they keep their
history."""

from django.contrib import admin

from .models import Enforcement, Inspection, Violation


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Inspection)
class InspectionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "facility", "regulator", "program_element", "occurred_on"]
    list_filter = ["program_element", "inspection_type"]
    list_select_related = ["facility", "regulator"]
    search_fields = ["=facility__cers_id", "inspector_name"]


@admin.register(Violation)
class ViolationAdmin(ReadOnlyAdmin):
    list_display = ["pk", "inspection", "violation_type", "violation_class", "occurred_on"]
    list_select_related = ["inspection", "violation_type"]


@admin.register(Enforcement)
class EnforcementAdmin(ReadOnlyAdmin):
    list_display = ["pk", "facility", "regulator", "enforcement_type", "occurred_on"]
    list_select_related = ["facility", "regulator"]
