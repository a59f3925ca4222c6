"""Drop the LIKE twin of the facility's legacy key, which is only compared whole
(core.like_indexes)."""

from django.db import migrations

from core.like_indexes import drop_pattern_twins


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0015_drop_duplicate_indexes'),
    ]

    operations = [
        drop_pattern_twins([('facilities_facility', 'legacy_key')]),
    ]
