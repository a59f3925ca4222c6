"""The regulator staff roles, each a named bundle of object permissions on a Regulator.

The only place that says what a staff role may do; ``regulators.services`` grants and revokes
exactly these permissions with the membership.
"""

from django.db import models


class StaffRole(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    REVIEWER = "reviewer", "Reviewer / inspector"
    ADMINISTRATOR = "administrator", "Administrator"
    EDT_ADMINISTRATOR = "edt_administrator", "EDT administrator"


VIEW = "view_regulator"
REVIEW = "review_submittals"
CME = "record_cme"
MANAGE_FACILITIES = "manage_facilities"
MANAGE_STAFF = "manage_staff"
EDT = "manage_edt"

STAFF_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    StaffRole.VIEWER: frozenset({VIEW}),
    StaffRole.REVIEWER: frozenset({VIEW, REVIEW, CME}),
    StaffRole.ADMINISTRATOR: frozenset({VIEW, REVIEW, CME, MANAGE_FACILITIES, MANAGE_STAFF}),
    StaffRole.EDT_ADMINISTRATOR: frozenset({VIEW, EDT}),
}

ALL_PERMISSIONS: frozenset[str] = frozenset().union(*STAFF_ROLE_PERMISSIONS.values())

# The state administrator is an administrator of the state agency: the one holding this
# permission there (``regulators.querysets.is_state_administrator``).
STATE_ADMINISTRATOR_PERMISSION = MANAGE_FACILITIES

# The permissions of the roles that administer an agency's EDT access.
EDT_ADMINISTRATION_PERMISSIONS = frozenset({MANAGE_STAFF, EDT})


def role_grants(role: str, codename: str) -> bool:
    """Whether the staff role ``role`` carries the permission ``codename``."""
    return codename in STAFF_ROLE_PERMISSIONS.get(role, frozenset())


# The actions of ``for_user(user, action)`` that have a meaning for regulator staff, and the
# permission on the agency each one needs. An action missing here grants nothing to staff.
ACTION_PERMISSIONS: dict[str, str] = {
    "view": VIEW,
    "review": REVIEW,
    "cme": CME,
    "manage": MANAGE_FACILITIES,
    "manage_staff": MANAGE_STAFF,
    "edt": EDT,
}
