"""The insight API: a run's and a team's results, team-periods (perception gap, trust gap,
safety, delivery), correlations, roll-ups, the organisation heatmap and safety alerts.
One thin class per operation; summary tables only, read through selectors, visibility
through surveys.people.access."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.insights import selectors as insights
from analytics.insights import serializers as s
from analytics.insights.heatmap import heatmap, heatmap_document
from config.api.pagination import StrictLimitOffsetPagination
from config.api.schema import error
from surveys.people.access import team_get_visible, teams_visible_to, teams_visible_under
from surveys.people.models import Team
from surveys.pulses.selectors import run_get_visible


class TeamResultsApi(APIView):
    @extend_schema(
        responses=s.RunResultsOutput(many=True),
        summary="A team's results across runs (construct scores per run; nothing under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        trend = insights.team_trend(team=team_get_visible(user=request.user, slug=slug))
        return Response(s.RunResultsOutput(trend, many=True).data)


class TeamQuestionTrendsApi(APIView):
    @extend_schema(
        responses=s.QuestionTrendOutput(many=True),
        summary="Each question's n, mean and CI across a team's runs (hidden under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        trends = insights.team_question_trends(team=team_get_visible(user=request.user, slug=slug))
        return Response(s.QuestionTrendOutput(trends, many=True).data)


class RunResultsApi(APIView):
    @extend_schema(responses=s.RunResultsOutput, summary="One run's results (nothing under k)")
    def get(self, request: Request, run_id: int) -> Response:
        run = run_get_visible(user=request.user, run_id=run_id)
        return Response(s.RunResultsOutput(insights.run_results(run=run)).data)


class TeamPeriodsApi(APIView):
    @extend_schema(
        responses=s.TeamPeriodOutput(many=True),
        summary="A team's periods: perception and trust gaps, safety, delivery (nothing under k)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = team_get_visible(user=request.user, slug=slug)
        rows: list[dict[str, Any]] = [
            insights.period_row(p) for p in insights.team_periods(team=team)
        ]
        return Response(s.TeamPeriodOutput(rows, many=True).data)


class TeamCorrelationsApi(APIView):
    @extend_schema(
        responses=s.CorrelationOutput(many=True),
        summary="Correlations over a team's subtree (none under 8 team-periods; correlation only)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = team_get_visible(user=request.user, slug=slug)
        found = insights.correlations(team=team, organisation_id=team.organisation_id)
        return Response(s.CorrelationOutput(found, many=True).data)


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
    root = teams_visible_to(user=user).filter(slug=slug).first()
    if root is None:
        raise serializers.ValidationError({"under": ["No team you can see has this slug."]})
    return root


class HeatmapApi(GenericAPIView):
    """Teams × constructs, paged (LimitOffsetPagination: `limit`, default 50, at most 500,
    and `offset`), in name order."""

    serializer_class = s.HeatmapRowOutput
    pagination_class = StrictLimitOffsetPagination

    @extend_schema(
        parameters=[UNDER],
        responses={200: s.HeatmapRowOutput(many=True), 400: error("under: no team you can see")},
        summary="Teams × constructs, latest figures, paged; suppressed cells say so",
    )
    def get(self, request: Request) -> Response:
        root = heatmap_root(user=request.user, slug=request.query_params.get("under"))
        teams = teams_visible_under(user=request.user, root=root)
        page = self.paginate_queryset(teams) or []
        return self.get_paginated_response(heatmap_document(heatmap(teams=page)))


class AlertListApi(APIView):
    @extend_schema(responses=s.AlertOutput(many=True), summary="Safety drop alerts of your teams")
    def get(self, request: Request) -> Response:
        teams = list(teams_visible_to(user=request.user))
        return Response(s.AlertOutput(insights.alerts(teams=teams), many=True).data)


class TeamRollupsApi(APIView):
    @extend_schema(
        responses=s.RollupOutput(many=True),
        summary="A team and its sub-teams pooled per week, with secondary suppression",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = team_get_visible(user=request.user, slug=slug)
        return Response(s.RollupOutput(insights.rollups(team=team), many=True).data)
