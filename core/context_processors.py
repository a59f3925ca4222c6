"""Template context: which portal a page belongs to and the user's organizations/agencies.

Reads only what the portal mixins already loaded on the request: no queries here.
"""


def portal(request):
    return {
        "portal": getattr(request, "cers_portal", None),
        "portal_memberships": getattr(request, "cers_memberships", ()),
        "portal_membership": getattr(request, "cers_membership", None),
        "portal_staff_memberships": getattr(request, "cers_staff_memberships", ()),
        "portal_staff": getattr(request, "cers_staff", None),
    }
