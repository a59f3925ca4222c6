from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "organizations"
    verbose_name = "Organizations"

    def ready(self):
        from . import rules  # noqa: F401  (registers the access rules)
