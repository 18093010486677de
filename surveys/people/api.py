"""The teams a person may see, as JSON."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from surveys.people.access import teams_visible_to


class TeamOutput(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    parent = serializers.SlugField(source="parent.slug", allow_null=True, default=None)  # type: ignore[assignment]


class TeamListApi(APIView):
    @extend_schema(responses=TeamOutput(many=True), summary="Teams you can see")
    def get(self, request: Request) -> Response:
        teams = teams_visible_to(user=request.user).order_by("name")
        return Response(TeamOutput(teams, many=True).data)
