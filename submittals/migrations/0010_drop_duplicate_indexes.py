"""Drop the indexes that another index or unique constraint of the same table serves: it
leads with their column (tests/test_duplicate_indexes.py)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('facilities', '0015_drop_duplicate_indexes'),
        ('regulators', '0004_drop_duplicate_indexes'),
        ('submittals', '0009_element_saved_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='elementdocument',
            name='record',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='documents', to='submittals.submittalelementrecord'),
        ),
        migrations.AlterField(
            model_name='facilitysubmittal',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='submittals', to='facilities.facility'),
        ),
        migrations.AlterField(
            model_name='hazardousmaterial',
            name='record',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='materials', to='submittals.submittalelementrecord'),
        ),
        migrations.AlterField(
            model_name='mixturecomponent',
            name='material',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='components', to='submittals.hazardousmaterial'),
        ),
        migrations.AlterField(
            model_name='submittalelementrecord',
            name='facility',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='submittal_elements', to='facilities.facility'),
        ),
        migrations.AlterField(
            model_name='submittalelementrecord',
            name='regulator',
            field=models.ForeignKey(blank=True, db_index=False, help_text='The agency the element was routed to when submitted.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='submittal_elements', to='regulators.regulator'),
        ),
    ]
