"""Hooks: the apps above fill in what the apps below ask (``core.hooks``)."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from core.hooks import Hook
from facilities import hooks as facility_hooks
from libraries import hooks as library_hooks
from organizations import hooks as organization_hooks
from submittals import hooks as submittal_hooks
from submittals.querysets import overdue_facilities


def test_a_function_registered_twice_is_called_once():
    calls = []
    hook = Hook("example", "An example.")

    def record(value):
        calls.append(value)

    hook.register(record)
    hook.register(record)
    for function in hook:
        function(1)
    assert calls == [1]
    assert len(hook) == 1


def test_the_apps_above_register_into_the_hooks_below_when_django_starts():
    assert submittal_hooks.refuse_merge_while_drafting in list(facility_hooks.merge_refusals)
    assert submittal_hooks.move_submittals_on_merge in list(facility_hooks.merge_moves)
    assert overdue_facilities in list(facility_hooks.overdue_facilities)
    assert submittal_hooks.chemical_picked_by_inventories in list(library_hooks.chemical_picked)
    assert len(organization_hooks.regulated_by) == 1


def test_the_overdue_filter_refuses_to_answer_when_no_app_registered_one(monkeypatch):
    monkeypatch.setattr(facility_hooks, "overdue_facilities", Hook("overdue_facilities", ""))
    with pytest.raises(ImproperlyConfigured):
        facility_hooks.narrow_to_overdue(None)
