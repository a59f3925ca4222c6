"""Drop the LIKE twin of the transaction log's endpoint, which is only compared whole
(core.like_indexes)."""

from django.db import migrations

from core.like_indexes import drop_pattern_twins


class Migration(migrations.Migration):

    dependencies = [
        ('edt', '0009_entity_keys_table'),
    ]

    operations = [
        drop_pattern_twins([('edt_edttransaction', 'endpoint')]),
    ]
