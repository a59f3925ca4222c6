"""``field__any=[...]``: membership in a long list of values, as one parameter.

``field__in`` writes one placeholder a value; psycopg then splits the statement text at every
placeholder, in Python, which for the thousand keys of a batch costs more than the query. On
PostgreSQL ``field__any`` sends the values as one array (``field = ANY(%s)``); elsewhere it is
``__in``. Registered on every field when the core app loads.
"""

from __future__ import annotations

from django.db.models import Field, Lookup
from django.db.models.lookups import In


@Field.register_lookup
class AnyOf(Lookup):
    lookup_name = "any"
    prepare_rhs = False  # a list, prepared value by value below

    def get_db_prep_lookup(self, value, connection):
        field = self.lhs.output_field
        return ("%s", [[field.get_db_prep_value(item, connection) for item in value]])

    def as_sql(self, compiler, connection):
        return In(self.lhs, list(self.rhs)).as_sql(compiler, connection)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]
