from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Pages that combine several apps (the regulator's home and dashboard, the organizations
    in an agency's jurisdiction). They sit above the apps they read, so those apps never
    import each other to draw one page."""

    name = "portal"
    verbose_name = "Portal pages"
