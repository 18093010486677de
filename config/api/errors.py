"""Every client error of the API comes back as JSON naming what was wrong; never a 500 for
bad input. The handler (REST_FRAMEWORK's EXCEPTION_HANDLER) and the 404 handler of the
whole site (`handler404` in config/urls.py)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import add_never_cache_headers
from django.views import defaults
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ClientError(Exception):
    """A request that cannot be honoured, with what a person is told: an HTTP status, a
    stable `code` for clients, a `title` for a page and the `message`. The features'
    errors (a used link, a closed pulse, a hidden board) subclass it; the API answers them
    as they are, and pages show their title and message."""

    status_code = 400
    code = "invalid"
    title = "This cannot be done"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ClientError):
        return Response({"code": exc.code, "detail": exc.message}, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        errors = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        return Response(
            {"code": "invalid", "detail": "Some fields are invalid.", "errors": errors},
            status=status.HTTP_400_BAD_REQUEST,
        )
    response = drf_exception_handler(exc, context)
    if response is not None and response.status_code == status.HTTP_400_BAD_REQUEST:
        response.data = {
            "code": "invalid",
            "detail": "Some fields are invalid.",
            "errors": response.data,
        }
    return response


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler: JSON under /api/ — also for a URL that matches no route, such
    as an id that is not a number — and the usual page elsewhere. Never cached: a link or
    a pulse that is not found now may be found later."""
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {"code": "not_found", "detail": "Not found."}, status=status.HTTP_404_NOT_FOUND
        )
    else:
        response = defaults.page_not_found(request, exception)
    add_never_cache_headers(response)
    return response
