"""The chemical library: chemicals a business can pick for its inventory."""

from django.db import models


class Chemical(models.Model):
    """A chemical library entry (CERS Chemical Library, CCL).

    Picking one fills the inventory row's identity and hazard fields; the row keeps the CCL
    ID (field 250) so regulators can match it.
    """

    ccl_id = models.PositiveIntegerField("CCL ID", unique=True)
    cas_number = models.CharField("CAS number", max_length=15, blank=True, db_index=True)
    chemical_name = models.CharField(max_length=500)
    common_name = models.CharField(max_length=500, blank=True)
    synonyms = models.TextField(blank=True, help_text="Other names, one a line.")
    ehs = models.BooleanField(
        "EHS", default=False, help_text="A federal Extremely Hazardous Substance."
    )
    physical_state = models.CharField(max_length=10, blank=True)
    hm_type = models.CharField("type", max_length=10, blank=True)
    fire_code_hazard_classes = models.JSONField(default=list, blank=True)
    federal_hazard_categories = models.JSONField(
        default=list,
        blank=True,
        help_text="Field numbers of the hazard categories that apply (216a-216cc).",
    )
    dot_hazard_class = models.CharField("DOT hazard class", max_length=10, blank=True)
    components = models.JSONField(
        default=list, blank=True, help_text="For a mixture: name, CAS number, percent, EHS."
    )

    class Meta:
        ordering = ["chemical_name"]

    def __str__(self) -> str:
        return (
            f"{self.chemical_name} ({self.cas_number})" if self.cas_number else self.chemical_name
        )
