"""Authentication for the portals."""

from django.contrib.auth.backends import ModelBackend


class PortalBackend(ModelBackend):
    """Portal sign-in: active users only, and never an EDT service account."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(
            user, "is_service_account", False
        )
