"""The pieces every app's forms and services share: a service's errors shown on a form, and the
values an audit event records and how many are written at once."""

from __future__ import annotations

import datetime

import pytest
from django import forms
from django.core.exceptions import ValidationError

from core.forms import add_service_errors
from core.services import as_text, audit_value, snapshot


class PlaceForm(forms.Form):
    name = forms.CharField(required=False)
    type_number = forms.CharField(required=False)


def bound() -> PlaceForm:
    form = PlaceForm(data={})
    assert form.is_valid()
    return form


def test_a_service_error_on_a_field_of_the_form_shows_beside_it():
    form = bound()
    add_service_errors(form, ValidationError({"name": ["Name is taken."], "city": ["No city."]}))
    assert form.errors["name"] == ["Name is taken."]
    assert form.non_field_errors() == ["No city."]  # the form has no such field


def test_aliases_map_a_services_field_names_to_the_forms():
    form = bound()
    error = ValidationError({"violation_type": ["Unknown type."]})
    add_service_errors(form, error, {"violation_type": "type_number"})
    assert form.errors["type_number"] == ["Unknown type."]


def test_an_error_without_fields_shows_above_the_form():
    form = bound()
    add_service_errors(form, ValidationError(["First.", "Second."]))
    assert form.non_field_errors() == ["First.", "Second."]


class Thing:
    name = "Depot"
    on = datetime.date(2026, 1, 2)
    at = datetime.datetime(2026, 1, 2, 3, 4, tzinfo=datetime.UTC)
    count = 3


def test_a_snapshot_keeps_json_ready_values():
    assert snapshot(Thing(), ["name", "on", "at", "count"]) == {
        "name": "Depot",
        "on": "2026-01-02",
        "at": "2026-01-02T03:04:00+00:00",
        "count": 3,
    }
    assert audit_value(None) is None


def test_as_text_strips_unless_told_not_to():
    assert as_text(None) == ""
    assert as_text("  a  ") == "a"
    assert as_text(12) == "12"
    assert as_text("  keep\n", strip=False) == "  keep\n"


@pytest.mark.parametrize("count", [2, 150])
def test_audit_events_written_together_are_those_written_one_by_one(cast, count):
    """Many at once (150: COPY on PostgreSQL) or a few, the rows are those ``record_event``
    writes one at a time: JSON as the field stores it, SQL NULL for None."""
    from django.db import transaction

    from core.models import AuditEvent
    from core.services import audit_event, record_event, record_events

    values = [
        None,
        {},
        {"status": 2, "comments": 'tab\t quote" back\\slash caf\u00e9 \\N', "n": [1.5, None]},
        "text",
    ]

    def fields(n: int) -> dict:
        return {
            "before": values[n % len(values)],
            "after": values[(n + 1) % len(values)],
            "organization": cast.org,
            "regulator": cast.cupa if n % 2 else None,
        }

    with transaction.atomic():
        record_events(
            [
                audit_event(cast.lead, "test.written", cast.facility, **fields(n))
                for n in range(count)
            ]
        )
        for n in range(count):
            record_event(cast.lead, "test.written", cast.facility, **fields(n))
    columns = [
        field.attname
        for field in AuditEvent._meta.concrete_fields
        if field.attname not in ("id", "created_at")
    ]
    rows = list(
        AuditEvent.objects.filter(action="test.written").order_by("id").values_list(*columns)
    )
    assert rows[:count] == rows[count:]
    nulls = sum(fields(n)["before"] is None for n in range(count))
    assert (
        AuditEvent.objects.filter(action="test.written", before__isnull=True).count() == 2 * nulls
    )


def test_an_event_about_a_lazy_object_names_the_object_it_stands_for(cast):
    """A view hands its services ``request.user``, a lazy object: the event names the user."""
    from django.utils.functional import SimpleLazyObject

    from core.services import audit_event

    event = audit_event(cast.lead, "test.lazy", SimpleLazyObject(lambda: cast.lead))
    assert (event.object_type, event.object_id, event.object_repr) == (
        cast.lead._meta.label_lower,
        str(cast.lead.pk),
        str(cast.lead),
    )
