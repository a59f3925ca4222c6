from django.apps import AppConfig


class SubmittalsConfig(AppConfig):
    name = "submittals"
    verbose_name = "Submittals"
