"""Regulator portal pages for the facilities in the current agency's jurisdiction.

Every queryset starts from ``Facility.objects.for_user(user, "view")`` (all the agencies the
user is staff of) and is narrowed to the agency the user is working for
(``AgencyScopedMixin``: ``Facility.objects.in_jurisdiction``), so a facility outside that
agency's jurisdiction answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponseBadRequest
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.exports import (
    Column,
    export_filename,
    export_links,
    export_response,
    requested_format,
    rows_of,
)
from core.forms import add_service_errors
from core.pagination import paginate
from core.views import AgencyScopedMixin, RegulatorPortalMixin
from organizations.models import Organization

from .. import services
from ..forms import (
    DueDateRuleForm,
    ElementRequirementForm,
    FacilityDetailsForm,
    FacilityMergeForm,
    FacilityMoveForm,
    FacilityProgramFilterForm,
    FacilityReopenForm,
    LegacyImportForm,
    OrganizationMergeForm,
    TransferDeclineForm,
)
from ..hooks import FACILITY_INFORMATION_OVERDUE_AFTER, questions, submittal_history
from ..legacy import LegacyImportError, import_legacy_facilities
from ..models import Facility, FacilityRegulator, FacilityTransfer, FacilityTransferRequest
from ..schedule import attach_status_grids
from .business import closures_of, element_regulators, with_element_regulators

SEARCH_FIELDS = ["name", "street", "city", "organization__name"]


class JurisdictionFacilitiesMixin(AgencyScopedMixin):
    """The facilities in the jurisdiction of the agency the user is working for."""

    model = Facility
    lookup_field = "cers_id"
    not_found_message = "No such facility in this agency's jurisdiction."

    def agency_context(self) -> dict:
        return {
            "regulator": self.regulator,
            "statewide": self.regulator.is_statewide,
            "element_count": len(SubmittalElement),
        }


def filtered_facilities(facilities, params) -> tuple:
    """The facility list's filters, read from the query string (``params``), for the page and
    its export alike: the search words ``q`` (name, CERS ID, street, city, organization),
    ``overdue=1`` (Facility Information overdue) and the program filters
    (``FacilityProgramFilterForm``: ``must_report`` an element, ``answered_yes`` a Business
    Activities question). Returns the narrowed queryset (None when a program filter holds an
    unknown value: nothing is listed as if it were filtered), the search, whether
    ``overdue`` applies and the program filters' form."""
    query = params.get("q", "").strip()
    overdue = params.get("overdue") == "1"
    programs = FacilityProgramFilterForm(params)
    if not programs.is_valid():
        return None, query, overdue, programs
    if overdue:
        facilities = facilities.overdue()
    if programs.cleaned_data["must_report"] is not None:
        facilities = facilities.must_report(programs.cleaned_data["must_report"])
    if programs.cleaned_data["answered_yes"]:
        facilities = facilities.answered_yes(programs.cleaned_data["answered_yes"])
    facilities = facilities.select_related("organization").search(query, SEARCH_FIELDS)
    return facilities, query, overdue, programs


class FacilityListView(JurisdictionFacilitiesMixin, TemplateView):
    """The agency's facilities: searchable by name, CERS ID, street, city and organization;
    ``?overdue=1`` keeps those whose Facility Information is overdue (the dashboard's link);
    ``?must_report=`` those that must report an element, ``?answered_yes=`` those whose
    Business Activities answer a question Yes. Each row says in a few words how its status
    grid stands (``schedule.summary_of``): the same queries whatever the number of rows."""

    template_name = "facilities/regulator_list.html"

    def get_context_data(self, **kwargs):
        facilities, query, overdue, programs = filtered_facilities(
            self.get_queryset(), self.request.GET
        )
        page = None
        if facilities is not None:
            facilities = with_element_regulators(facilities.with_agency_elements(self.regulator))
            page = paginate(self.request, facilities)
            page.object_list = attach_status_grids(page.object_list, include_drafts=False)
        wanted = programs.cleaned_data if programs.is_valid() else {}
        must_report = wanted.get("must_report")
        return super().get_context_data(
            page=page,
            q=query,
            overdue=overdue,
            programs=programs,
            must_report=SubmittalElement(must_report).label if must_report else "",
            answered_yes=dict(questions()).get(wanted.get("answered_yes") or ""),
            export_links=export_links(reverse("regulator:facilities_export"), self.request.GET)
            if page is not None
            else [],
            overdue_after_days=FACILITY_INFORMATION_OVERDUE_AFTER.days,
            **self.agency_context(),
            **kwargs,
        )


FACILITY_COLUMNS = [
    Column("CERS ID", lambda f: f.cers_id),
    Column("Facility name", lambda f: f.name),
    Column("Organization", lambda f: f.organization.name),
    Column("Organization code", lambda f: f.organization.code),
    Column("Street address", lambda f: f.street),
    Column("City", lambda f: f.city),
    Column("State", lambda f: f.state),
    Column("ZIP code", lambda f: f.zip_code),
    Column("County", lambda f: f.county),
    Column("Facility ID (agency's)", lambda f: f.local_facility_id),
    Column("EPA ID", lambda f: f.epa_id),
    Column("In CERS since", lambda f: f.created_at),
]


class FacilityExportView(JurisdictionFacilitiesMixin, View):
    """GET: the facility list, with the page's filters, as CSV or XLSX (``?format=``),
    read a chunk at a time whatever its length; 400, saying why, for an unknown program
    filter (never the unfiltered list under a filtered name)."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        facilities, _, _, programs = filtered_facilities(self.get_queryset(), request.GET)
        if facilities is None:
            problems = " ".join(error for errors in programs.errors.values() for error in errors)
            return HttpResponseBadRequest(
                f"The facilities were not downloaded: {problems}",
                content_type="text/plain; charset=utf-8",
            )
        return export_response(
            rows_of(facilities.order_by("name", "cers_id")),
            FACILITY_COLUMNS,
            format=export_format,
            filename=export_filename("facilities", self.regulator),
        )


class FacilityDetailView(JurisdictionFacilitiesMixin, TemplateView):
    """One facility in the agency's jurisdiction: its organization, the local facility ID and
    location its CUPA set, its status grid (with a link to set an element's requirement and
    due date where the user may), its submittal history and its transfers."""

    template_name = "facilities/regulator_detail.html"

    def get_context_data(self, **kwargs):
        facility = self.get_object(
            with_element_regulators(
                self.get_queryset().select_related("organization__lead_regulator")
            )
        )
        attach_status_grids([facility], include_drafts=False)
        history = [
            record
            for function in submittal_history
            for record in function(facility, self.request.user, self.regulator)
        ]
        transfers = (
            FacilityTransfer.objects.for_user(self.request.user, "view")
            .filter(Q(facility=facility) | Q(merged_into_facility=facility))
            .select_related("to_organization", "merged_into_facility")
        )
        return super().get_context_data(
            facility=facility,
            transfers=transfers,
            transfer_requests=self.scoped(FacilityTransferRequest)
            .filter(facility=facility)
            .order_by("-requested_at", "-pk"),
            closures=closures_of(facility),
            element_regulators=element_regulators(facility),
            can_manage_facilities=self.can("facilities.manage"),
            can_transfer=self.can("facilities.manage")
            and self.can("facilities.transfer", facility),
            can_reopen=facility.is_closed
            and self.can("facilities.manage")
            and self.can("facilities.reopen", facility),
            can_record_cme=self.can("cme.record"),
            can_set_details=self.can("facilities.set_metadata", facility),
            settable={
                row.element
                for row in facility.status_grid
                if row.regulator_row is not None
                and self.can("facilities.set_due_dates", row.regulator_row)
            },
            history=history,
            **self.agency_context(),
            **kwargs,
        )


class FacilityElementView(JurisdictionFacilitiesMixin, TemplateView):
    """The regulator of one element of a facility in the agency's jurisdiction sets whether
    the facility must report it and its next due date (``services.set_element_requirement``,
    the rule EDT follows). 404 outside the jurisdiction or for an element nobody handles;
    403 for staff who do not review for the element's agency (or its CUPA)."""

    template_name = "facilities/regulator_element.html"

    def dispatch_row(self) -> FacilityRegulator:
        facility = self.get_object(self.get_queryset().select_related("organization"))
        if self.kwargs["element"] not in SubmittalElement.values:
            raise Http404("No such submittal element.")
        row = (
            FacilityRegulator.objects.filter(facility=facility, element=self.kwargs["element"])
            .select_related("regulator", "facility")
            .first()
        )
        if row is None:
            raise Http404("No agency handles this element of the facility.")
        self.require(
            "facilities.set_due_dates",
            row,
            message="Only staff reviewing for the element's agency set its requirement.",
        )
        return row

    def render_form(self, row: FacilityRegulator, form):
        return self.render_to_response(
            self.get_context_data(
                facility=row.facility,
                row=row,
                element_label=SubmittalElement(row.element).label,
                form=form,
                **self.agency_context(),
            )
        )

    def get(self, request, *args, **kwargs):
        row = self.dispatch_row()
        initial = {
            "reporting_requirement": row.reporting_requirement or "",
            "next_due_date": row.next_due_date,
        }
        return self.render_form(row, ElementRequirementForm(initial=initial))

    def post(self, request, *args, **kwargs):
        row = self.dispatch_row()
        form = ElementRequirementForm(request.POST)
        if form.is_valid():
            try:
                services.set_element_requirement(
                    actor=request.user,
                    facility=row.facility,
                    element=row.element,
                    reporting_requirement=form.cleaned_data["reporting_requirement"],
                    next_due_date=form.cleaned_data["next_due_date"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(
                    request, f"{SubmittalElement(row.element).label}: requirement saved."
                )
                return redirect("regulator:facility", cers_id=row.facility.cers_id)
        return self.render_form(row, form)


class FacilityDetailsView(JurisdictionFacilitiesMixin, TemplateView):
    """The facility's CUPA keeps its own facility ID, its data system's key, the EPA ID and
    the geographic point (``services.set_facility_details``, what EDT Facility Metadata sets).
    404 outside the jurisdiction; 403 for staff who may not (``facilities.set_metadata``)."""

    template_name = "facilities/regulator_details.html"
    refused = (
        "Only staff reviewing for the agency handling the facility's Facility Information set "
        "its facility ID and location."
    )

    def dispatch_facility(self):
        facility = self.get_object(self.get_queryset())
        self.require("facilities.set_metadata", facility, message=self.refused)
        return facility

    def render_form(self, facility, form):
        return self.render_to_response(
            self.get_context_data(facility=facility, form=form, **self.agency_context())
        )

    def get(self, request, *args, **kwargs):
        facility = self.dispatch_facility()
        initial = {name: getattr(facility, name) for name in services.PORTAL_METADATA_FIELDS}
        return self.render_form(facility, FacilityDetailsForm(initial=initial))

    def post(self, request, *args, **kwargs):
        facility = self.dispatch_facility()
        form = FacilityDetailsForm(request.POST)
        if form.is_valid():
            try:
                services.set_facility_details(
                    actor=request.user, facility=facility, details=form.cleaned_data
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "The facility's ID and location are saved.")
                return redirect("regulator:facility", cers_id=facility.cers_id)
        return self.render_form(facility, form)


class DueDateRuleView(RegulatorPortalMixin, TemplateView):
    """The agency's due date rule (``services.set_due_date_rule``): its administrators."""

    template_name = "facilities/due_date_rule.html"

    def render_form(self, form):
        return self.render_to_response(self.get_context_data(form=form, regulator=self.regulator))

    def get(self, request, *args, **kwargs):
        self.require("facilities.manage", message="Only the agency's administrators set it.")
        rule = services.due_date_rules([self.regulator.pk])[self.regulator.pk]
        return self.render_form(DueDateRuleForm(initial={"hmbp_yearly": rule.hmbp_yearly}))

    def post(self, request, *args, **kwargs):
        self.require("facilities.manage", message="Only the agency's administrators set it.")
        form = DueDateRuleForm(request.POST)
        if not form.is_valid():
            return self.render_form(form)
        services.set_due_date_rule(
            actor=request.user,
            regulator=self.regulator,
            hmbp_yearly=form.cleaned_data["hmbp_yearly"],
        )
        messages.success(request, "Due date rule saved.")
        return redirect("regulator:due_date_rule")


# --- Transfers: administrators move and merge facilities; state staff merge organizations ---

# What a stored letter is, by its first bytes (the upload was checked against the same
# signatures): content type and file name suffix of the download.
_LETTER_TYPES = (
    (b"%PDF-", "application/pdf", "pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
)


class TransferRequestListView(AgencyScopedMixin, TemplateView):
    """The businesses' requests to move a facility in the agency's jurisdiction to another
    organization: by default those waiting, oldest first, each opening the facility's move
    page prefilled or the page declining it; ``?status=`` shows those done, declined or
    withdrawn, newest first."""

    template_name = "facilities/transfer_requests.html"
    model = FacilityTransferRequest

    def get_context_data(self, **kwargs):
        Status = FacilityTransferRequest.Status
        status = self.request.GET.get("status", Status.PENDING)
        if status not in Status.values:
            status = Status.PENDING
        requests = (
            self.get_queryset()
            .filter(status=status)
            .select_related("facility", "from_organization", "requested_by")
        )
        if status == Status.PENDING:
            requests = requests.order_by("requested_at", "pk")
        else:
            requests = requests.order_by("-answered_at", "-pk")
        return super().get_context_data(
            page=paginate(self.request, requests),
            status=status,
            statuses=Status.choices,
            pending=status == Status.PENDING,
            can_transfer=self.can("facilities.manage"),
            regulator=self.regulator,
            **kwargs,
        )


class ReasonActionView(TemplateView):
    """A page that asks for a reason, then acts on one record through its service: the
    regulator's answers to a business (decline a transfer request, reopen a facility). The
    subclass names the record (``get_target``), the form, the service call (``act``), what
    to say and where to go afterwards."""

    form_class = None

    def get_target(self):
        raise NotImplementedError

    def target_context(self, target) -> dict:
        raise NotImplementedError

    def act(self, target, reason: str) -> None:
        raise NotImplementedError

    def done(self, target):
        """The success message is sent; the response to redirect to."""
        raise NotImplementedError

    def render_form(self, target, form):
        return self.render_to_response(
            self.get_context_data(form=form, **self.target_context(target))
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_target(), self.form_class())

    def post(self, request, *args, **kwargs):
        target = self.get_target()
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                self.act(target, form.cleaned_data["reason"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return self.done(target)
        return self.render_form(target, form)


class TransferRequestDeclineView(AgencyScopedMixin, ReasonActionView):
    """Decline a business's pending transfer request, with the reason e-mailed to it: those
    who would move the facility (its CUPA's administrators, the state administrator). 404 for
    a request outside the agency's jurisdiction (or already answered), 403 for other staff."""

    template_name = "facilities/transfer_decline.html"
    model = FacilityTransferRequest
    not_found_message = "No such pending transfer request in this agency's jurisdiction."

    form_class = TransferDeclineForm

    def get_target(self) -> FacilityTransferRequest:
        found = self.get_object(
            self.get_queryset()
            .pending()
            .select_related("facility__organization", "from_organization", "requested_by")
        )
        self.require("facilities.manage", message=services.DECLINE_REFUSED)
        if not self.can("facilities.transfer", found.facility):
            raise PermissionDenied(services.DECLINE_REFUSED)
        return found

    def target_context(self, transfer_request) -> dict:
        return {
            "transfer_request": transfer_request,
            "facility": transfer_request.facility,
            "regulator": self.regulator,
        }

    def act(self, transfer_request, reason: str) -> None:
        services.decline_transfer_request(
            actor=self.request.user,
            transfer_request=transfer_request,
            reason=reason,
            regulator=self.regulator,
        )

    def done(self, transfer_request):
        messages.success(
            self.request,
            f"The request to transfer CERS ID {transfer_request.facility.cers_id} was "
            "declined; the business was told by e-mail.",
        )
        return redirect("regulator:facility_transfer_requests")


class FacilityReopenView(JurisdictionFacilitiesMixin, ReasonActionView):
    """Reopen a closed facility in the agency's jurisdiction: the administrators of an agency
    regulating one of its elements, and the state administrator (``facilities.reopen``).
    404 outside the jurisdiction, 403 for other staff."""

    template_name = "facilities/regulator_reopen.html"

    form_class = FacilityReopenForm

    def get_target(self) -> Facility:
        facility = self.get_object(self.get_queryset().select_related("organization"))
        self.require("facilities.manage", message=services.REOPEN_REFUSED)
        if not self.can("facilities.reopen", facility):
            raise PermissionDenied(services.REOPEN_REFUSED)
        return facility

    def target_context(self, facility) -> dict:
        return {"facility": facility, **self.agency_context()}

    def act(self, facility, reason: str) -> None:
        services.reopen_facility(
            actor=self.request.user, facility=facility, reason=reason, regulator=self.regulator
        )

    def done(self, facility):
        messages.success(
            self.request,
            f"{facility.name} is open again and reports again; the business "
            "and its other regulators were told.",
        )
        return redirect("regulator:facility", cers_id=facility.cers_id)


class TransferLetterView(AgencyScopedMixin, View):
    """GET: the business's letter of a facility transfer, as a download, for staff who see
    the facility in the current agency's jurisdiction (404 otherwise, and for a transfer
    without a letter)."""

    http_method_names = ["get"]
    model = FacilityTransfer
    not_found_message = "No such transfer letter in this agency's jurisdiction."

    def get(self, request, pk):
        transfer = self.get_object(self.get_queryset().exclude(letter=""))
        try:
            handle = transfer.letter.open("rb")
        except FileNotFoundError:
            raise Http404("The stored letter is missing.") from None
        head = handle.read(8)
        handle.seek(0)
        content_type, suffix = next(
            ((kind, ext) for sig, kind, ext in _LETTER_TYPES if head.startswith(sig)),
            ("application/octet-stream", "bin"),
        )
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"transfer-{transfer.pk}-cers-id-{transfer.facility_cers_id}.{suffix}",
            content_type=content_type,
        )
        # Never rendered in the portal's origin, never kept by a shared cache.
        response["X-Content-Type-Options"] = "nosniff"
        patch_cache_control(response, private=True)
        return response


class FacilityTransferMixin(JurisdictionFacilitiesMixin):
    """A transfer page of one facility in the agency's jurisdiction (404 otherwise), for
    staff holding manage_facilities on the current agency (403 otherwise)."""

    def dispatch_facility(self) -> Facility:
        self.get_object(self.get_queryset())  # 404 first: outside the agency's jurisdiction
        self.require(
            "facilities.manage",
            message="Only the agency's administrators move or merge facilities.",
        )
        # The re-check against the "manage" scope itself, should the two ever drift apart.
        facility = self.get_object(self.get_queryset("manage").select_related("organization"))
        # A PA handling some of its elements sees the facility, but the CUPA moves it.
        if not self.can("facilities.transfer", facility):
            raise PermissionDenied(
                "Only the administrators of the facility's CUPA, or the state administrator, "
                "move or merge it."
            )
        return facility

    def render_form(self, facility: Facility, form):
        return self.render_to_response(
            self.get_context_data(facility=facility, form=form, **self.agency_context())
        )

    def initial(self, facility: Facility) -> dict:
        return {}

    def get(self, request, *args, **kwargs):
        facility = self.dispatch_facility()
        return self.render_form(facility, self.form_class(initial=self.initial(facility)))

    def post(self, request, *args, **kwargs):
        facility = self.dispatch_facility()
        form = self.form_class(request.POST, request.FILES)
        if form.is_valid():
            try:
                return self.perform(facility, form)
            except ValidationError as exc:
                form.add_error(None, exc)
        return self.render_form(facility, form)


class FacilityMoveView(FacilityTransferMixin, TemplateView):
    """Move the facility to another organization, with the business's letter and a reason."""

    template_name = "facilities/transfer_move.html"
    form_class = FacilityMoveForm

    def transfer_request(self, facility: Facility, pk) -> FacilityTransferRequest | None:
        """The business's pending request to move ``facility`` named by ``pk`` (from the
        page's scope; 404 for any other)."""
        if pk in (None, ""):
            return None
        found = (
            self.scoped(FacilityTransferRequest)
            .filter(facility=facility, pk=pk)
            .pending()
            .select_related("requested_by")
            .first()
        )
        if found is None:
            raise Http404("No such pending transfer request of this facility.")
        return found

    def initial(self, facility: Facility) -> dict:
        request_pk = self.request.GET.get("request", "")
        transfer_request = self.transfer_request(
            facility, int(request_pk) if request_pk.isdecimal() else None
        )
        if transfer_request is None:
            return {}
        self.from_request = transfer_request
        return {
            "request": transfer_request.pk,
            "organization_code": transfer_request.to_organization_code,
            "reason": transfer_request.reason,
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            transfer_request=getattr(self, "from_request", None), **kwargs
        )

    def perform(self, facility: Facility, form):
        transfer_request = self.transfer_request(facility, form.cleaned_data["request"])
        # Any organization may receive a facility, like a request to join names one by its
        # code: the business's letter names it, and the code is checked against it.
        target = Organization.objects.filter(code=form.cleaned_data["organization_code"]).first()
        if target is None:
            raise ValidationError({"organization_code": "No organization has that code."})
        services.move_facility(
            actor=self.request.user,
            facility=facility,
            to_organization=target,
            reason=form.cleaned_data["reason"],
            letter=form.cleaned_data["letter"],
            transfer_request=transfer_request,
        )
        messages.success(
            self.request,
            f"CERS ID {facility.cers_id} now belongs to {target.name} ({target.code}).",
        )
        return redirect("regulator:facility", facility.cers_id)


class FacilityMergeView(FacilityTransferMixin, TemplateView):
    """Merge this (duplicate) facility into another facility in the agency's jurisdiction."""

    template_name = "facilities/transfer_merge.html"
    form_class = FacilityMergeForm

    def perform(self, facility: Facility, form):
        survivor = self.get_queryset().filter(cers_id=form.cleaned_data["cers_id"]).first()
        if survivor is None:
            raise ValidationError(
                {"cers_id": "No facility with that CERS ID in this agency's jurisdiction."}
            )
        services.merge_facilities(
            actor=self.request.user,
            duplicate=facility,
            survivor=survivor,
            reason=form.cleaned_data["reason"],
        )
        messages.success(
            self.request,
            f"CERS ID {facility.cers_id} was merged into CERS ID {survivor.cers_id}.",
        )
        return redirect("regulator:facility", survivor.cers_id)


class OrganizationMergeView(AgencyScopedMixin, TemplateView):
    """Merge an organization into another one: the state administrator only."""

    template_name = "facilities/transfer_organization_merge.html"
    model = Organization
    lookup_field = "code"
    not_found_message = "No such organization in this agency's jurisdiction."

    def get_organization(self) -> Organization:
        organization = self.get_object()
        if not self.staff.is_state_administrator:
            raise PermissionDenied("Only state administrators merge organizations.")
        return organization

    def render_form(self, organization: Organization, form):
        return self.render_to_response(
            self.get_context_data(organization=organization, form=form, regulator=self.regulator)
        )

    def get(self, request, *args, **kwargs):
        return self.render_form(self.get_organization(), OrganizationMergeForm())

    def post(self, request, *args, **kwargs):
        source = self.get_organization()
        form = OrganizationMergeForm(request.POST)
        if form.is_valid():
            # State staff see every organization, so this is the same scope as the source.
            target = (
                Organization.objects.for_user(request.user, "manage")
                .filter(code=form.cleaned_data["organization_code"])
                .first()
            )
            try:
                if target is None:
                    raise ValidationError({"organization_code": "No organization has that code."})
                services.merge_organizations(
                    actor=request.user,
                    source=source,
                    target=target,
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(
                    request, f"{source.name} ({source.code}) was merged into {target.name}."
                )
                return redirect("regulator:organization", target.code)
        return self.render_form(source, form)


class LegacyImportView(RegulatorPortalMixin, TemplateView):
    """Upload a file of legacy facilities (and the optional organization mapping): staff
    holding manage_facilities on the current agency. Shows every problem, or the result."""

    template_name = "facilities/legacy_import.html"

    def check_permission(self):
        self.require(
            "facilities.manage",
            message="Only the agency's administrators import legacy facilities.",
        )

    def render_form(self, form, **context):
        return self.render_to_response(
            self.get_context_data(form=form, regulator=self.regulator, **context)
        )

    def get(self, request, *args, **kwargs):
        self.check_permission()
        return self.render_form(LegacyImportForm())

    def post(self, request, *args, **kwargs):
        self.check_permission()
        form = LegacyImportForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_form(form)
        try:
            result = import_legacy_facilities(
                form.cleaned_data["file"],
                mapping=form.cleaned_data["mapping"],
                actor=request.user,
                regulator=self.regulator,
            )
        except LegacyImportError as exc:
            return self.render_form(form, errors=exc.errors)
        return self.render_form(LegacyImportForm(), result=result)
