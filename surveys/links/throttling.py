"""Throttling of single-use links: the link pages (/p/…, /r/…) and their API twins share
one budget per client address, so guessing links is slow and leaves a trace in the log.

Tokens carry 256 bits, so guessing cannot succeed; the throttle is about load and about
noticing someone trying. The log line names the client address and the rate, never the
path (which holds the token).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

logger = logging.getLogger(__name__)


class InvitationRateThrottle(SimpleRateThrottle):
    """Requests that carry a link token, per client address, logged in or not. The address
    is REMOTE_ADDR, or the one the nearest trusted proxy saw (REST_FRAMEWORK NUM_PROXIES)."""

    scope = "invitation"

    def get_rate(self) -> str | None:
        # Read at each request, not at import, so a changed setting takes effect.
        rate = api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        return None if rate is None else str(rate)

    def get_cache_key(self, request: Any, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def allow_request(self, request: Any, view: Any) -> bool:
        allowed = super().allow_request(request, view)
        if not allowed:
            logger.warning(
                "Link requests from %s are over the limit of %s; refused for %.0f s",
                self.get_ident(request),
                self.rate,
                self.wait() or 0,
            )
        return allowed


def link_throttled(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The same throttle for a link page: over the limit, a 429 page with Retry-After."""

    @wraps(view)
    def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        throttle = InvitationRateThrottle()
        if throttle.allow_request(request, None):
            return view(request, *args, **kwargs)
        context = {
            "title": "Too many attempts",
            "message": "Too many links were opened from your address. Wait a minute and "
            "open yours again.",
        }
        response = render(request, "links/link_problem.html", context, status=429)
        response["Retry-After"] = str(round(throttle.wait() or 60))
        return response

    return throttled
