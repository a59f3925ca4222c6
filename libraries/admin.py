"""Admin for the chemical library: where the state administrator maintains it for now."""

from django.contrib import admin

from .models import Chemical, ViolationType


@admin.register(Chemical)
class ChemicalAdmin(admin.ModelAdmin):
    list_display = [
        "ccl_id",
        "chemical_name",
        "common_name",
        "cas_number",
        "ehs",
        "physical_state",
        "hm_type",
        "dot_hazard_class",
    ]
    list_filter = ["ehs", "physical_state", "hm_type", "dot_hazard_class"]
    search_fields = ["chemical_name", "common_name", "synonyms", "cas_number", "=ccl_id"]
    ordering = ["chemical_name", "ccl_id"]


@admin.register(ViolationType)
class ViolationTypeAdmin(admin.ModelAdmin):
    list_display = ["type_number", "name", "category", "program_element", "begin_date", "end_date"]
    list_filter = ["category", "program_element"]
    search_fields = ["type_number", "name", "description"]
    ordering = ["type_number"]
