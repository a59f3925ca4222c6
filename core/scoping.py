"""Who may see and do what: object permissions, read through django-guardian.

Business users act through their organizations (``organizations.roles``); regulator staff act
through their agencies (``regulators.roles``). Each of those apps maps its own vocabulary of
actions to permissions on its own model (``organizations.querysets.organization_ids``,
``regulators.querysets.agency_scope``), and both read the permissions through ``grants``
below, so every ``for_user`` queryset in the project decides in the same way. This module
knows no domain app: the apps depend on it, never the reverse.

A user's grants are read once, in one small query over every direct object-permission table
(guardian's ``UserObjectPermissionBase`` models with a foreign key to their object), and kept
for the rest of the request (``ScopeCacheMiddleware`` opens and closes the cache); each
``for_user`` then filters by plain lists of primary keys instead of re-reading guardian's
tables per row. Outside a request (a task, a shell, a test calling a queryset) every call reads
afresh. Saving or deleting a permission row empties the cache, so a service that grants a
role and reads again in the same request sees the grant.
"""

from __future__ import annotations

from contextvars import ContextVar

from django.apps import apps
from django.db.models import (
    BooleanField,
    Case,
    F,
    ForeignKey,
    Model,
    Q,
    Value,
    When,
)
from django.db.models.signals import post_delete, post_save
from guardian.models import UserObjectPermissionBase

from .hooks import Hook

# The cache of the request being served: user pk -> Grants; None outside a request.
_cache: ContextVar[dict[int, Grants] | None] = ContextVar("scoping_grants", default=None)

# Model -> lookups on it whose truth each grant on that model carries (``flag_grants``).
_flags: dict[type[Model], dict] = {}


def may_hold_grants(user) -> bool:
    """Whether any object permission of ``user`` counts: not for an anonymous or inactive
    user, nor for an EDT service account (which acts only through the EDT services). Nobody
    gets a shortcut either: a superuser, a global or a group permission grants nothing, as
    ``grants`` reads only the permissions granted to the user directly on an object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return not getattr(user, "is_service_account", False)


def flag_grants(model: type[Model], **lookups) -> None:
    """Have every grant on ``model`` carry whether its object matches ``lookups`` (the
    regulators: whether the agency is the statewide one), read in the same query."""
    _flags[model] = lookups


class Grants:
    """The object permissions a user holds directly: for each model and codename, the primary
    keys of the objects and, for each, whether it matches the model's ``flag_grants``."""

    def __init__(self, rows=()) -> None:
        self._rows: dict[tuple[str, str], dict[int, bool]] = {}
        for label, codename, pk, flag in rows:
            self._rows.setdefault((label, codename), {})[pk] = bool(flag)

    def pks(self, model: type[Model], codename: str) -> tuple[int, ...]:
        """The primary keys of the ``model`` objects on which the permission is held."""
        return tuple(sorted(self._rows.get((model._meta.label_lower, codename), ())))

    def flagged(self, model: type[Model], codename: str) -> tuple[int, ...]:
        """The primary keys of those objects that match the model's ``flag_grants``."""
        held = self._rows.get((model._meta.label_lower, codename), {})
        return tuple(sorted(pk for pk, flag in held.items() if flag))


def _permission_models() -> list[type[UserObjectPermissionBase]]:
    """The direct (foreign-key) user object permission models."""
    return [
        model
        for model in apps.get_models()
        if issubclass(model, UserObjectPermissionBase)
        and isinstance(model._meta.get_field("content_object"), ForeignKey)
    ]


def _read_grants(user) -> Grants:
    """Every direct object permission of ``user``, in one query (a UNION ALL over the
    permission tables)."""
    parts = []
    for model in _permission_models():
        target = model._meta.get_field("content_object").related_model
        lookups = _flags.get(target)
        flag = (
            Case(
                When(Q(**{f"content_object__{k}": v for k, v in lookups.items()}), then=True),
                default=False,
                output_field=BooleanField(),
            )
            if lookups
            else Value(False, output_field=BooleanField())
        )
        parts.append(
            model.objects.filter(
                user_id=user.pk,
                permission__content_type__app_label=target._meta.app_label,
                permission__content_type__model=target._meta.model_name,
            )
            .order_by()
            .annotate(
                grant_model=Value(target._meta.label_lower),
                grant_codename=F("permission__codename"),
                grant_pk=F("content_object_id"),
                grant_flag=flag,
            )
            .values_list("grant_model", "grant_codename", "grant_pk", "grant_flag")
        )
    if not parts:
        return Grants()
    query = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return Grants(query)


def grants(user) -> Grants:
    """``user``'s direct object permissions: read in one query, once per request (afresh on
    every call outside one). Nothing, without a query, for whoever ``may_hold_grants`` not."""
    if not may_hold_grants(user):
        return Grants()
    cache = _cache.get()
    if cache is None:
        return _read_grants(user)
    if user.pk not in cache:
        cache[user.pk] = _read_grants(user)
    return cache[user.pk]


def open_grants_cache():
    """Start keeping grants for the request being served; returns the token that
    ``close_grants_cache`` takes."""
    return _cache.set({})


def close_grants_cache(token) -> None:
    """Forget the request's grants: the next request reads them afresh."""
    _cache.reset(token)


def forget_grants(**kwargs) -> None:
    """Empty the request's cache (a permission row was saved or deleted)."""
    cache = _cache.get()
    if cache is not None:
        cache.clear()


def connect_permission_signals() -> None:
    """Empty the cache whenever a user object permission row (direct or generic) is saved or
    deleted. Connected per permission model, so other models keep their fast deletes."""
    for model in apps.get_models():
        if issubclass(model, UserObjectPermissionBase):
            post_save.connect(forget_grants, sender=model, dispatch_uid=f"grants-{model}-save")
            post_delete.connect(forget_grants, sender=model, dispatch_uid=f"grants-{model}-del")


acting_through = Hook(
    "acting_through",
    "Whether ``user`` holds the staff permission for ``action`` at ``regulator``: "
    "``function(user, action, regulator) -> bool``. The regulators app answers (core knows "
    "no agency); no answer means no.",
)


def acts_through(user, action: str, regulator) -> bool:
    """Whether ``user`` acts for ``regulator`` with ``action`` (``acting_through``)."""
    return any(answer(user, action, regulator) for answer in acting_through)
