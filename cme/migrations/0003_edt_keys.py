"""The keys EDT matches CME records by: the agency's regulator key, CERS's unique key, the
agency's action time; and the enforcement-violation link as a model of its own, with the same
keys, on the table the many-to-many field already had.

Existing rows get a distinct CERS unique key each: the column is added nullable, filled row by
row, then made unique and required (a default computed once would give every row the same).
"""

import uuid

import django.db.models.deletion
from django.db import migrations, models

RECORDS = ("inspection", "violation", "enforcement", "enforcementviolation")


def give_every_row_a_key(apps, schema_editor):
    for name in RECORDS:
        model = apps.get_model("cme", name)
        rows = []
        for row in model.objects.filter(cers_key__isnull=True).only("pk").iterator():
            row.cers_key = uuid.uuid4()
            rows.append(row)
            if len(rows) == 1000:
                model.objects.bulk_update(rows, ["cers_key"])
                rows = []
        model.objects.bulk_update(rows, ["cers_key"])


def key_fields(model_name: str) -> list:
    return [
        migrations.AddField(
            model_name=model_name,
            name="regulator_key",
            field=models.CharField(blank=True, db_index=True, max_length=36),
        ),
        migrations.AddField(
            model_name=model_name,
            name="regulator_action_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name=model_name,
            name="cers_key",
            field=models.UUIDField(editable=False, null=True, verbose_name="CERS unique key"),
        ),
    ]


def unique_key(model_name: str):
    return migrations.AlterField(
        model_name=model_name,
        name="cers_key",
        field=models.UUIDField(
            default=uuid.uuid4, editable=False, unique=True, verbose_name="CERS unique key"
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("cme", "0002_enforcement_case_and_red_tag"),
    ]

    operations = [
        # The link model takes over the many-to-many field's own table: no data moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="EnforcementViolation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "enforcement",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="violation_links",
                                to="cme.enforcement",
                            ),
                        ),
                        (
                            "violation",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="enforcement_links",
                                to="cme.violation",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "cme_enforcement_violations",
                        "unique_together": {("enforcement", "violation")},
                    },
                ),
                migrations.AlterField(
                    model_name="enforcement",
                    name="violations",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="enforcements",
                        through="cme.EnforcementViolation",
                        to="cme.violation",
                    ),
                ),
            ],
        ),
        *[operation for name in RECORDS for operation in key_fields(name)],
        migrations.RunPython(give_every_row_a_key, migrations.RunPython.noop),
        *[unique_key(name) for name in RECORDS],
    ]
