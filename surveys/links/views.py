"""Pages behind single-use links, for pulses and retros: how a link page is guarded (no
cache, throttled per client address, GET/HEAD/POST only) and the one page that says why
a link cannot be used."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from surveys.links.errors import LinkError
from surveys.links.throttling import link_throttled

View = Callable[..., HttpResponse]
PROBLEM_TEMPLATE = "links/link_problem.html"


def link_problem(
    request: HttpRequest,
    error: LinkError,
    *,
    elsewhere: tuple[str, str] | None = None,
    back: tuple[str, str] | None = None,
) -> HttpResponse:
    """The page for a link that cannot be used (not valid, used, closed, not open yet), with
    the error's status; `elsewhere` and `back` are (label, URL) links offered on it."""
    context = {"title": error.title, "message": error.message, "elsewhere": elsewhere, "back": back}
    return render(request, PROBLEM_TEMPLATE, context, status=error.status_code)


def link_page(
    *, logged_in: bool = False, elsewhere: tuple[str, str] | None = None
) -> Callable[[View], View]:
    """Guard a page that answers a pulse or writes cards: never cached, GET/HEAD/POST only,
    and a LinkError raised inside becomes `link_problem` (offering `elsewhere`, a (label,
    URL name) pair). A page reached by its token (`logged_in=False`) is throttled per
    client address; one's own invitation (`logged_in=True`) needs a login instead."""

    def guard(view: View) -> View:
        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except LinkError as error:
                offered = (elsewhere[0], reverse(elsewhere[1])) if elsewhere else None
                return link_problem(request, error, elsewhere=offered)

        methods = require_http_methods(["GET", "HEAD", "POST"])
        if logged_in:
            return never_cache(login_required(methods(page)))
        return never_cache(methods(link_throttled(page)))

    return guard
