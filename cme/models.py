"""Compliance monitoring and enforcement (CME): inspections, their violations, and the
enforcement actions taken for violations.

Codes are those of the Unified Program Data Dictionary fields named on each choice list. The
history of every record is its audit trail: each create, update and delete writes an
``AuditEvent`` with the values before and after (see ``cme.services``).
"""

from django.conf import settings
from django.db import models

from core.elements import SubmittalElement
from libraries.models import ViolationType

from .querysets import EnforcementQuerySet, InspectionQuerySet, ViolationQuerySet


class ProgramElement(models.TextChoices):
    """The program element inspected (field 905); one inspection record per element."""

    HMRRP = "a", "Hazardous Materials Release Response Plans (business plan)"
    CALARP = "b", "California Accidental Release Prevention (CalARP)"
    UST = "c", "Underground Storage Tanks"
    APSA = "d", "Aboveground Petroleum Storage Act"
    HW_GENERATOR = "e", "Hazardous Waste Generator"
    RCRA_LQG = "f", "Hazardous Waste RCRA Large Quantity Generator"
    HW_RECYCLER = "g", "Hazardous Waste Recycler"
    PERMIT_BY_RULE = "h", "Tiered Permitting: Permit by Rule"
    CONDITIONALLY_AUTHORIZED = "i", "Tiered Permitting: Conditionally Authorized"
    CONDITIONALLY_EXEMPT = "j", "Tiered Permitting: Conditionally Exempt"
    HOUSEHOLD_HW = "k", "Household Hazardous Waste"


_HAZARDOUS_WASTE = frozenset(
    {
        SubmittalElement.TIERED_PERMITTING,
        SubmittalElement.RECYCLABLE_MATERIALS,
        SubmittalElement.REMOTE_WASTE_CONSOLIDATION,
        SubmittalElement.HW_TANK_CLOSURE,
    }
)

# Which submittal elements a program element covers: the agency that handles one of them for
# a facility may record (and see) CME for that program element there.
PROGRAM_ELEMENT_SUBMITTAL_ELEMENTS: dict[str, frozenset[int]] = {
    ProgramElement.HMRRP: frozenset(
        {SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY, SubmittalElement.EMERGENCY_RESPONSE}
    ),
    ProgramElement.CALARP: frozenset({SubmittalElement.CALARP}),
    ProgramElement.UST: frozenset({SubmittalElement.UST}),
    ProgramElement.APSA: frozenset({SubmittalElement.APSA}),
    **dict.fromkeys("efghijk", _HAZARDOUS_WASTE),  # every hazardous waste program element
}

_VPE = ViolationType.ProgramElement
# Which violation library program elements fit each inspection program element (a violation
# type must fit its inspection's program element).
PROGRAM_ELEMENT_VIOLATION_ELEMENTS: dict[str, frozenset[int]] = {
    ProgramElement.HMRRP: frozenset({_VPE.BUSINESS_PLAN}),
    ProgramElement.CALARP: frozenset({_VPE.CALARP}),
    ProgramElement.UST: frozenset({_VPE.UST}),
    ProgramElement.APSA: frozenset({_VPE.APSA}),
    ProgramElement.HW_GENERATOR: frozenset({_VPE.HW_GENERATOR}),
    ProgramElement.RCRA_LQG: frozenset({_VPE.HW_GENERATOR, _VPE.RCRA_LQG}),
    ProgramElement.HW_RECYCLER: frozenset({_VPE.HW_GENERATOR}),
    ProgramElement.PERMIT_BY_RULE: frozenset({_VPE.HW_GENERATOR, _VPE.TIERED_PERMITTING}),
    ProgramElement.CONDITIONALLY_AUTHORIZED: frozenset({_VPE.HW_GENERATOR, _VPE.TIERED_PERMITTING}),
    ProgramElement.CONDITIONALLY_EXEMPT: frozenset({_VPE.HW_GENERATOR, _VPE.TIERED_PERMITTING}),
    ProgramElement.HOUSEHOLD_HW: frozenset({_VPE.HHW}),
}


class InspectionType(models.TextChoices):
    """Field 907. "Other" covers complaints, closures, release investigations, tank
    installation or removal, re-inspections and violations found outside an inspection."""

    ROUTINE = "a", "Routine"
    OTHER = "b", "Other"


class OperationalCompliance(models.TextChoices):
    """UST Significant Operational Compliance determination (field 913a), UST only."""

    RELEASE_DETECTION = "a", "SOC with Release Detection only"
    RELEASE_PREVENTION = "b", "SOC with Release Prevention only"
    BOTH = "c", "SOC with both Release Detection and Release Prevention"
    NONE = "d", "Not in SOC"


class ViolationClass(models.IntegerChoices):
    """Field 931."""

    CLASS_I = 1, "Class I"
    CLASS_II = 2, "Class II"
    MINOR = 9, "Minor"


class RTCQualifier(models.IntegerChoices):
    """How the return to compliance was established (field 935)."""

    DOCUMENTED = 1, "Documented"
    OBSERVED = 2, "Observed"
    NOT_RESOLVABLE = 3, "Not resolvable"
    UNOBSERVED = 4, "Unobserved"


class EnforcementType(models.TextChoices):
    """Field 914."""

    NOV = "a", "Notice of Violation only"
    AEO_LOCAL = "b", "Administrative Enforcement Order: local ordinance"
    AEO_UNIFIED_PROGRAM = "c", "Administrative Enforcement Order: Unified Program"
    ATTORNEY_GENERAL = "d", "Referral to the State Attorney General"
    DISTRICT_ATTORNEY = "e", "Referral to the District Attorney"
    COUNTY_CITY_ATTORNEY = "f", "Referral to the County Counsel or City Attorney"
    US_ATTORNEY = "g", "Referral to the US Attorney"
    STATE_AGENCY = "h", "Referral to a State agency"
    FEDERAL_AGENCY = "i", "Referral to a Federal agency"
    OTHER_REFERRAL = "j", "Referral to another agency"


class FormalEnforcementType(models.TextChoices):
    """Field 916; empty for an informal action."""

    ADMINISTRATIVE = "a", "Administrative"
    CIVIL = "b", "Civil"
    CRIMINAL = "c", "Criminal"
    CIVIL_CRIMINAL = "d", "Civil/Criminal"


class Inspection(models.Model):
    """One inspection of one program element at a facility (or, as type "Other", the record
    that carries violations found outside an inspection)."""

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="inspections"
    )
    regulator = models.ForeignKey(
        "regulators.Regulator",
        on_delete=models.PROTECT,
        related_name="inspections",
        help_text="The agency that recorded the inspection.",
    )
    program_element = models.CharField(max_length=1, choices=ProgramElement)
    inspection_type = models.CharField(max_length=1, choices=InspectionType)
    occurred_on = models.DateField(help_text="The day the inspection was completed (906).")
    inspector_name = models.CharField(max_length=200)
    ust_operational_compliance = models.CharField(
        "UST operational compliance", max_length=1, choices=OperationalCompliance, blank=True
    )
    comments = models.TextField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [models.Index(fields=["facility", "program_element"])]

    def __str__(self) -> str:
        return f"{self.get_program_element_display()} inspection of {self.occurred_on}"


class Violation(models.Model):
    """A violation found at an inspection, typed from the violation library."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="violations")
    violation_type = models.ForeignKey(
        ViolationType, on_delete=models.PROTECT, related_name="violations"
    )
    violation_class = models.PositiveSmallIntegerField("class", choices=ViolationClass)
    occurred_on = models.DateField()
    scheduled_rtc_on = models.DateField("scheduled return to compliance", null=True, blank=True)
    return_to_compliance_on = models.DateField("actual return to compliance", null=True, blank=True)
    rtc_qualifier = models.PositiveSmallIntegerField(
        "return-to-compliance qualifier", choices=RTCQualifier, null=True, blank=True
    )
    comments = models.TextField(max_length=1000, blank=True)

    objects = ViolationQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_on", "pk"]

    def __str__(self) -> str:
        return f"Violation {self.violation_type.type_number} on {self.occurred_on}"


class Enforcement(models.Model):
    """An enforcement action taken at a facility for one or more of its violations."""

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="enforcements"
    )
    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="enforcements"
    )
    enforcement_type = models.CharField("type", max_length=1, choices=EnforcementType)
    formal_type = models.CharField(max_length=1, choices=FormalEnforcementType, blank=True)
    occurred_on = models.DateField()
    comments = models.TextField(max_length=1000, blank=True)
    violations = models.ManyToManyField(Violation, related_name="enforcements", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnforcementQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_enforcement_type_display()} of {self.occurred_on}"
