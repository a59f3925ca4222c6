"""Give every submittal element its CERS unique key (CDR 20.0074).

Added in three steps so existing rows are safe: the column arrives nullable, each existing row
gets its own random key, then the column becomes required and unique. (A default on AddField
is evaluated once, which would give every existing row the same key.)
"""

import uuid

from django.db import migrations, models

BATCH_SIZE = 1000


def give_each_element_a_key(apps, schema_editor):
    SubmittalElementRecord = apps.get_model("submittals", "SubmittalElementRecord")
    pending = SubmittalElementRecord.objects.filter(key__isnull=True).only("pk")
    batch = []
    for record in pending.iterator(chunk_size=BATCH_SIZE):
        record.key = uuid.uuid4()
        batch.append(record)
        if len(batch) == BATCH_SIZE:
            SubmittalElementRecord.objects.bulk_update(batch, ["key"])
            batch = []
    SubmittalElementRecord.objects.bulk_update(batch, ["key"])


class Migration(migrations.Migration):
    dependencies = [
        ("submittals", "0002_inventory_documents_owner_operator"),
    ]

    operations = [
        migrations.AddField(
            model_name="submittalelementrecord",
            name="key",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_each_element_a_key, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="submittalelementrecord",
            name="key",
            field=models.UUIDField(
                default=uuid.uuid4,
                editable=False,
                help_text="The element's CERS unique key (CDR 20.0074): how EDT names it.",
                unique=True,
            ),
        ),
    ]
