"""Regulator portal pages for CME: inspections, their violations and enforcement actions.

Every queryset starts from ``Inspection.objects.for_user(user, "view")`` (all the user's
agencies) and is narrowed to the agency the user works for now, so another agency's record
answers 404. Writes need ``record_cme`` at that agency (403 otherwise, for staff who can see
the record); ``cme.services`` checks again that the agency handles the program element.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect
from django.views.generic import TemplateView

from core.models import AuditEvent
from core.pagination import paginate
from core.views import RegulatorPortalMixin
from facilities.models import Facility
from facilities.views.regulator import facilities_in_jurisdiction
from regulators.roles import CME

from .. import services
from ..forms import EnforcementForm, InspectionForm, ViolationForm
from ..models import Enforcement, Inspection, Violation
from ..querysets import in_agency_scope


def _add_service_errors(form, error: ValidationError, aliases=None) -> None:
    """Show a service's ValidationError on the form: beside its field when it names one
    (``aliases`` maps a service's field name to the form's)."""
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            name = (aliases or {}).get(name, name)
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


class CMEMixin(RegulatorPortalMixin):
    """CME pages of the agency the user works for now."""

    def inspections(self):
        return in_agency_scope(
            Inspection.objects.for_user(self.request.user, "view"), self.regulator
        )

    def can_record(self) -> bool:
        return self.request.user.has_perm(f"regulators.{CME}", self.regulator)

    def require_record(self) -> None:
        if not self.can_record():
            raise PermissionDenied("Your role at this agency does not allow recording CME data.")


class InspectionListView(CMEMixin, TemplateView):
    """The agency's inspections, newest first, optionally for one facility (CERS ID)."""

    template_name = "cme/inspection_list.html"

    def get_context_data(self, **kwargs):
        inspections = (
            self.inspections()
            .select_related("facility", "regulator")
            .annotate(violation_count=Count("violations"))
            .order_by("-occurred_on", "-pk")
        )
        cers_id = self.request.GET.get("cers_id", "").strip()
        if cers_id:
            inspections = inspections.filter(facility__cers_id=cers_id if cers_id.isdigit() else 0)
        return super().get_context_data(
            page=paginate(self.request, inspections),
            cers_id=cers_id,
            regulator=self.regulator,
            **kwargs,
        )


class InspectionCreateView(CMEMixin, TemplateView):
    """Record an inspection of a facility in the agency's jurisdiction."""

    template_name = "cme/inspection_form.html"

    def get_facility(self) -> Facility:
        facilities = facilities_in_jurisdiction(
            Facility.objects.for_user(self.request.user, "view"), self.regulator
        )
        facility = facilities.filter(cers_id=self.kwargs["cers_id"]).first()
        if facility is None:
            raise Http404("No such facility in this agency's jurisdiction.")
        self.require_record()
        return facility

    def get(self, request, *args, **kwargs):
        facility = self.get_facility()
        return self.render_to_response(
            self.get_context_data(facility=facility, form=InspectionForm())
        )

    def post(self, request, *args, **kwargs):
        facility = self.get_facility()
        form = InspectionForm(request.POST)
        if form.is_valid():
            try:
                inspection = services.record_inspection(
                    actor=request.user,
                    regulator=self.regulator,
                    facility=facility,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, "Inspection recorded.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return self.render_to_response(self.get_context_data(facility=facility, form=form))


def _changes(event: AuditEvent) -> list[tuple[str, object, object]]:
    before, after = event.before or {}, event.after or {}
    keys = list(dict.fromkeys([*before, *after]))
    return [
        (key.replace("_", " "), before.get(key), after.get(key))
        for key in keys
        if before.get(key) != after.get(key)
    ]


class InspectionDetailView(CMEMixin, TemplateView):
    """One inspection: its violations, enforcement actions and history; for staff who may
    record CME, the edit, violation, enforcement and delete forms. POST edits."""

    template_name = "cme/inspection_detail.html"

    def get_inspection(self) -> Inspection:
        inspection = (
            self.inspections()
            .select_related("facility", "regulator", "created_by")
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if inspection is None:
            raise Http404("No such inspection for this agency.")
        return inspection

    def facility_violations(self, inspection):
        """Violations an enforcement action may link: the facility's, in this agency's scope."""
        return Violation.objects.filter(
            inspection__in=self.inspections().filter(facility=inspection.facility_id).values("pk")
        ).select_related("violation_type")

    def history(self, inspection, violations, enforcements):
        events = (
            AuditEvent.objects.filter(
                Q(object_type="cme.inspection", object_id=str(inspection.pk))
                | Q(object_type="cme.violation", object_id__in=[str(v.pk) for v in violations])
                | Q(
                    object_type="cme.enforcement",
                    object_id__in=[str(e.pk) for e in enforcements],
                )
            )
            .select_related("actor")
            .order_by("created_at", "id")
        )
        return [{"event": event, "changes": _changes(event)} for event in events]

    def render_page(self, inspection, **forms):
        can_record = self.can_record()
        violations = list(
            inspection.violations.select_related("violation_type").prefetch_related("enforcements")
        )
        enforcements = list(
            Enforcement.objects.filter(violations__inspection=inspection)
            .distinct()
            .prefetch_related("violations__violation_type")
        )
        if can_record:
            forms.setdefault(
                "form",
                InspectionForm(
                    initial={name: getattr(inspection, name) for name in services.INSPECTION_FIELDS}
                ),
            )
            forms.setdefault(
                "violation_form", ViolationForm(initial={"occurred_on": inspection.occurred_on})
            )
            forms.setdefault(
                "enforcement_form",
                EnforcementForm(violations=self.facility_violations(inspection)),
            )
        return self.render_to_response(
            self.get_context_data(
                inspection=inspection,
                violations=violations,
                enforcements=enforcements,
                history=self.history(inspection, violations, enforcements),
                can_record=can_record,
                regulator=self.regulator,
                **forms,
            )
        )

    def get(self, request, *args, **kwargs):
        return self.render_page(self.get_inspection())

    def post(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        form = InspectionForm(request.POST)
        if form.is_valid():
            try:
                services.update_inspection(
                    actor=request.user,
                    regulator=self.regulator,
                    inspection=inspection,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_service_errors(form, error)
            else:
                messages.success(request, "Inspection saved.")
                return redirect("regulator:cme_inspection", pk=inspection.pk)
        return self.render_page(inspection, form=form)


class ViolationCreateView(InspectionDetailView):
    """Record a violation found at the inspection (POST only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        inspection = self.get_inspection()
        self.require_record()
        form = ViolationForm(request.POST)
        if form.is_valid():
            try:
                services.add_violation(
                    actor=request.user,
                    regulator=self.regulator,
                    inspection=inspection,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_service_errors(form, error, {"violation_type": "type_number"})
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
        form = EnforcementForm(request.POST, violations=self.facility_violations(inspection))
        if form.is_valid():
            try:
                services.record_enforcement(
                    actor=request.user,
                    regulator=self.regulator,
                    facility=inspection.facility,
                    **form.cleaned_data,
                )
            except ValidationError as error:
                _add_service_errors(form, error)
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
