"""Drop the indexes that another index or unique constraint of the same table serves: it
leads with their column (tests/test_duplicate_indexes.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0014_transfer_keeps_cers_id'),
        ('regulators', '0003_reminders'),
    ]

    operations = [
        migrations.AlterField(
            model_name='duereminder',
            name='facility_element',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='reminders', to='facilities.facilityregulator'),
        ),
        migrations.AlterField(
            model_name='facilityregulator',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='regulators', to='facilities.facility'),
        ),
        migrations.AlterField(
            model_name='facilityregulator',
            name='regulator',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='facility_elements', to='regulators.regulator'),
        ),
    ]
