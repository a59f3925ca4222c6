"""Facilities and their per-element regulators."""

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from core.elements import SubmittalElement

from .querysets import FacilityQuerySet

CERS_ID_FIRST = 10_000_001
CERS_ID_LAST = 999_999_999


class Facility(models.Model):
    """A regulated site. Belongs to exactly one organization; keeps its CERS ID for life."""

    cers_id = models.PositiveIntegerField(
        "CERS ID",
        unique=True,
        validators=[MinValueValidator(CERS_ID_FIRST), MaxValueValidator(CERS_ID_LAST)],
        help_text="8-9 digits, allocated in order from 10000001.",
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="facilities"
    )
    name = models.CharField(max_length=200)
    street = models.CharField("street address", max_length=200)
    city = models.CharField(max_length=100)
    state = models.CharField(max_length=2, default="CA")
    zip_code = models.CharField("ZIP code", max_length=10)
    county = models.CharField(max_length=60, blank=True)
    # Upper-cased, abbreviation-folded street + city + 5-digit ZIP, for duplicate detection.
    address_key = models.CharField(max_length=400, db_index=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FacilityQuerySet.as_manager()

    class Meta:
        ordering = ["name", "cers_id"]
        verbose_name_plural = "facilities"

    def __str__(self) -> str:
        return f"{self.name} ({self.cers_id})"

    @property
    def address(self) -> str:
        return f"{self.street}, {self.city}, {self.state} {self.zip_code}"


class FacilityRegulator(models.Model):
    """The one regulator (CUPA or PA) that handles one submittal element of a facility."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE, related_name="regulators")
    element = models.PositiveSmallIntegerField(choices=SubmittalElement)
    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="facility_elements"
    )

    class Meta:
        ordering = ["facility", "element"]
        constraints = [
            models.UniqueConstraint(
                fields=["facility", "element"], name="one_regulator_per_element"
            ),
        ]
        indexes = [models.Index(fields=["regulator", "facility"])]

    def __str__(self) -> str:
        return f"{self.facility.cers_id} element {self.element}: {self.regulator.code}"
