"""Small helpers shared by the organization page tests."""

from django.contrib.messages import get_messages

from organizations.roles import ALL_PERMISSIONS, ROLE_PERMISSIONS


def page_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def permissions_of(user, organization) -> set[str]:
    """The organization permissions ``user`` holds, asked one by one through ``has_perm``."""
    user = type(user).objects.get(pk=user.pk)  # no permission cache from earlier checks
    return {
        codename
        for codename in ALL_PERMISSIONS
        if user.has_perm(f"organizations.{codename}", organization)
    }


def role_permissions(role: str) -> set[str]:
    return set(ROLE_PERMISSIONS[role])
