"""Hooks: how a lower app asks the apps above it, without importing them.

The apps stand in layers (``tests/test_layers.py``): a lower app never imports a higher one.
When a rule of a lower app depends on records a higher app keeps (a facility merge must move
the facility's submittals; a chemical picked by inventories keeps its CCL ID), the lower app
declares a ``Hook`` in its ``hooks.py`` and calls it where the rule applies, inside its own
service and transaction; the higher app registers its function from its
``AppConfig.ready``. Unlike a signal, the call is written in the service that owns the rule,
and its answer is used.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator


class Hook:
    """A named list of functions registered by higher apps, called in registration order."""

    def __init__(self, name: str, doc: str) -> None:
        self.name = name
        self.__doc__ = doc
        self._functions: list[Callable] = []

    def register(self, function: Callable) -> Callable:
        """Add ``function`` (once: ``AppConfig.ready`` may run again in tests)."""
        if function not in self._functions:
            self._functions.append(function)
        return function

    def __iter__(self) -> Iterator[Callable]:
        return iter(tuple(self._functions))

    def __len__(self) -> int:
        return len(self._functions)

    def __repr__(self) -> str:
        return f"<Hook {self.name}: {len(self)} registered>"


portal_entry = Hook(
    "portal_entry",
    "``(request, portal) -> HttpResponse | None``: what a signed-in person gets in place of a "
    'page of the portal (``portal``: "business" or "regulator"), or ``None`` to let them in. '
    "Asked by the portal mixins of ``core.views`` before the page does anything; "
    "``accounts`` sends a person who has not accepted the portal's user agreement to it.",
)
