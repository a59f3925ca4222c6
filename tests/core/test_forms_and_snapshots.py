"""The pieces every app's forms and services share: a service's errors shown on a form, and the
values an audit event records."""

from __future__ import annotations

import datetime

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
