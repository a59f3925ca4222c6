"""Who may see and do what: one vocabulary of actions, mapped to object permissions.

Business users act through their organizations (``organizations.roles``); regulator staff act
through their agencies (``regulators.roles``). Every ``for_user(user, action)`` queryset in the
project is built from the two functions below, so access is decided in one place.
"""

from __future__ import annotations

from django.db.models import QuerySet
from guardian.shortcuts import get_objects_for_user

# action -> permission codename on Organization (business side)
ORGANIZATION_ACTIONS: dict[str, str] = {
    "view": "view_organization",
    "edit": "edit_drafts",
    "submit": "submit_submittals",
    "manage": "manage_facilities",
    "manage_users": "manage_users",
}

# action -> permission codename on Regulator (regulator side)
REGULATOR_ACTIONS: dict[str, str] = {
    "view": "view_regulator",
    "review": "review_submittals",
    "cme": "record_cme",
    "manage": "manage_facilities",
    "manage_staff": "manage_staff",
    "edt": "manage_edt",
}


def _objects_for(user, perm: str, queryset: QuerySet) -> QuerySet:
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


def organizations_with(user, action: str) -> QuerySet:
    """Organizations on which the user holds the business permission for ``action``.

    An action that has no business meaning gives an empty queryset.
    """
    from organizations.models import Organization

    codename = ORGANIZATION_ACTIONS.get(action)
    if codename is None:
        return Organization.objects.none()
    return _objects_for(user, f"organizations.{codename}", Organization.objects.all())


def regulators_with(user, action: str) -> QuerySet:
    """Regulator agencies on which the user holds the staff permission for ``action``."""
    from regulators.models import Regulator

    codename = REGULATOR_ACTIONS.get(action)
    if codename is None:
        return Regulator.objects.none()
    return _objects_for(user, f"regulators.{codename}", Regulator.objects.all())
