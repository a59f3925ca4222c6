"""Drop the LIKE twins of the CME records' regulator keys, which RCMES looks up whole
(core.like_indexes)."""

from django.db import migrations

from core.like_indexes import drop_pattern_twins


class Migration(migrations.Migration):

    dependencies = [
        ('cme', '0006_drop_duplicate_indexes'),
    ]

    operations = [
        drop_pattern_twins([
            ('cme_inspection', 'regulator_key'),
            ('cme_violation', 'regulator_key'),
            ('cme_enforcement', 'regulator_key'),
            ('cme_enforcement_violations', 'regulator_key'),
        ]),
    ]
