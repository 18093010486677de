"""The OpenAPI schema: drf-spectacular's AutoSchema, plus the error answers every operation
can give, so a client (and the schemathesis run in tests/security) knows each status it
may receive and the shape of its body."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import Direction, OpenApiResponse, extend_schema_serializer
from rest_framework import serializers

BODY_METHODS = ("POST", "PUT", "PATCH")


# The description is the schema's since before the API plumbing moved here; kept as it was
# so the published schema does not change.
@extend_schema_serializer(description="Every 4xx body (surveys.api.errors.exception_handler).")
class ErrorOutput(serializers.Serializer):
    """Every 4xx body (config.api.errors.exception_handler)."""

    code = serializers.CharField(
        required=False, help_text="A stable name, e.g. invalid, already_answered, run_closed."
    )
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False, help_text="400 only: each invalid field with its messages."
    )


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorOutput, description=description)


# What a single-use link (or one's own open invitation) answers once it cannot be used.
LINK_ERRORS = {
    409: error("already_answered / already_submitted, or not open yet"),
    410: error("run_closed / retro_closed: answers are no longer taken"),
}


class CandorAutoSchema(AutoSchema):
    """Adds to each operation the errors its view can answer by construction: 400 for a
    body, 401 and 403 behind a login, 404 behind a path parameter, 429 when throttled.
    Errors that depend on the operation (409, 410, a 400 on a filter) are declared with
    `extend_schema` on the view."""

    def _get_response_bodies(self, direction: Direction = "response") -> dict[str, Any]:
        bodies = super()._get_response_bodies(direction)
        for status, description in self._errors_by_construction():
            if status not in bodies:
                bodies[status] = self._get_response_for_code(
                    error(description),
                    status,
                    direction=direction,
                )
        return bodies

    def _errors_by_construction(self) -> list[tuple[str, str]]:
        errors: list[tuple[str, str]] = []
        if self.method in BODY_METHODS and self.get_request_serializer() is not None:
            errors.append(("400", "invalid: `errors` names each field that was wrong"))
            errors.append(("415", "a body that is not JSON, a form or multipart"))
        if {} not in self.get_auth():
            errors.append(("401", "not logged in (send a session cookie or a token)"))
            errors.append(("403", "logged in, but not allowed to do this"))
        if "{" in self.path:
            errors.append(("404", "nothing here that you may see"))
        if self.view.get_throttles():
            errors.append(("429", "too many requests from your address; retry later"))
        return errors
