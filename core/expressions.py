"""Query expressions Django lacks.

``KeyText("data", "218")``: the text of one key of a JSON column's object. Django's ``KT``
(``data__218``) reads a key made of digits as an array index, and the elements' data are keyed
by data-dictionary numbers ("218"); this reads it as the key it is: ``->>`` on PostgreSQL,
``json_extract`` on SQLite (which gives a number as a number, a string as its text). A key
with a double quote or a backslash, which SQLite's paths cannot name, is refused.
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
        return f"json_extract({sql}, %s)", (*params, f'$."{self.key}"')

    def as_postgresql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql} ->> %s)", (*params, self.key)
