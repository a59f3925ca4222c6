from django.apps import AppConfig


class RegulatorsConfig(AppConfig):
    name = "regulators"
    verbose_name = "Regulators"

    def ready(self):
        """Register the access rules, and have every grant on an agency carry whether it is
        the state agency (``core.scoping.grants``), so that statewide scopes are decided
        without another query."""
        from core.scoping import acting_through, flag_grants

        from . import rules  # noqa: F401  (registers the access rules)
        from .models import Regulator
        from .querysets import acts_for_agency

        flag_grants(Regulator, kind=Regulator.Kind.STATE)
        acting_through.register(acts_for_agency)
