"""Error reports — the email the admins get for a server error, Django's debug page —
carry no answer and no link token.

Django's report lists the request's POST data and every frame's local variables. During
a submission those are someone's answers or cards, and the report also names the
request's user and its URL, whose path holds the link's token: the person next to their
answer. So every POST value and every local variable is hidden (whatever the view, so a
new one is covered too), and tokens are cut out of the URL and the request's metadata.
The traceback, the settings and the rest stay for debugging.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from config.logging import token_redacted


class AnswerFreeReporterFilter(SafeExceptionReporterFilter):
    """Hides every POST value and every local variable, and tokens in the metadata."""

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        if request is None or not self.is_active(request):
            return super().get_post_parameters(request)
        return dict.fromkeys(request.POST, self.cleansed_substitute)

    def get_traceback_frame_variables(self, request: HttpRequest | None, tb_frame: Any) -> Any:
        if not self.is_active(request):
            return super().get_traceback_frame_variables(request, tb_frame)
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

    def get_safe_request_meta(self, request: HttpRequest) -> dict[str, Any]:
        meta = super().get_safe_request_meta(request)
        return {
            name: token_redacted(value) if isinstance(value, str) else value
            for name, value in meta.items()
        }


class _TokenFreeRequest:
    """The request as the report reads it, with the token cut out of its path."""

    def __init__(self, request: HttpRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return getattr(self._request, name)

    @property
    def path(self) -> str:
        return token_redacted(self._request.path)

    @property
    def path_info(self) -> str:
        return token_redacted(self._request.path_info)


class TokenFreeExceptionReporter(ExceptionReporter):
    """The report's request URL and path without the link's token."""

    def get_traceback_data(self) -> dict[str, Any]:
        data = super().get_traceback_data()
        if isinstance(data.get("request_insecure_uri"), str):
            data["request_insecure_uri"] = token_redacted(data["request_insecure_uri"])
        if data.get("request") is not None:
            data["request"] = _TokenFreeRequest(data["request"])
        return data
