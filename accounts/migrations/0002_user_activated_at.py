from django.db import migrations, models
from django.db.models import F


def stamp_accounts_once_active(apps, schema_editor):
    """An account that is active, has signed in, or was activated (its audit event) has been
    active: it no longer waits for an activation link, even if it is disabled now."""
    User = apps.get_model("accounts", "User")
    AuditEvent = apps.get_model("core", "AuditEvent")
    User.objects.filter(is_active=True).update(activated_at=F("date_joined"))
    User.objects.filter(activated_at__isnull=True, last_login__isnull=False).update(
        activated_at=F("last_login")
    )
    # The rest were never active, or were activated and disabled before they signed in: one
    # look-up each, by the events' (object_type, object_id) index.
    waiting = User.objects.filter(activated_at__isnull=True)
    for pk in waiting.values_list("pk", flat=True).iterator():
        first = (
            AuditEvent.objects.filter(
                action="account.activated", object_type="accounts.user", object_id=str(pk)
            )
            .order_by("created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        if first is not None:
            User.objects.filter(pk=pk).update(activated_at=first)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("core", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="activated_at",
            field=models.DateTimeField(
                blank=True,
                editable=False,
                help_text="When the account was first active (its address confirmed, or set active).",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="user",
            name="is_active",
            field=models.BooleanField(
                default=True,
                help_text="False until the e-mail address is confirmed, and for an account disabled.",
            ),
        ),
        migrations.RunPython(stamp_accounts_once_active, migrations.RunPython.noop),
    ]
