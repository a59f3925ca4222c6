"""Authentication for the portals."""

from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .agreements import accepted_annotations


class PortalBackend(ModelBackend):
    """Portal sign-in: active users only, and never an EDT service account."""

    def user_can_authenticate(self, user) -> bool:
        return super().user_can_authenticate(user) and not getattr(
            user, "is_service_account", False
        )

    def get_user(self, user_id):
        """The session's user, read with whether they accepted the current version of each
        portal's user agreement (``accounts.agreements``): the portal pages ask it of every
        request, and so ask nothing more of the database."""
        user = (
            get_user_model()
            ._default_manager.annotate(**accepted_annotations())
            .filter(pk=user_id)
            .first()
        )
        return user if user is not None and self.user_can_authenticate(user) else None

    async def aget_user(self, user_id):
        return await sync_to_async(self.get_user)(user_id)
