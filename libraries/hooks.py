"""Hooks the apps above the libraries fill in (``core.hooks``)."""

from core.hooks import Hook

chemical_picked = Hook(
    "chemical_picked",
    "``(chemical) -> bool``: whether any record picked the chemical by its CCL ID, which then "
    "cannot change. Submittals register their inventories.",
)
