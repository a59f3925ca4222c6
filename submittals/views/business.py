"""Business portal pages for a facility's submittals: history, drafts, submit and receipt.

Every object is reached through its scoped queryset (``for_user(user, "view")``) narrowed to
the organization the user is working in, so anything else answers 404. Every write goes
through ``submittals.services``, which checks the actor's role again; the views check it
first only to answer 403 and to hide controls the user cannot use.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.pagination import paginate
from core.views import BusinessPortalMixin, ScopedQuerysetMixin
from facilities.models import Facility
from organizations.roles import EDIT_DRAFTS, SUBMIT

from .. import services
from ..forms import (
    ElementDataForm,
    StartDraftForm,
    SubmitForm,
    display_sections,
    single_valued_fields,
)
from ..models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from ..registry import schema_for
from ..validation import LEVELS, validate_element, validate_submittal

LEVEL_LABELS = {"required": "Required", "warning": "Warning", "advisory": "Advisory"}


def by_level(messages_) -> list[tuple[str, str, list]]:
    """Validation messages grouped by level, in level order: (level, label, messages)."""
    grouped = defaultdict(list)
    for message in messages_:
        grouped[message.level].append(message)
    return [(level, LEVEL_LABELS[level], grouped[level]) for level in LEVELS if grouped[level]]


def service_error_texts(exc: ValidationError) -> list[str]:
    """A service's ValidationError as plain sentences for django.contrib.messages."""
    if hasattr(exc, "error_dict"):
        return [str(text) for errors in exc.message_dict.values() for text in errors]
    return [str(text) for text in exc.messages]


class OrganizationSubmittalsMixin(BusinessPortalMixin):
    """Scoped lookups of the current organization's facilities and submittal elements."""

    def has_org_perm(self, codename: str) -> bool:
        return self.request.user.has_perm(f"organizations.{codename}", self.organization)

    def get_facility(self) -> Facility:
        facility = (
            Facility.objects.for_user(self.request.user, "view")
            .filter(organization=self.organization, cers_id=self.kwargs["cers_id"])
            .select_related("organization")
            .first()
        )
        if facility is None:
            raise Http404("No such facility in this organization.")
        return facility

    def drafts(self, facility: Facility):
        return (
            SubmittalElementRecord.objects.for_user(self.request.user, "view")
            .filter(facility=facility, status=ElementStatus.DRAFT)
            .select_related("created_by")
            .order_by("element")
        )


class SubmittalListView(OrganizationSubmittalsMixin, ScopedQuerysetMixin, TemplateView):
    """A facility's submittals over time, its drafts in progress, and "Start draft" forms."""

    template_name = "submittals/business_list.html"
    model = FacilitySubmittal

    def get_queryset(self):
        return (
            super()
            .get_queryset()
            .filter(facility=self.facility, status=FacilitySubmittal.Status.SUBMITTED)
            .select_related("submitted_by")
            .prefetch_related(
                Prefetch(
                    "elements",
                    queryset=SubmittalElementRecord.objects.select_related(
                        "regulator", "submitted_by"
                    ).order_by("element"),
                )
            )
        )

    def get_context_data(self, **kwargs):
        self.facility = self.get_facility()
        drafts = list(self.drafts(self.facility))
        drafted = {record.element for record in drafts}
        can_edit = self.has_org_perm(EDIT_DRAFTS)
        return super().get_context_data(
            facility=self.facility,
            page=paginate(self.request, self.get_queryset()),
            drafts=drafts,
            can_edit=can_edit,
            can_submit=bool(drafts) and self.has_org_perm(SUBMIT),
            startable=[element for element in SubmittalElement if element not in drafted]
            if can_edit
            else [],
            **kwargs,
        )


class DraftStartView(OrganizationSubmittalsMixin, View):
    """POST: start a draft of one element for the facility, then continue on its page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        facility = self.get_facility()
        self.require_org_perm(EDIT_DRAFTS)
        back = redirect("business:submittals", cers_id=facility.cers_id)
        form = StartDraftForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a submittal element to start a draft of.")
            return back
        try:
            record = services.start_draft(
                actor=request.user,
                facility=facility,
                element=form.cleaned_data["element"],
                from_last_accepted=form.cleaned_data["from_last_accepted"],
            )
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(request, text)
            return back
        if record.notice:
            messages.info(request, record.notice)
        messages.success(request, f"Draft of {record.get_element_display()} started.")
        return redirect("business:element", pk=record.pk)


class OrganizationElementsMixin(OrganizationSubmittalsMixin, ScopedQuerysetMixin):
    """The submittal elements of the current organization's facilities the user may see."""

    model = SubmittalElementRecord

    def get_queryset(self):
        return super().get_queryset().filter(facility__organization=self.organization)

    def get_record(self) -> SubmittalElementRecord:
        record = (
            self.get_queryset()
            .select_related(
                "facility__organization",
                "facility_submittal",
                "regulator",
                "submitted_by",
                "created_by",
            )
            .filter(pk=self.kwargs["pk"])
            .first()
        )
        if record is None:
            raise Http404("No such submittal element in this organization.")
        return record


class ElementView(OrganizationElementsMixin, TemplateView):
    """One submittal element: a registry-driven form for a draft (users who may edit), or a
    read-only view of its fields with its status and the regulator's action."""

    template_name = "submittals/business_element.html"

    def editable(self, record) -> bool:
        return record.is_draft and self.has_org_perm(EDIT_DRAFTS)

    def get(self, request, *args, **kwargs):
        self.record = self.get_record()
        form = None
        if self.editable(self.record):
            form = ElementDataForm(element=self.record.element, data=self.record.data)
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.record = record = self.get_record()
        self.require_org_perm(EDIT_DRAFTS)
        if not record.is_draft:
            messages.error(
                request,
                f"This {record.get_element_display()} element was submitted and can no longer "
                "be changed. To correct it, start a new draft of the element.",
            )
            return redirect("business:element", pk=record.pk)
        form = ElementDataForm(request.POST, element=record.element, data=record.data)
        if not form.is_valid():
            messages.error(request, "Nothing was saved: correct the values marked below.")
            return self.render_to_response(self.get_context_data(form=form))
        try:
            services.save_draft_data(actor=request.user, record=record, data=form.merged_data())
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(request, text)
            return redirect("business:element", pk=record.pk)
        messages.success(request, f"{record.get_element_display()} draft saved.")
        return redirect("business:element", pk=record.pk)

    def get_context_data(self, **kwargs):
        record = self.record
        context = {
            "record": record,
            "facility": record.facility,
            "has_fields": bool(single_valued_fields(schema_for(record.element))),
            "can_edit": self.editable(record),
        }
        if record.is_draft:
            own = validate_element(record)
            drafts = list(self.drafts(record.facility))
            together = [m for m in validate_submittal(record.facility, drafts) if m not in own]
            context["element_messages"] = by_level(own)
            context["submittal_messages"] = by_level(together)
            context["can_submit"] = self.has_org_perm(SUBMIT)
        if kwargs.get("form") is None:
            context["display"] = display_sections(record.element, record.data)
        return super().get_context_data(**context, **kwargs)


class DraftDiscardView(OrganizationElementsMixin, View):
    """POST: discard a draft element."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        record = self.get_record()
        self.require_org_perm(EDIT_DRAFTS)
        try:
            services.discard_draft(actor=request.user, record=record)
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(request, text)
            return redirect("business:element", pk=record.pk)
        messages.success(request, f"{record.get_element_display()} draft discarded.")
        return redirect("business:submittals", cers_id=record.facility.cers_id)


class SubmitView(OrganizationSubmittalsMixin, TemplateView):
    """Choose the facility's drafts, certify and submit them (Approvers and Lead Users)."""

    template_name = "submittals/business_submit.html"

    def setup_page(self):
        self.facility = self.get_facility()
        self.require_org_perm(SUBMIT)
        self.draft_qs = self.drafts(self.facility)
        self.draft_list = list(self.draft_qs)

    def get(self, request, *args, **kwargs):
        self.setup_page()
        user = request.user
        form = SubmitForm(
            drafts=self.draft_qs,
            initial={
                "elements": [record.pk for record in self.draft_list],
                "certifier_name": user.get_full_name(),
                "certifier_title": user.title,
            },
        )
        return self.render_page(form, self.draft_list)

    def post(self, request, *args, **kwargs):
        self.setup_page()
        form = SubmitForm(request.POST, drafts=self.draft_qs)
        if not form.is_valid():
            chosen = form.cleaned_data.get("elements") or self.draft_list
            return self.render_page(form, list(chosen))
        chosen = list(form.cleaned_data["elements"])
        try:
            group = services.submit(
                actor=request.user,
                facility=self.facility,
                elements=chosen,
                certifier_name=form.cleaned_data["certifier_name"],
                certifier_title=form.cleaned_data["certifier_title"],
                comments=form.cleaned_data["comments"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)
            return self.render_page(form, chosen)
        messages.success(
            request,
            f"Submitted {len(chosen)} element{'s' if len(chosen) != 1 else ''} for "
            f"CERS ID {self.facility.cers_id}.",
        )
        return redirect("business:submittal_receipt", pk=group.pk)

    def render_page(self, form, chosen):
        return self.render_to_response(
            self.get_context_data(
                facility=self.facility,
                form=form,
                drafts=self.draft_list,
                validation=by_level(validate_submittal(self.facility, chosen)),
            )
        )


class ReceiptView(OrganizationSubmittalsMixin, ScopedQuerysetMixin, TemplateView):
    """The printable receipt of a submitted facility submittal."""

    template_name = "submittals/business_receipt.html"
    model = FacilitySubmittal

    def get_context_data(self, **kwargs):
        submittal = (
            self.get_queryset()
            .filter(
                pk=self.kwargs["pk"],
                facility__organization=self.organization,
                status=FacilitySubmittal.Status.SUBMITTED,
            )
            .select_related("facility__organization", "submitted_by")
            .prefetch_related(
                Prefetch(
                    "elements",
                    queryset=SubmittalElementRecord.objects.select_related("regulator").order_by(
                        "element"
                    ),
                )
            )
            .first()
        )
        if submittal is None:
            raise Http404("No such submitted submittal in this organization.")
        return super().get_context_data(
            submittal=submittal,
            facility=submittal.facility,
            elements=list(submittal.elements.all()),
            history_url=reverse("business:submittals", args=[submittal.facility.cers_id]),
            **kwargs,
        )
