"""Query expressions Django lacks.

``KeyText("data", "218")``: the text of one key of a JSON column's object. Django's ``KT``
(``data__218``) reads a key made of digits as an array index, and the elements' data are keyed
by data-dictionary numbers ("218"); this reads it as the key it is: ``->>`` on PostgreSQL,
on SQLite ``json_extract`` for a string and ``->`` (the value's JSON text) for anything else,
so a number comes as its text on both (``json_extract`` would give a number, and a float for
an integer past 2**63: 1e+20). SQLite before 3.38, which has no ``->``, gives the number's
value as text (the same, but past 2**63). A key with a double quote or a backslash, which
SQLite's paths cannot name, is refused.
"""

from __future__ import annotations

from django.db.models import F, Func, TextField


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
