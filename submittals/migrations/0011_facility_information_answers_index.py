"""A GIN index of the data of the Facility Information elements whose Business Activities
answers count (submitted, under review, accepted), on PostgreSQL: the regulator's facility
list finds those answering a question Yes (``data @> '{"5": "Y"}'``,
``submittals.querysets.facilities_answering_yes``) without reading every element. SQLite has
no GIN index: nothing is done there."""

from django.db import migrations

NAME = "fi_counted_data"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {NAME} ON submittals_submittalelementrecord "
        "USING gin (data jsonb_path_ops) WHERE element = 1 AND status IN (2, 3, 4)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("submittals", "0010_drop_duplicate_indexes")]

    operations = [migrations.RunPython(create, drop)]
