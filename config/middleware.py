"""Requests refused before any view runs."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest


class NulQueryMiddleware:
    """400 for a query string holding a NUL character. Views look teams and sets up by
    query parameters (`?under=`, `?set=`), and PostgreSQL refuses a NUL in a text value
    with an error (a 500); forms and serializers already refuse NULs in what they read."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if any("\x00" in key + "".join(values) for key, values in request.GET.lists()):
            return HttpResponseBadRequest("A NUL character in the query string.")
        return self.get_response(request)
