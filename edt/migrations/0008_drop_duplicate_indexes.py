"""Drop the indexes that another index or unique constraint of the same table serves: it
leads with their column (tests/test_duplicate_indexes.py)."""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('edt', '0007_upload_published_at'),
        ('regulators', '0004_drop_duplicate_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='edttransaction',
            name='received_at',
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AlterField(
            model_name='edttransaction',
            name='regulator',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='edt_transactions', to='regulators.regulator'),
        ),
        migrations.AlterField(
            model_name='vendorauthorization',
            name='vendor',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='authorizations', to='edt.vendor'),
        ),
        # The many-to-many field's own table becomes a model's (state only: the table stays),
        # then loses the index its request column had besides the unique pair's.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AccessRequestAdministrator',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('accessrequest', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='edt.accessrequest')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'edt_accessrequest_edt_administrators',
                        'unique_together': {('accessrequest', 'user')},
                    },
                ),
                migrations.AlterField(
                    model_name='accessrequest',
                    name='edt_administrators',
                    field=models.ManyToManyField(related_name='+', through='edt.AccessRequestAdministrator', to=settings.AUTH_USER_MODEL),
                ),
            ],
        ),
        migrations.AlterField(
            model_name='accessrequestadministrator',
            name='accessrequest',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='edt.accessrequest'),
        ),
    ]
