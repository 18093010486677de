"""Retro boards publish submissions in batches of at least k people (RetroResponse.batch).

Before this, a board showed every card of a closed session with at least k submissions.
Those sessions get all their submissions as batch 1, so their boards and exports stay as
they were; everything else starts unpublished (open sessions were not shown before)."""

from __future__ import annotations

from django.db import migrations, models
from django.db.models import Count, F


def publish_closed_boards(apps, schema_editor) -> None:
    RetroSession = apps.get_model("surveys", "RetroSession")
    RetroResponse = apps.get_model("surveys", "RetroResponse")
    shown = (
        RetroSession.objects.filter(status="closed")
        .annotate(people=Count("responses"))
        .filter(people__gte=F("k"))
        .values("pk")
    )
    RetroResponse.objects.filter(session__in=shown).update(batch=1)


class Migration(migrations.Migration):

    dependencies = [
        ("surveys", "0006_retro_prompts"),
    ]

    operations = [
        migrations.AddField(
            model_name="retroresponse",
            name="batch",
            field=models.PositiveSmallIntegerField(blank=True, editable=False, null=True),
        ),
        migrations.RunPython(publish_closed_boards, migrations.RunPython.noop),
    ]
