from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.models import update_last_login
        from django.contrib.auth.signals import user_logged_in

        from .services import note_sign_in

        # One receiver keeps both times: Django's own would overwrite the last sign-in
        # before ours could keep it as the previous one.
        user_logged_in.disconnect(update_last_login, dispatch_uid="update_last_login")
        user_logged_in.connect(note_sign_in, dispatch_uid="accounts_note_sign_in")
