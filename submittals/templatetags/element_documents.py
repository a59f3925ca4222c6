"""Template tags for the document slots on the element pages of both portals.

The element views are not changed to show documents: their templates include a partial that
asks for the slots here (``{% business_document_slots record can_edit as slots %}``).
"""

from django import template

from ..views.documents import slot_displays

register = template.Library()


@register.simple_tag
def business_document_slots(record, editable=False):
    """The element's document slots with answers and files; forms when ``editable``."""
    return slot_displays(record, editable=bool(editable))


@register.simple_tag
def regulator_document_slots(record):
    """The submitted element's document slots with answers and files (read only)."""
    return slot_displays(record, editable=False)
