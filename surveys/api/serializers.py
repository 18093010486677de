"""Input and output serializers, one pair per operation. Outputs read summary rows only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from surveys.models import Construct, QuestionKind


class TeamOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    parent = serializers.SlugField(source="parent.slug", allow_null=True, default=None)  # type: ignore[assignment]


class QuestionOutput(serializers.Serializer):
    key = serializers.SlugField()
    construct = serializers.ChoiceField(choices=Construct.choices)
    kind = serializers.ChoiceField(choices=QuestionKind.choices)
    text = serializers.CharField()
    help_text = serializers.CharField()  # type: ignore[assignment]
    scale_min = serializers.IntegerField()
    scale_max = serializers.IntegerField()
    labels = serializers.ListField(child=serializers.CharField())
    options = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    reverse_scored = serializers.BooleanField()
    citation = serializers.CharField()


class OptionInput(serializers.Serializer):
    key = serializers.SlugField(max_length=40)
    label = serializers.CharField(max_length=80)  # type: ignore[assignment]


class QuestionCreateInput(serializers.Serializer):
    key = serializers.SlugField(max_length=64)
    construct = serializers.ChoiceField(choices=Construct.choices, default=Construct.CUSTOM)
    kind = serializers.ChoiceField(choices=QuestionKind.choices, default=QuestionKind.SCALE)
    text = serializers.CharField(max_length=500)
    help_text = serializers.CharField(  # type: ignore[assignment]
        max_length=500, required=False, default="", allow_blank=True
    )
    scale_min = serializers.IntegerField(default=1, min_value=-1000, max_value=1000)
    scale_max = serializers.IntegerField(default=5, min_value=-1000, max_value=1000)
    labels = serializers.ListField(
        child=serializers.CharField(max_length=80), required=False, default=list, max_length=11
    )
    options = OptionInput(many=True, required=False, default=list)
    reverse_scored = serializers.BooleanField(default=False)
    citation = serializers.CharField(max_length=300, required=False, default="", allow_blank=True)


class PulseFormOutput(serializers.Serializer):
    team = serializers.CharField(source="run.team.name")
    closes_at = serializers.DateTimeField(source="run.closes_at")
    k = serializers.IntegerField(source="run.k")
    questions = QuestionOutput(many=True)


class ResponseInput(serializers.Serializer):
    answers = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Question key → an integer in the question's range, or a list of option keys.",
    )


class ResponseOutput(serializers.Serializer):
    status = serializers.CharField()


class RunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    team = serializers.SlugField(source="team.slug")
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    status = serializers.CharField()
    k = serializers.IntegerField()


class OpenPulseOutput(serializers.Serializer):
    run = RunOutput()
    closes_at = serializers.DateTimeField(source="run.closes_at")


class DistributionRow(serializers.Serializer):
    label = serializers.CharField(  # type: ignore[assignment]
        help_text="A step, or adjacent steps merged so that no bin counts 1 to k − 1 people"
    )
    count = serializers.IntegerField(
        allow_null=True,
        help_text="null: an option chosen (or not chosen) by 1 to k − 1 people",
    )


class QuestionResultOutput(serializers.Serializer):
    key = serializers.CharField(source="question.key")
    text = serializers.CharField(source="question.text")
    n = serializers.IntegerField()
    mean = serializers.FloatField(allow_null=True)
    sd = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    distribution = DistributionRow(many=True)


class ConstructResultOutput(serializers.Serializer):
    construct = serializers.CharField()
    unit = serializers.CharField()
    n = serializers.IntegerField()
    mean = serializers.FloatField()
    sd = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class RunResultsOutput(serializers.Serializer):
    run = RunOutput()
    computed = serializers.BooleanField()
    is_open = serializers.BooleanField()
    suppressed = serializers.BooleanField()
    message = serializers.SerializerMethodField()
    respondents = serializers.IntegerField(allow_null=True)
    response_rate = serializers.FloatField(allow_null=True)
    ai_weekly_share = serializers.FloatField(allow_null=True)
    ai_trust_share = serializers.FloatField(allow_null=True)
    trust_gap = serializers.FloatField(allow_null=True)
    constructs = ConstructResultOutput(many=True)
    questions = QuestionResultOutput(many=True)

    def get_message(self, results: Any) -> str | None:
        if results.is_open:
            return "Open: results appear when the pulse closes."
        if results.suppressed and results.computed:
            return f"Not enough responses (k = {results.run.k})."
        return None if results.computed else "Results are being prepared."


class QuestionTrendPointOutput(serializers.Serializer):
    run = RunOutput()
    suppressed = serializers.BooleanField()
    n = serializers.IntegerField(allow_null=True)
    mean = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)


class QuestionTrendOutput(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    points = serializers.SerializerMethodField()

    @extend_schema_field(QuestionTrendPointOutput(many=True))
    def get_points(self, trend: Any) -> list[dict[str, Any]]:
        return [
            QuestionTrendPointOutput(
                {
                    "run": run,
                    "suppressed": aggregate is None,
                    "n": getattr(aggregate, "n", None),
                    "mean": getattr(aggregate, "mean", None),
                    "ci_low": getattr(aggregate, "ci_low", None),
                    "ci_high": getattr(aggregate, "ci_high", None),
                }
            ).data
            for run, aggregate in trend.points
        ]


class DeliveryWeekOutput(serializers.Serializer):
    week_start = serializers.DateField()
    suppressed = serializers.BooleanField()
    k = serializers.IntegerField()
    message = serializers.SerializerMethodField()
    active_contributors = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(
        help_text="Team-level figures (DESIGN.md §5); empty when suppressed. Times in hours."
    )

    def get_message(self, week: Any) -> str | None:
        return f"Fewer than {week.k} active contributors." if week.suppressed else None
