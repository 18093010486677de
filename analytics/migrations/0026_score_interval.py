"""The release layer's interval became the score interval (surveys.disclosure ALGORITHM 2):
the audit tables of version 1 are never read again, and every closed run's released
figures are recomputed by the minute sweep, so no page keeps an interval that undercovered
near a scale's ceiling."""

from django.db import migrations


def release_again(apps, schema_editor):
    apps.get_model("analytics", "ReleaseTable").objects.all().delete()
    apps.get_model("surveys", "PulseRun").objects.filter(status="closed").update(
        aggregates_stale=True
    )


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0025_measured_change_with_a_design"),
        ("surveys", "0013_measured_change_design"),
    ]

    operations = [migrations.RunPython(release_again, migrations.RunPython.noop)]
