"""Query expressions Django lacks.

``KeyText("data", "218")``: the text of one key of a JSON column's object. Django's ``KT``
(``data__218``) reads a key made of digits as an array index, and the elements' data are keyed
by data-dictionary numbers ("218"); this reads it as the key it is: ``->>`` on PostgreSQL,
on SQLite ``json_extract`` for a string and ``->`` (the value's JSON text) for anything else,
so a number comes as its text on both (``json_extract`` would give a number, and a float for
an integer past 2**63: 1e+20). SQLite before 3.38, which has no ``->``, gives the number's
value as text (the same, but past 2**63). A key with a double quote or a backslash, which
SQLite's paths cannot name, is refused.

``KeyIs("data", "5", "Y")``: whether one key of a JSON column's object holds that text, for a
filter. On PostgreSQL it is written as containment (``data @> '{"5": "Y"}'``), which a GIN
index of the column answers (``jsonb_path_ops``), where ``->>`` would need an index per key;
elsewhere it is ``KeyText`` compared with the text.
"""

from __future__ import annotations

import json

from django.db.models import BooleanField, F, Func, TextField


class KeyText(Func):
    output_field = TextField()

    def __init__(self, column: str, key: str):
        if '"' in key or "\\" in key:
            raise ValueError(f"KeyText cannot name the key {key!r}.")
        super().__init__(F(column))
        self.key = key

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        path = f'$."{self.key}"'
        if connection.Database.sqlite_version_info >= (3, 38):
            other = f"({sql} -> %s)"
        else:  # no -> before SQLite 3.38: the value as text (past 2**63, a float's text)
            other = f"CAST(json_extract({sql}, %s) AS TEXT)"
        return (
            f"(CASE json_type({sql}, %s) WHEN 'text' THEN json_extract({sql}, %s) "
            f"WHEN 'null' THEN NULL ELSE {other} END)",
            (*params, path, *params, path, *params, path),
        )

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} ->> %s)", (*params, self.key)


class KeyIs(Func):
    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, key: str, text: str):
        if '"' in key or "\\" in key:
            raise ValueError(f"KeyIs cannot name the key {key!r}.")
        super().__init__(F(column))
        self.key, self.text = key, text

    def as_sql(self, compiler, connection, **extra):
        key_text = KeyText("_", self.key)
        key_text.set_source_expressions(self.get_source_expressions())
        sql, params = key_text.as_sql(compiler, connection)
        return f"({sql} = %s)", (*params, self.text)

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} @> %s::jsonb)", (*params, json.dumps({self.key: self.text}))
