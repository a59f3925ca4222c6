"""Drop the LIKE twins of the audit events' action and the outbox's status, which are only
compared whole (core.like_indexes)."""

from django.db import migrations

from core.like_indexes import drop_pattern_twins


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0006_outbox_published_at'),
    ]

    operations = [
        drop_pattern_twins([('core_auditevent', 'action'), ('core_outboundemail', 'status')]),
    ]
