"""Shared fixtures: teams with members, open pulse runs with issued links, valid answers;
open retro sessions with issued links and valid cards."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from analytics import pipeline
from analytics import tasks as analytics_tasks  # noqa: F401 -- registers what runs by name
from analytics.insights.aggregates import run_aggregates_refresh
from analytics.insights.models import RunSummary
from surveys import tasks as surveys_tasks  # noqa: F401 -- the same
from surveys.people.models import Role, Team
from surveys.pulses import services
from surveys.pulses.models import Invitation, PulseRun, Question, QuestionKind
from surveys.pulses.schedule import period_sequence_on
from surveys.retros import services as retros
from surveys.retros.models import RetroInvitation, RetroPrompt, RetroSession
from tests.factories import (
    MembershipFactory,
    PulseFactory,
    TeamFactory,
    UserFactory,
    opened_ago,
)


@dataclass
class OpenRun:
    run: PulseRun
    team: Team
    tokens: list[str]
    invitations: list[Invitation]


def valid_answers(run: PulseRun, offset: int = 0) -> dict[str, Any]:
    """A complete, valid answer set; `offset` varies the values between respondents."""
    answers: dict[str, Any] = {}
    for run_question in run.run_questions.select_related("question"):
        question = run_question.question
        if question.kind == QuestionKind.MULTI:
            answers[question.key] = [question.options[offset % len(question.options)]["key"]]
        elif question.kind == QuestionKind.PERCENT:
            answers[question.key] = [-10, 0, 20, 30, 50][offset % 5]
        else:
            span = question.scale_max - question.scale_min + 1
            answers[question.key] = question.scale_min + offset % span
    return answers


def window_from_now(opens_at: datetime) -> dict[str, datetime]:
    """A run window around now, the same on any day at any hour: open since `opens_at`
    (see `opened_ago`), reminders due in a day, closing in two. The run's own window hangs
    on its period's Monday: late on a Sunday its reminder would already be due and its close
    hours away, so a tick would send reminders on Sundays only."""
    now = timezone.now()
    return {
        "opens_at": opens_at,
        "remind_at": now + timedelta(days=1),
        "closes_at": now + timedelta(days=2),
    }


def make_open_run(*, size: int, team: Team | None = None, k: int = 5) -> OpenRun:
    """A team of `size` engineers with this week's run open and a link issued to each."""
    team = team or TeamFactory()
    for _ in range(size):
        MembershipFactory(team=team)
    pulse = PulseFactory(team=team, k=k)
    sequence = period_sequence_on(
        cadence=pulse.cadence, start_date=pulse.start_date, day=timezone.localdate()
    )
    assert sequence is not None
    run = services.pulse_run_ensure(pulse=pulse, sequence=sequence)
    PulseRun.objects.filter(pk=run.pk).update(**window_from_now(opened_ago(timedelta(hours=1))))
    run = services.pulse_run_open(run_id=run.pk, send=False)
    invitations = list(run.invitations.order_by("pk"))
    tokens = [services.invitation_token_issue(invitation_id=i.pk) for i in invitations]
    assert all(tokens)
    return OpenRun(run=run, team=team, tokens=[t for t in tokens if t], invitations=invitations)


def make_due_run(*, size: int = 5) -> PulseRun:
    """A scheduled run of a team of `size` engineers, due: the next tick opens it."""
    team = TeamFactory()
    for _ in range(size):
        MembershipFactory(team=team)
    pulse = PulseFactory(team=team)
    sequence = period_sequence_on(
        cadence=pulse.cadence, start_date=pulse.start_date, day=timezone.localdate()
    )
    assert sequence is not None
    run = services.pulse_run_ensure(pulse=pulse, sequence=sequence)
    PulseRun.objects.filter(pk=run.pk).update(**window_from_now(opened_ago(timedelta(minutes=1))))
    return run


def submit_all(open_run: OpenRun, count: int) -> None:
    submit_all_from(open_run, 0, count)


def submit_all_from(open_run: OpenRun, start: int, stop: int) -> None:
    """Answer through links number start..stop-1, with varied values."""
    for index in range(start, stop):
        invitation = services.invitation_redeem(raw_token=open_run.tokens[index])
        services.response_submit(invitation=invitation, answers=valid_answers(open_run.run, index))


def close_and_refresh(run_id: int) -> RunSummary:
    """Close a run and compute its results, its team-period due, as the close task does
    (the task then fills the period: `pipeline.periods_refresh`)."""
    services.pulse_run_close(run_id=run_id)
    summary = run_aggregates_refresh(run_id=run_id, within=pipeline.periods_due)
    assert summary is not None
    return summary


@dataclass
class OpenRetro:
    session: RetroSession
    team: Team
    facilitator: Any
    tokens: list[str]  # one per engineer, in membership order
    invitations: list[RetroInvitation]  # the engineers' invitations, in the same order


CATEGORIES = ["tests", "boilerplate", "debugging", "documentation", "refactoring"]


def make_open_retro(
    *, size: int, team: Team | None = None, k: int = 5, label: str = "Sprint 42"
) -> OpenRetro:
    """A team of `size` engineers and a facilitator with a retro open now on the four
    built-in prompts, and a link issued to each engineer."""
    team = team or TeamFactory()
    engineers = [MembershipFactory(team=team).user for _ in range(size)]
    facilitator = MembershipFactory(team=team, role=Role.FACILITATOR).user
    now = timezone.now()
    session = retros.retro_session_create(
        team=team,
        created_by=facilitator,
        label=label,
        sprint_start=timezone.localdate() - timedelta(days=13),
        sprint_end=timezone.localdate(),
        closes_at=now + timedelta(days=2),
        prompt_ids=list(
            RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
        ),
        opens_at=opened_ago(timedelta(minutes=5)),
        k=k,
        send=False,
    )
    invitations = [session.invitations.get(user=user) for user in engineers]
    tokens = [retros.retro_invitation_token_issue(invitation_id=i.pk) for i in invitations]
    assert all(tokens)
    return OpenRetro(
        session=session,
        team=team,
        facilitator=facilitator,
        tokens=[t for t in tokens if t],
        invitations=invitations,
    )


def valid_cards(session: RetroSession, index: int = 0, shared: bool = True) -> list[dict]:
    """Two valid cards, on the first two prompts; `index` varies the category and text."""
    prompts = list(session.prompts.values_list("prompt_id", flat=True))
    return [
        {
            "prompt": prompts[0],
            "text": f"Card {index}a: the assistant wrote the fixtures",
            "category": CATEGORIES[index % len(CATEGORIES)],
            "effect": "helped",
            "shared": shared,
        },
        {
            "prompt": prompts[1],
            "text": f"Card {index}b: a hallucinated API cost an hour",
            "category": "debugging",
            "effect": "hurt",
            "shared": shared,
        },
    ]


def submit_retro(open_retro: OpenRetro, count: int, shared: bool = True, *, first: int = 0) -> None:
    """Write cards through links number first..first+count-1."""
    for index in range(first, first + count):
        invitation = retros.retro_invitation_redeem(raw_token=open_retro.tokens[index])
        retros.retro_response_submit(
            invitation=invitation, cards=valid_cards(open_retro.session, index, shared)
        )


@pytest.fixture(autouse=True)
def question_bank(request: pytest.FixtureRequest) -> None:
    """Restore the built-in bank and retro prompts that a transactional test's flush may
    have wiped."""
    if request.node.get_closest_marker("django_db") is None:
        return
    from django.apps import apps

    if not Question.objects.filter(organisation__isnull=True).exists():
        importlib.import_module("surveys.migrations.0002_question_bank").seed(apps, None)
    if not RetroPrompt.objects.filter(organisation__isnull=True).exists():
        importlib.import_module("surveys.migrations.0006_retro_prompts").seed(apps, None)


@pytest.fixture
def open_run_factory() -> Any:
    return make_open_run


@pytest.fixture
def manager_of() -> Any:
    def make(team: Team, username: str = "manager") -> Any:
        user = UserFactory(username=username)
        MembershipFactory(user=user, team=team, role=Role.MANAGER)
        return user

    return make


@pytest.fixture
def tasks_inline(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    """Run every task sent by name (`config.celery.enqueue_on_commit`) right here instead
    of through the broker; returns the (name, args) sent, in order."""
    from config.celery import app

    sent: list[tuple[str, tuple[Any, ...]]] = []

    def send_task(name: str, args: tuple[Any, ...] = (), **options: Any) -> None:
        sent.append((name, tuple(args)))
        app.tasks[name].run(*args)

    monkeypatch.setattr(app, "send_task", send_task)
    return sent


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()
