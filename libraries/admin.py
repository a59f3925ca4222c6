"""Admin for the libraries: read-only.

Changes go through the maintenance pages (``libraries.views.maintenance``), whose services
validate and write an audit event; the admin stays a way to look rows up.
"""

from django.contrib import admin

from .models import Chemical, ViolationType


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Chemical)
class ChemicalAdmin(ReadOnlyAdmin):
    list_display = [
        "ccl_id",
        "chemical_name",
        "common_name",
        "cas_number",
        "ehs",
        "physical_state",
        "hm_type",
        "dot_hazard_class",
        "prop65_types",
    ]
    list_filter = ["ehs", "physical_state", "hm_type", "dot_hazard_class"]
    search_fields = ["chemical_name", "common_name", "synonyms", "cas_number", "=ccl_id"]
    ordering = ["chemical_name", "ccl_id"]


@admin.register(ViolationType)
class ViolationTypeAdmin(ReadOnlyAdmin):
    list_display = ["type_number", "name", "category", "program_element", "begin_date", "end_date"]
    list_filter = ["category", "program_element"]
    search_fields = ["type_number", "name", "description"]
    ordering = ["type_number"]
