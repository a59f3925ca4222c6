from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from core.hooks import portal_entry

        from .agreements import ask_for_agreement
        from .services import note_sign_in

        # One receiver keeps both times: Django's own would overwrite the last sign-in
        # before ours could keep it as the previous one.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(note_sign_in, dispatch_uid="accounts_note_sign_in")
        # Every page of either portal asks first whether its user agreement is accepted.
        portal_entry.register(ask_for_agreement)
