"""Who may see and do what: object permissions, read through django-guardian.

Business users act through their organizations (``organizations.roles``); regulator staff act
through their agencies (``regulators.roles``). Each of those apps maps its own vocabulary of
actions to permissions on its own model (``organizations.querysets.organizations_with``,
``regulators.querysets.regulators_with``), and both read the permissions through
``objects_with_permission`` below, so every ``for_user`` queryset in the project decides in
the same way. This module knows no domain app: the apps depend on it, never the reverse.
"""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user


def objects_with_permission(user, perm: str, queryset: QuerySet) -> QuerySet:
    """The rows of ``queryset`` on which ``user`` holds the object permission ``perm``
    (``app_label.codename``), granted to the user directly.

    Nobody gets a shortcut: a superuser, a global or a group permission grants nothing here,
    and an anonymous or inactive user or an EDT service account (which acts only through the
    EDT services) gets nothing.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return queryset.none()
    if getattr(user, "is_service_account", False):
        return queryset.none()
    return get_objects_for_user(
        user,
        perm,
        klass=queryset,
        use_groups=False,
        with_superuser=False,
        accept_global_perms=False,
    )
