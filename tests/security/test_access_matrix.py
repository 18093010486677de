"""The permission matrix: every route × role × method, against team B's objects.

Routes come from Django's URL resolver, so a new route is covered by default: `ROUTES`
says who may use each one, and a route missing from it fails
`test_it_classifies_every_route` until someone says what it is. API routes are checked
against the OpenAPI schema (`/api/schema/`) the same way.

Each cell sends one request as one role (see access_world.py) and compares the outcome
with the one `ROUTES` implies: allowed, 302 to the login page, 401, 403, 404 or 405 —
never a 5xx. Every body is searched for team B's canaries and for the organisation's,
which must not appear for a role that may not see them; the positive controls (team B's
engineer, the organisation's admin) must see them, so the search is known to work. A 404
must look exactly like the 404 for an object that does not exist, so it reveals nothing.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from rest_framework.views import APIView

from tests.security.access_world import (
    ANONYMOUS,
    INVITED_B,
    ORG_ADMINS,
    ROLES,
    RUNS_B_RETROS,
    SEES_B,
    TEAM_B_CANARY,
    World,
    canaries_seen_by,
    figures_record,
    world_build,
)

pytestmark = pytest.mark.django_db

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
READS = ("GET", "HEAD", "OPTIONS")


class Who(Enum):
    """Who may use a route with a method, for team B's objects."""

    PUBLIC = "anyone"
    TOKEN = "whoever holds the link"
    FORGED_TOKEN = "nobody: the link is made up"
    LOGGED_IN = "anyone logged in (and sees only their own teams in it)"
    TEAM_VIEWER = "who sees team B"
    UNDER_FILTER = "who sees team B, else 400 on the filter"
    RETRO_RUNNER = "who runs team B's retros (403 for who only sees team B)"
    INVITEE = "who is invited to team B's open run or retro"
    ORG_ADMIN = "organisation admins (403 for others)"
    STAFF = "Django staff: everyone else goes to the admin login"


class Outcome(Enum):
    ALLOWED = "allowed"
    LOGIN = "302 to the login page"
    UNAUTHENTICATED = "401"
    FORBIDDEN = "403"
    NOT_FOUND = "404"
    NOT_ALLOWED = "405"
    BAD_FILTER = "400 on the filter"
    ADMIN_LOGIN = "302 into the admin (to its login)"
    SERVER_ERROR = "5xx"
    OTHER = "other"


OPEN_TO_ANONYMOUS = (Who.PUBLIC, Who.TOKEN, Who.FORGED_TOKEN)


def outcome_for(who: Who, role: str) -> Outcome:
    """What `role`, logged in, gets from a route open to `who`."""
    if who in (Who.PUBLIC, Who.TOKEN, Who.LOGGED_IN):
        return Outcome.ALLOWED
    if who is Who.FORGED_TOKEN:
        return Outcome.NOT_FOUND
    if who is Who.TEAM_VIEWER:
        return Outcome.ALLOWED if role in SEES_B else Outcome.NOT_FOUND
    if who is Who.UNDER_FILTER:
        return Outcome.ALLOWED if role in SEES_B else Outcome.BAD_FILTER
    if who is Who.RETRO_RUNNER:
        if role in RUNS_B_RETROS:
            return Outcome.ALLOWED
        return Outcome.FORBIDDEN if role in SEES_B else Outcome.NOT_FOUND
    if who is Who.INVITEE:
        return Outcome.ALLOWED if role in INVITED_B else Outcome.NOT_FOUND
    if who is Who.ORG_ADMIN:
        return Outcome.ALLOWED if role in ORG_ADMINS else Outcome.FORBIDDEN
    raise AssertionError(f"no rule for {who}")


Value = Callable[[World], Any]
# How a URL parameter is filled by default: team B's objects.
PARAMS: dict[str, Value] = {
    "slug": lambda world: world.team_b.slug,
    "run_id": lambda world: world.closed_run.pk,
    "session_id": lambda world: world.retro.pk,
}
# The same parameters naming nothing: a 404 for team B must look like these.
GHOSTS: dict[str, Any] = {
    "slug": "no-such-team",
    "run_id": 999_999_999,
    "session_id": 999_999_999,
    "token": "x" * 43,
    "uidb64": "MQ",
}


def pulse_token(world: World) -> str:
    return world.pulse_token


def retro_token(world: World) -> str:
    return world.retro_token


def open_run(world: World) -> int:
    return world.open_run.pk


def team_b(world: World) -> str:
    return world.team_b.slug


@dataclass(frozen=True)
class Variant:
    """One way of calling a route: parameters, query string, body, and its own rules."""

    name: str = "plain"
    params: dict[str, Value] = field(default_factory=dict)
    query: dict[str, Value] = field(default_factory=dict)
    data: dict[str, Value] | None = None
    who: dict[str, Who] = field(default_factory=dict)  # overrides the route's, per method
    methods: tuple[str, ...] = METHODS
    controls: bool = True  # whether the route's positive controls apply (see Route.shows_b)


PLAIN = (Variant(),)


@dataclass(frozen=True)
class Route:
    """Who may use a route, per method (HEAD follows GET). `login`: a page behind
    login_required, which sends anonymous visitors to log in whatever the method.
    `class_based`: a class-based view, which answers OPTIONS itself. `shows_b`: the roles
    whose allowed GET must show team B's canary (the positive controls)."""

    who: dict[str, Who]
    api: bool = False
    login: bool = True
    class_based: bool = False
    params: dict[str, Value] = field(default_factory=dict)
    variants: tuple[Variant, ...] = PLAIN
    shows_b: frozenset[str] = frozenset()
    in_schema: bool = True
    body: dict[str, Value] | None = None  # a well-formed body, so access decides, not parsing

    def who_for(self, method: str, variant: Variant) -> Who | None:
        rules = {**self.who, **variant.who}
        return rules.get("GET" if method == "HEAD" else method)

    @property
    def login_first(self) -> bool:
        """Whether anonymous requests are refused before the method is looked at."""
        if self.api:
            return any(who not in OPEN_TO_ANONYMOUS for who in self.who.values())
        return self.login


def api(who: dict[str, Who], **options: Any) -> Route:
    return Route(who=who, api=True, login=False, class_based=True, **options)


def page(who: dict[str, Who], **options: Any) -> Route:
    return Route(who=who, **options)


def auth_view(who: dict[str, Who], login: bool = False) -> Route:
    return Route(who=who, login=login, class_based=True)


GET = {"GET": Who.LOGGED_IN}
VIEW = {"GET": Who.TEAM_VIEWER}
RUN = {"GET": Who.RETRO_RUNNER}
FORM = {"GET": Who.PUBLIC, "POST": Who.PUBLIC, "PUT": Who.PUBLIC}  # Django's FormView: PUT = POST
SEERS = SEES_B
FORMATS = ("md", "csv", "json")


def _export(fmt: str, prompts_only: bool) -> Variant:
    return Variant(
        f"{fmt}{', prompts only' if prompts_only else ''}",
        params={"export_format": lambda world: fmt},
        query={"prompts": lambda world: "only"} if prompts_only else {},
        controls=not prompts_only,  # the prompts alone name no team in CSV
    )


EXPORTS = tuple(_export(fmt, prompts_only) for fmt in FORMATS for prompts_only in (False, True))


def _forged(route_token: Value) -> tuple[Variant, ...]:
    return (
        Variant("team B's link", params={"token": route_token}),
        Variant(
            "a made-up link",
            params={"token": lambda world: GHOSTS["token"]},
            who={"GET": Who.FORGED_TOKEN},
            methods=("GET", "HEAD"),
        ),
    )


def _named_team(**fields: Value) -> Variant:
    return Variant(
        "naming team B in the body",
        data={"team": team_b, **fields},
        who={"POST": Who.RETRO_RUNNER},
        methods=("POST",),
    )


def a_built_in_prompt(world: World) -> list[int]:
    return [world.retro.prompts.values_list("prompt_id", flat=True)[0]]


ANSWERS: dict[str, Value] = {"answers": lambda world: {}}
CARDS: dict[str, Value] = {"cards": lambda world: []}


ROUTES: dict[str, Route] = {
    # Django's own: authentication pages.
    "login": auth_view(FORM),
    "logout": auth_view({"POST": Who.PUBLIC}),
    "password_change": auth_view(
        {"GET": Who.LOGGED_IN, "POST": Who.LOGGED_IN, "PUT": Who.LOGGED_IN}, login=True
    ),
    "password_change_done": auth_view(GET, login=True),
    "password_reset": auth_view(FORM),
    "password_reset_done": auth_view({"GET": Who.PUBLIC}),
    "password_reset_confirm": Route(  # Django shows "invalid link" whatever the method
        who={method: Who.PUBLIC for method in METHODS if method != "OPTIONS"},
        login=False,
        class_based=True,
        params={"uidb64": lambda world: "MQ", "token": lambda world: "set-password"},
    ),
    "password_reset_complete": auth_view({"GET": Who.PUBLIC}),
    # Pages.
    "home": page({"GET": Who.PUBLIC}, login=False),  # to the dashboard, or to log in
    "healthz": page({"GET": Who.PUBLIC}, login=False),
    "pulse-answer": page(
        {"GET": Who.TOKEN, "POST": Who.TOKEN}, login=False, variants=_forged(pulse_token)
    ),
    "my-pulses": page(GET, shows_b=INVITED_B),
    "my-pulse-answer": page({"GET": Who.INVITEE, "POST": Who.INVITEE}, params={"run_id": open_run}),
    "dashboard": page(GET, shows_b=SEERS),
    "team-results": page(VIEW, shows_b=SEERS),
    "run-results": page(VIEW, shows_b=SEERS),
    "retro-write": page(
        {"GET": Who.TOKEN, "POST": Who.TOKEN}, login=False, variants=_forged(retro_token)
    ),
    "my-retros": page(GET, shows_b=INVITED_B | RUNS_B_RETROS),
    "retro-session": page(RUN, shows_b=RUNS_B_RETROS),
    "my-retro-write": page({"GET": Who.INVITEE, "POST": Who.INVITEE}),
    "retro-session-close": page({"POST": Who.RETRO_RUNNER}),
    "retro-session-print": page(RUN, shows_b=RUNS_B_RETROS),
    "retro-session-export": page(RUN, variants=EXPORTS, shows_b=RUNS_B_RETROS),
    "team-retros": page(VIEW, shows_b=SEERS),
    "retro-session-new": page(
        {"GET": Who.RETRO_RUNNER, "POST": Who.RETRO_RUNNER},
        variants=(
            Variant(),
            Variant("from a prompt set", query={"set": lambda world: world.prompt_set.pk}),
        ),
    ),
    "insights": page(
        GET,
        variants=(
            Variant(),
            Variant("under team B", query={"under": team_b}, who={"GET": Who.TEAM_VIEWER}),
            Variant("page 2", query={"page": lambda world: "2"}),
        ),
        shows_b=SEERS,
    ),
    "insights-csv": page(
        GET,
        variants=(
            Variant(),
            Variant("under team B", query={"under": team_b}, who={"GET": Who.TEAM_VIEWER}),
        ),
        shows_b=SEERS,
    ),
    "alerts": page(GET, shows_b=SEERS),
    "team-insights": page(
        VIEW,
        variants=(
            Variant(),
            Variant(
                "another pair",
                query={"x": lambda world: "safety", "y": lambda world: "throughput"},
            ),
        ),
        shows_b=SEERS,
    ),
    "team-insights-csv": page(VIEW),
    "team-report": page(VIEW, shows_b=SEERS),
    # The API.
    "schema": api({"GET": Who.PUBLIC}, in_schema=False),
    "swagger-ui": Route(who={"GET": Who.PUBLIC}, api=True, login=False, in_schema=False),
    "api-teams": api(GET, shows_b=SEERS),
    "api-team-results": api(VIEW, shows_b=SEERS),
    "api-team-questions": api(VIEW),
    "api-team-delivery": api(VIEW),
    "api-team-periods": api(VIEW),
    "api-team-correlations": api(VIEW),
    "api-team-rollups": api(VIEW),
    "api-heatmap": api(
        GET,
        variants=(
            Variant(),
            Variant("under team B", query={"under": team_b}, who={"GET": Who.UNDER_FILTER}),
            Variant(
                "a page",
                query={"limit": lambda world: "1", "offset": lambda world: "1"},
                controls=False,
            ),
        ),
        shows_b=SEERS,
    ),
    "api-alerts": api(GET, shows_b=SEERS),
    "api-runs": api(GET, shows_b=SEERS),
    "api-run-results": api(VIEW, shows_b=SEERS),
    "api-invitation": api({"GET": Who.TOKEN}, variants=_forged(pulse_token)),
    "api-invitation-response": api(
        {"POST": Who.TOKEN}, params={"token": pulse_token}, body=ANSWERS
    ),
    "api-my-pulses": api(GET, shows_b=INVITED_B),
    "api-my-pulse": api(
        {"GET": Who.INVITEE, "POST": Who.INVITEE}, params={"run_id": open_run}, body=ANSWERS
    ),
    "api-questions": api({"GET": Who.LOGGED_IN, "POST": Who.ORG_ADMIN}),
    "api-team-retros": api({"GET": Who.TEAM_VIEWER, "POST": Who.RETRO_RUNNER}, shows_b=SEERS),
    "api-team-retro-heatmap": api(VIEW),
    "api-retro": api(RUN, shows_b=RUNS_B_RETROS),
    "api-retro-close": api({"POST": Who.RETRO_RUNNER}),
    "api-retro-board": api(RUN, shows_b=RUNS_B_RETROS),
    "api-retro-export": api(RUN, variants=EXPORTS, shows_b=RUNS_B_RETROS),
    "api-retro-invitation": api({"GET": Who.TOKEN}, variants=_forged(retro_token)),
    "api-retro-invitation-submission": api(
        {"POST": Who.TOKEN}, params={"token": retro_token}, body=CARDS
    ),
    "api-my-retros": api(GET, shows_b=INVITED_B),
    "api-my-retro": api({"GET": Who.INVITEE, "POST": Who.INVITEE}, body=CARDS),
    "api-retro-prompts": api(
        {"GET": Who.LOGGED_IN, "POST": Who.LOGGED_IN},
        variants=(Variant(), _named_team(text=lambda world: "x")),
    ),
    "api-retro-prompt-sets": api(
        {"GET": Who.LOGGED_IN, "POST": Who.LOGGED_IN},
        variants=(Variant(), _named_team(name=lambda world: "x", prompts=a_built_in_prompt)),
    ),
}
ADMIN_PUBLIC = {"admin:login": Route(who=FORM, login=False, class_based=True)}
ADMIN_STAFF = Route(who=dict.fromkeys(METHODS, Who.STAFF), login=False)
ADMIN_PARAMS: dict[str, Value] = {
    "object_id": lambda world: world.team_b.pk,
    "content_type_id": lambda world: 1,
    "id": lambda world: 1,
    "app_label": lambda world: "surveys",
    "url": lambda world: "no-such-page/",
}


@dataclass(frozen=True)
class ResolvedRoute:
    """A route as Django's resolver has it: its name (namespaced), pattern and view."""

    name: str
    pattern: str
    callback: Any
    kwargs: tuple[str, ...]


def resolver_routes(
    patterns: list[Any] | None = None, prefix: str = "", namespace: str = ""
) -> Iterator[ResolvedRoute]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            inner = f"{entry.namespace}:" if entry.namespace else namespace
            yield from resolver_routes(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            pattern = prefix + str(entry.pattern)
            name = f"{namespace}{entry.name}" if entry.name else f"{namespace}<{pattern}>"
            kwargs = tuple(entry.pattern.regex.groupindex)
            yield ResolvedRoute(name, pattern, entry.callback, kwargs)


def policy_of(route: ResolvedRoute) -> Route | None:
    if route.name in ADMIN_PUBLIC:
        return ADMIN_PUBLIC[route.name]
    if route.name.startswith("admin:"):
        return ADMIN_STAFF
    return ROUTES.get(route.name)


# --- building and sending requests -------------------------------------------------------


def _url(route: ResolvedRoute, policy: Route, variant: Variant, world: World, ghost: bool) -> str:
    fillers = {**PARAMS, **ADMIN_PARAMS, **policy.params, **variant.params}
    kwargs = {}
    for name in route.kwargs:
        kwargs[name] = GHOSTS[name] if ghost and name in GHOSTS else fillers[name](world)
    if route.name.startswith("admin:<"):  # the admin's unnamed patterns
        path = "/" + route.pattern.replace("^", "").replace("$", "")
        for name, value in kwargs.items():
            path = path.replace(f"<path:{name}>", str(value)).replace(f"(?P<{name}>.*)", str(value))
    else:
        path = reverse(route.name, kwargs=kwargs)
    query = {name: value(world) for name, value in variant.query.items()}
    if ghost:
        query = {name: GHOSTS["slug"] if v == world.team_b.slug else v for name, v in query.items()}
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def _send(client: Client, method: str, url: str, data: dict[str, Any] | None, api: bool) -> Any:
    call = getattr(client, method.lower())
    if data is None:
        return call(url)
    if api:
        return call(url, json.dumps(data), content_type="application/json")
    return call(url, data)


def observed(response: Any) -> Outcome:
    status = response.status_code
    if status >= 500:
        return Outcome.SERVER_ERROR
    if status in (301, 302, 303, 307, 308):
        location = response["Location"]
        if location.startswith(reverse(settings.LOGIN_URL) + "?next="):
            return Outcome.LOGIN
        if location.startswith("/admin/"):
            return Outcome.ADMIN_LOGIN
        return Outcome.ALLOWED
    simple = {
        401: Outcome.UNAUTHENTICATED,
        403: Outcome.FORBIDDEN,
        404: Outcome.NOT_FOUND,
        405: Outcome.NOT_ALLOWED,
    }
    if status in simple:
        return simple[status]
    if status < 300:
        return Outcome.ALLOWED
    return Outcome.OTHER


def matches(expected: Outcome, response: Any, method: str) -> bool:
    """A read that is allowed must succeed; an allowed write may also be refused for its
    (deliberately empty) body or the object's state: 400, 409, 410."""
    seen = observed(response)
    if expected is Outcome.BAD_FILTER:
        return response.status_code == 400
    if expected is Outcome.ALLOWED and method not in READS:
        return seen is Outcome.ALLOWED or response.status_code in (400, 409, 410)
    return seen is expected


CSRF_TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


def _comparable(response: Any) -> bytes:
    """The body without its CSRF token, which is masked afresh on every page."""
    return CSRF_TOKEN.sub(b"", response.content)


def expected_outcome(policy: Route, variant: Variant, role: str, method: str) -> Outcome:
    if policy is ADMIN_STAFF:
        return Outcome.ADMIN_LOGIN
    who = policy.who_for(method, variant)
    anonymous = role == ANONYMOUS
    refused = Outcome.UNAUTHENTICATED if policy.api else Outcome.LOGIN
    if anonymous and policy.login_first:
        return refused
    if who is None:
        if method == "OPTIONS" and policy.class_based:
            return Outcome.ALLOWED
        return Outcome.NOT_ALLOWED
    if anonymous and who not in OPEN_TO_ANONYMOUS:
        return refused
    return outcome_for(who, role)


# --- the matrix ----------------------------------------------------------------------------


@dataclass
class Tally:
    cells: int = 0
    routes: set[str] = field(default_factory=set)
    by_outcome: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def count(self, route: str, outcome: Outcome) -> None:
        self.cells += 1
        self.routes.add(route)
        self.by_outcome[outcome.value] = self.by_outcome.get(outcome.value, 0) + 1


@pytest.fixture(scope="module")
def tallies(request: pytest.FixtureRequest) -> Iterator[dict[str, Tally]]:
    """Per role, what the matrix checked; written to test-artifacts/security at the end."""
    found: dict[str, Tally] = {}
    yield found
    if not found:
        return
    figures = {
        "cells": sum(t.cells for t in found.values()),
        "routes": len(set().union(*(t.routes for t in found.values()))),
        "roles": {role: {"cells": t.cells, "outcomes": t.by_outcome} for role, t in found.items()},
    }
    summary = f"access matrix: {figures['cells']} cells, {figures['routes']} routes"
    figures_record(request.config, "access-matrix", figures, f"{summary}, {len(found)} roles")


def _client_for(role: str, world: World) -> Client:
    client = Client(raise_request_exception=False)
    if role != ANONYMOUS:
        client.force_login(world.people[role])
    return client


@dataclass
class Cell:
    """One request: a role calling a route (one variant of it) with a method."""

    world: World
    role: str
    route: ResolvedRoute
    policy: Route
    variant: Variant
    method: str

    @property
    def expected(self) -> Outcome:
        return expected_outcome(self.policy, self.variant, self.role, self.method)

    @property
    def label(self) -> str:
        return f"{self.role} {self.method} {self.url()} [{self.route.name}: {self.variant.name}]"

    def url(self, ghost: bool = False) -> str:
        return _url(self.route, self.policy, self.variant, self.world, ghost)

    def send(self, client: Client, ghost: bool = False) -> Any:
        fields = self.variant.data if self.variant.data is not None else self.policy.body
        data = None
        if fields is not None and self.method not in READS:
            data = {name: value(self.world) for name, value in fields.items()}
        return _send(client, self.method, self.url(ghost), data, self.policy.api)

    def problems(self, client: Client, response: Any) -> Iterator[str]:
        """What is wrong with the answer: its outcome, a canary it shows, a canary a
        control misses, a token in a redirect, a 404 unlike a missing object's."""
        expected, body = self.expected, response.content.decode(errors="replace").lower()
        if not matches(expected, response, self.method):
            seen = observed(response).value
            yield f"expected {expected.value}, got {response.status_code} ({seen}) {body[:120]!r}"
        if self.policy.who_for(self.method, self.variant) is not Who.TOKEN:
            yield from (f"the body shows {c!r}" for c in canaries_seen_by(self.role) if c in body)
        control = self.variant.controls and self.role in self.policy.shows_b
        if (
            self.method == "GET"
            and expected is Outcome.ALLOWED
            and control
            and (TEAM_B_CANARY not in body)
        ):
            yield "control: team B's canary is missing"
        location = response.get("Location", "")
        if self.world.pulse_token in location or self.world.retro_token in location:
            yield f"a redirect carries a link token: {location}"
        if expected is Outcome.NOT_FOUND and self.method != "HEAD":
            ghost = self.send(client, ghost=True)
            if (ghost.status_code, _comparable(ghost)) != (
                response.status_code,
                _comparable(response),
            ):
                yield "its 404 differs from the 404 for an object that does not exist"


def _check(client: Client, cell: Cell, tally: Tally) -> None:
    """Send one request in a savepoint (so a write changes nothing for the next cell) and
    record what is wrong with its answer."""
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    savepoint = transaction.savepoint()
    try:
        response = cell.send(client)
        tally.count(cell.route.name, cell.expected)
        tally.failures += [
            f"{cell.label}: {problem}" for problem in cell.problems(client, response)
        ]
    finally:
        transaction.savepoint_rollback(savepoint)
        client.cookies.clear()
        for name, value in cookies.items():  # a logout, say, must not log the next cell out
            client.cookies[name] = value


@pytest.mark.parametrize("role", ROLES)
def test_it_gives_each_role_exactly_what_it_may_see_of_team_b(
    role: str, tallies: dict[str, Tally], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="django.request")  # thousands of 4xx by design
    cache.clear()  # the link throttle's counters
    world = world_build()
    client = _client_for(role, world)
    tally = tallies.setdefault(role, Tally())
    for route in resolver_routes():
        policy = policy_of(route)
        if policy is None:
            continue  # test_it_classifies_every_route names it
        for variant in policy.variants:
            for method in variant.methods:
                _check(client, Cell(world, role, route, policy, variant, method), tally)
    assert not tally.failures, f"{len(tally.failures)} of {tally.cells} cells:\n" + "\n".join(
        tally.failures
    )


def test_it_classifies_every_route() -> None:
    """A new route fails here until ROUTES says who may use it."""
    resolved = {route.name for route in resolver_routes()}
    unclassified = sorted(
        name for name in resolved if not name.startswith("admin:") and name not in ROUTES
    )
    assert not unclassified, f"say who may use these routes in ROUTES: {unclassified}"
    assert not sorted(set(ROUTES) - resolved), "ROUTES names routes that no longer exist"


def _schema_operations(client: Client) -> set[tuple[str, str]]:
    document = client.get(reverse("schema"), HTTP_ACCEPT="application/json").json()
    return {(path, method.upper()) for path, item in document["paths"].items() for method in item}


def _route_of(path: str) -> str:
    concrete = path.replace("{slug}", "x").replace("{token}", "x").replace("{export_format}", "x")
    concrete = concrete.replace("{run_id}", "1").replace("{session_id}", "1")
    return resolve(concrete).url_name or ""


def test_it_covers_every_operation_of_the_openapi_schema(client: Client) -> None:
    """The schema and ROUTES name the same operations, and so do the views' methods."""
    operations = _schema_operations(client)
    from_schema = {(_route_of(path), method) for path, method in operations}
    from_routes = {
        (name, method)
        for name, route in ROUTES.items()
        if route.api and route.in_schema
        for method in route.who
    }
    assert from_schema == from_routes
    for route in resolver_routes():
        policy = ROUTES.get(route.name)
        view = getattr(route.callback, "cls", None)
        if policy is None or not policy.api or not (view and issubclass(view, APIView)):
            continue
        implemented = {m.upper() for m in ("get", "post", "put", "patch", "delete")}
        implemented = {m for m in implemented if hasattr(view, m.lower())}
        assert implemented == set(policy.who), route.name
