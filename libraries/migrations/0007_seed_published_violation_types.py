"""Seed the violation library with the entries of the published Unified Program Violation
Library this project holds: type 1010, the Business Plan program's general administration and
documentation type. The published library lists it twice, for 2011-07-01 to 2024-09-30 and
from 2024-10-01 to 2099-12-31, with the same name and description; one type number is one
entry here, so the two windows are joined, as ``load_violation_library`` joins them. Its
category is the middle part of its published description.

The rest of the published library is loaded from its file with ``manage.py
load_violation_library`` or the state administrator's upload page; the load replaces this
entry with the file's version. Reversing the migration deletes the entry when nothing cites it.
"""

import datetime

from django.db import migrations

PUBLISHED = [
    {
        "type_number": "1010",
        "name": "General",
        "description": "Business Plan Program - Administration/Documentation - General",
        "category": "Administration/Documentation",
        "program_element": 1,  # Business Plan
        "begin_date": datetime.date(2011, 7, 1),
        "end_date": datetime.date(2099, 12, 31),
        "citations": [],
    },
]


def seed(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    for entry in PUBLISHED:
        ViolationType.objects.get_or_create(
            type_number=entry["type_number"],
            defaults={k: v for k, v in entry.items() if k != "type_number"},
        )


def unseed(apps, schema_editor):
    ViolationType = apps.get_model("libraries", "ViolationType")
    ViolationType.objects.filter(
        type_number__in=[entry["type_number"] for entry in PUBLISHED], violations__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("libraries", "0006_violation_library_loads"), ("cme", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
