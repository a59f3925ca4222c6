"""Admin for submittals: read-only. Drafts, submits and reviews change only through
``submittals.services``, which check roles, route elements and write the audit trail; the
admin must not bypass that."""

from django.contrib import admin

from .models import FacilitySubmittal, SubmittalElementRecord


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class SubmittalElementRecordInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = SubmittalElementRecord
    fk_name = "facility_submittal"
    fields = ["element", "status", "regulator", "submitted_at", "action_at", "action_agent_name"]
    extra = 0
    show_change_link = True


@admin.register(FacilitySubmittal)
class FacilitySubmittalAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "facility", "status", "submitted_at", "submitted_by", "certifier_name"]
    list_filter = ["status"]
    list_select_related = ["facility", "submitted_by"]
    search_fields = ["=facility__cers_id", "facility__name", "certifier_name"]
    inlines = [SubmittalElementRecordInline]


@admin.register(SubmittalElementRecord)
class SubmittalElementRecordAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["pk", "facility", "element", "status", "regulator", "submitted_at"]
    list_filter = ["element", "status", "submittal_type"]
    list_select_related = ["facility", "regulator"]
    search_fields = ["=facility__cers_id", "facility__name", "=regulator__code"]
