"""Anonymity attacks 10 and 11: side channels and the superuser.

10. While people answer a pulse and write retro cards — by link and logged in, through
    the pages and the API, and with a fault in the middle — every log record of every
    logger, every Celery task payload and result, every cache key and value and every
    error report is captured: none may hold the person's identity together with an
    answer.
11. A superuser reads every admin page (lists, searches, change, history and delete
    pages) and finds no response, answer or card, nor any of their keys: the admin can
    put nothing next to an identity.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from celery.app.task import Task
from django.contrib import admin
from django.core import mail
from django.core.cache import caches
from django.test import Client

from analytics import tasks as analytics_tasks  # noqa: F401 -- registers what runs by name
from config.celery import app
from surveys import tasks as surveys_tasks  # noqa: F401 -- the same
from surveys.links.tokens import token_hash
from surveys.people.models import Role
from surveys.pulses import services
from surveys.pulses.models import Answer, Invitation, Response, SealedResponse
from surveys.retros import services as retros
from surveys.retros.models import RetroCard, RetroInvitation, RetroResponse, SealedRetroResponse
from tests.conftest import valid_answers
from tests.security.anon_surfaces import admin_urls, read
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    superuser,
    tally,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
SPEED = 75  # the distinctive answer: felt speed +75 %
CARD_TEXT = "canary card: the linter agent rewrote the billing module"


@dataclass
class Captured:
    """Everything that left a submission by a side door, as text."""

    logs: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    cache: list[str] = field(default_factory=list)

    def everything(self) -> list[tuple[str, str]]:
        emails = [f"{m.subject}\n{m.body}" for m in mail.outbox]
        return [
            *(("log", text) for text in self.logs),
            *(("task", text) for text in self.tasks),
            *(("cache", text) for text in self.cache),
            *(("email", text) for text in emails),
        ]


class _Everything(logging.Handler):
    def __init__(self, captured: Captured) -> None:
        super().__init__(logging.DEBUG)
        self.captured = captured

    def emit(self, record: logging.LogRecord) -> None:
        extras = {k: v for k, v in record.__dict__.items() if k not in _PLAIN}
        text = f"{record.name} {record.getMessage()} {extras!r}"
        if record.exc_info:
            text += logging.Formatter().formatException(record.exc_info)
        self.captured.logs.append(text)


_PLAIN = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


@contextmanager
def side_doors(monkeypatch: pytest.MonkeyPatch) -> Iterator[Captured]:
    """Capture every logger at DEBUG, every task sent (and run it for its result) and
    every cache call."""
    captured = Captured()
    handler = _Everything(captured)
    loggers = [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)

    def apply_async(task: Task, args: Any = (), kwargs: Any = None, **options: Any) -> None:
        captured.tasks.append(f"{task.name} {args!r} {kwargs!r} {options!r}")
        captured.tasks.append(f"result of {task.name}: {task.run(*args, **(kwargs or {}))!r}")

    def send_task(name: str, args: Any = (), kwargs: Any = None, **options: Any) -> None:
        apply_async(app.tasks[name], args, kwargs, **options)

    monkeypatch.setattr(Task, "apply_async", apply_async)
    monkeypatch.setattr(app, "send_task", send_task)  # what enqueue_on_commit calls
    cache = caches["default"]
    for method in ("get", "set", "add", "get_many", "set_many", "incr", "delete", "touch"):
        original = getattr(cache, method)

        def recorder(*args: Any, _original: Any = original, _name: str = method, **kw: Any) -> Any:
            result = _original(*args, **kw)
            captured.cache.append(f"{_name} {args!r} {kw!r} → {result!r}")
            return result

        monkeypatch.setattr(cache, method, recorder)
    try:
        yield captured
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


def identities(person: Any, *tokens: str) -> list[str]:
    """What names the person: username, email, names, the link and its stored hash."""
    found = [person.username, person.email, *tokens, *map(token_hash, tokens)]
    found += [name for name in (person.first_name, person.last_name) if name]
    return found


ANSWER = re.compile(rf"(perceived_speed\W{{1,12}}{SPEED}\b|{re.escape(CARD_TEXT)})")


def leaks(captured: Captured, names: list[str]) -> list[str]:
    """Captured texts that hold an answer of the person together with what names them."""
    found = []
    for kind, text in captured.everything():
        tally("attack 10: side-channel texts inspected")
        if ANSWER.search(text) and any(name in text for name in names):
            found.append(f"{kind}: {text[:300]}")
    return found


def _world() -> World:
    world = World()
    world.team("Side", 8)
    world.pulse("Side")
    world.run("now", "Side", weeks_ago=0, answering=(), close=False)
    world.retro("Sprint 7", "Side", writers=(), close=False)
    return world


def _pulse_answers(world: World) -> dict[str, Any]:
    return {**valid_answers(world.runs["now"]), "perceived_speed": SPEED}


def _card(world: World) -> dict[str, Any]:
    prompt = world.sessions["Sprint 7"].prompts.first()
    assert prompt is not None
    return {
        "prompt": prompt.prompt_id,
        "text": CARD_TEXT,
        "category": "tests",
        "effect": "hurt",
        "shared": True,
    }


def _submissions(world: World, *, raise_errors: bool = True) -> list[tuple[Any, list[str], Any]]:
    """(person, what names them, a callable that submits) for each of the eight ways in:
    pulse and retro, by link and logged in, page and API — one person per pair."""
    run, session = world.runs["now"], world.sessions["Sprint 7"]
    answers, card = _pulse_answers(world), _card(world)
    form = {"c1-text": CARD_TEXT, "c1-category": "tests", "c1-effect": "hurt", "c1-shared": "on"}
    json = "application/json"
    ways = []
    for index, person in enumerate(world.members["Side"][:4]):
        client = Client(raise_request_exception=raise_errors)
        pulse_token = world.tokens[f"now:{index}"]
        retro_token = world.tokens[f"Sprint 7:{index}"]
        names = identities(person, pulse_token, retro_token)
        if index >= 2:  # the logged-in ways
            client.force_login(person)
            names.append(client.session.session_key or person.username)
        pulse = (
            lambda c=client, t=pulse_token: c.post(f"/p/{t}/", answers),
            lambda c=client, t=pulse_token: c.post(
                f"/api/invitations/{t}/response/", {"answers": answers}, json
            ),
            lambda c=client: c.post(f"/pulses/{run.pk}/", answers),
            lambda c=client: c.post(f"/api/me/pulses/{run.pk}/", {"answers": answers}, json),
        )[index]
        retro = (
            lambda c=client, t=retro_token: c.post(f"/r/{t}/", form),
            lambda c=client, t=retro_token: c.post(
                f"/api/retro-invitations/{t}/submission/", {"cards": [card]}, json
            ),
            lambda c=client: c.post(f"/retros/{session.pk}/write/", form),
            lambda c=client: c.post(f"/api/me/retros/{session.pk}/", {"cards": [card]}, json),
        )[index]
        ways += [(person, names, pulse), (person, names, retro)]
    return ways


def test_no_side_channel_holds_a_person_next_to_their_answer(
    monkeypatch: pytest.MonkeyPatch, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.ADMINS = [("Operations", "ops@example.com")]
    world = _world()
    ways = _submissions(world)
    with side_doors(monkeypatch) as captured, django_capture_on_commit_callbacks(execute=True):
        for _, _, submit in ways:
            assert submit().status_code in (200, 201)
        services.pulse_run_close(run_id=world.runs["now"].pk)
        retros.retro_session_close(session_id=world.sessions["Sprint 7"].pk)
    assert Response.objects.count() == 4
    assert RetroResponse.objects.count() == 4
    for person, names, _ in ways:
        assert leaks(captured, names) == [], person.username
    tally("attack 10: submissions watched", len(ways))


def test_no_error_report_holds_a_person_next_to_their_answer(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    """A fault in the middle of a submission: the 500's log record and the error email
    to the admins (Django's report, with the request) name the person and must then carry
    no answer."""
    settings.ADMINS = [("Operations", "ops@example.com")]
    world = _world()

    def broken(**_: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(services, "submission_write", broken)
    monkeypatch.setattr(retros, "submission_write", broken)
    ways = _submissions(world, raise_errors=False)
    with side_doors(monkeypatch) as captured:
        for _, _, submit in ways:
            assert submit().status_code == 500
    assert len(mail.outbox) == len(ways)
    for person, names, _ in ways:
        assert leaks(captured, names) == [], person.username
    # Nor does a report carry a link: it is a credential to answer in someone's name.
    tokens = [token for name, token in world.tokens.items()]
    assert not [m.subject for m in mail.outbox if any(t in m.subject + m.body for t in tokens)]
    tally("attack 10: faults injected into submissions", len(ways))


# --- 11: the admin and a superuser ------------------------------------------------------------

ANONYMOUS = (Response, Answer, RetroResponse, RetroCard, SealedResponse, SealedRetroResponse)
PARTICIPATION = (Invitation, RetroInvitation)
ADMIN_ACTIONS = {"delete_selected", "open_now", "close_now"}


def test_the_admin_registers_nothing_anonymous_nor_who_took_part() -> None:
    for model, model_admin in admin.site._registry.items():
        assert model not in (*ANONYMOUS, *PARTICIPATION), model
        inlines = [inline.model for inline in model_admin.inlines]
        assert not set(inlines) & {*ANONYMOUS, *PARTICIPATION}, model
        actions = set(model_admin.get_actions(_superuser_request()))
        assert actions <= ADMIN_ACTIONS, (model, actions - ADMIN_ACTIONS)
        tally("attack 11: admin registrations inspected")


def _superuser_request() -> Any:
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = type(
        "Root",
        (),
        {
            "is_active": True,
            "is_staff": True,
            "is_superuser": True,
            "has_perm": lambda self, perm, obj=None: True,
        },
    )()
    return request


def test_a_superuser_finds_no_answer_or_card_anywhere_in_the_admin() -> None:
    world = World()
    world.team("Admin", 7)
    world.viewer("facilitator", "Admin", Role.FACILITATOR)
    world.pulse("Admin")
    world.run("closed", "Admin", weeks_ago=1, answering=range(6))
    world.run("open", "Admin", weeks_ago=0, answering=range(5), close=False)
    world.retro("Sprint 8", "Admin", writers=range(6), close=True)
    world.retro("Sprint 9", "Admin", writers=range(6), close=False)
    keys = [str(pk) for model in ANONYMOUS for pk in model.objects.values_list("pk", flat=True)]
    keys += [key.replace("-", "") for key in keys]
    texts = list(RetroCard.objects.values_list("text", flat=True))
    root = superuser()
    pages = read({"root": root}, admin_urls(objects_per_model=10))
    for model in ANONYMOUS + PARTICIPATION:
        page = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert read({"root": root}, [page])[("root", page)][0] == 404, page
    for (_, url), (status, text) in pages.items():
        assert status in (200, 302, 403), url
        found = [key for key in keys if key in text] + [card for card in texts if card in text]
        assert found == [], url
        # A delete confirmation neither lists nor counts them (how many answered an open run).
        assert "Anonymous" not in text, url
    run_page = pages[("root", f"/admin/surveys/pulserun/{world.runs['open'].pk}/delete/")][1]
    assert "Sealed responses (not listed)" in run_page  # open: its answers are sealed
    tally("attack 11: admin pages read as a superuser", len(pages))
