"""HTTP hardening: link tokens, their throttle and its log, CSRF on every form, no caching
of answering pages, identifiers out of query strings, and the production settings."""

from __future__ import annotations

import base64
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client, override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from surveys.links.tokens import token_hash, token_new
from surveys.pulses import services
from surveys.pulses.models import Invitation
from surveys.retros import services as retros
from surveys.retros.models import RetroInvitation
from tests.conftest import make_open_retro, make_open_run
from tests.security.access_world import World, figures_record, world_build
from tests.security.test_access_matrix import ADMIN_PUBLIC, ROUTES, Who, resolver_routes

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
LINK_ROUTES = ("pulse-answer", "retro-write", "api-invitation", "api-retro-invitation")
LIMIT = 5


@pytest.fixture
def world() -> World:
    cache.clear()
    return world_build()


@pytest.fixture
def throttled() -> Iterator[None]:
    """The link throttle at LIMIT requests a minute, counting from zero."""
    cache.clear()
    rates = {"DEFAULT_THROTTLE_RATES": {"invitation": f"{LIMIT}/minute"}}
    with override_settings(REST_FRAMEWORK={**_rest_framework(), **rates}):
        yield
    cache.clear()


def _rest_framework() -> dict[str, Any]:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)


# --- tokens --------------------------------------------------------------------------------


def _random_bits(raw: str) -> int:
    return len(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))) * 8


def test_it_issues_links_of_at_least_128_random_bits_and_stores_only_their_hash() -> None:
    open_run = make_open_run(size=5)
    open_retro = make_open_retro(size=5)
    issued = open_run.tokens + open_retro.tokens + [token_new()[0] for _ in range(500)]
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", raw) for raw in issued)
    assert min(_random_bits(raw) for raw in issued) >= 128
    assert len(set(issued)) == len(issued)
    stored = [
        *Invitation.objects.values_list("token_hash", flat=True),
        *RetroInvitation.objects.values_list("token_hash", flat=True),
    ]
    for raw in open_run.tokens + open_retro.tokens:
        assert raw not in stored
        assert token_hash(raw) in stored


def test_it_emails_links_that_carry_the_token_in_the_path_only() -> None:
    open_run = make_open_run(size=5)
    open_run.run.invitations.update(sent=False, token_hash=None)
    assert services.invitations_send(run_id=open_run.run.pk) == 5
    open_retro = make_open_retro(size=5)
    open_retro.session.invitations.update(sent=False, token_hash=None)
    assert retros.retro_invitations_send(session_id=open_retro.session.pk) == 6
    links = [
        link
        for message in mail.outbox
        for link in re.findall(r"https?://\S+", message.body)
        if "/p/" in link or "/r/" in link
    ]
    assert len(links) == 11
    assert all(re.fullmatch(r"http://testserver/[pr]/[A-Za-z0-9_-]{43}/", link) for link in links)


# --- the throttle on links ------------------------------------------------------------------


def _link(name: str, token: str) -> str:
    return reverse(name, args=[token])


def _guess(client: Client, name: str, number: int, **headers: str) -> Any:
    return client.get(_link(name, f"guess{number:038d}"), **headers)


@pytest.mark.usefixtures("throttled")
@pytest.mark.parametrize("name", LINK_ROUTES)
def test_it_throttles_guessing_links_then_refuses_even_a_real_one(name: str, world: World) -> None:
    client = Client()
    assert [_guess(client, name, n).status_code for n in range(LIMIT)] == [404] * LIMIT
    refused = _guess(client, name, LIMIT)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    real = world.retro_token if "retro" in name else world.pulse_token
    assert client.get(_link(name, real)).status_code == 429


@pytest.mark.usefixtures("throttled")
def test_the_link_pages_and_their_api_share_one_budget_per_address(world: World) -> None:
    client = Client()
    for number, name in enumerate(LINK_ROUTES + LINK_ROUTES[:1]):
        assert _guess(client, name, number).status_code == 404
    assert _guess(client, "api-retro-invitation", 99).status_code == 429
    elsewhere = Client(REMOTE_ADDR="10.9.8.7")
    assert elsewhere.get(_link("pulse-answer", world.pulse_token)).status_code == 200


@pytest.mark.usefixtures("throttled")
def test_a_made_up_forwarded_for_header_does_not_buy_more_guesses(world: World) -> None:
    client = Client()
    statuses = [
        _guess(client, "pulse-answer", n, HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").status_code
        for n in range(LIMIT + 3)
    ]
    assert statuses == [404] * LIMIT + [429] * 3


@pytest.mark.usefixtures("throttled")
def test_behind_one_proxy_it_counts_the_address_the_proxy_saw(world: World) -> None:
    settings_one_proxy = {**_rest_framework(), "NUM_PROXIES": 1}
    with override_settings(REST_FRAMEWORK=settings_one_proxy):
        client = Client()
        spoofed = [
            _guess(client, "api-invitation", n, HTTP_X_FORWARDED_FOR=f"1.2.3.{n}, 203.0.113.5")
            for n in range(LIMIT + 1)
        ]
        assert [r.status_code for r in spoofed] == [404] * LIMIT + [429]
        other = _guess(client, "api-invitation", 0, HTTP_X_FORWARDED_FOR="203.0.113.6")
        assert other.status_code == 404


def _record_texts(record: logging.LogRecord) -> list[str]:
    """Everything a handler could write from a record: its message, arguments and extras."""
    texts = [record.getMessage(), str(record.msg), repr(record.args)]
    texts += [repr(value) for value in vars(record).values()]
    request = getattr(record, "request", None)
    if request is not None:
        texts.append(getattr(request, "path", "") + getattr(request, "get_full_path", str)())
    return texts


@pytest.mark.usefixtures("throttled")
def test_a_brute_force_attempt_is_logged_without_any_token(
    world: World, caplog: pytest.LogCaptureFixture, pytestconfig: pytest.Config
) -> None:
    client = Client()
    tried: list[str] = [world.pulse_token, world.retro_token]
    with caplog.at_level(logging.INFO):
        for number in range(4 * LIMIT):
            name = LINK_ROUTES[number % len(LINK_ROUTES)]
            token = f"brute{number:038d}"
            tried.append(token)
            client.get(_link(name, token))
            client.post(_link(name, token) + ("response/" if name == "api-invitation" else ""))
        client.get(_link("pulse-answer", world.pulse_token))
        client.get(_link("api-retro-invitation", world.retro_token))
    throttled = [r for r in caplog.records if r.name == "surveys.links.throttling"]
    assert throttled, "the throttle logged nothing"
    assert all("over the limit" in r.getMessage() for r in throttled)
    leaks = [
        (record.name, token)
        for record in caplog.records
        for text in _record_texts(record)
        for token in tried
        if token in text
    ]
    assert not leaks
    figures = {"requests": 8 * LIMIT + 2, "log_records": len(caplog.records)}
    summary = f"throttle: {figures['requests']} link requests, {len(throttled)} refusals logged"
    figures_record(pytestconfig, "throttle", figures, summary + ", no token in any record")


# --- CSRF -------------------------------------------------------------------------------------


def _post_forms() -> list[str]:
    """Every page route (not the API, not the admin's own) that takes a POST."""
    routes = {**ROUTES, **ADMIN_PUBLIC}
    return sorted(name for name, route in routes.items() if not route.api and "POST" in route.who)


def _as(world: World, route: str) -> Client:
    """A client allowed to post to the route, with CSRF checks on."""
    client = Client(enforce_csrf_checks=True)
    who = {**ROUTES, **ADMIN_PUBLIC}[route].who["POST"]
    if who is Who.INVITEE:
        client.force_login(world.people["engineer_b"])
    elif who in (Who.RETRO_RUNNER, Who.LOGGED_IN):
        client.force_login(world.people["admin_same_org"])
    return client


def _form_url(world: World, name: str) -> str:
    route = next(r for r in resolver_routes() if r.name == name)
    kwargs = {
        "token": world.retro_token if name == "retro-write" else world.pulse_token,
        "run_id": world.open_run.pk,
        "session_id": world.retro.pk,
        "slug": world.team_b.slug,
        "uidb64": "MQ",
    }
    if name == "password_reset_confirm":
        kwargs["token"] = "set-password"
    return reverse(name, kwargs={key: kwargs[key] for key in route.kwargs})


def test_every_form_refuses_a_post_without_its_csrf_token(
    world: World, pytestconfig: pytest.Config
) -> None:
    forms = _post_forms()
    assert len(forms) >= 10
    for name in forms:
        client = _as(world, name)
        url = _form_url(world, name)
        refused = client.post(url, {})
        assert refused.status_code == 403, name
        assert b"CSRF" in refused.content, name
        client.get(reverse("login"))  # sets the CSRF cookie
        token = client.cookies["csrftoken"].value
        accepted = client.post(url, {"csrfmiddlewaretoken": token})
        assert accepted.status_code != 403, name
    summary = f"csrf: {len(forms)} forms refuse a post without the token"
    figures_record(pytestconfig, "csrf", {"forms": len(forms)}, summary)


def test_the_api_refuses_a_session_post_without_csrf_but_not_a_token_post(world: World) -> None:
    admin = world.people["admin_same_org"]
    session = Client(enforce_csrf_checks=True)
    session.force_login(admin)
    url = reverse("api-retro-prompts")
    body = {"team": world.team_a.slug, "text": "What slowed review down?"}
    refused = session.post(url, body, content_type="application/json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]
    key = Token.objects.create(user=admin).key
    with_token = Client(enforce_csrf_checks=True, HTTP_AUTHORIZATION=f"Token {key}")
    assert with_token.post(url, body, content_type="application/json").status_code == 201


def test_every_post_form_in_the_templates_carries_the_csrf_token() -> None:
    forms = 0
    for template in (ROOT / "templates").rglob("*.html"):
        text = template.read_text()
        for form in re.findall(r"<form[^>]*>.*?</form>", text, flags=re.S | re.I):
            if re.search(r'method="post"', form, flags=re.I):
                forms += 1
                assert "{% csrf_token %}" in form, template.name
    assert forms >= 6


# --- caching --------------------------------------------------------------------------------


ANSWERING = {
    "pulse-answer": ("token", "pulse"),
    "retro-write": ("token", "retro"),
    "api-invitation": ("token", "pulse"),
    "api-invitation-response": ("token", "pulse"),
    "api-retro-invitation": ("token", "retro"),
    "api-retro-invitation-submission": ("token", "retro"),
    "my-pulses": ("", ""),
    "my-retros": ("", ""),
    "api-my-pulses": ("", ""),
    "api-my-retros": ("", ""),
    "my-pulse-answer": ("run_id", ""),
    "api-my-pulse": ("run_id", ""),
    "my-retro-write": ("session_id", ""),
    "api-my-retro": ("session_id", ""),
}


def _answering_url(world: World, name: str, real: bool = True) -> str:
    parameter, kind = ANSWERING[name]
    if not parameter:
        return reverse(name)
    if parameter == "token":
        token = world.retro_token if kind == "retro" else world.pulse_token
        return reverse(name, args=[token if real else "made-up"])
    value = {"run_id": world.open_run.pk, "session_id": world.retro.pk}[parameter]
    return reverse(name, args=[value if real else 999_999_999])


def test_answering_pages_and_their_api_are_never_stored_by_a_cache(
    world: World, pytestconfig: pytest.Config
) -> None:
    """Whatever the answer: the form, a validation error, a wrong link."""
    client = Client()
    client.force_login(world.people["engineer_b"])
    checked = 0
    for name in ANSWERING:
        for real in (True, False):
            url = _answering_url(world, name, real)
            for response in (client.get(url), client.post(url, {})):
                if response.status_code == 405:
                    continue
                cache_control = response.get("Cache-Control", "")
                assert "no-store" in cache_control, (name, response.status_code)
                assert "private" in cache_control, (name, response.status_code)
                checked += 1
    assert checked >= 40
    summary = f"cache-control: {checked} answering responses say no-store, private"
    figures_record(pytestconfig, "cache-control", {"responses": checked}, summary)


def test_link_pages_send_no_referrer_elsewhere_and_load_nothing_from_elsewhere(
    world: World,
) -> None:
    for url in (_link("pulse-answer", world.pulse_token), _link("retro-write", world.retro_token)):
        response = Client().get(url)
        assert response.status_code == 200
        assert response["Referrer-Policy"] in ("same-origin", "no-referrer")
        sources = re.findall(rb'(?:src|href|action)="([^"]*)"', response.content)
        assert sources
        assert not [s for s in sources if re.match(rb"(https?:)?//", s)]


# --- identifiers in query strings -------------------------------------------------------------


IDENTIFIER_IN_QUERY = re.compile(
    r"[?&](token|invitation|invite|key|response|respondent|user|uid|email)\w*=", re.I
)
IDENTIFIER_FROM_QUERY = re.compile(
    r"(GET|query_params)\.get(list)?\(\s*['\"](token|invitation|key|response|user|email)", re.I
)


def _sources() -> Iterator[Path]:
    for folder in ("templates", "surveys", "analytics", "config"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".html", ".txt") and "migrations" not in path.parts:
                yield path


def test_no_link_or_view_puts_an_identifier_in_a_query_string() -> None:
    scanned = 0
    for path in _sources():
        text = path.read_text()
        scanned += 1
        assert not IDENTIFIER_IN_QUERY.search(text), path
        assert not IDENTIFIER_FROM_QUERY.search(text), path
    assert scanned > 50
    tokens = [route for route in resolver_routes() if "token" in route.kwargs]
    assert {route.name for route in tokens} >= set(LINK_ROUTES)
    assert all("<str:token>" in route.pattern or "<token>" in route.pattern for route in tokens)


def test_no_redirect_from_an_answering_flow_carries_a_token(world: World) -> None:
    client = Client()
    for name in ("pulse-answer", "retro-write"):
        for real in (True, False):
            url = _answering_url(world, name, real)
            for response in (client.get(url), client.post(url, {})):
                assert "Location" not in response or "?" not in response["Location"]
    anonymous = Client()
    for name in ("my-pulse-answer", "my-retro-write", "my-pulses"):
        location = anonymous.get(_answering_url(world, name))["Location"]
        assert world.pulse_token not in location
        assert world.retro_token not in location


# --- production settings ----------------------------------------------------------------------


def _production(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    # Not the test run's own: its secret key, nor the browser tests' async switch.
    dropped = ("DJANGO_SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE")
    base = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, *command],
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings.production", **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def test_production_settings_pass_the_deployment_checks() -> None:
    result = _production(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        DJANGO_SECRET_KEY="k" * 20 + "-production-secret-that-is-long-enough-0123456789",
        DJANGO_ALLOWED_HOSTS="candor.example.com",
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "key", [None, "", "insecure-development-key-change-me", "short-but-not-empty"]
)
def test_production_refuses_to_start_without_a_real_secret_key(key: str | None) -> None:
    env = {} if key is None else {"DJANGO_SECRET_KEY": key}
    result = _production(["-c", "import config.wsgi"], **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
