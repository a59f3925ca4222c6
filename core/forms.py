"""What every app's forms share."""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError


def add_service_errors(form, error: ValidationError, aliases: Mapping[str, str] | None = None):
    """Show a service's ``ValidationError`` on ``form``: each message beside the field it names
    when the form has that field, above the form otherwise (a service also checks things no
    field holds, such as a duplicate address naming the facility it collides with).

    ``aliases`` maps the service's field names to the form's where they differ (a service says
    ``violation_type``, the form's field is ``type_number``). Services raise; views call this,
    so a form shows the same message the EDT services and the tests see."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for name, messages in error.message_dict.items():
        name = (aliases or {}).get(name, name)
        form.add_error(name if name in form.fields else None, messages)
