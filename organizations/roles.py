"""The business roles: each one a named bundle of object permissions on an Organization.

This is the only place that says what a role may do. ``organizations.services`` grants and
revokes exactly these permissions when a membership's role changes.
"""

from django.db import models


class Role(models.TextChoices):
    VIEWER = "viewer", "Viewer"
    EDITOR = "editor", "Editor"
    APPROVER = "approver", "Approver"
    LEAD = "lead", "Lead User"


VIEW = "view_organization"
EDIT_DRAFTS = "edit_drafts"
SUBMIT = "submit_submittals"
MANAGE_FACILITIES = "manage_facilities"
MANAGE_USERS = "manage_users"

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({VIEW}),
    Role.EDITOR: frozenset({VIEW, EDIT_DRAFTS}),
    Role.APPROVER: frozenset({VIEW, EDIT_DRAFTS, SUBMIT}),
    Role.LEAD: frozenset({VIEW, EDIT_DRAFTS, SUBMIT, MANAGE_FACILITIES, MANAGE_USERS}),
}

ALL_PERMISSIONS: frozenset[str] = frozenset().union(*ROLE_PERMISSIONS.values())

# The actions of ``for_user(user, action)`` that have a business meaning, and the permission on
# the organization each one needs. An action missing here grants nothing on the business side.
ACTION_PERMISSIONS: dict[str, str] = {
    "view": VIEW,
    "edit": EDIT_DRAFTS,
    "submit": SUBMIT,
    "manage": MANAGE_FACILITIES,
    "manage_users": MANAGE_USERS,
}

ROLE_DESCRIPTIONS = {
    Role.VIEWER: "Sees the organization's facilities and submittals.",
    Role.EDITOR: "Also prepares and edits drafts.",
    Role.APPROVER: "Also submits and certifies submittals.",
    Role.LEAD: "Also adds facilities and manages the organization's people.",
}
