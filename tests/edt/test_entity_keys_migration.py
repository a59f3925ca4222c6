"""The migration that moves the entity keys from their JSON column to their own table keeps
every transaction's keys in their order, and gives them back when it is reversed."""

from __future__ import annotations

import uuid

import pytest

from tests.migrating import migrate, migrate_to_latest

BEFORE = [("edt", "0008_drop_duplicate_indexes")]
AFTER = [("edt", "0009_entity_keys_table")]
KEYS = [
    {"resource": "CMEI", "regulator_key": "I-1", "cers_unique_key": "a"},
    {"resource": "CMEV", "regulator_key": "", "cers_unique_key": "b"},
    {"resource": "CMEI", "cers_unique_key": "c"},  # written before the key was always there
]


@pytest.mark.django_db(transaction=True)
def test_the_keys_move_to_their_table_in_order_and_back():
    old = migrate(BEFORE)
    EdtTransaction = old.get_model("edt", "EdtTransaction")

    def row(keys):
        return EdtTransaction.objects.create(
            key=uuid.uuid4(),
            endpoint="RCMES",
            environment="production",
            status=2,
            entity_keys=keys,
        ).pk

    keyed, other, empty = row(KEYS), row(KEYS[:1]), row([])
    try:
        new = migrate(AFTER)
        EdtEntityKey = new.get_model("edt", "EdtEntityKey")
        rows = EdtEntityKey.objects.order_by("transaction_id", "position").values_list(
            "transaction_id", "position", "resource", "regulator_key", "cers_unique_key"
        )
        assert list(rows) == [
            (keyed, 0, "CMEI", "I-1", "a"),
            (keyed, 1, "CMEV", "", "b"),
            (keyed, 2, "CMEI", "", "c"),
            (other, 0, "CMEI", "I-1", "a"),
        ]

        old = migrate(BEFORE)
        EdtTransaction = old.get_model("edt", "EdtTransaction")
        back = dict(EdtTransaction.objects.values_list("pk", "entity_keys"))
        assert back[keyed] == [
            {**key, "regulator_key": key.get("regulator_key", "")} for key in KEYS
        ]
        assert (back[other], back[empty]) == (KEYS[:1], [])
    finally:
        migrate_to_latest()
