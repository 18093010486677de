"""A team's delivery figures per ISO week, as JSON (team level only)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from analytics.delivery.selectors import team_delivery_weeks
from surveys.people.access import team_get_visible


class DeliveryWeekOutput(serializers.Serializer):
    week_start = serializers.DateField()
    suppressed = serializers.BooleanField()
    k = serializers.IntegerField()
    message = serializers.SerializerMethodField()
    active_contributors = serializers.IntegerField(allow_null=True)
    metrics = serializers.DictField(
        # (docs/DESIGN.md §5; the text is the published schema's, so it stays as it is)
        help_text="Team-level figures (DESIGN.md §5); empty when suppressed. Times in hours."
    )

    def get_message(self, week: Any) -> str | None:
        return f"Fewer than {week.k} active contributors." if week.suppressed else None


class TeamDeliveryApi(APIView):
    @extend_schema(
        responses=DeliveryWeekOutput(many=True),
        summary="A team's delivery metrics per ISO week (team level only; weeks under k hidden)",
    )
    def get(self, request: Request, slug: str) -> Response:
        team = team_get_visible(user=request.user, slug=slug)
        return Response(DeliveryWeekOutput(team_delivery_weeks(team=team), many=True).data)
