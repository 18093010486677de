"""QuestionAggregate keeps the distribution as counts alone (labels come from the question
when read), and the aggregates drop FK indexes that their unique indexes already cover."""

import django.db.models.deletion
from django.db import migrations, models


def distribution_to_counts(apps, schema_editor):
    QuestionAggregate = apps.get_model("analytics", "QuestionAggregate")
    for aggregate in QuestionAggregate.objects.only("pk", "distribution").iterator():
        aggregate.counts = [row["count"] for row in aggregate.distribution]
        aggregate.save(update_fields=["counts"])


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0013_trust_gap_n"),
        ("surveys", "0002_question_bank"),
    ]

    operations = [
        migrations.AddField(
            model_name="questionaggregate",
            name="counts",
            field=models.JSONField(default=list),
        ),
        migrations.RunPython(distribution_to_counts, migrations.RunPython.noop),
        migrations.RemoveField(model_name="questionaggregate", name="distribution"),
        migrations.AlterField(
            model_name="questionaggregate",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="question_aggregates",
                to="surveys.pulserun",
            ),
        ),
        migrations.AlterField(
            model_name="questionaggregate",
            name="question",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="surveys.question",
            ),
        ),
        migrations.AlterField(
            model_name="constructaggregate",
            name="run",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="construct_aggregates",
                to="surveys.pulserun",
            ),
        ),
    ]
