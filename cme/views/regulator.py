"""Regulator portal pages for CME: inspections, their violations and enforcement actions,
and the spreadsheet upload.

Every queryset starts from ``Model.objects.for_user(user, "view")`` (all the user's agencies)
and is narrowed to the agency the user works for now (``AgencyScopedMixin``), so another
agency's record answers 404.
Writes need ``record_cme`` at that agency (403 otherwise, for staff who can see the record);
``cme.services`` checks again that the agency handles the program element.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core.access import can
from core.clock import california_today
from core.events import changes
from core.exports import (
    Column,
    export_filename,
    export_links,
    export_response,
    requested_format,
    rows_of,
)
from core.forms import add_service_errors
from core.models import AuditEvent
from core.pagination import paginate
from core.views import AgencyScopedMixin, RegulatorPortalMixin
from facilities.models import Facility
from libraries.models import ViolationType

from .. import deadlines, services, upload
from ..forms import (
    VIOLATION_TYPE_LIST_ID,
    EnforcementFilterForm,
    EnforcementForm,
    InspectionForm,
    UploadForm,
    ViolationForm,
)
from ..models import (
    PROGRAM_ELEMENT_VIOLATION_ELEMENTS,
    Enforcement,
    EnforcementViolation,
    Inspection,
    Violation,
)
from ..rules import recordable_program_elements

_VIOLATION_ALIASES = {"violation_type": "type_number"}


def _history(*records) -> list[dict]:
    """The audit events of ``records`` (CME objects), oldest first, with what changed."""
    condition = Q(pk__in=[])
    by_type: dict[str, list[str]] = {}
    for record in records:
        by_type.setdefault(record._meta.label_lower, []).append(str(record.pk))
    for object_type, ids in by_type.items():
        condition |= Q(object_type=object_type, object_id__in=ids)
    events = (
        AuditEvent.objects.filter(condition).select_related("actor").order_by("created_at", "id")
    )
    return [{"event": event, "changes": changes(event)} for event in events]


class CMEMixin(AgencyScopedMixin):
    """CME pages of the agency the user works for now."""

    def inspections(self):
        return self.scoped(Inspection)

    def violations(self):
        return self.scoped(Violation)

    def enforcements(self):
        return self.scoped(Enforcement)

    def facility_violations(self, facility_id):
        """Violations an enforcement action at the facility may link: in this agency's scope."""
        return (
            self.violations()
            .filter(inspection__facility=facility_id)
            .select_related("violation_type")
        )

    def can_record(self) -> bool:
        return can(self.request.user, "cme.record", self.regulator)

    def inspection_form(self, facility, *args, **kwargs) -> InspectionForm:
        """The inspection form offering only the program elements the agency regulates at
        ``facility``."""
        return InspectionForm(
            *args, program_elements=recordable_program_elements(self.regulator, facility), **kwargs
        )

    def violation_types(self, program_element: str, day):
        """The library's types a violation of ``program_element`` may cite on ``day``: the
        type field's suggestions."""
        return (
            ViolationType.objects.for_user(self.request.user)
            .filter(program_element__in=PROGRAM_ELEMENT_VIOLATION_ELEMENTS[program_element])
            .valid_on(day)
            .only("type_number", "name")
            .order_by("type_number")
        )

    def refuse_stale(self, error: services.StaleRecord, form, record, render):
        """A change made from a page drawn before someone else's: the edit page again (drawn
        by ``render(record, form, seen)``) with the person's own values still in the form,
        the refusal naming what changed and its values now, and the digest of the record as
        it is now, so that saving again applies them over that change knowingly."""
        record.refresh_from_db()
        form.add_error(None, error.messages[0])
        return render(record, form, services.record_seen(record))

    def require_record(self) -> None:
        if not self.can_record():
            raise PermissionDenied("Your role at this agency does not allow recording CME data.")

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            regulator=self.regulator,
            can_record=self.can_record(),
            cme_quarter=deadlines.reporting_quarter(california_today()),
            violation_type_list_id=VIOLATION_TYPE_LIST_ID,
            **kwargs,
        )


def links_count(model, field: str):
    """How many ``model`` rows point at the listed row through ``field``: a sub-query per row
    shown, so that the list is read in its index's order and stops at the page (a GROUP BY over
    the join counted every row of the scope before the first page came)."""
    rows = model.objects.filter(**{field: OuterRef("pk")}).order_by().values(field)
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")), 0)


def filtered_inspections(inspections, params) -> tuple:
    """The inspection list's filter, for the page and its export: ``cers_id`` (one
    facility's). Returns the inspections, newest first with their violation counts, and the
    CERS ID asked for."""
    inspections = (
        inspections.select_related("facility", "regulator")
        .annotate(violation_count=links_count(Violation, "inspection"))
        .order_by("-occurred_on", "-pk")
    )
    cers_id = params.get("cers_id", "").strip()
    if cers_id:
        inspections = inspections.filter(facility__cers_id=cers_id if cers_id.isdecimal() else 0)
    return inspections, cers_id


class InspectionListView(CMEMixin, TemplateView):
    """The agency's inspections, newest first, optionally for one facility (CERS ID)."""

    template_name = "cme/inspection_list.html"

    def get_context_data(self, **kwargs):
        inspections, cers_id = filtered_inspections(self.inspections(), self.request.GET)
        return super().get_context_data(
            page=paginate(self.request, inspections),
            cers_id=cers_id,
            export_links=export_links(
                reverse("regulator:cme_inspections_export"), self.request.GET
            ),
            **kwargs,
        )


INSPECTION_COLUMNS = [
    Column("CERS ID", lambda i: i.facility.cers_id),
    Column("Facility name", lambda i: i.facility.name),
    Column("Address", lambda i: i.facility.address),
    Column("Program element", lambda i: i.get_program_element_display()),
    Column("Inspection type", lambda i: i.get_inspection_type_display()),
    Column("Inspected on", lambda i: i.occurred_on),
    Column("Inspector", lambda i: i.inspector_name),
    Column("Violations", lambda i: i.violation_count),
    Column("Violations returned to compliance on", lambda i: i.violations_rtc_on),
    Column("UST operational compliance", lambda i: i.get_ust_operational_compliance_display()),
    Column("Recorded by", lambda i: i.regulator.name),
    Column("Comments", lambda i: i.comments),
]


class InspectionExportView(CMEMixin, View):
    """GET: the inspection list, with the page's filter, as CSV or XLSX (``?format=``), read
    a chunk at a time whatever its length."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        inspections, _ = filtered_inspections(self.inspections(), request.GET)
        return export_response(
            rows_of(inspections),
            INSPECTION_COLUMNS,
            format=export_format,
            filename=export_filename("inspections", self.regulator),
        )


class InspectionStartView(CMEMixin, TemplateView):
    """ "Record an inspection": find the facility, by CERS ID or part of its name, among the
    agency's jurisdiction (nothing elsewhere is offered), then go to its inspection form."""

    template_name = "cme/inspection_start.html"
    shown = 25

    def get(self, request, *args, **kwargs):
        self.require_record()
        query = request.GET.get("q", "").strip()
        facilities, more = [], False
        if query:
            found = self.scoped(Facility)
            if query.isdecimal():
                found = found.filter(Q(cers_id=int(query)) | Q(name__icontains=query))
            else:
                found = found.filter(name__icontains=query)
            found = list(
                found.select_related("organization").order_by("name", "cers_id")[: self.shown + 1]
            )
            facilities, more = found[: self.shown], len(found) > self.shown
        return self.render_to_response(
            self.get_context_data(query=query, facilities=facilities, more=more)
        )


class InspectionCreateView(CMEMixin, TemplateView):
    """Record an inspection of a facility in the agency's jurisdiction."""

    template_name = "cme/inspection_form.html"

    lookup_field = "cers_id"
    not_found_message = "No such facility in this agency's jurisdiction."

    def get_facility(self) -> Facility:
        facility = self.get_object(self.scoped(Facility))
        self.require_record()
        return facility

    def get(self, request, *args, **kwargs):
        facility = self.get_facility()
        return self.render_to_response(
            self.get_context_data(facility=facility, form=self.inspection_form(facility))
        )

    def post(self, request, *args, **kwargs):
        facility = self.get_facility()
        form = self.inspection_form(facility, request.POST)
        if form.is_valid():
            try:
                inspection = services.record_inspection(
                    actor=request.user,
                    regulator=self.regulator,
                    facility=facility,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Inspection recorded.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return self.render_to_response(self.get_context_data(facility=facility, form=form))


class InspectionMixin(CMEMixin):
    """A page about one inspection of the agency's scope (404 outside it)."""

    not_found_message = "No such inspection for this agency."

    def get_inspection(self) -> Inspection:
        return self.get_object(
            self.inspections().select_related("facility", "regulator", "created_by")
        )

    def save_inspection(self, inspection):
        """Apply the edit form (POST): back to the inspection, or the edit page with the
        errors."""
        self.require_record()
        form = self.inspection_form(inspection.facility, self.request.POST)

        def render(inspection, form, seen: str):
            return TemplateResponse(
                self.request,
                "cme/inspection_edit.html",
                self.get_context_data(inspection=inspection, form=form, seen=seen),
            )

        if form.is_valid():
            try:
                services.update_inspection(
                    actor=self.request.user,
                    regulator=self.regulator,
                    inspection=inspection,
                    seen=self.request.POST.get("seen") or None,
                    **form.cleaned_data,
                )
            except services.StaleRecord as error:
                return self.refuse_stale(error, form, inspection, render)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(self.request, "Inspection saved.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return render(inspection, form, self.request.POST.get("seen", ""))


# The inspection page holds two forms with fields of the same names (occurred_on, comments):
# each gets its own id prefix, so every id on the page is unique and each label names its own
# field. The posted names stay the same.
VIOLATION_IDS = "violation_%s"
ENFORCEMENT_IDS = "enforcement_%s"


class InspectionDetailView(InspectionMixin, TemplateView):
    """One inspection: its violations, enforcement actions and history; for staff who may
    record CME, the violation and enforcement forms and the links to edit. POST edits the
    inspection (as the edit page does)."""

    template_name = "cme/inspection_detail.html"

    def render_page(self, inspection, **forms):
        violations = list(
            inspection.violations.select_related("violation_type").prefetch_related("enforcements")
        )
        enforcements = list(
            Enforcement.objects.filter(violations__inspection=inspection)
            .distinct()
            .prefetch_related("violations__violation_type")
        )
        if self.can_record():
            forms.setdefault(
                "violation_form",
                ViolationForm(
                    initial={"occurred_on": inspection.occurred_on}, auto_id=VIOLATION_IDS
                ),
            )
            forms.setdefault(
                "enforcement_form",
                EnforcementForm(
                    violations=self.facility_violations(inspection.facility_id),
                    auto_id=ENFORCEMENT_IDS,
                ),
            )
            forms["violation_types"] = self.violation_types(
                inspection.program_element, inspection.occurred_on
            )
        return self.render_to_response(
            self.get_context_data(
                inspection=inspection,
                violations=violations,
                enforcements=enforcements,
                history=_history(inspection, *violations, *enforcements),
                **forms,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_inspection())

    def post(self, request, *args, **kwargs):
        return self.save_inspection(self.get_inspection())


class InspectionEditView(InspectionMixin, TemplateView):
    """Edit an inspection; the change is kept in its history."""

    template_name = "cme/inspection_edit.html"

    def get(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        initial = {name: getattr(inspection, name) for name in services.INSPECTION_FIELDS}
        return self.render_to_response(
            self.get_context_data(
                inspection=inspection,
                form=self.inspection_form(inspection.facility, initial=initial),
                seen=services.record_seen(inspection),
            )
        )

    def post(self, request, *args, **kwargs):
        return self.save_inspection(self.get_inspection())


class ViolationCreateView(InspectionDetailView):
    """Record a violation found at the inspection (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        form = ViolationForm(request.POST, auto_id=VIOLATION_IDS)
        if form.is_valid():
            try:
                services.add_violation(
                    actor=request.user,
                    regulator=self.regulator,
                    inspection=inspection,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error, _VIOLATION_ALIASES)
            else:
                messages.success(request, "Violation recorded.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return self.render_page(inspection, violation_form=form)


class EnforcementCreateView(InspectionDetailView):
    """Record an enforcement action for violations of the inspection's facility (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        form = EnforcementForm(
            request.POST,
            violations=self.facility_violations(inspection.facility_id),
            auto_id=ENFORCEMENT_IDS,
        )
        if form.is_valid():
            try:
                services.record_enforcement(
                    actor=request.user,
                    regulator=self.regulator,
                    facility=inspection.facility,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Enforcement action recorded.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return self.render_page(inspection, enforcement_form=form)


class InspectionDeleteView(InspectionDetailView):
    """Delete the inspection with its violations and their enforcement links (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        services.delete_inspection(
            actor=request.user, regulator=self.regulator, inspection=inspection
        )
        messages.success(request, "Inspection deleted with its violations.")
        return redirect("regulator:cme_inspections")


class ViolationEditView(CMEMixin, TemplateView):
    """Edit a violation (its return to compliance, typically), with its history."""

    template_name = "cme/violation_edit.html"

    not_found_message = "No such violation for this agency."

    def get_violation(self) -> Violation:
        violation = self.get_object(
            self.violations().select_related("inspection__facility", "violation_type")
        )
        self.require_record()
        return violation

    def render_page(self, violation, form, seen: str):
        return self.render_to_response(
            self.get_context_data(
                violation=violation,
                seen=seen,
                inspection=violation.inspection,
                form=form,
                violation_types=self.violation_types(
                    violation.inspection.program_element, violation.occurred_on
                ),
                history=_history(violation),
            )
        )

    def get(self, request, *args, **kwargs):
        violation = self.get_violation()
        initial = {name: getattr(violation, name) for name in services.VIOLATION_FIELDS}
        initial["type_number"] = violation.violation_type.type_number
        return self.render_page(
            violation, ViolationForm(initial=initial), services.record_seen(violation)
        )

    def post(self, request, *args, **kwargs):
        violation = self.get_violation()
        form = ViolationForm(request.POST)
        if form.is_valid():
            try:
                services.update_violation(
                    actor=request.user,
                    regulator=self.regulator,
                    violation=violation,
                    seen=request.POST.get("seen") or None,
                    **form.cleaned_data,
                )
            except services.StaleRecord as error:
                return self.refuse_stale(error, form, violation, self.render_page)
            except ValidationError as error:
                add_service_errors(form, error, _VIOLATION_ALIASES)
            else:
                messages.success(request, "Violation saved.")
                return redirect("regulator:cme_inspection", pk=violation.inspection_id)
        return self.render_page(violation, form, request.POST.get("seen", ""))


def filtered_enforcements(enforcements, params) -> tuple:
    """The enforcement list's filters (``EnforcementFilterForm``: type, formal or informal
    (or one formal type: the formal enforcement summary), dates, CERS ID; an
    invalid value is ignored), for the page and its export. Returns the enforcement actions,
    newest first with their violation counts, and the form."""
    enforcements = (
        enforcements.select_related("facility", "regulator")
        .annotate(violation_count=links_count(EnforcementViolation, "enforcement"))
        .order_by("-occurred_on", "-pk")
    )
    filters = EnforcementFilterForm(params)
    if filters.is_valid():
        wanted = filters.cleaned_data
        if wanted["enforcement_type"]:
            enforcements = enforcements.filter(enforcement_type=wanted["enforcement_type"])
        if wanted["formal"] == "formal":
            enforcements = enforcements.exclude(formal_type="")
        elif wanted["formal"] == "informal":
            enforcements = enforcements.filter(formal_type="")
        elif wanted["formal"]:
            enforcements = enforcements.filter(formal_type=wanted["formal"])
        if wanted["occurred_from"]:
            enforcements = enforcements.filter(occurred_on__gte=wanted["occurred_from"])
        if wanted["occurred_to"]:
            enforcements = enforcements.filter(occurred_on__lte=wanted["occurred_to"])
        if wanted["cers_id"]:
            enforcements = enforcements.filter(facility__cers_id=wanted["cers_id"])
    return enforcements, filters


class EnforcementListView(CMEMixin, TemplateView):
    """The agency's enforcement actions, newest first, filtered by type, date and facility."""

    template_name = "cme/enforcement_list.html"

    def get_context_data(self, **kwargs):
        enforcements, filters = filtered_enforcements(self.enforcements(), self.request.GET)
        return super().get_context_data(
            page=paginate(self.request, enforcements),
            filters=filters,
            filtered=any(filters.data.get(name) for name in filters.fields),
            export_links=export_links(
                reverse("regulator:cme_enforcements_export"), self.request.GET
            ),
            **kwargs,
        )


ENFORCEMENT_COLUMNS = [
    Column("CERS ID", lambda e: e.facility.cers_id),
    Column("Facility name", lambda e: e.facility.name),
    Column("Address", lambda e: e.facility.address),
    Column("Type", lambda e: e.get_enforcement_type_display()),
    Column("Formal type", lambda e: e.get_formal_type_display()),
    Column("Taken on", lambda e: e.occurred_on),
    Column("Violations", lambda e: e.violation_count),
    Column("Red tag issued", lambda e: e.get_red_tag_issued_display()),
    Column("Red tag number", lambda e: e.red_tag_number),
    Column("Docket number", lambda e: e.docket_number),
    Column("Case settled or dropped on", lambda e: e.case_settled_on),
    Column("Fine assessed ($)", lambda e: e.fine_amount),
    Column("Supplemental environmental project ($)", lambda e: e.sep_amount),
    Column("Recorded by", lambda e: e.regulator.name),
    Column("Comments", lambda e: e.comments),
]


class EnforcementExportView(CMEMixin, View):
    """GET: the enforcement list, with the page's filters, as CSV or XLSX (``?format=``),
    read a chunk at a time whatever its length."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        enforcements, _ = filtered_enforcements(self.enforcements(), request.GET)
        return export_response(
            rows_of(enforcements),
            ENFORCEMENT_COLUMNS,
            format=export_format,
            filename=export_filename("enforcement-actions", self.regulator),
        )


class EnforcementMixin(CMEMixin):
    """A page about one enforcement action of the agency's scope (404 outside it)."""

    not_found_message = "No such enforcement action for this agency."

    def get_enforcement(self) -> Enforcement:
        return self.get_object(
            self.enforcements().select_related("facility", "regulator", "created_by")
        )


class EnforcementDetailView(EnforcementMixin, TemplateView):
    """One enforcement action: its values, linked violations and history."""

    template_name = "cme/enforcement_detail.html"

    def get_context_data(self, **kwargs):
        enforcement = self.get_enforcement()
        violations = list(
            enforcement.violations.select_related("violation_type", "inspection").order_by(
                "occurred_on", "pk"
            )
        )
        visible = set(
            self.violations().filter(pk__in=[v.pk for v in violations]).values_list("pk", flat=True)
        )
        return super().get_context_data(
            enforcement=enforcement,
            violations=[(violation, violation.pk in visible) for violation in violations],
            history=_history(enforcement),
            **kwargs,
        )


class EnforcementEditView(EnforcementMixin, TemplateView):
    """Edit an enforcement action and the violations it links; kept in its history."""

    template_name = "cme/enforcement_edit.html"

    def get_enforcement(self) -> Enforcement:
        enforcement = super().get_enforcement()
        self.require_record()
        return enforcement

    def make_form(self, enforcement, data=None):
        choices = self.facility_violations(enforcement.facility_id)
        if data is not None:
            return EnforcementForm(data, violations=choices)
        initial = {name: getattr(enforcement, name) for name in services.ENFORCEMENT_FIELDS}
        initial["violations"] = list(choices.filter(enforcements=enforcement))
        return EnforcementForm(initial=initial, violations=choices)

    def render_page(self, enforcement, form, seen: str):
        return self.render_to_response(
            self.get_context_data(enforcement=enforcement, form=form, seen=seen)
        )

    def get(self, request, *args, **kwargs):
        enforcement = self.get_enforcement()
        return self.render_page(
            enforcement, self.make_form(enforcement), services.record_seen(enforcement)
        )

    def post(self, request, *args, **kwargs):
        enforcement = self.get_enforcement()
        form = self.make_form(enforcement, request.POST)
        if form.is_valid():
            try:
                services.update_enforcement(
                    actor=request.user,
                    regulator=self.regulator,
                    enforcement=enforcement,
                    seen=request.POST.get("seen") or None,
                    **form.cleaned_data,
                )
            except services.StaleRecord as error:
                return self.refuse_stale(error, form, enforcement, self.render_page)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, "Enforcement action saved.")
                return redirect("regulator:cme_enforcement", pk=enforcement.pk)
        return self.render_page(enforcement, form, request.POST.get("seen", ""))


class UploadView(CMEMixin, TemplateView):
    """Upload inspections and violations from a CSV or XLSX file: all of them, or, when any
    row has a problem, none, with the problems listed by row and column."""

    template_name = "cme/upload.html"
    problems_shown = 500

    def render_page(self, form, result=None):
        problems = result.problems if result else []
        return self.render_to_response(
            self.get_context_data(
                form=form,
                result=result,
                problems=problems[: self.problems_shown],
                problems_hidden=max(0, len(problems) - self.problems_shown),
                columns=[(c, upload.accepted_values(c)) for c in upload.COLUMNS],
                max_rows=upload.MAX_ROWS,
                max_mb=upload.MAX_BYTES // (1024 * 1024),
            )
        )

    def get(self, request, *args, **kwargs):
        self.require_record()
        return self.render_page(UploadForm())

    def post(self, request, *args, **kwargs):
        self.require_record()
        form = UploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form)
        result = upload.import_cme_file(
            actor=request.user, regulator=self.regulator, uploaded_file=form.cleaned_data["file"]
        )
        if not result.ok:
            messages.error(request, "Nothing was stored: correct the file and upload it again.")
            return self.render_page(form, result)
        messages.success(
            request,
            f"Stored {result.inspections} inspection{'s' if result.inspections != 1 else ''} "
            f"and {result.violations} violation{'s' if result.violations != 1 else ''} from "
            f"{result.file_name}.",
        )
        return redirect("regulator:cme_inspections")


class UploadTemplateView(RegulatorPortalMixin, View):
    """The upload template: the header row, as CSV or (``?format=xlsx``) as a workbook."""

    def get(self, request, *args, **kwargs):
        if request.GET.get("format") == "xlsx":
            response = HttpResponse(
                upload.template_xlsx(),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
            name = "cers-cme-template.xlsx"
        else:
            response = HttpResponse(upload.template_csv(), content_type="text/csv; charset=utf-8")
            name = "cers-cme-template.csv"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
