from django.apps import AppConfig


class CmeConfig(AppConfig):
    name = "cme"
    verbose_name = "Compliance monitoring and enforcement"

    def ready(self):
        from . import rules  # noqa: F401  (registers the access rules)
