"""Template tags of the site's layout: navigation links that know the current page."""

from __future__ import annotations

from django import template
from django.forms.widgets import ChoiceWidget
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from core import events

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_link(context, url_name: str, label: str, section: bool = True):
    """A navigation link, marked ``aria-current="page"`` on its own page and
    ``aria-current="true"`` anywhere below it (a facility's page under Facilities;
    ``section=False`` for a portal's home, which everything is below), so the current place
    is said to screen readers and shown by the style, from one comparison."""
    url = reverse(url_name)
    request = context.get("request")
    current = ""
    if request is not None:
        match = getattr(request, "resolver_match", None)
        if match is not None and match.view_name == url_name:
            current = "page"
        elif section and request.path.startswith(url):
            current = "true"
    if current:
        return format_html('<a href="{}" aria-current="{}">{}</a>', url, current, label)
    return format_html('<a href="{}">{}</a>', url, label)


@register.filter
def event_label(action: str) -> str:
    """An audit event's name in words (core.events)."""
    return events.event_label(action)


@register.filter
def event_changes(event) -> list:
    """What an audit event changed, in words: (label, before, after) (core.events)."""
    return events.changes(event)


@register.filter
def person(user, empty: str = "—") -> str:
    """A user as people read them: the full name, else the e-mail address; ``empty`` when there
    is nobody (a deleted account leaves its submittals with no submitter)."""
    if user is None:
        return empty
    return user.get_full_name() or user.email or empty


@register.filter
def error_target(field) -> str:
    """The id a form's error summary links a field's error to: the field's own input, or for a
    group of radio buttons or checkboxes (whose label names no single input, so Django gives
    no ``id_for_label``) its first button. Empty where the page shows no input to go to."""
    if field.is_hidden or not field.auto_id:
        return ""
    if field.id_for_label:
        return field.id_for_label
    if isinstance(field.field.widget, ChoiceWidget):
        buttons = field.subwidgets
        return buttons[0].id_for_label if buttons else ""
    return ""


@register.filter
def summary_error(error, field) -> str:
    """A field's error as the error summary says it: after the field's label (shortened),
    unless the message already starts with it (the inventory's "Common name: required."), so a
    screen reader does not say the label twice."""
    label = str(field.label or "")
    if not label or str(error).startswith(f"{label}:"):
        return str(error)
    return f"{Truncator(label).words(8, truncate=' …')}: {error}"
