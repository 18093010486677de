"""The insight reports as JSON: team-periods (perception gap, trust gap, safety, delivery),
correlations, the organisation heatmap and safety alerts. Summary tables only."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics import insights
from surveys import selectors
from surveys.api.schema import error
from surveys.models import Team


def _nullable_float(help_text: str = "") -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, help_text=help_text)


class TeamPeriodOutput(serializers.Serializer):
    """One team-period (EXPORT_FIELDS, the same columns as the CSV download)."""

    period_start = serializers.DateField()
    period_end = serializers.DateField()
    respondents = serializers.IntegerField(allow_null=True, help_text="null: fewer than k")
    perceived = _nullable_float("mean felt speed change with AI, %")
    perceived_low = _nullable_float()
    perceived_high = _nullable_float()
    measured = _nullable_float("throughput change against the baseline, %")
    measured_low = _nullable_float()
    measured_high = _nullable_float()
    gap = _nullable_float("perception gap = perceived − measured, points (analytic 95 % CI)")
    gap_low = _nullable_float()
    gap_high = _nullable_float()
    ai_weekly_share = _nullable_float("% using AI at least weekly")
    ai_trust_share = _nullable_float("% trusting AI output a lot or more")
    trust_gap = _nullable_float("weekly users − trusting, points (paired t 95 % CI)")
    trust_gap_low = _nullable_float()
    trust_gap_high = _nullable_float()
    trust_gap_n = serializers.IntegerField(allow_null=True, help_text="answered both items")
    safety = _nullable_float("psychological-safety index 0–100")
    safety_low = _nullable_float()
    safety_high = _nullable_float()
    safety_n = serializers.IntegerField(allow_null=True)
    delivery_weeks = serializers.IntegerField(help_text="weeks with ≥ k active contributors")
    throughput = _nullable_float("merged PRs (or commits) per active contributor-week")
    commits = _nullable_float("non-merge commits per week")
    merged_prs = _nullable_float("per week")
    cycle_median_h = _nullable_float()
    pickup_median_h = _nullable_float()
    review_median_h = _nullable_float()
    pr_size_median = _nullable_float()
    deployment_days = _nullable_float()
    lead_time_median_h = _nullable_float()
    change_failure_rate = _nullable_float()
    time_to_restore_median_h = _nullable_float()
    ai_commit_share = _nullable_float()
    ai_pr_share = _nullable_float()
    ai_merged_prs = _nullable_float("AI-assisted PRs")
    ai_cycle_median_h = _nullable_float("AI-assisted PRs")
    ai_review_median_h = _nullable_float("AI-assisted PRs")
    ai_pr_size_median = _nullable_float("AI-assisted PRs")
    other_merged_prs = _nullable_float("other PRs")
    other_cycle_median_h = _nullable_float("other PRs")
    other_review_median_h = _nullable_float("other PRs")
    other_pr_size_median = _nullable_float("other PRs")


class CorrelationOutput(serializers.Serializer):
    x = serializers.CharField(help_text="survey figure")
    y = serializers.CharField(help_text="delivery metric")
    method = serializers.ChoiceField(choices=["spearman", "pearson"])
    variant = serializers.ChoiceField(choices=["pooled", "within-team"])
    n = serializers.IntegerField(help_text="team-periods")
    teams = serializers.IntegerField()
    r = serializers.FloatField()
    low = serializers.FloatField(help_text="95 % CI (Fisher z)")
    high = serializers.FloatField()
    p = serializers.FloatField(allow_null=True)


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
    trust_gap = serializers.SerializerMethodField()
    trust_gap_n = serializers.SerializerMethodField()

    def get_perception_gap(self, row: insights.HeatmapRow) -> float | None:
        return row.latest.gap if row.latest else None

    def get_trust_gap(self, row: insights.HeatmapRow) -> float | None:
        return row.latest.trust_gap if row.latest else None

    def get_trust_gap_n(self, row: insights.HeatmapRow) -> int | None:
        return row.latest.trust_gap_n if row.latest else None


class AlertOutput(serializers.Serializer):
    team = serializers.CharField(source="team.slug")
    period_start = serializers.DateField()
    index = serializers.FloatField()
    trailing_mean = serializers.FloatField()
    points = serializers.FloatField()


class TeamPeriodsApi(APIView):
    @extend_schema(
        responses=TeamPeriodOutput(many=True),
        summary="A team's periods: perception and trust gaps, safety, delivery (nothing under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = selectors.team_get_visible(user=request.user, slug=slug)
        rows: list[dict[str, Any]] = [
            insights.period_row(p) for p in insights.team_periods(team=team)
        ]
        return Response(TeamPeriodOutput(rows, many=True).data)


class TeamCorrelationsApi(APIView):
    @extend_schema(
        responses=CorrelationOutput(many=True),
        summary="Correlations over a team's subtree (none under 8 team-periods; correlation only)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = selectors.team_get_visible(user=request.user, slug=slug)
        found = insights.correlations(team=team, organisation_id=team.organisation_id)
        return Response(CorrelationOutput(found, many=True).data)


class HeatmapPagination(LimitOffsetPagination):
    """DRF's limit/offset paging, except that a `limit` or `offset` that is not a whole
    number in range is a 400 naming it (DRF would quietly use the default instead)."""

    default_limit = 50
    max_limit = 500
    minimums = {"limit": 1, "offset": 0}

    def get_limit(self, request: Request) -> int | None:
        self._check(request, self.limit_query_param)
        return super().get_limit(request)

    def get_offset(self, request: Request) -> int:
        self._check(request, self.offset_query_param)
        return super().get_offset(request)

    def _check(self, request: Request, name: str) -> None:
        value = request.query_params.get(name)
        if value is None:
            return
        if not (value.isascii() and value.isdigit()) or int(value) < self.minimums[name]:
            minimum = self.minimums[name]
            raise serializers.ValidationError({name: [f"A whole number from {minimum}."]})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = self.minimums[parameter["name"]]
        return parameters


UNDER = OpenApiParameter(
    "under",
    str,
    description="only this team (slug) and the teams below it; 400 for a team you can't see",
)


def heatmap_root(*, user: Any, slug: str | None) -> Team | None:
    """The team a heatmap is filtered to, or None for all; a slug naming no team the
    person may see is a 400 on `under`, whether or not the team exists."""
    if not slug:
        return None
    root = selectors.teams_visible_to(user=user).filter(slug=slug).first()
    if root is None:
        raise serializers.ValidationError({"under": ["No team you can see has this slug."]})
    return root


class HeatmapApi(GenericAPIView):
    """Teams × constructs, paged (LimitOffsetPagination: `limit`, default 50, at most 500,
    and `offset`), in name order."""

    serializer_class = HeatmapRowOutput
    pagination_class = HeatmapPagination

    @extend_schema(
        parameters=[UNDER],
        responses={200: HeatmapRowOutput(many=True), 400: error("under: no team you can see")},
        summary="Teams × constructs, latest figures, paged; suppressed cells say so",
    )
    def get(self, request: Request) -> Response:
        root = heatmap_root(user=request.user, slug=request.query_params.get("under"))
        teams = selectors.teams_visible_under(user=request.user, root=root)
        page = self.paginate_queryset(teams) or []
        return self.get_paginated_response(insights.heatmap_document(insights.heatmap(teams=page)))


class AlertListApi(APIView):
    @extend_schema(responses=AlertOutput(many=True), summary="Safety drop alerts of your teams")
    def get(self, request: Request) -> Response:
        teams = list(selectors.teams_visible_to(user=request.user))
        return Response(AlertOutput(insights.alerts(teams=teams), many=True).data)


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


class TeamRollupsApi(APIView):
    @extend_schema(
        responses=RollupOutput(many=True),
        summary="A team and its sub-teams pooled per week, with secondary suppression",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = selectors.team_get_visible(user=request.user, slug=slug)
        return Response(RollupOutput(insights.rollups(team=team), many=True).data)
