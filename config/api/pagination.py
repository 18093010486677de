"""Paging for the API's long lists."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request


class StrictLimitOffsetPagination(LimitOffsetPagination):
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
