"""The libraries: chemicals a business can pick for its inventory, and violation types
inspectors cite. (The third library, the data dictionary, is read from the submittal field
registry: see ``libraries.dictionary``.)

Both are statewide reference data: every signed-in portal user reads them, only the state
administrator changes them (``libraries.services``).
"""

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q

from .querysets import ChemicalQuerySet, ViolationTypeQuerySet


class Prop65Type(models.TextChoices):
    """What a chemical is listed for under Proposition 65 (the Safe Drinking Water and Toxic
    Enforcement Act of 1986): OEHHA's types of toxicity, cancer or one of the three kinds of
    reproductive toxicity. The values are the words the Chemical Library Query's
    ``Prop65Type`` carries (a string of at most 20 characters; CalEPA's schema lists no
    codes), the labels what the pages say."""

    CANCER = "Cancer", "cancer"
    DEVELOPMENTAL = "Developmental", "developmental toxicity"
    FEMALE = "Female", "female reproductive toxicity"
    MALE = "Male", "male reproductive toxicity"


# The reproductive kinds, as the Prop 65 mark words them after "reproductive toxicity".
PROP65_REPRODUCTIVE = {
    Prop65Type.DEVELOPMENTAL: "developmental",
    Prop65Type.FEMALE: "female",
    Prop65Type.MALE: "male",
}


class Chemical(models.Model):
    """A chemical library entry (CERS Chemical Library, CCL).

    Picking one fills the inventory row's identity and hazard fields; the row keeps the CCL
    ID (field 250) so regulators can match it. The CCL ID is CalEPA's identifier, separate
    from the primary key: an entry CalEPA's library does not list (or whose ID is not known
    here, as for the chemicals the library was seeded with) has none.

    Beyond the inventory's fields, the entry keeps what CalEPA's library says of the chemical
    itself (the Chemical Library Query's elements): its Proposition 65 types, US EPA SRS
    number, state waste code, whether it is radioactive (and its curies) or a trade secret,
    comments and further mixture components. Yes/no facts are None where the library does not
    say.
    """

    ccl_id = models.PositiveIntegerField(
        "CCL ID",
        unique=True,
        null=True,
        blank=True,
        help_text="CalEPA's CERS Chemical Library ID (field 250); empty when not known.",
    )
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
        default=list,
        blank=True,
        help_text=(
            "For a mixture, up to five hazardous components (fields 226-245): "
            "name, cas_number, percent_by_weight, ehs."
        ),
    )
    prop65_types = models.JSONField(
        "Proposition 65 types",
        default=list,
        blank=True,
        help_text="What Proposition 65 lists it for: values of Prop65Type, in their order.",
    )
    usepa_srs_number = models.CharField(
        "US EPA SRS number",
        max_length=50,
        blank=True,
        help_text="Field 251: the US EPA Substance Registry Services number.",
    )
    sta_code = models.CharField(
        "state waste code",
        max_length=3,
        blank=True,
        help_text="Field 220 (the library's STACode): California's three-digit waste code.",
    )
    radioactive = models.BooleanField(
        "radioactive", null=True, blank=True, help_text="Field 212; empty when not stated."
    )
    curies = models.DecimalField(
        max_digits=20, decimal_places=10, null=True, blank=True, help_text="Field 213."
    )
    trade_secret = models.BooleanField(
        "trade secret", null=True, blank=True, help_text="Field 206; empty when not stated."
    )
    comments = models.TextField(blank=True, help_text="Field 246: at most 1000 characters.")
    additional_mixture_components = models.TextField(
        blank=True,
        help_text="Field 247: components beyond the five, in words; at most 2000 characters.",
    )
    updated_at = models.DateTimeField("last updated", auto_now=True)  # 20.0073

    objects = ChemicalQuerySet.as_manager()

    class Meta:
        ordering = ["chemical_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(curies__isnull=True) | Q(curies__gte=0),
                name="chemical_curies_not_negative",
            )
        ]

    def __str__(self) -> str:
        return (
            f"{self.chemical_name} ({self.cas_number})" if self.cas_number else self.chemical_name
        )

    def prop65_summary(self) -> str:
        """What Proposition 65 lists the chemical for, in words ("cancer; reproductive
        toxicity (developmental, male)"); "" when it is not listed."""
        listed = set(self.prop65_types or [])
        parts = ["cancer"] if Prop65Type.CANCER in listed else []
        kinds = [word for kind, word in PROP65_REPRODUCTIVE.items() if kind in listed]
        if kinds:
            parts.append(f"reproductive toxicity ({', '.join(kinds)})")
        return "; ".join(parts)


class ViolationType(models.Model):
    """A Unified Program Violation Library entry (CERS Violation Library, VLQ).

    Inspectors cite one when they record a violation; ``type_number`` is what CME data carries
    as the violation type (field 930, a 4- or 7-digit number). An entry may be cited only for
    violations that occurred between ``begin_date`` and ``end_date``.
    """

    class ProgramElement(models.IntegerChoices):
        """The library's own program element list (``ViolationProgramElementType``)."""

        BUSINESS_PLAN = 1, "Business Plan"
        UST = 2, "Underground Storage Tanks"
        HW_GENERATOR = 3, "Hazardous Waste Generator"
        RCRA_LQG = 4, "RCRA Large Quantity Generator"
        TIERED_PERMITTING = 5, "Tiered Permitting"
        APSA = 6, "Aboveground Petroleum Storage Act"
        CALARP = 7, "California Accidental Release Prevention"
        HHW = 8, "Household Hazardous Waste"

    type_number = models.CharField(
        max_length=7,
        unique=True,
        validators=[
            RegexValidator(r"^(\d{4}|\d{7})$", "A violation type number has 4 or 7 digits.")
        ],
    )
    name = models.CharField(max_length=300)
    description = models.TextField(blank=True)
    category = models.CharField(
        max_length=100,
        help_text="The library's grouping of the type, such as Administration/Documentation.",
    )
    program_element = models.PositiveSmallIntegerField(choices=ProgramElement)
    citations = models.JSONField(
        default=list,
        blank=True,
        help_text="Citations: chapter, section, name, description, source.",
    )
    begin_date = models.DateField(help_text="First day the type may be cited.")
    end_date = models.DateField(null=True, blank=True, help_text="Last day; empty if current.")
    example = models.BooleanField(
        default=False,
        help_text=(
            "One of the examples the library started with, before the published library was "
            "loaded; loading the published library removes the examples it does not list."
        ),
    )
    updated_at = models.DateTimeField("last updated", auto_now=True)

    objects = ViolationTypeQuerySet.as_manager()

    class Meta:
        ordering = ["type_number"]
        constraints = [
            # A type is retired by an end date, which must come after the day it began.
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gt=F("begin_date")),
                name="violation_type_ends_after_it_begins",
            )
        ]

    def __str__(self) -> str:
        return f"{self.type_number} {self.name}"

    def valid_on(self, day) -> bool:
        """Whether the type may be cited for a violation that occurred on ``day``."""
        return self.begin_date <= day and (self.end_date is None or day <= self.end_date)


class ViolationLibraryLoad(models.Model):
    """One load of the published violation library from a file (``libraries.violation_file``),
    with what it changed: the library page shows the latest."""

    source = models.CharField(max_length=255, help_text="The file's name.")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    loaded_at = models.DateTimeField(auto_now_add=True)
    listed = models.PositiveIntegerField(help_text="Violation types the file lists.")
    created = models.PositiveIntegerField()
    updated = models.PositiveIntegerField()
    unchanged = models.PositiveIntegerField()
    examples_removed = models.PositiveIntegerField()
    examples_kept = models.JSONField(
        default=list, blank=True, help_text="Examples still cited by violations, so kept."
    )

    class Meta:
        ordering = ["-loaded_at", "-pk"]
        get_latest_by = ["loaded_at", "pk"]

    def __str__(self) -> str:
        return f"Violation library from {self.source} ({self.loaded_at:%Y-%m-%d})"

    def summary(self) -> str:
        """What the load changed, in one sentence."""
        text = (
            f"{self.listed} violation types read from {self.source}: {self.created} added, "
            f"{self.updated} updated, {self.unchanged} unchanged; "
            f"{self.examples_removed} example types removed."
        )
        if self.examples_kept:
            text += (
                f" Violations still cite the example types {', '.join(self.examples_kept)}: "
                "they stay until they are retired."
            )
        return text


class ChemicalLibraryLoad(models.Model):
    """One load of CalEPA's published chemical library from a file
    (``libraries.chemical_file``), with what it changed: the library page shows the latest."""

    source = models.CharField(max_length=255, help_text="The file's name.")
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    loaded_at = models.DateTimeField(auto_now_add=True)
    listed = models.PositiveIntegerField(help_text="Chemicals the file lists.")
    created = models.PositiveIntegerField()
    updated = models.PositiveIntegerField()
    unchanged = models.PositiveIntegerField()

    class Meta:
        ordering = ["-loaded_at", "-pk"]
        get_latest_by = ["loaded_at", "pk"]

    def __str__(self) -> str:
        return f"Chemical library from {self.source} ({self.loaded_at:%Y-%m-%d})"

    def summary(self) -> str:
        """What the load changed, in one sentence."""
        return (
            f"{self.listed} chemicals read from {self.source}: {self.created} added, "
            f"{self.updated} updated, {self.unchanged} unchanged."
        )
