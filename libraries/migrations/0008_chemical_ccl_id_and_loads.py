"""The CCL ID becomes CalEPA's identifier, separate from the primary key: nullable, still
unique. The chemicals seeded by 0002 carried this project's own numbers 1-44, which are not
CalEPA's CCL IDs (a real CCL ID in that range names another chemical): they lose them. None of
CalEPA's IDs for them is known here; loading CalEPA's library (``load_chemical_library``)
gives an entry its ID by matching its CAS number. Reversing gives the numbers back.
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


SEEDED = importlib.import_module("libraries.migrations.0002_seed_common_chemicals").CHEMICALS


def forget_seed_numbers(apps, schema_editor):
    Chemical = apps.get_model("libraries", "Chemical")
    for number, _cas, name, *_rest in SEEDED:
        Chemical.objects.filter(ccl_id=number, chemical_name=name).update(ccl_id=None)


def restore_seed_numbers(apps, schema_editor):
    Chemical = apps.get_model("libraries", "Chemical")
    for number, _cas, name, *_rest in SEEDED:
        if Chemical.objects.filter(ccl_id=number).exists():
            continue
        seeded = Chemical.objects.filter(ccl_id=None, chemical_name=name).order_by("pk").first()
        if seeded is not None:
            Chemical.objects.filter(pk=seeded.pk).update(ccl_id=number)


class Migration(migrations.Migration):

    dependencies = [
        ('libraries', '0007_seed_published_violation_types'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='chemical',
            name='ccl_id',
            field=models.PositiveIntegerField(blank=True, help_text="CalEPA's CERS Chemical Library ID (field 250); empty when not known.", null=True, unique=True, verbose_name='CCL ID'),
        ),
        migrations.CreateModel(
            name='ChemicalLibraryLoad',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('source', models.CharField(help_text="The file's name.", max_length=255)),
                ('loaded_at', models.DateTimeField(auto_now_add=True)),
                ('listed', models.PositiveIntegerField(help_text='Chemicals the file lists.')),
                ('created', models.PositiveIntegerField()),
                ('updated', models.PositiveIntegerField()),
                ('unchanged', models.PositiveIntegerField()),
                ('loaded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'ordering': ['-loaded_at', '-pk'],
                'get_latest_by': ['loaded_at', 'pk'],
            },
        ),
        migrations.RunPython(forget_seed_numbers, restore_seed_numbers),
    ]
