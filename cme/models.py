"""Compliance monitoring and enforcement (CME): inspections, their violations, and the
enforcement actions taken for violations.

Codes are those of the Unified Program Data Dictionary fields named on each choice list. The
history of every record is its audit trail: each create, update and delete writes an
``AuditEvent`` with the values before and after (see ``cme.services``).

Each record also carries the keys the EDT services match it by (``EdtKeys``): the agency
system's own key, the key CERS gives it, and the agency's action time of its last EDT
submission.
"""

import functools
import uuid

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


class YesNo(models.TextChoices):
    """A Y/N flag as CME data carries it (field 913b)."""

    YES = "Y", "Yes"
    NO = "N", "No"


class RedTagReason(models.IntegerChoices):
    """The violations that caused a red tag (field 913d)."""

    RELEASE = 1, "Threatening or causing a liquid release"
    LEAK_DETECTION = 2, "Impairing leak detection"
    RECALCITRANT = 3, "Chronic or recalcitrant violations"


@functools.cache
def _labels(choices) -> dict:
    return dict(choices.choices)


def _label(choices, code) -> str:
    """The label of ``code`` in ``choices``, or the code itself, as ``get_FOO_display`` gives
    it; the labels read once (a batch names thousands of records)."""
    return _labels(choices).get(code, code)


class EdtKeys(models.Model):
    """The keys of a CME record in EDT exchanges (RCMES, RCMEQ).

    ``regulator_key`` is the agency system's own key for the record (20.0045-20.0048), blank
    for records entered in the portal, which EDT cannot update; ``cers_key`` is the record's
    CERS unique key (20.0074), given to every record; ``regulator_action_at`` is the
    ``RegulatorActionDateTime`` (20.0040) of the EDT submission that last wrote the record: a
    later submission must carry a later one.
    """

    regulator_key = models.CharField(max_length=36, blank=True, db_index=True)
    cers_key = models.UUIDField("CERS unique key", default=uuid.uuid4, unique=True, editable=False)
    regulator_action_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        abstract = True


class Inspection(EdtKeys):
    """One inspection of one program element at a facility (or, as type "Other", the record
    that carries violations found outside an inspection)."""

    # Looked up through the (facility, program element) index, which leads with it: no index
    # of its own.
    facility = models.ForeignKey(
        "facilities.Facility",
        on_delete=models.PROTECT,
        related_name="inspections",
        db_index=False,
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
    violations_rtc_on = models.DateField(
        "violations returned to compliance",
        null=True,
        blank=True,
        help_text="The day every violation found had returned to compliance (917).",
    )
    comments = models.TextField(max_length=1000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = InspectionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        indexes = [
            models.Index(fields=["facility", "program_element"]),
            # The list's order, read backwards (newest first).
            models.Index(fields=["occurred_on", "id"], name="inspection_list_order"),
        ]

    def __str__(self) -> str:
        return self.describe(self.program_element, self.occurred_on)

    @staticmethod
    def describe(program_element: str, occurred_on) -> str:
        """An inspection's ``str`` from its values (an audit event's name for a row written
        from values, ``cme.services.record_cme_batch``)."""
        return f"{_label(ProgramElement, program_element)} inspection of {occurred_on}"


class Violation(EdtKeys):
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
        indexes = [
            # The open violations past their scheduled return to compliance, the longest
            # overdue first (the dashboard's list, paged on by key): only open ones are indexed.
            models.Index(
                fields=["scheduled_rtc_on", "id"],
                name="violation_open_rtc_order",
                condition=models.Q(
                    return_to_compliance_on__isnull=True, scheduled_rtc_on__isnull=False
                ),
            )
        ]

    def __str__(self) -> str:
        return self.describe(self.violation_type.type_number, self.occurred_on)

    @staticmethod
    def describe(type_number: str, occurred_on) -> str:
        """A violation's ``str`` from its values (``Inspection.describe``)."""
        return f"Violation {type_number} on {occurred_on}"


class Enforcement(EdtKeys):
    """An enforcement action taken at a facility for one or more of its violations, with
    the UST red tag it may have issued (fields 913b-913f) and, for a formal action, its case
    (917a, 918) and the amounts assessed (919, 920)."""

    facility = models.ForeignKey(
        "facilities.Facility", on_delete=models.PROTECT, related_name="enforcements"
    )
    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.PROTECT, related_name="enforcements"
    )
    enforcement_type = models.CharField("type", max_length=1, choices=EnforcementType)
    formal_type = models.CharField(max_length=1, choices=FormalEnforcementType, blank=True)
    occurred_on = models.DateField()
    red_tag_issued = models.CharField(max_length=1, choices=YesNo, blank=True)
    red_tag_number = models.CharField(
        max_length=5, blank=True, help_text="Five digits, zero-padded (913c)."
    )
    red_tag_reason = models.PositiveSmallIntegerField(
        "violations causing the red tag", choices=RedTagReason, null=True, blank=True
    )
    red_tag_affixed_on = models.DateField(null=True, blank=True)
    red_tag_removed_on = models.DateField(null=True, blank=True)
    case_settled_on = models.DateField("case settled or dropped", null=True, blank=True)
    docket_number = models.CharField(max_length=20, blank=True)
    fine_amount = models.PositiveIntegerField(
        "fine assessed", null=True, blank=True, help_text="Whole dollars (919)."
    )
    sep_amount = models.PositiveIntegerField(
        "supplemental environmental project amount",
        null=True,
        blank=True,
        help_text="Whole dollars (920).",
    )
    comments = models.TextField(max_length=1000, blank=True)
    violations = models.ManyToManyField(
        Violation, through="EnforcementViolation", related_name="enforcements", blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = EnforcementQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_on", "-pk"]
        # The list's order, read backwards (newest first).
        indexes = [models.Index(fields=["occurred_on", "id"], name="enforcement_list_order")]

    def __str__(self) -> str:
        return self.describe(self.enforcement_type, self.occurred_on)

    @staticmethod
    def describe(enforcement_type: str, occurred_on) -> str:
        """An enforcement action's ``str`` from its values (``Inspection.describe``)."""
        return f"{_label(EnforcementType, enforcement_type)} of {occurred_on}"


class EnforcementViolation(EdtKeys):
    """The link between an enforcement action and one violation it addresses (CME's
    EnforcementViolation entity, which EDT exchanges with keys of its own)."""

    # Looked up through the unique (enforcement, violation) pair, which leads with it.
    enforcement = models.ForeignKey(
        Enforcement, on_delete=models.CASCADE, related_name="violation_links", db_index=False
    )
    violation = models.ForeignKey(
        Violation, on_delete=models.CASCADE, related_name="enforcement_links"
    )

    class Meta:
        # The table the many-to-many field had before it got this model; the same pair once.
        db_table = "cme_enforcement_violations"
        unique_together = [("enforcement", "violation")]

    def __str__(self) -> str:
        return f"Enforcement {self.enforcement_id} - violation {self.violation_id}"


class DeadlineReminder(models.Model):
    """A reminder e-mailed to an agency's administrators that its CME data of a quarter are
    due to CERS on ``due_date`` (``cme.deadlines``). Written in the transaction that queues
    the e-mails, and unique per agency and due date, so an agency is reminded once a quarter
    however often or concurrently the beat runs (``services.send_deadline_reminders``)."""

    # Looked up through one_cme_reminder_per_due_date, which leads with it.
    regulator = models.ForeignKey(
        "regulators.Regulator", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    due_date = models.DateField()
    recipients = models.PositiveSmallIntegerField(default=0)
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["regulator", "due_date"], name="one_cme_reminder_per_due_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.regulator_id}: CME data due {self.due_date}"
