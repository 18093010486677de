"""Schemathesis against /api/schema/, in process on the WSGI app, once per role.

Every operation gets schema-valid and schema-violating requests (GenerationMode.POSITIVE
and NEGATIVE), with generated path parameters and with team B's real ones, so the answers
with data are checked too. Schemathesis' checks apply (no 5xx, documented status codes and
content types, bodies that match the schema, schema-violating requests refused, auth
enforced, no method answered that the schema lacks) plus two of ours: no payload carries a
person (a user id, email, username or submission time), and no role sees team B's or
another organisation's data it may not see.

Bounded and reproducible: `MAX_EXAMPLES` per operation and role, derandomized. Left out:
`positive_data_acceptance`, which expects any schema-valid body to be accepted — answers
are checked against the questions a run asked, which OpenAPI cannot express, so a
schema-valid answer set is still a 400 naming the field.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import GenerationMode

from config.wsgi import application
from tests.security.access_world import (
    ANONYMOUS,
    ROLES,
    World,
    canaries_seen_by,
    figures_record,
    world_build,
)

pytestmark = pytest.mark.django_db

MAX_EXAMPLES = 12  # per operation and role
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
# Keys that would put a person next to what they answered.
PERSON_KEYS = re.compile(
    r"^(user|users|user_id|username|email|emails|author|authors|created_by|respondent_id"
    r"|submitted_at|submitted|answered_at|written_at|created_at|updated_at|timestamp|ip)$"
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


@contextmanager
def wsgi_in_test_transaction() -> Iterator[None]:
    """Calls to the WSGI app run in the test's transaction, as Django's test client does:
    the app must not close the connection at the end of each request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _values(document: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) in a JSON document; list items have no key."""
    if isinstance(document, dict):
        for key, value in document.items():
            yield key, value
            yield from _values(value)
    elif isinstance(document, list):
        for item in document:
            yield None, item
            yield from _values(item)


def _recent(value: str, since: datetime) -> bool:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return moment.tzinfo is not None and abs(moment - since) < timedelta(minutes=2)


def person_free(text: str, people: list[Any], built_at: datetime) -> list[str]:
    """What in a body could name a person: a person's key, an email, a username, or a time
    from when the world was built (its answers and cards were written then)."""
    found = [f"email {match!r}" for match in EMAIL.findall(text)]
    found += [f"username {p.username!r}" for p in people if p.username in text]
    try:
        document = json.loads(text)
    except ValueError:
        return found
    for key, value in _values(document):
        if key is not None and PERSON_KEYS.match(key):
            found.append(f"key {key!r}")
        if isinstance(value, str) and _recent(value, built_at):
            found.append(f"a time of submission {value!r} under {key!r}")
    return found


def _fixed_parameters(path: str, world: World) -> dict[str, Any]:
    """Team B's real objects for the operation's path parameters."""
    values: dict[str, Any] = {
        "slug": world.team_b.slug,
        "run_id": world.open_run.pk if "/me/" in path else world.closed_run.pk,
        "session_id": world.retro.pk,
        "token": world.retro_token if "retro-invitations" in path else world.pulse_token,
        "export_format": "json",
    }
    return {name: values[name] for name in re.findall(r"{(\w+)}", path)}


def _config(role: str, world: World) -> schemathesis.Config:
    options: dict[str, Any] = {"checks": {"positive_data_acceptance": {"enabled": False}}}
    if role != ANONYMOUS:
        key = Token.objects.create(user=world.people[role]).key
        options["auth"] = {"openapi": {"tokenAuth": {"api_key": f"Token {key}"}}}
    return schemathesis.Config.from_dict(options)


def _checks(role: str, world: World, built_at: datetime) -> list[Any]:
    hidden = canaries_seen_by(role)
    people = [*world.people.values()]

    def no_person_in_payload(ctx: Any, response: Any, case: Any) -> None:
        found = person_free(response.text, people, built_at)
        if found:
            raise AssertionError(f"the body could name a person: {found}")

    def nothing_of_team_b(ctx: Any, response: Any, case: Any) -> None:
        body = response.text.lower()
        holds_link = "{token}" in case.operation.path
        shown = [canary for canary in hidden if canary in body and not holds_link]
        if shown:
            raise AssertionError(f"{role} sees {shown}")

    return [no_person_in_payload, nothing_of_team_b]


def _failures(error: BaseException) -> list[BaseException]:
    return list(getattr(error, "exceptions", [error]))


def _fuzz(operation: Any, world: World, checks: list[Any], found: dict[str, str]) -> int:
    """Run one operation's cases; record each distinct failure; return how many ran."""
    fixed = _fixed_parameters(operation.path, world)
    strategies = [operation.as_strategy(generation_mode=mode) for mode in MODES]
    if fixed:
        strategies += [
            operation.as_strategy(generation_mode=mode, path_parameters=fixed) for mode in MODES
        ]
    cases = 0

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        nonlocal cases
        cases += 1
        savepoint = transaction.savepoint()  # each case sees the same world
        try:
            case.call_and_validate(additional_checks=checks)
        except (Exception, BaseExceptionGroup) as error:
            for failure in _failures(error):
                title = getattr(failure, "title", type(failure).__name__)
                found.setdefault(f"{operation.label}: {title}", str(error)[:2000])
        finally:
            transaction.savepoint_rollback(savepoint)

    run()
    return cases


@pytest.mark.parametrize("role", ROLES)
def test_every_generated_request_gets_an_answer_within_the_schema(
    role: str, caplog: pytest.LogCaptureFixture, request: pytest.FixtureRequest
) -> None:
    caplog.set_level(logging.ERROR, logger="django.request")
    cache.clear()  # the link throttle's counters
    world = world_build()
    checks = _checks(role, world, built_at=timezone.now())
    found: dict[str, str] = {}
    with wsgi_in_test_transaction():
        schema = schemathesis.openapi.from_wsgi(
            "/api/schema/?format=json", application, config=_config(role, world)
        )
        operations = [result.ok() for result in schema.get_all_operations()]
        cases = sum(_fuzz(operation, world, checks, found) for operation in operations)
    _record(request, role, cases, len(operations), found)
    assert not found, "\n\n".join(f"{key}\n{example}" for key, example in found.items())


def _record(
    request: pytest.FixtureRequest, role: str, cases: int, operations: int, found: dict
) -> None:
    figures = {"role": role, "cases": cases, "operations": operations, "failures": len(found)}
    summary = f"schemathesis {role}: {cases} cases, {operations} operations"
    figures_record(request.config, f"schemathesis-{role}", figures, summary)
