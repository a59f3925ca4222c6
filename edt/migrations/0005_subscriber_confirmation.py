from django.db import migrations, models
from django.db.models import F


def confirm_existing(apps, schema_editor):
    """Whoever is on the list already was added by the rules before confirmation existed (staff
    with their own address, or by the state administrator): they stay on it."""
    Subscriber = apps.get_model("edt", "Subscriber")
    Subscriber.objects.filter(confirmed_at__isnull=True).update(confirmed_at=F("subscribed_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("edt", "0004_upload_content_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="subscriber",
            name="confirmed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(confirm_existing, migrations.RunPython.noop),
    ]
