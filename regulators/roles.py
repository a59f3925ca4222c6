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
