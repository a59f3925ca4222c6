"""Audit events as people read them: the event's name and what it changed, in words.

The codes an event is stored with (``cme.inspection.updated``, ``inspection_type: "a"``,
``tiers: ["production"]``) are for programs; every page that shows a history prints them
through these, so no internal string reaches a reader. Field names and codes come from the
model the event is about (its verbose names and choices), so a label has one home: the
model.
"""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist


def event_label(action: str) -> str:
    """``edt.access_requested`` -> "Access requested"; ``cme.inspection.updated`` ->
    "Inspection updated": the app's prefix dropped, the words kept (event codes are chosen as
    English words)."""
    words = action.split(".", 1)[-1].replace(".", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _model(object_type: str):
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def _field(model, key: str):
    if model is None:
        return None
    try:
        return model._meta.get_field(key)
    except FieldDoesNotExist:
        return None


def field_label(model, key: str) -> str:
    field = _field(model, key)
    words = str(field.verbose_name) if field is not None else key.replace("_", " ")
    return words[:1].upper() + words[1:]


def value_text(value, field=None) -> str | None:
    """A recorded value in words: a code as its choice's label, a list as its items joined,
    yes and no for booleans. None stays None (the page says "(removed)" or nothing)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list | tuple):
        return ", ".join(value_text(item, field) or "" for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{key.replace('_', ' ')}: {value_text(v)}" for key, v in value.items())
    choices = dict(getattr(field, "flatchoices", None) or ())
    if choices:
        label = choices.get(value, choices.get(str(value)))
        if label is not None:
            return str(label)
    return str(value)


def changes(event) -> list[tuple[str, str | None, str | None]]:
    """(field label, before, after) in words, for each value the event changed; an event
    without a ``before`` (a creation) lists what it recorded."""
    before, after = event.before or {}, event.after or {}
    model = _model(event.object_type)
    rows = []
    for key in dict.fromkeys([*before, *after]):
        if before.get(key) == after.get(key):
            continue
        field = _field(model, key)
        rows.append(
            (
                field_label(model, key),
                value_text(before.get(key), field),
                value_text(after.get(key), field),
            )
        )
    return rows
