from django.apps import AppConfig


class SubmittalsConfig(AppConfig):
    name = "submittals"
    verbose_name = "Submittals"

    def ready(self):
        from . import rules  # noqa: F401  (registers the access rules)
