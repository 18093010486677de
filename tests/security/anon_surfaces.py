"""Every surface a person can read, enumerated from the URL resolver and the admin site, so
a route added later is attacked by default: each route's parameters are filled with every
team, run, session, link and format of a world, read as each viewer, and the text kept.

Two snapshots of one world, taken before and after something changed underneath (answers
rewritten, a respondent fewer, a late card), must be equal wherever the change must not
show: a surface that differs has shown what it should not.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from io import StringIO
from typing import Any

from django.contrib import admin
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.anon_world import World, tally

# Routes that show nothing about anyone's answers, cards or Git history, with why.
NOT_DATA = {
    "login": "the login form",
    "logout": "logging out",
    "password_change": "changing one's own password",
    "password_change_done": "a confirmation",
    "password_reset": "the reset form",
    "password_reset_done": "a confirmation",
    "password_reset_confirm": "a reset link (a Django token, not a Candor link)",
    "password_reset_complete": "a confirmation",
}
# Query strings the pages and the API document, by route name: a filter is a surface too.
QUERIES: dict[str, tuple[str, ...]] = {
    "insights": ("", "?under={parent}", "?page=2"),
    "insights-csv": ("", "?under={parent}"),
    "api-heatmap": ("", "?under={parent}", "?limit=1&offset=1"),
    "team-insights": ("", "?x=safety&y=throughput", "?x=ai_trust_share&y=cycle_median_h"),
    "team-report": ("", "?x=perceived&y=change_failure_rate"),
    "retro-session-export": ("", "?prompts=only"),
    "api-retro-export": ("", "?prompts=only"),
}
EXPORT_FORMATS = ("md", "csv", "json", "pdf")
PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")
# What differs between two readings whatever the data: form tokens, and the login time
# that reading as a viewer sets (shown on the admin's user page).
CSRF = re.compile(
    r'(name="csrfmiddlewaretoken" value="|"X-CSRFTOKEN"\] = "|name="last_login_\d" value=")[^"]+'
)


@dataclass(frozen=True)
class Route:
    template: str  # e.g. "teams/<slug:slug>/insights/"
    name: str | None
    parameters: tuple[str, ...]


def routes() -> list[Route]:
    """Every route of the project outside the admin site (which `admin_urls` reads)."""

    def walk(patterns: Iterable[Any], prefix: str) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                template = prefix + str(pattern.pattern)
                yield Route(template, pattern.name, tuple(PARAMETER.findall(template)))

    return list(walk(get_resolver().url_patterns, ""))


def values_of(world: World, tokens: Iterable[str]) -> dict[str, list[Any]]:
    """What each route parameter is filled with."""
    return {
        "slug": [team.slug for team in world.teams.values()],
        "run_id": [run.pk for run in world.runs.values()],
        "session_id": [session.pk for session in world.sessions.values()],
        "token": list(tokens),
        "export_format": list(EXPORT_FORMATS),
    }


def urls(world: World, tokens: Iterable[str] = ()) -> dict[str, list[str]]:
    """Every URL to read, by route name: each route with every combination of its
    parameters' values and each documented query string. Fails on a parameter it cannot
    fill, so a new kind of route gets values here before it can go unattacked."""
    values = values_of(world, tokens)
    parent = next((team.slug for team in world.teams.values() if team.children.exists()), "")
    found: dict[str, list[str]] = {}
    for route in routes():
        if route.name in NOT_DATA:
            continue
        assert route.name, f"unnamed route {route.template}"
        missing = [name for name in route.parameters if name not in values]
        assert not missing, f"no values to attack {route.template} with: {missing}"
        combos = itertools.product(*(values[name] for name in route.parameters))
        found[route.name] = [
            reverse(route.name, kwargs=dict(zip(route.parameters, combo, strict=True)))
            + query.format(parent=parent)
            for combo in combos
            for query in QUERIES.get(route.name, ("",))
        ]
    return found


def admin_urls(objects_per_model: int = 3) -> list[str]:
    """The admin's changelist and add page of every registered model, and the change,
    history and delete pages of its first objects."""
    found = []
    for model, model_admin in admin.site._registry.items():
        info = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        found += [reverse(f"{info}_changelist"), reverse(f"{info}_add")]
        if model_admin.search_fields:
            found.append(reverse(f"{info}_changelist") + "?q=a")
        for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)[
            :objects_per_model
        ]:
            found += [reverse(f"{info}_{page}", args=[pk]) for page in ("change", "history")]
            found.append(reverse(f"{info}_delete", args=[pk]))
    return found


def normalised(body: bytes) -> str:
    return CSRF.sub(r"\1-", body.decode("utf-8", errors="replace"))


Snapshot = dict[tuple[str, str], tuple[int, str]]


def read(viewers: dict[str, Any], url_list: Iterable[str]) -> Snapshot:
    """GET every URL as every viewer (None: not logged in); status and text by (viewer, url)."""
    url_list = list(url_list)
    found: Snapshot = {}
    for name, user in viewers.items():
        client = Client()
        if user is not None:
            client.force_login(user)
        for url in url_list:
            response = client.get(url)
            found[(name, url)] = (response.status_code, normalised(response.content))
    tally("surfaces read", len(found))
    return found


def cli_exports(world: World) -> dict[str, str]:
    """`manage.py export_retro` of every session in every format: its output or its error."""
    found = {}
    for (name, session), export_format, prompts_only in itertools.product(
        world.sessions.items(), ("md", "csv", "json"), (False, True)
    ):
        out = StringIO()
        try:
            call_command(
                "export_retro",
                str(session.pk),
                format=export_format,
                prompts_only=prompts_only,
                stdout=out,
            )
        except CommandError as error:
            out.write(f"CommandError: {error}")
        found[f"export_retro {name} {export_format} {prompts_only}"] = out.getvalue()
    tally("CLI exports read", len(found))
    return found


def differences(before: dict[Any, Any], after: dict[Any, Any]) -> list[Any]:
    """The keys whose value changed (or that one side lacks)."""
    return sorted(
        (key for key in before.keys() | after.keys() if before.get(key) != after.get(key)),
        key=str,
    )


def every_surface(world: World, viewers: dict[str, Any], tokens: Iterable[str]) -> Snapshot:
    """Pages, API routes, exports and CSVs as every viewer, the admin as the superusers,
    and the CLI exports (as ("cli", command))."""
    route_urls = [url for group in urls(world, tokens).values() for url in group]
    found = read(viewers, route_urls)
    superusers = {name: user for name, user in viewers.items() if user and user.is_superuser}
    found |= {
        key: _unordered(key[1], value) for key, value in read(superusers, admin_urls()).items()
    }
    for command, text in cli_exports(world).items():
        found[("cli", command)] = (0, text)
    return found


def _unordered(url: str, value: tuple[int, str]) -> tuple[int, str]:
    """The admin's delete page lists the related objects in the database's order, which
    PostgreSQL changes when a row is updated: compare its lines as a multiset there."""
    if not url.endswith("/delete/"):
        return value
    return value[0], "\n".join(sorted(value[1].splitlines()))


def explained(changed: list[Any], snapshot: Snapshot, after: Snapshot) -> str:
    """A readable account of the first differences, for an assertion message."""
    lines = []
    for key in changed[:5]:
        first, second = snapshot.get(key, (None, "")), after.get(key, (None, ""))
        diverge = next(
            (i for i, (a, b) in enumerate(zip(first[1], second[1], strict=False)) if a != b), 0
        )
        lines.append(
            f"{key}: {first[0]} → {second[0]}; "
            f"…{first[1][max(0, diverge - 80) : diverge + 80]!r}\n"
            f"   vs …{second[1][max(0, diverge - 80) : diverge + 80]!r}"
        )
    return f"{len(changed)} surfaces changed:\n" + "\n".join(lines)


Check = Callable[[Snapshot], None]


def assert_unchanged(before: dict[Any, Any], after: dict[Any, Any]) -> None:
    """Every surface (or figure) read before reads the same after."""
    changed = differences(before, after)
    assert not changed, explained(changed, before, after)
