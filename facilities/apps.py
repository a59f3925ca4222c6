from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "Facilities"

    def ready(self):
        """Register the access rules (``rules.py``), and tell the organizations, which stand
        below facilities, that regulators see an organization through the facilities they
        regulate."""
        from organizations import hooks as organization_hooks

        from . import rules  # noqa: F401  (registers the access rules)
        from .querysets import organizations_regulated_by

        organization_hooks.regulated_by.register(organizations_regulated_by)
