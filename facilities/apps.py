from django.apps import AppConfig


class FacilitiesConfig(AppConfig):
    name = "facilities"
    verbose_name = "Facilities"

    def ready(self):
        """Regulators see an organization through the facilities they regulate: register
        that with the organizations, which stand below facilities."""
        from organizations import hooks as organization_hooks

        from .querysets import organizations_regulated_by

        organization_hooks.regulated_by.register(organizations_regulated_by)
