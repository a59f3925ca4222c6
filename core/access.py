"""Who may do what: every write asks one question, ``can(actor, action, obj)``.

An action is named ``"<app>.<verb>"`` (``"submittals.submit"``, ``"cme.record"``). Each app
states the rules of its own actions in its ``rules.py`` and registers them from its
``AppConfig.ready``, by action and by the class of the object acted on, so this module knows no
domain app and every rule has one home. A service calls ``require(actor, action, obj)`` first
thing inside its transaction; views and forms may ask ``can`` to show or hide a button, and get
the same answer the service will give.

The actor is a portal user (business roles through django-guardian object permissions on the
organization, regulator staff roles on the agency) or an EDT service account, which acts for
its agency: it may do what its agency's jurisdiction and granted tiers allow.
``acting_agency(actor, action)`` answers which agency that is, through the resolver the EDT
app registers (``edt.rules``), so a rule speaks of agencies, never of EDT accounts or tiers.

A rule returns True or False; to refuse with a reason worth showing (the CME upload and the
EDT processors list it with the record refused) it raises ``PermissionDenied`` itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied

Rule = Callable[[Any, Any], bool]
AgencyResolver = Callable[[Any, str], Any]

_RULES: dict[tuple[str, type], Rule] = {}
_agency_resolvers: list[AgencyResolver] = []

REFUSED = "You are not allowed to do this."


def rule(action: str, *models: type) -> Callable[[Rule], Rule]:
    """Decorator: ``function(actor, obj) -> bool`` decides ``action`` on objects of ``models``
    (and their subclasses). An action has one rule per class: registering a second is an
    error, so two apps cannot quietly disagree."""

    def register(function: Rule) -> Rule:
        for model in models:
            key = (action, model)
            if _RULES.get(key, function) is not function:
                raise ImproperlyRegistered(f"{action} on {model.__name__} already has a rule.")
            _RULES[key] = function
        return function

    return register


class ImproperlyRegistered(Exception):
    """Two rules for the same action and class, or an action nobody registered."""


def _rule_for(action: str, obj) -> Rule:
    for klass in type(obj).__mro__:
        found = _RULES.get((action, klass))
        if found is not None:
            return found
    raise ImproperlyRegistered(f"No rule decides {action} on {type(obj).__name__}.")


def can(actor, action: str, obj) -> bool:
    """Whether ``actor`` may do ``action`` to ``obj``."""
    decide = _rule_for(action, obj)
    try:
        return bool(decide(actor, obj))
    except PermissionDenied:
        return False


def require(actor, action: str, obj, message: str = REFUSED) -> None:
    """Refuse (``PermissionDenied``) unless ``actor`` may do ``action`` to ``obj``; the rule's
    own reason when it gives one, else ``message``."""
    if not _rule_for(action, obj)(actor, obj):
        raise PermissionDenied(message)


def register_agency_resolver(resolver: AgencyResolver) -> None:
    """Install ``resolver(actor, action) -> agency or None``, which names the agency a service
    account acts for when it holds the grant ``action`` needs (the EDT app's ready does)."""
    if resolver not in _agency_resolvers:
        _agency_resolvers.append(resolver)


def is_service_account(actor) -> bool:
    """An EDT account's user: it never holds a portal role, it acts for its agency."""
    return bool(getattr(actor, "is_service_account", False))


def acting_agency(actor, action: str):
    """The agency a service account may do ``action`` for (its own agency, when the agency
    holds the grant the action needs); None for a portal user, or when no grant allows it."""
    if not is_service_account(actor):
        return None
    for resolver in _agency_resolvers:
        agency = resolver(actor, action)
        if agency is not None:
            return agency
    return None
