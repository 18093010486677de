"""Summary tables that pages and the API read. Nothing under k is ever written here:
a suppressed run has a summary row that says so and no numbers at all."""

from __future__ import annotations

from django.db import models

from surveys.models import Construct, PulseRun, Question, Team


class RunSummary(models.Model):
    """Per-run headline figures; numbers are null when the run is suppressed (n < k)."""

    run = models.OneToOneField(PulseRun, on_delete=models.CASCADE, related_name="summary")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    k = models.PositiveSmallIntegerField()
    invited = models.PositiveIntegerField()
    suppressed = models.BooleanField()
    respondents = models.PositiveIntegerField(null=True)
    ai_weekly_share = models.FloatField(null=True, help_text="% using AI at least weekly")
    ai_trust_share = models.FloatField(null=True, help_text="% trusting AI output a lot or more")

    def __str__(self) -> str:
        return f"Summary of {self.run}"


class QuestionAggregate(models.Model):
    """n, mean, spread, 95 % CI and distribution of one question in one run (n ≥ k only)."""

    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="question_aggregates")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="+")
    position = models.PositiveSmallIntegerField(default=0)
    n = models.PositiveIntegerField()
    mean = models.FloatField(null=True)
    sd = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)
    distribution = models.JSONField(default=list)

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(fields=["run", "question"], name="one_aggregate_per_question"),
        ]

    def __str__(self) -> str:
        return f"{self.question_id} in run {self.run_id}"


class ConstructAggregate(models.Model):
    """A construct's score in one run (n ≥ k only): 0–100 index, or % for perceived speed."""

    class Unit(models.TextChoices):
        INDEX = "index", "0–100 index"
        PERCENT = "percent", "%"

    run = models.ForeignKey(PulseRun, on_delete=models.CASCADE, related_name="construct_aggregates")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    construct = models.CharField(max_length=32, choices=Construct.choices)
    unit = models.CharField(max_length=8, choices=Unit.choices)
    n = models.PositiveIntegerField()
    mean = models.FloatField()
    sd = models.FloatField(null=True)
    ci_low = models.FloatField(null=True)
    ci_high = models.FloatField(null=True)

    class Meta:
        ordering = ("construct",)
        constraints = [
            models.UniqueConstraint(
                fields=["run", "construct"], name="one_aggregate_per_construct"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.construct} in run {self.run_id}"
