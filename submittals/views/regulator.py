"""Regulator portal pages for submitted elements: the review queue and the review page.

Every queryset starts from ``SubmittalElementRecord.objects.for_user(user, action)`` (the
elements routed to any agency the user is staff of) and is narrowed to the agency the user is
working for now (``AgencyScopedMixin``: ``SubmittalElementRecord.objects.in_jurisdiction``); the
state agency sees every submitted element. An element outside that scope answers 404. The
review itself is written only through ``services.review``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
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
from core.models import AuditEvent
from core.pagination import paginate, search_filter
from core.registry import Field, FieldLookupError, Group, schema_for
from core.views import AgencyScopedMixin

from .. import inventory, printing, services
from ..forms import display_row, form_label
from ..forms_regulator import BulkReviewForm, QueueFilterForm, ReviewForm
from ..models import AWAITING_STATUSES, ElementStatus, FacilitySubmittal, SubmittalElementRecord
from ..validation import by_level, submitted_with

FACILITY_SEARCH_FIELDS = ["facility__name"]
FACILITY_SEARCH_EXACT_INT_FIELDS = ["facility__cers_id"]


class AgencyElementsMixin(AgencyScopedMixin):
    """The submitted elements routed to the agency the user is working for."""

    model = SubmittalElementRecord
    not_found_message = "No such submitted element for this agency."

    def reviewable(self):
        """The agency's elements the user may review (their role there grants it)."""
        return self.get_queryset("review")


def queue_elements(elements, params) -> tuple:
    """The review queue's filters (``QueueFilterForm``, read from the query string
    ``params``), for the page, its export and its bulk action alike: the elements narrowed
    and ordered (waiting work oldest first, any other view newest first), the form, and
    whether any filter was asked for. A filter that makes no sense (a date typo) lists
    nothing rather than everything."""
    form = QueueFilterForm(params or None)
    if not form.is_bound:
        statuses = form.statuses()
    elif form.is_valid():
        elements = _filtered(elements, form.cleaned_data)
        statuses = form.statuses()
    else:
        elements, statuses = elements.none(), None
    if statuses:
        elements = elements.filter(status__in=statuses)
    awaiting = bool(statuses) and set(statuses) <= set(AWAITING_STATUSES)
    order = ["submitted_at", "pk"] if awaiting else ["-submitted_at", "-pk"]
    elements = elements.select_related("facility__organization", "submitted_by").order_by(*order)
    filtered = any(value for name, value in params.items() if name != "page")
    return elements, form, filtered


def _filtered(elements, cleaned: dict):
    if cleaned.get("element"):
        elements = elements.filter(element=cleaned["element"])
    tz = timezone.get_current_timezone()
    if cleaned.get("submitted_from"):
        start = datetime.combine(cleaned["submitted_from"], time.min, tzinfo=tz)
        elements = elements.filter(submitted_at__gte=start)
    if cleaned.get("submitted_to"):
        end = datetime.combine(cleaned["submitted_to"], time.max, tzinfo=tz)
        elements = elements.filter(submitted_at__lte=end)
    if cleaned.get("facility"):
        elements = search_filter(
            elements,
            cleaned["facility"],
            FACILITY_SEARCH_FIELDS,
            FACILITY_SEARCH_EXACT_INT_FIELDS,
        )
    return elements


class ReviewQueueView(AgencyElementsMixin, TemplateView):
    """The agency's submitted elements, by default those awaiting action, oldest first;
    filterable by status, element, submitted date and facility. Reviewers select rows and
    mark them Accepted or Under Review at once (``BulkReviewView``)."""

    template_name = "submittals/regulator_queue.html"

    def get_context_data(self, **kwargs):
        elements, form, filtered = queue_elements(self.get_queryset(), self.request.GET)
        page = paginate(self.request, elements, not_null=("submitted_at",))
        can_review = self.can("submittals.review")
        if can_review:
            for record in page:
                record.review_seen = services.review_seen(record)
        kwargs.setdefault("bulk_form", BulkReviewForm() if can_review else None)
        kwargs.setdefault("selected", set())
        return super().get_context_data(
            form=form,
            page=page,
            regulator=self.regulator,
            statewide=self.regulator.is_statewide,
            filtered=filtered,
            query=self.request.GET.urlencode(),
            export_links=export_links(reverse("regulator:review_queue_export"), self.request.GET),
            **kwargs,
        )


class BulkReviewView(ReviewQueueView):
    """POST: the action chosen (Accepted, Under Review) on every element selected in the
    queue, through ``services.review_selected``: all of them, or none with every row's
    problem listed. An element someone reviewed since the queue was drawn is refused
    (``review_seen``). Back to the queue with its filters (the form's address carries
    them)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        self.require("submittals.review")
        form = BulkReviewForm(request.POST)
        if form.is_valid():
            selected = form.cleaned_data["elements"]
            found = dict(
                self.get_queryset().filter(pk__in=selected).values_list("pk", "key").order_by()
            )
            missing = [pk for pk in selected if pk not in found]
            if missing:
                form.add_error(
                    "elements",
                    f"{len(missing)} of the selected elements are not in this agency's queue; "
                    "reload the queue and select again.",
                )
            else:
                try:
                    records = services.review_selected(
                        actor=request.user,
                        seen={found[pk]: seen for pk, seen in selected.items()},
                        status=form.cleaned_data["status"],
                        comments=form.cleaned_data["comments"],
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    status = ElementStatus(form.cleaned_data["status"]).label
                    messages.success(
                        request,
                        f"{len(records)} element{'s' if len(records) != 1 else ''} marked "
                        f"{status}.",
                    )
                    url = reverse("regulator:review_queue")
                    query = request.GET.urlencode()
                    return redirect(f"{url}?{query}" if query else url)
        return self.render_to_response(
            self.get_context_data(bulk_form=form, selected=set(form.selected_pks()))
        )


def _person(user) -> str:
    return (user.get_full_name() or user.email) if user else ""


QUEUE_COLUMNS = [
    Column("CERS ID", lambda r: r.facility.cers_id),
    Column("Facility name", lambda r: r.facility.name),
    Column("Address", lambda r: r.facility.address),
    Column("Organization", lambda r: r.facility.organization.name),
    Column("Element", lambda r: r.get_element_display()),
    Column("Status", lambda r: r.get_status_display()),
    Column("Submitted on", lambda r: r.submitted_at),
    Column("Submitted by", lambda r: _person(r.submitted_by)),
    Column("Last action on", lambda r: r.action_at),
    Column("Last action by", lambda r: r.action_agent_name),
    Column("Comments to the business", lambda r: r.action_comments),
]


class ReviewQueueExportView(AgencyElementsMixin, View):
    """GET: the review queue, with the page's filters, as CSV or XLSX (``?format=``), read a
    chunk at a time whatever its length."""

    http_method_names = ["get"]

    def get(self, request):
        export_format = requested_format(request)
        elements, _, _ = queue_elements(self.get_queryset(), request.GET)
        return export_response(
            rows_of(elements.defer("data")),
            QUEUE_COLUMNS,
            format=export_format,
            filename=export_filename("review-queue", self.regulator),
        )


# -- the element's data, through the registry --------------------------------------------------


@dataclass(frozen=True)
class DataRow:
    """One value of an element's data as displayed: its label in words, its data-dictionary
    number and its value (a code with its label)."""

    key: str
    label: str
    number: str
    value: str
    block: bool = False  # nested data the registry does not describe, shown as JSON
    # A repeating group's rows (UST tanks, units...): per row, its sections of
    # (label, shown value, number), as the business pages show a row.
    rows: tuple = ()


@dataclass(frozen=True)
class Change:
    """One key that differs from the previous submittal of the element."""

    kind: str  # "added", "removed" or "changed"
    label: str
    number: str
    old: str
    new: str
    block: bool = False


def _fields_by_data_key(element: int) -> dict[str, Field]:
    """The element's registry fields by the keys data may use: number, path, and tag."""
    try:
        schema = schema_for(element)
    except FieldLookupError:
        return {}
    fields: dict[str, Field] = {}
    for field in schema.data_fields:
        fields.setdefault(field.key, field)
        if field.number:
            fields.setdefault(field.number, field)
    return fields


def _is_nested(value: Any) -> bool:
    return isinstance(value, dict | list)


def _format(value: Any, field: Field | None) -> str:
    if value is None:
        return ""
    if _is_nested(value):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    text = str(value)
    if field is not None and field.codes:
        label = field.code_label(text)
        return text if label == text else f"{label} ({text})"
    return text


def _row_label(key: str, field: Field | None, element: int | None = None) -> tuple[str, str]:
    """A data key's label in words, as the business form shows it, and its number."""
    if field is not None:
        return form_label(field), field.number
    group = _repeating_group(element, key)
    if group is not None:
        return group.label or group.tag, group.number
    return key.replace("_", " ").capitalize(), ""


def _repeating_group(element: int | None, key: str) -> Group | None:
    if element is None:
        return None
    try:
        group = schema_for(element).group_at(key)
    except FieldLookupError:
        return None
    return group if group.repeats else None


def _shown_in_row(field: Field, value: Any) -> str:
    return "" if value is None or value == "" else _format(value, field)


def _group_rows(element: int, group: Group, value: Any) -> tuple:
    """A repeating group's rows in words, each as its sections; () when they are not rows."""
    if not isinstance(value, list) or not all(isinstance(row, dict) for row in value):
        return ()
    schema = schema_for(element)
    return tuple(
        [
            (heading, given)
            for heading, values in display_row(schema, group, row, show=_shown_in_row)
            if (given := [v for v in values if v[1] != ""])
        ]
        for row in value
    )


def _ordered_keys(keys, fields: dict[str, Field], element: int) -> list[str]:
    """Keys in registry order (the order of the element's forms), unknown keys after."""
    try:
        order = {f.key: i for i, f in enumerate(schema_for(element).data_fields)}
    except FieldLookupError:
        order = {}
    known = sorted((k for k in keys if k in fields), key=lambda k: order.get(fields[k].key, 0))
    return known + sorted(k for k in keys if k not in fields)


def data_rows(record: SubmittalElementRecord) -> list[DataRow]:
    """The element's data as labelled rows: "label (number): value", codes with labels."""
    data = record.data if isinstance(record.data, dict) else {}
    fields = _fields_by_data_key(record.element)
    rows = []
    for key in _ordered_keys(data, fields, record.element):
        field = fields.get(key)
        label, number = _row_label(key, field, record.element)
        value = data[key]
        group = _repeating_group(record.element, key) if field is None else None
        group_rows = _group_rows(record.element, group, value) if group is not None else ()
        rows.append(
            DataRow(
                key,
                label,
                number,
                _format(value, field),
                _is_nested(value) and not group_rows,
                group_rows,
            )
        )
    return rows


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def changes_between(previous: dict, current: dict, element: int) -> list[Change]:
    """Keys added, removed or changed from ``previous`` to ``current`` (nested values such
    as the inventory's materials are compared as JSON)."""
    previous = previous if isinstance(previous, dict) else {}
    current = current if isinstance(current, dict) else {}
    fields = _fields_by_data_key(element)
    changes = []
    for key in _ordered_keys(previous.keys() | current.keys(), fields, element):
        field = fields.get(key)
        if key not in previous:
            kind = "added"
        elif key not in current:
            kind = "removed"
        elif _canonical(previous[key]) != _canonical(current[key]):
            kind = "changed"
        else:
            continue
        old, new = previous.get(key), current.get(key)
        label, number = _row_label(key, field, element)
        changes.append(
            Change(
                kind,
                label,
                number,
                _format(old, field),
                _format(new, field),
                _is_nested(old) or _is_nested(new),
            )
        )
    return changes


def comparable(record: SubmittalElementRecord) -> dict:
    """The element's data with, for an inventory, its materials and their components as rows
    (in position order), so a change to a material shows among the changes. A material's
    regulator key (20.0053) names the row rather than describing it, so it is left out."""
    data = dict(record.data) if isinstance(record.data, dict) else {}
    if record.element == SubmittalElement.HAZARDOUS_MATERIALS_INVENTORY:
        data["materials"] = [
            {
                **{k: v for k, v in material.data.items() if k != "20.0053"},
                "components": [
                    {
                        "position": c.position,
                        "name": c.name,
                        "cas_number": c.cas_number,
                        "percent_by_weight": str(c.percent_by_weight or ""),
                        "ehs": c.ehs,
                    }
                    for c in material.components.all()
                ],
            }
            for material in record.materials.all()
        ]
    return data


# -- the review page ---------------------------------------------------------------------------


class ElementReviewView(AgencyElementsMixin, TemplateView):
    """One submitted element: what was submitted, by whom, its guidance messages (the
    Warnings and Advisories it was submitted with, checked again now), what changed since the
    previous submittal, the regulator's actions so far, and (for reviewers) the review
    form."""

    template_name = "submittals/regulator_review.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.record = None

    def get_record(self) -> SubmittalElementRecord:
        return self.get_object(
            self.get_queryset()
            .select_related(
                "facility__organization",
                "facility_submittal__submitted_by",
                "submitted_by",
                "regulator",
                "action_by",
            )
            .prefetch_related(inventory.materials_prefetch())
        )

    def can_review(self, record) -> bool:
        return self.reviewable().filter(pk=record.pk).exists()

    def previous_element(self, record):
        """The facility's previous submitted element of the same type, within the agency's
        scope (an element routed elsewhere is not this agency's to read)."""
        earlier = Q(submitted_at__lt=record.submitted_at) | Q(
            submitted_at=record.submitted_at, pk__lt=record.pk
        )
        return (
            self.get_queryset()
            .filter(Q(facility_id=record.facility_id) & Q(element=record.element) & earlier)
            .order_by("-submitted_at", "-pk")
            .first()
        )

    def actions(self, record) -> list[dict]:
        """The regulator actions recorded on the element, oldest first (from the audit
        trail, which keeps every action; the record holds only the latest)."""
        events = (
            AuditEvent.objects.filter(
                action="submittal.reviewed",
                object_type=record._meta.label_lower,
                object_id=str(record.pk),
            )
            .select_related("actor")
            .order_by("created_at", "id")
        )
        labels = dict(ElementStatus.choices)
        return [
            {
                "at": event.created_at,
                "by": event.actor,
                "status": labels.get((event.after or {}).get("status"), ""),
                "comments": (event.after or {}).get("comments", ""),
            }
            for event in events
        ]

    def get(self, request, *args, **kwargs):
        self.record = self.get_record()
        form = None
        if self.can_review(self.record):
            form = ReviewForm(initial={"seen": services.review_seen(self.record)})
        return self.render_to_response(self.get_context_data(form=form))

    def post(self, request, *args, **kwargs):
        self.record = self.get_record()
        if not self.can_review(self.record):
            raise PermissionDenied("Your role at this agency does not allow reviewing.")
        form = ReviewForm(request.POST)
        if form.is_valid():
            try:
                services.review(
                    actor=request.user,
                    record=self.record,
                    status=form.cleaned_data["status"],
                    comments=form.cleaned_data["comments"],
                    seen=form.cleaned_data["seen"] or None,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(
                    request,
                    f"{self.record.get_element_display()} of CERS ID "
                    f"{self.record.facility.cers_id} marked "
                    f"{ElementStatus(form.cleaned_data['status']).label}.",
                )
                return redirect("regulator:review", pk=self.record.pk)
        return self.render_to_response(self.get_context_data(form=form))

    def get_context_data(self, **kwargs):
        record = self.record
        previous = self.previous_element(record)
        return super().get_context_data(
            record=record,
            submittal=record.facility_submittal,
            regulator=self.regulator,
            data_rows=data_rows(record),
            previous=previous,
            changes=(
                changes_between(comparable(previous), comparable(record), record.element)
                if previous
                else []
            ),
            actions=self.actions(record),
            validation=by_level(submitted_with(record)),
            **kwargs,
        )


class SubmittalPdfView(AgencyScopedMixin, View):
    """GET: a submitted facility submittal as a PDF, with the elements routed to the agency
    the user works for (every element for the state agency); 404 for a submittal with none."""

    http_method_names = ["get"]
    model = FacilitySubmittal
    not_found_message = "No such submittal for this agency."

    def get(self, request, *args, **kwargs):
        submittal = self.get_object(
            self.get_queryset().select_related("facility__organization", "submitted_by")
        )
        records = list(
            self.scoped(SubmittalElementRecord)
            .filter(facility_submittal=submittal)
            .select_related("regulator")
            .prefetch_related(inventory.materials_prefetch())
            .order_by("element")
        )
        return printing.pdf_response(
            printing.plan_pdf(submittal, records),
            f"cers-{submittal.facility.cers_id}-submittal-{submittal.pk}.pdf",
        )
