"""Inventory rows picked from a seeded library chemical carried its seed number (1-44) as
their CCL ID (field 250); libraries 0008 took those numbers from the chemicals, since they are
not CalEPA's CCL IDs. The rows lose them too, so no answer sends a regulator a CCL ID that
names another chemical in CalEPA's library. The link to the library entry stays.
"""

import importlib

from django.db import migrations

SEEDED = importlib.import_module("libraries.migrations.0002_seed_common_chemicals").CHEMICALS
NUMBER_BY_NAME = {name: number for number, _cas, name, *_rest in SEEDED}
CCL_ID = "250"


def forget(apps, schema_editor):
    HazardousMaterial = apps.get_model("submittals", "HazardousMaterial")
    rows = HazardousMaterial.objects.filter(
        chemical__isnull=False, chemical__ccl_id__isnull=True
    ).select_related("chemical")
    changed = []
    for material in rows.iterator(chunk_size=1000):
        data = material.data or {}
        number = NUMBER_BY_NAME.get(material.chemical.chemical_name)
        if number is not None and str(data.get(CCL_ID, "")) == str(number):
            material.data = {key: value for key, value in data.items() if key != CCL_ID}
            changed.append(material)
    HazardousMaterial.objects.bulk_update(changed, ["data"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("submittals", "0006_edt_submitter_and_facility_keys_as_sent"),
        ("libraries", "0008_chemical_ccl_id_and_loads"),
    ]

    operations = [migrations.RunPython(forget, migrations.RunPython.noop)]
