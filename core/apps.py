from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        """A saved or deleted object permission empties the request's cache of grants; the
        ``__any`` lookup is registered."""
        from . import lookups  # noqa: F401 - registers ``__any``
        from .scoping import connect_permission_signals

        connect_permission_signals()
