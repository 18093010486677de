"""Output serializers of the insight API, one per shape. Outputs read summary rows only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from analytics.insights.heatmap import HeatmapRow
from analytics.insights.selectors import EXPORT_COLUMNS, Column
from surveys.pulses.serializers import RunOutput

# --- a run's results ------------------------------------------------------------------------


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
    mean = serializers.FloatField(
        allow_null=True,
        help_text="The released mean: the midpoint of a cell of ± `precision`; null when no "
        "precision would keep every count of 1 to k − 1 people undetermined",
    )
    precision = serializers.FloatField(
        allow_null=True,
        help_text="Half the width of the mean's cell: the true mean is within ± this",
    )
    ci_low = serializers.FloatField(
        allow_null=True, help_text="95 % interval, rounded outward: it holds the exact one"
    )
    ci_high = serializers.FloatField(allow_null=True)
    distribution = DistributionRow(many=True)


class ConstructResultOutput(serializers.Serializer):
    construct = serializers.CharField()
    unit = serializers.CharField()
    n = serializers.IntegerField()
    mean = serializers.FloatField(help_text="The mean of its items' released means, mapped")
    precision = serializers.FloatField(
        allow_null=True, help_text="The mean of its items' precisions, mapped"
    )
    ci_low = serializers.FloatField(
        allow_null=True, help_text="The mean of its items' released intervals (wider than exact)"
    )
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
    ai_weekly_share_low = serializers.FloatField(allow_null=True, help_text="95 % Wilson")
    ai_weekly_share_high = serializers.FloatField(allow_null=True)
    ai_trust_share = serializers.FloatField(allow_null=True)
    ai_trust_share_low = serializers.FloatField(allow_null=True, help_text="95 % Wilson")
    ai_trust_share_high = serializers.FloatField(allow_null=True)
    trust_gap = serializers.FloatField(allow_null=True)
    trust_gap_low = serializers.FloatField(
        allow_null=True,
        help_text="Newcombe's paired 95 % interval at the least favourable pairing the two "
        "shares allow",
    )
    trust_gap_high = serializers.FloatField(allow_null=True)
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
    precision = serializers.FloatField(allow_null=True)
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
                    "precision": getattr(aggregate, "precision", None),
                    "ci_low": getattr(aggregate, "ci_low", None),
                    "ci_high": getattr(aggregate, "ci_high", None),
                }
            ).data
            for run, aggregate in trend.points
        ]


# --- team-periods, correlations, the heatmap, alerts, roll-ups ------------------------------


def _column_field(column: Column) -> serializers.Field:
    """The serializer field of an exported team-period column."""
    help_text = column.help
    if column.kind == "date":
        return serializers.DateField()
    if column.kind == "count":
        return serializers.IntegerField(help_text=help_text)
    if column.kind == "int":
        return serializers.IntegerField(allow_null=True, help_text=help_text)
    if column.kind == "text":
        return serializers.CharField(allow_blank=True, help_text=help_text)
    return serializers.FloatField(allow_null=True, help_text=help_text)


# Built from the one declaration of the exported columns, so the API, its schema and the
# CSV download cannot drift apart.
TeamPeriodOutput = type(
    "TeamPeriodOutput",
    (serializers.Serializer,),
    {
        "__doc__": "One team-period (EXPORT_FIELDS, the same columns as the CSV download).",
        "__module__": __name__,
        **{column.name: _column_field(column) for column in EXPORT_COLUMNS},
    },
)


class CorrelationOutput(serializers.Serializer):
    x = serializers.CharField(help_text="survey figure")
    y = serializers.CharField(help_text="delivery metric")
    method = serializers.ChoiceField(choices=["spearman", "pearson"])
    variant = serializers.ChoiceField(
        choices=["pooled", "within-team"],
        help_text="pooled: between teams, trends included; within-team: team and period "
        "fixed effects removed (trends shared by teams do not count), clustered by team",
    )
    n = serializers.IntegerField(help_text="team-periods")
    teams = serializers.IntegerField()
    r = serializers.FloatField()
    low = serializers.FloatField(
        help_text="95 % CI: Fisher z (pooled); team-clustered t, teams − 1 df (within-team)"
    )
    high = serializers.FloatField()
    p = serializers.FloatField(allow_null=True)
    q = serializers.FloatField(
        allow_null=True,
        help_text="Benjamini–Hochberg q over its scope's coefficients of its variant and method",
    )
    primary = serializers.BooleanField(
        help_text="one of the pairs declared before the data; the others are exploratory"
    )


class HeatmapCellOutput(serializers.Serializer):
    construct = serializers.CharField()
    state = serializers.ChoiceField(choices=["shown", "suppressed", "not-asked", "no-pulse"])
    mean = serializers.FloatField(allow_null=True)
    low = serializers.FloatField(allow_null=True)
    high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(allow_null=True)
    period_start = serializers.DateField(allow_null=True)


class HeatmapRowOutput(serializers.Serializer):
    team = serializers.CharField(source="team.slug")
    name = serializers.CharField(source="team.name")
    cells = HeatmapCellOutput(many=True)
    perception_gap = serializers.SerializerMethodField()
    perception_gap_low = serializers.SerializerMethodField()
    perception_gap_high = serializers.SerializerMethodField()
    trust_gap = serializers.SerializerMethodField()
    trust_gap_low = serializers.SerializerMethodField()
    trust_gap_high = serializers.SerializerMethodField()
    trust_gap_n = serializers.SerializerMethodField()

    def get_perception_gap(self, row: HeatmapRow) -> float | None:
        return row.latest.gap if row.latest else None

    def get_perception_gap_low(self, row: HeatmapRow) -> float | None:
        return row.latest.gap_low if row.latest else None

    def get_perception_gap_high(self, row: HeatmapRow) -> float | None:
        return row.latest.gap_high if row.latest else None

    def get_trust_gap(self, row: HeatmapRow) -> float | None:
        return row.latest.trust_gap if row.latest else None

    def get_trust_gap_low(self, row: HeatmapRow) -> float | None:
        return row.latest.trust_gap_low if row.latest else None

    def get_trust_gap_high(self, row: HeatmapRow) -> float | None:
        return row.latest.trust_gap_high if row.latest else None

    def get_trust_gap_n(self, row: HeatmapRow) -> int | None:
        return row.latest.trust_gap_n if row.latest else None


class AlertOutput(serializers.Serializer):
    team = serializers.CharField(source="team.slug")
    period_start = serializers.DateField()
    index = serializers.FloatField()
    index_low = serializers.FloatField(allow_null=True, help_text="its released 95 % interval")
    index_high = serializers.FloatField(allow_null=True)
    n = serializers.IntegerField(allow_null=True, help_text="respondents in the period")
    trailing_mean = serializers.FloatField(help_text="mean of the chart's window before")
    points = serializers.FloatField()
    statistic = serializers.FloatField(
        allow_null=True, help_text="the EWMA of standardised changes that crossed the limit"
    )
    limit = serializers.FloatField(allow_null=True)
    false_alarm_rate = serializers.FloatField(
        allow_null=True,
        help_text="share of steady teams this chart alerts by chance within 26 periods",
    )


class RollupOutput(serializers.Serializer):
    week_start = serializers.DateField()
    waiting = serializers.BooleanField(
        help_text="true: a pulse of the week is still open; roll-ups appear once all have "
        "closed, and then never change by a late run or a team moving"
    )
    shown = serializers.BooleanField(
        help_text="false: waiting, or hidden so no group under k can be worked out by subtraction"
    )
    teams = serializers.IntegerField()
    respondents = serializers.IntegerField(allow_null=True, help_text="people, null when hidden")
    perceived = serializers.FloatField(allow_null=True)
    perceived_low = serializers.FloatField(allow_null=True)
    perceived_high = serializers.FloatField(allow_null=True)
    measured = serializers.FloatField(allow_null=True)
    gap = serializers.FloatField(allow_null=True)
    gap_low = serializers.FloatField(allow_null=True)
    gap_high = serializers.FloatField(allow_null=True)
    safety = serializers.FloatField(allow_null=True)
    safety_low = serializers.FloatField(allow_null=True)
    safety_high = serializers.FloatField(allow_null=True)
