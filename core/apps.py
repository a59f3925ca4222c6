from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        """A saved or deleted object permission empties the request's cache of grants; the
        ``__any`` lookup is registered; every form's text field refuses characters XML
        cannot carry (``core.forms.text_xml_can_carry``)."""
        from django import forms

        from . import lookups  # noqa: F401 - registers ``__any``
        from .forms import text_xml_can_carry
        from .scoping import connect_permission_signals

        connect_permission_signals()
        if text_xml_can_carry not in forms.CharField.default_validators:
            forms.CharField.default_validators = [
                *forms.CharField.default_validators,
                text_xml_can_carry,
            ]
