"""An upload's entity keys move from a JSON list on its transaction row to a table of their
own (``EdtEntityKey``), one row a key at its place in the answer, so that neither the upload
nor its answer holds every key at once. The keys recorded so far are copied, a transaction's
keys in one bulk insert, before the JSON column goes."""

import django.db.models.deletion
from django.db import migrations, models

CHUNK = 1000


def copy_to_table(apps, schema_editor):
    EdtTransaction = apps.get_model("edt", "EdtTransaction")
    EdtEntityKey = apps.get_model("edt", "EdtEntityKey")
    alias = schema_editor.connection.alias
    rows = (
        EdtTransaction.objects.using(alias)
        .order_by("pk")
        .values_list("pk", "entity_keys_json")
        .iterator(chunk_size=500)
    )
    for pk, keys in rows:
        if not keys:
            continue
        EdtEntityKey.objects.using(alias).bulk_create(
            [
                EdtEntityKey(
                    transaction_id=pk,
                    position=position,
                    resource=key["resource"],
                    regulator_key=key.get("regulator_key") or "",
                    cers_unique_key=key["cers_unique_key"],
                )
                for position, key in enumerate(keys)
            ],
            batch_size=CHUNK,
        )


def copy_to_json(apps, schema_editor):
    EdtTransaction = apps.get_model("edt", "EdtTransaction")
    EdtEntityKey = apps.get_model("edt", "EdtEntityKey")
    alias = schema_editor.connection.alias
    keyed = (
        EdtEntityKey.objects.using(alias)
        .order_by("transaction_id")
        .values_list("transaction_id", flat=True)
        .distinct()
    )
    for pk in keyed.iterator(chunk_size=500):
        keys = EdtEntityKey.objects.using(alias).filter(transaction_id=pk).order_by("position")
        EdtTransaction.objects.using(alias).filter(pk=pk).update(
            entity_keys_json=[
                {
                    "resource": key.resource,
                    "regulator_key": key.regulator_key,
                    "cers_unique_key": key.cers_unique_key,
                }
                for key in keys
            ]
        )


class Migration(migrations.Migration):

    dependencies = [
        ('edt', '0008_drop_duplicate_indexes'),
    ]

    operations = [
        # Renamed first: the new table's reverse relation takes the name ``entity_keys``.
        migrations.RenameField(
            model_name='edttransaction',
            old_name='entity_keys',
            new_name='entity_keys_json',
        ),
        migrations.CreateModel(
            name='EdtEntityKey',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('position', models.PositiveIntegerField()),
                ('resource', models.TextField()),
                ('regulator_key', models.TextField(blank=True)),
                ('cers_unique_key', models.TextField()),
                ('transaction', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='entity_keys', to='edt.edttransaction')),
            ],
            options={
                'ordering': ['transaction', 'position'],
                'constraints': [models.UniqueConstraint(fields=('transaction', 'position'), name='one_entity_key_per_position')],
            },
        ),
        migrations.RunPython(copy_to_table, copy_to_json),
        migrations.RemoveField(
            model_name='edttransaction',
            name='entity_keys_json',
        ),
    ]
