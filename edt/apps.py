from django.apps import AppConfig


class EdtConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "edt"
    verbose_name = "EDT access and services"

    def ready(self):
        from . import checks  # noqa: F401 (registers the schema files' system check)
        from .api.registry import load_endpoint_modules

        load_endpoint_modules()

        from . import rules

        rules.register()

        from accounts.hooks import email_changed

        from .access.services import follow_account_address

        email_changed.register(follow_account_address)
