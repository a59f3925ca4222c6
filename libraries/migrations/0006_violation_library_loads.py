"""The violation library as the published library has it: ``category`` becomes the library's
own text (such as Administration/Documentation) instead of a violation class code; the
seeded examples are marked as examples, so that loading the published library
(``load_violation_library``) can replace them; loads are recorded.

Example rows keep the words their old category code stood for (Class I, Class II, Minor).
"""

import importlib

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

OLD_CATEGORY_LABELS = {"1": "Class I", "2": "Class II", "9": "Minor"}


def _example_numbers():
    seeded = importlib.import_module("libraries.migrations.0004_seed_example_violation_types")
    return [row[0] for row in seeded.VIOLATION_TYPES]


def forwards(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    for code, label in OLD_CATEGORY_LABELS.items():
        ViolationType.objects.filter(category=code).update(category=label)
    ViolationType.objects.filter(type_number__in=_example_numbers()).update(example=True)


def backwards(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    for code, label in OLD_CATEGORY_LABELS.items():
        ViolationType.objects.filter(category=label).update(category=code)
    # Any other text has no class code: the closest is Minor.
    ViolationType.objects.exclude(category__in=OLD_CATEGORY_LABELS).update(category="9")


class Migration(migrations.Migration):
    dependencies = [
        ("libraries", "0005_library_maintenance"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="violationtype",
            name="category",
            field=models.CharField(
                help_text="The library's grouping of the type, such as Administration/Documentation.",
                max_length=100,
            ),
        ),
        migrations.AddField(
            model_name="violationtype",
            name="example",
            field=models.BooleanField(
                default=False,
                help_text=(
                    "One of the examples the library started with, before the published "
                    "library was loaded; loading the published library removes the examples "
                    "it does not list."
                ),
            ),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.CreateModel(
            name="ViolationLibraryLoad",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("source", models.CharField(help_text="The file's name.", max_length=255)),
                ("loaded_at", models.DateTimeField(auto_now_add=True)),
                ("listed", models.PositiveIntegerField(help_text="Violation types the file lists.")),
                ("created", models.PositiveIntegerField()),
                ("updated", models.PositiveIntegerField()),
                ("unchanged", models.PositiveIntegerField()),
                ("examples_removed", models.PositiveIntegerField()),
                ("examples_kept", models.JSONField(blank=True, default=list, help_text="Examples still cited by violations, so kept.")),
                ("loaded_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-loaded_at", "-pk"], "get_latest_by": ["loaded_at", "pk"]},
        ),
    ]
