"""What every app's forms share."""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.core.exceptions import ValidationError

from .keys import fits
from .xmlsafe import control_character


def text_xml_can_carry(value: str) -> None:
    """Refuse a text holding a character XML 1.0 cannot carry (``core.xmlsafe.control_character``;
    NUL is refused by Django's own validator): the one rule for text typed into any form of
    the site, set on every ``forms.CharField`` (``CoreConfig.ready``)."""
    if "\x00" in value:
        return
    problem = control_character(value)
    if problem is not None:
        raise ValidationError(problem, code="control_character")


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


class ModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    """Django's field, answering a number its key column cannot hold as it answers any other
    key of no row (``invalid_choice``, the field's own message) instead of passing it to the
    database in ``key IN (...)``. Every form choosing several rows uses this one
    (``tests/core/test_out_of_range_numbers.py`` checks)."""

    def _check_values(self, value):
        opts = self.queryset.model._meta
        key = opts.pk if not self.to_field_name else opts.get_field(self.to_field_name)
        for item in value or ():
            try:
                number = int(str(item).strip())
            except ValueError:
                continue  # not a number: Django's own checks answer it
            if not fits(number, key):
                raise ValidationError(
                    self.error_messages["invalid_choice"],
                    code="invalid_choice",
                    params={"value": item},
                )
        return super()._check_values(value)
