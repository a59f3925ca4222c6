"""Business portal pages for a facility's submittals: history, drafts, submit and receipt.

Every object is reached through its scoped queryset (``for_user(user, "view")``) narrowed to
the organization the user is working in, so anything else answers 404. Every write goes
through ``submittals.services``, which checks the actor's role again; the views check it
first only to answer 403 and to hide controls the user cannot use.

The element page shows the draft's guidance messages (``submittals.validation``) in a panel
that each save refreshes; with htmx, a changed field posts the form to ``element_validate``,
which validates the unsaved values and answers the panel alone. Repeating groups (UST tanks,
tiered-permitting units, consolidation sites...) are tables on the element page; each row is
added, edited and removed on its own page, and saved into the element's data.
"""

from __future__ import annotations

import copy

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.functional import cached_property
from django.views import View
from django.views.generic import TemplateView

from core.elements import SubmittalElement
from core.keys import as_key
from core.pagination import paginate
from core.registry import Group, schema_for
from core.views import OrganizationScopedMixin
from facilities.models import Facility
from facilities.querysets import local_requirement
from facilities.views.business import FacilityInUrlMixin

from .. import facility_information, guidance, inventory, printing, services
from ..data import (
    data_key,
    nested_row_groups,
    row_fingerprint,
    row_group,
    row_groups,
    rows_of,
    single_valued_fields,
)
from ..forms import (
    CertifyNoChangesForm,
    ElementDataForm,
    RowForm,
    StartDraftForm,
    SubmitForm,
    display_part,
    display_row,
    display_sections,
    shown_value,
    summary_fields,
)
from ..models import ElementStatus, FacilitySubmittal, SubmittalElementRecord
from ..validation import by_level, validate_element, validate_submittal

# The actions the pages ask ``core.access`` about (``submittals.rules``), and their refusals.
EDIT = "submittals.edit"
SUBMIT = "submittals.submit"
EDIT_REFUSED = "Your role in this organization does not allow preparing drafts."
DRAFT_CHANGED = (
    "Someone else saved these fields of the draft while you had the page open, so nothing was "
    "saved. Your values are still in the form; the fields saved meanwhile with other values "
    "say what was saved. Save again to keep your values."
)
SUBMIT_REFUSED = "Only Approvers and Lead Users may submit and certify submittals."


def element_validation(
    record, drafts, *, part=None, links: bool = False, on_element_page: bool = True
) -> dict:
    """The panel's context: the element's own messages, and those of submitting it with the
    facility's other drafts (``record`` stands in for its saved self among ``drafts``); with
    ``links``, each message links to its field (``submittals.guidance``)."""
    own = validate_element(record)
    together = [record if draft.pk == record.pk else draft for draft in drafts]
    if all(draft.pk != record.pk for draft in drafts):
        together.append(record)
    others = [m for m in validate_submittal(record.facility, together) if m not in own]
    where = {"part": part, "links": links, "on_element_page": on_element_page}
    return {
        "own_messages": own,
        "element_messages": guidance.linked(record, by_level(own), **where),
        "submittal_messages": guidance.linked(record, by_level(others), **where),
        "validation_summary": guidance.summary([*own, *others]),
        # What is missing shows from the first save on, not on a draft just opened.
        "show_guidance": record.saved_at is not None,
    }


def part_links(record, current, messages, *, show_guidance: bool) -> list[dict]:
    """The parts of Facility Information as links, each with how many of its fields are
    missing or wrong (once the draft was saved)."""
    url = reverse("business:element", args=[record.pk])
    links = []
    for part in facility_information.PARTS:
        count = 0
        if show_guidance:
            numbers = set(part.numbers)
            count = sum(
                1
                for m in messages
                if m.level == "required" and m.field in numbers and m.row is None
            )
        links.append(
            {
                "part": part,
                "url": f"{url}?part={part.slug}",
                "current": part == current,
                "count": count,
            }
        )
    return links


def service_error_texts(exc: ValidationError) -> list[str]:
    """A service's ValidationError as plain sentences for django.contrib.messages."""
    if hasattr(exc, "error_dict"):
        return [str(text) for errors in exc.message_dict.values() for text in errors]
    return [str(text) for text in exc.messages]


class OrganizationSubmittalsMixin(FacilityInUrlMixin, OrganizationScopedMixin):
    """Scoped lookups of the current organization's facilities and submittal elements (the
    page's own rows, submittals or elements, are narrowed through their facility)."""

    organization_field = "facility__organization"

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


class SubmittalListView(OrganizationSubmittalsMixin, TemplateView):
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

    @cached_property
    def may_submit(self) -> bool:
        return self.can(SUBMIT, self.facility)

    def get_context_data(self, **kwargs):
        self.facility = self.get_facility()
        drafts = list(self.drafts(self.facility))
        drafted = {record.element for record in drafts}
        can_edit = self.can(EDIT, self.facility)
        # The elements with an accepted version, which a draft may start from.
        accepted = set(
            SubmittalElementRecord.objects.filter(
                facility=self.facility, status=ElementStatus.ACCEPTED
            )
            .order_by()
            .values_list("element", flat=True)
            .distinct()
        )
        return super().get_context_data(
            facility=self.facility,
            page=paginate(self.request, self.get_queryset()),
            drafts=drafts,
            can_edit=can_edit,
            can_submit=bool(drafts) and self.may_submit,
            can_certify_no_changes=bool(accepted)
            and self.may_submit
            and not self.facility.is_closed,
            startable=[
                (element, element in accepted)
                for element in SubmittalElement
                if element not in drafted
            ]
            if can_edit
            else [],
            **kwargs,
        )


class DraftStartView(OrganizationSubmittalsMixin, View):
    """POST: start a draft of one element for the facility, then continue on its page."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        facility = self.get_facility()
        self.require(EDIT, facility, EDIT_REFUSED)
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


class OrganizationElementsMixin(OrganizationSubmittalsMixin):
    """The submittal elements of the current organization's facilities the user may see."""

    model = SubmittalElementRecord
    not_found_message = "No such submittal element in this organization."

    def get_record(self) -> SubmittalElementRecord:
        return self.get_object(
            self.get_queryset().select_related(
                "facility__organization",
                "facility_submittal",
                "regulator",
                "submitted_by",
                "created_by",
            )
        )


def _group_title(schema, group: Group) -> str:
    """A repeating group's heading: its container's label ("UST tanks"), else its own."""
    try:
        parent = schema.group_at(group.path[:-1]) if len(group.path) > 1 else None
    except LookupError:
        parent = None
    if parent is not None and not parent.repeats and parent.label:
        return parent.label
    return group.label or group.tag


def _nested_note(schema, group: Group) -> str:
    nested = nested_row_groups(schema, group)
    if not nested:
        return ""
    names = ", ".join(inner.label or inner.tag for inner in nested)
    return f"Rows nested in each {group.label or group.tag} ({names}) are not edited here yet."


def row_tables(record, *, can_edit: bool) -> list[dict]:
    """Each repeating group of the element as a table: a few columns and its rows."""
    schema = schema_for(record.element)
    tables = []
    for group in row_groups(schema):
        columns = summary_fields(schema, group)
        rows = []
        for index, row in enumerate(rows_of(record.data, group)):
            args = [record.pk, group.tag, index]
            rows.append(
                {
                    "number": index + 1,
                    "values": [shown_value(f, row.get(data_key(f))) for f in columns],
                    "fingerprint": row_fingerprint(row),
                    "url": reverse("business:element_group_row", args=args),
                    "remove_url": reverse("business:element_group_row_remove", args=args),
                }
            )
        tables.append(
            {
                "tag": group.tag,
                "title": _group_title(schema, group),
                "row_label": group.label or group.tag,
                "columns": [f"{f.label} ({f.number})" if f.number else f.label for f in columns],
                "rows": rows,
                "nested_note": _nested_note(schema, group),
                "add_url": reverse("business:element_group_row_add", args=[record.pk, group.tag]),
            }
        )
    return tables


class ElementView(OrganizationElementsMixin, TemplateView):
    """One submittal element: a registry-driven form for a draft (users who may edit), or a
    read-only view of its fields with its status and the regulator's action; its repeating
    groups as tables of rows; for a draft, its validation panel."""

    template_name = "submittals/business_element.html"

    def editable(self, record) -> bool:
        return record.is_draft and self.can(EDIT, record)

    def get(self, request, *args, **kwargs):
        self.record = self.get_record()
        form = None
        if self.editable(self.record):
            form = self.element_form()
        return self.render_to_response(self.get_context_data(form=form))

    @property
    def part(self):
        """The part of Facility Information the page shows (``?part=``, the first when none);
        None for the other elements."""
        if self.record.element != facility_information.FI:
            return None
        slug = self.request.GET.get("part")
        if self.request.method == "POST" and not slug:
            return None  # a post naming no part holds the whole element's fields
        return facility_information.part_named(slug)

    def element_url(self, record) -> str:
        url = reverse("business:element", args=[record.pk])
        return f"{url}?part={self.part.slug}" if self.part else url

    def element_form(self, *args) -> ElementDataForm:
        form = ElementDataForm(
            *args, element=self.record.element, data=self.record.data, part=self.part
        )
        url = reverse("business:element_validate", args=[self.record.pk])
        form.enable_live_validation(f"{url}?part={self.part.slug}" if self.part else url)
        return form

    def refuse_if_submitted(self, record):
        """A redirect to the element page with the reason, for a change to a submitted
        element; None for a draft."""
        if record.is_draft:
            return None
        messages.error(
            self.request,
            f"This {record.get_element_display()} element was submitted and can no longer "
            "be changed. To correct it, start a new draft of the element.",
        )
        return redirect("business:element", pk=record.pk)

    def post(self, request, *args, **kwargs):
        self.record = record = self.get_record()
        self.require(EDIT, record, EDIT_REFUSED)
        if refused := self.refuse_if_submitted(record):
            return refused
        form = self.element_form(request.POST)
        if not form.is_valid():
            messages.error(request, "Nothing was saved: correct the values marked below.")
            return self.render_to_response(self.get_context_data(form=form))
        seen = request.POST.get("fingerprint")
        saved_meanwhile: list[dict] = []

        def change(current: dict) -> dict:
            if seen is not None and form.fingerprint(current) != seen:
                saved_meanwhile.append(current)
                raise ValidationError(DRAFT_CHANGED)
            return form.merged_data(current)

        try:
            services.change_draft_data(actor=request.user, record=record, change=change)
        except ValidationError as exc:
            if saved_meanwhile:
                # The page again with what they typed, drawn over the draft as saved now (its
                # fingerprint), the fields saved meanwhile marked with their saved values.
                record.data = saved_meanwhile[0]
                form = self.element_form(request.POST)
                form.is_valid()
                form.mark_saved_meanwhile(record.data)
                messages.error(request, DRAFT_CHANGED)
                return self.render_to_response(self.get_context_data(form=form))
            for text in service_error_texts(exc):
                messages.error(request, text)
            return redirect("business:element", pk=record.pk)
        messages.success(request, f"{record.get_element_display()} draft saved.")
        return redirect(self.element_url(record))

    def get_context_data(self, **kwargs):
        record = self.record
        schema = schema_for(record.element)
        can_edit = self.editable(record)
        context = {
            "record": record,
            "facility": record.facility,
            "has_fields": bool(single_valued_fields(schema) or row_groups(schema)),
            "has_single_fields": bool(single_valued_fields(schema)),
            "can_edit": can_edit,
            "local_requirement": local_requirement(
                record.facility_id, record.element, record.regulator_id
            ),
        }
        form = kwargs.get("form")
        if record.is_draft:
            on_element_page = kwargs.get("row_page") is None
            context.update(
                element_validation(
                    record,
                    list(self.drafts(record.facility)),
                    part=self.part,
                    links=can_edit,
                    on_element_page=on_element_page,
                )
            )
            context["can_submit"] = self.can(SUBMIT, record.facility)
            if form is not None and context["show_guidance"]:
                form.add_guidance(context["own_messages"])
        if self.part is not None and kwargs.get("row_page") is None:
            context["part"] = self.part
            context["parts"] = part_links(
                record,
                self.part,
                context.get("own_messages", ()),
                show_guidance=context.get("show_guidance", False),
            )
        if kwargs.get("row_page") is None:
            context["row_tables"] = row_tables(record, can_edit=can_edit)
            if kwargs.get("form") is None:
                if self.part is not None:  # Facility Information, read only: by its parts
                    context["display_part"] = display_part(self.part, record.data)
                else:
                    context["display"] = display_sections(record.element, record.data)
        return super().get_context_data(**context, **kwargs)


class ElementValidateView(ElementView):
    """POST (htmx): validate the element form's unsaved values and answer the validation
    panel, with the changed field's own error swapped in beside it. Nothing is saved.

    Same scope as the element page (404 outside it); only users who may edit drafts (403),
    only for htmx requests and drafts (400).
    """

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.record = record = self.get_record()
        self.require(EDIT, record, EDIT_REFUSED)
        if not request.htmx:
            return HttpResponseBadRequest("This address validates a draft for the element page.")
        if not record.is_draft:
            return HttpResponseBadRequest("Only a draft is validated.")
        form = self.element_form(request.POST)
        form.is_valid()
        preview = copy.copy(record)
        preview.data = form.preview_data()
        context = {
            "record": preview,
            **element_validation(
                preview, list(self.drafts(record.facility)), part=self.part, links=True
            ),
        }
        html = render_to_string(
            "submittals/business_element.html#validation-panel", context, request=request
        )
        html += render_to_string(
            "submittals/_validation_status.html", {**context, "oob": True}, request=request
        )
        changed = request.htmx.trigger_name
        if changed in form.fields:
            html += render_to_string(
                "submittals/_field_errors.html",
                {"bound": form[changed], "oob": True},
                request=request,
            )
        return HttpResponse(html)


class ElementRowView(ElementView):
    """Base of the row pages: the element page focused on one row of a repeating group.

    The group is named by its tag in the URL ("USTTank"), and must be one the element page
    edits (404 otherwise, as for an index past the last row). Edits and removals carry the
    row's fingerprint, and are refused when the row at that index has changed since.
    """

    def get_group(self, record) -> Group:
        group = row_group(schema_for(record.element), self.kwargs["group"])
        if group is None:
            raise Http404("This element has no such group of rows.")
        return group

    def get_row(self, record, group: Group) -> dict:
        rows = rows_of(record.data, group)
        index = self.kwargs["index"]
        if index >= len(rows):
            raise Http404("No such row.")
        return rows[index]

    def back(self, record, group: Group):
        return redirect(reverse("business:element", args=[record.pk]) + f"#group-{group.tag}")

    def row_title(self, group: Group, index: int | None) -> str:
        label = group.label or group.tag
        return f"New {label}" if index is None else f"{label} {index + 1}"

    def render_row(self, group: Group, *, form=None, row=None, index=None, status=200):
        schema = schema_for(self.record.element)
        row_page = {
            "title": self.row_title(group, index),
            "adding": index is None,
            "fingerprint": row_fingerprint(row) if row is not None else "",
            "nested_note": _nested_note(schema, group),
            "display": display_row(schema, group, row or {}) if form is None else None,
        }
        response = self.render_to_response(self.get_context_data(row_page=row_page, row_form=form))
        response.status_code = status
        return response

    def save_rows(self, record, group: Group, change_rows, done: str):
        """Save ``change_rows(rows) -> rows`` applied to the group's rows as they are under
        the draft's lock (another editor may have saved a moment before)."""

        def change(data: dict) -> dict:
            data[group.key] = change_rows(rows_of(data, group))
            return data

        try:
            services.change_draft_data(actor=self.request.user, record=record, change=change)
        except ValidationError as exc:
            for text in service_error_texts(exc):
                messages.error(self.request, text)
            return redirect("business:element", pk=record.pk)
        if done:
            messages.success(self.request, done)
        return self.back(record, group)

    def editable_group(self):
        """(record, group, refusal) for a change to the group's rows: only users who may
        edit drafts get this far, and a submitted element answers with ``refusal``."""
        self.record = record = self.get_record()
        group = self.get_group(record)
        self.require(EDIT, record, EDIT_REFUSED)
        return record, group, self.refuse_if_submitted(record)

    def current_row(self, record, group: Group):
        """(row, None) for the row the user opened; (row, the way back) when it has changed
        since, so that an edit or removal never lands on another row."""
        row = self.get_row(record, group)
        return row, (self.back(record, group) if self.stale(record, group, row) else None)

    def still_seen(self, rows: list[dict], group: Group) -> None:
        """Refuse, under the draft's lock, a change to a row that is no longer the one the
        user opened (``stale`` asked it before, of the rows the page read)."""
        index = self.kwargs["index"]
        if index >= len(rows) or row_fingerprint(rows[index]) != self.request.POST.get(
            "fingerprint"
        ):
            raise ValidationError(
                f"{self.row_title(group, index)} has changed since you opened it (someone else "
                "may have edited or removed a row). Nothing was changed: check the rows below "
                "and try again."
            )

    def stale(self, record, group: Group, row: dict) -> bool:
        if self.request.POST.get("fingerprint") == row_fingerprint(row):
            return False
        messages.error(
            self.request,
            f"{self.row_title(group, self.kwargs['index'])} has changed since you opened it "
            "(someone else may have edited or removed a row). Nothing was changed: check the "
            "rows below and try again.",
        )
        return True


class ElementGroupRowView(ElementRowView):
    """GET: one row, as a form for users who may edit a draft, read-only otherwise.
    POST: save the row's values (each checked by the registry; nothing is saved if one
    fails)."""

    def get(self, request, *args, **kwargs):
        self.record = record = self.get_record()
        group = self.get_group(record)
        row = self.get_row(record, group)
        form = None
        if self.editable(record):
            form = RowForm(element=record.element, group=group, row=row)
        return self.render_row(group, form=form, row=row, index=self.kwargs["index"])

    def post(self, request, *args, **kwargs):
        record, group, refused = self.editable_group()
        if refused:
            return refused
        row, changed = self.current_row(record, group)
        if changed:
            return changed
        index = self.kwargs["index"]
        form = RowForm(request.POST, element=record.element, group=group, row=row)
        if not form.is_valid():
            messages.error(request, "Nothing was saved: correct the values marked below.")
            return self.render_row(group, form=form, row=row, index=index)
        values = form.merged_data()

        def change_rows(rows: list[dict]) -> list[dict]:
            self.still_seen(rows, group)
            rows[index] = values
            return rows

        return self.save_rows(record, group, change_rows, f"{self.row_title(group, index)} saved.")


class ElementGroupRowAddView(ElementRowView):
    """GET: an empty row form. POST: add the row at the end of its group (users who may
    edit drafts)."""

    def get(self, request, *args, **kwargs):
        record, group, refused = self.editable_group()
        if refused:
            return refused
        return self.render_row(group, form=RowForm(element=record.element, group=group))

    def post(self, request, *args, **kwargs):
        record, group, refused = self.editable_group()
        if refused:
            return refused
        form = RowForm(request.POST, element=record.element, group=group)
        if form.is_valid() and not form.has_values():
            form.add_error(None, "Enter at least one value for the new row.")
        if not form.is_valid():
            messages.error(request, "Nothing was added: correct the values marked below.")
            return self.render_row(group, form=form)
        values = form.merged_data()
        added = []

        def change_rows(rows: list[dict]) -> list[dict]:
            added.append(len(rows))
            return [*rows, values]

        response = self.save_rows(record, group, change_rows, "")
        if added:
            messages.success(request, f"{self.row_title(group, added[-1])} added.")
        return response


class ElementGroupRowRemoveView(ElementRowView):
    """POST: remove one row (users who may edit drafts); the rows after it move up."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        record, group, refused = self.editable_group()
        if refused:
            return refused
        row, changed = self.current_row(record, group)
        if changed:
            return changed
        index = self.kwargs["index"]

        def change_rows(rows: list[dict]) -> list[dict]:
            self.still_seen(rows, group)
            del rows[index]
            return rows

        return self.save_rows(
            record, group, change_rows, f"{self.row_title(group, index)} removed."
        )


class DraftDiscardView(OrganizationElementsMixin, View):
    """POST: discard a draft element."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        record = self.get_record()
        self.require(EDIT, record, EDIT_REFUSED)
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
        self.require(SUBMIT, self.facility, SUBMIT_REFUSED)
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


class CertifyNoChangesView(OrganizationScopedMixin, TemplateView):
    """Certify no changes, for one facility or many: choose the organization's facilities,
    review what will be submitted again (each facility's last accepted elements), certify
    once; each facility gets its own submittal and receipt (Approvers and Lead Users)."""

    template_name = "submittals/business_certify_no_changes.html"

    def setup_page(self):
        self.require(SUBMIT, message=SUBMIT_REFUSED)
        accepted = SubmittalElementRecord.objects.filter(
            facility=OuterRef("pk"), status=ElementStatus.ACCEPTED
        )
        self.candidates = (
            self.scoped(Facility, "submit")
            .reporting()
            .filter(Exists(accepted))
            .order_by("name", "cers_id")
        )

    def accepted_elements(self, facilities) -> list[tuple[Facility, list]]:
        """Each facility with its last accepted element of each type, in one query."""
        latest: dict[int, dict[int, SubmittalElementRecord]] = {}
        for record in (
            SubmittalElementRecord.objects.for_user(self.request.user, "view")
            .filter(facility__in=[f.pk for f in facilities], status=ElementStatus.ACCEPTED)
            .order_by("facility_id", "element", "-submitted_at", "-pk")
            .only("pk", "facility_id", "element", "submitted_at")
        ):
            latest.setdefault(record.facility_id, {}).setdefault(record.element, record)
        return [(f, list(latest.get(f.pk, {}).values())) for f in facilities]

    def get(self, request, *args, **kwargs):
        self.setup_page()
        wanted = [as_key(value) for value in request.GET.getlist("facility")]
        wanted = [cers_id for cers_id in wanted if cers_id is not None]
        form = CertifyNoChangesForm(
            facilities=self.candidates,
            certifying=False,
            initial={"facilities": list(self.candidates.filter(cers_id__in=wanted))},
        )
        return self.render_step("choose", form)

    def post(self, request, *args, **kwargs):
        self.setup_page()
        certifying = request.POST.get("step") == "certify"
        form = CertifyNoChangesForm(request.POST, facilities=self.candidates, certifying=certifying)
        if not form.is_valid():
            if certifying and "facilities" not in form.errors:
                return self.render_step("review", form, form.cleaned_data["facilities"])
            return self.render_step("choose", form)
        chosen = list(form.cleaned_data["facilities"])
        if not certifying:
            user = request.user
            review = CertifyNoChangesForm(
                facilities=self.candidates,
                certifying=True,
                initial={
                    "facilities": chosen,
                    "certifier_name": user.get_full_name(),
                    "certifier_title": user.title,
                },
            )
            return self.render_step("review", review, chosen)
        try:
            groups = services.certify_no_changes(
                actor=request.user,
                facilities=chosen,
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
            return self.render_step("review", form, chosen)
        messages.success(
            request,
            f"Certified {len(groups)} facilit{'ies' if len(groups) != 1 else 'y'} with no "
            "changes; each has its own submittal and receipt.",
        )
        if len(groups) == 1:
            return redirect("business:submittal_receipt", pk=groups[0].pk)
        return self.render_to_response(
            self.get_context_data(step="done", submittals=sorted(groups, key=lambda g: g.pk))
        )

    def render_step(self, step, form, chosen=()):
        facilities = list(chosen) if step == "review" else list(self.candidates)
        return self.render_to_response(
            self.get_context_data(
                step=step, form=form, facilities=self.accepted_elements(facilities)
            )
        )


class SubmittedGroupMixin(OrganizationSubmittalsMixin):
    """One submitted facility submittal of the current organization (404 otherwise)."""

    model = FacilitySubmittal

    def get_submittal(self) -> FacilitySubmittal:
        return self.get_object(
            self.get_queryset()
            .filter(status=FacilitySubmittal.Status.SUBMITTED)
            .select_related("facility__organization", "submitted_by")
            .prefetch_related(
                Prefetch(
                    "elements",
                    queryset=SubmittalElementRecord.objects.select_related("regulator").order_by(
                        "element"
                    ),
                )
            ),
            message="No such submitted submittal in this organization.",
        )


class ReceiptView(SubmittedGroupMixin, TemplateView):
    """The printable receipt of a submitted facility submittal."""

    template_name = "submittals/business_receipt.html"

    def get_context_data(self, **kwargs):
        submittal = self.get_submittal()
        return super().get_context_data(
            submittal=submittal,
            facility=submittal.facility,
            elements=list(submittal.elements.all()),
            history_url=reverse("business:submittals", args=[submittal.facility.cers_id]),
            **kwargs,
        )


class SubmittalPdfView(SubmittedGroupMixin, View):
    """GET: the submitted facility submittal as a PDF (the Hazardous Materials Business Plan
    as submitted: its elements' data, inventory and documents, with the certification)."""

    http_method_names = ["get"]
    printer = staticmethod(printing.plan_pdf)
    file_name = "submittal"

    def get(self, request, *args, **kwargs):
        submittal = self.get_submittal()
        records = list(
            SubmittalElementRecord.objects.for_user(request.user, "view")
            .filter(facility_submittal=submittal)
            .select_related("regulator")
            .prefetch_related(inventory.materials_prefetch())
            .order_by("element")
        )
        return printing.pdf_response(
            self.printer(submittal, records),
            f"cers-{submittal.facility.cers_id}-{self.file_name}-{submittal.pk}.pdf",
        )


class ReceiptPdfView(SubmittalPdfView):
    """GET: the receipt of a submitted facility submittal, as a PDF."""

    printer = staticmethod(printing.receipt_pdf)
    file_name = "receipt"
