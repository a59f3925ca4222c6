from django.apps import AppConfig


class RegulatorsConfig(AppConfig):
    name = "regulators"
    verbose_name = "Regulators"

    def ready(self):
        from . import rules  # noqa: F401  (registers the access rules)
