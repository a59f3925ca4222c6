"""Who may manage an organization's people (``core.access``).

Business roles act per organization, through django-guardian object permissions
(``organizations.roles``): the Lead Users invite people, change roles, remove members and answer
requests to join (``organizations.manage_people``), and correct the organization's name and
headquarters (``organizations.edit``). Leaving an organization is every member's
own choice, which ``organizations.services.remove_member`` allows before asking this rule.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from core.access import rule

from .models import Organization
from .roles import MANAGE_USERS


@rule("organizations.manage_people", Organization)
def may_manage_people(actor, organization: Organization) -> bool:
    """Invite, change roles, remove members, answer requests to join: the Lead Users."""
    if actor is None or not actor.has_perm(f"organizations.{MANAGE_USERS}", organization):
        raise PermissionDenied("Only the organization's Lead Users manage its people.")
    return True


@rule("organizations.edit", Organization)
def may_edit(actor, organization: Organization) -> bool:
    """Correct the organization's name and headquarters: the Lead Users."""
    if actor is None or not actor.has_perm(f"organizations.{MANAGE_USERS}", organization):
        raise PermissionDenied(
            "Only the organization's Lead Users change its name and headquarters."
        )
    return True
