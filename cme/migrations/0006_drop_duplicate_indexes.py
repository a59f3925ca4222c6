"""Drop the indexes that another index or unique constraint of the same table serves: it
leads with their column (tests/test_duplicate_indexes.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cme', '0005_open_violation_rtc_index'),
        ('facilities', '0014_transfer_keeps_cers_id'),
    ]

    operations = [
        migrations.AlterField(
            model_name='enforcementviolation',
            name='enforcement',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='violation_links', to='cme.enforcement'),
        ),
        migrations.AlterField(
            model_name='inspection',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='inspections', to='facilities.facility'),
        ),
    ]
