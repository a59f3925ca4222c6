"""Hooks the apps above organizations fill in (``core.hooks``): regulators see an
organization through its facilities, which stand above organizations."""

from core.hooks import Hook

regulated_by = Hook(
    "regulated_by",
    "``(agencies queryset) -> Q``: the organizations those agencies regulate something of, "
    "as a condition on an organization queryset; their staff see them "
    "(``OrganizationQuerySet.for_user``). Facilities register their jurisdiction.",
)
