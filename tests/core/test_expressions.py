"""``core.expressions.KeyText``: a key of a JSON object read as a key, digits included;
``KeyIs``: whether such a key holds a text, as a filter."""

from __future__ import annotations

import pytest

from core.expressions import KeyIs, KeyText
from core.models import AuditEvent


def keyed(cast, after: dict) -> None:
    """An event whose ``after`` is the JSON object the tests read keys of."""
    AuditEvent.objects.create(
        actor=cast.editor,
        action="test.keyed",
        object_type="organizations.organization",
        object_id="1",
        object_repr="Org",
        after=after,
    )


@pytest.mark.django_db
def test_a_key_of_digits_is_read_as_a_key_not_as_an_index(cast):
    keyed(
        cast,
        {
            "218": "-5.50",
            "0": "zero",
            "a key.with $ [0]": "named",
            "250": 102843,
            "251": 99999999999999999999,
            "252": None,
        },
    )
    events = AuditEvent.objects.filter(action="test.keyed")
    read = events.values_list(
        KeyText("after", "218"),
        KeyText("after", "0"),
        KeyText("after", "a key.with $ [0]"),
        KeyText("after", "250"),
        KeyText("after", "217"),
        KeyText("after", "251"),
        KeyText("after", "252"),
    ).get()
    # A number as its JSON text on every database (SQLite's ``json_extract`` would give a
    # number, and a float for an integer past 2**63).
    assert read == ("-5.50", "zero", "named", "102843", None, "99999999999999999999", None)


def test_a_key_no_sqlite_path_can_name_is_refused():
    for key in ('say "hi"', "back\\slash"):
        with pytest.raises(ValueError, match="cannot name"):
            KeyText("after", key)


@pytest.mark.django_db
def test_before_sqlite_338_a_number_still_comes_as_its_text(cast, monkeypatch):
    """SQLite before 3.38 has no ``->``: a number is read as its value's text, the same for
    any number but an integer past 2**63."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite versions' branch")
    monkeypatch.setattr(connection.Database, "sqlite_version_info", (3, 37, 2))
    keyed(cast, {"218": "-5.50", "250": 102843, "252": None})
    read = (
        AuditEvent.objects.filter(action="test.keyed")
        .values_list(KeyText("after", "218"), KeyText("after", "250"), KeyText("after", "252"))
        .get()
    )
    assert read == ("-5.50", "102843", None)


@pytest.mark.django_db
def test_key_is_filters_on_a_keys_text(cast):
    """A key of digits is a key (not an index), only that key's text matches, and a key
    missing or holding another value does not."""
    keyed(cast, {"5": "Y", "8": "N"})
    keyed(cast, {"5": "N", "50": "Y"})
    keyed(cast, {"8": "Y", "5": ["Y"]})
    events = AuditEvent.objects.filter(action="test.keyed")
    assert [event.after for event in events.filter(KeyIs("after", "5", "Y"))] == [
        {"5": "Y", "8": "N"}
    ]
    assert events.filter(KeyIs("after", "8", "Y")).count() == 1
    assert not events.filter(KeyIs("after", "0", "Y")).exists()
    with pytest.raises(ValueError, match="cannot name"):
        KeyIs("after", 'say "hi"', "Y")
