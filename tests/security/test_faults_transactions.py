"""A task enqueued inside a transaction that rolls back never runs: nothing reaches the
broker. Every enqueue in the code waits for the commit (`transaction.on_commit`, or
`config.celery.enqueue_on_commit`); each service and sweep that enqueues is run once in a
transaction that rolls back (the broker stays empty) and once in one that commits (the
broker receives its message: the check can fail).
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone

from analytics import pipeline
from analytics.delivery.models import Repository
from analytics.insights.models import SafetyAlert
from analytics.insights.team_periods.state import periods_mark
from analytics.tasks import repositories_sync
from surveys import tasks
from surveys.pulses import services
from surveys.retros import services as retro_services
from surveys.retros.models import RetroPrompt, RetroSession
from tests.conftest import close_and_refresh, make_due_run, make_open_run, submit_all
from tests.factories import MembershipFactory, TeamFactory
from tests.security.faults_world import *  # noqa: F403
from tests.security.faults_world import TALLY, broker_backlog, broker_forget

pytestmark = [pytest.mark.dates, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("analytics", "config", "surveys", "scripts")
ENQUEUE = {"delay", "apply_async", "send_task"}


class RolledBack(Exception):
    pass


def opening_a_run() -> Callable[[], object]:
    run = make_due_run()
    return lambda: services.pulse_run_open(run_id=run.pk, send=True)


def closing_a_run() -> Callable[[], object]:
    run = make_open_run(size=5).run
    return lambda: services.pulse_run_close(run_id=run.pk)


def creating_a_retro() -> Callable[[], object]:
    team = TeamFactory()
    for _ in range(5):
        MembershipFactory(team=team)
    facilitator = MembershipFactory(team=team).user
    prompts = RetroPrompt.objects.filter(organisation__isnull=True).values_list("pk", flat=True)
    now = timezone.now()
    return lambda: retro_services.retro_session_create(
        team=team,
        created_by=facilitator,
        label="Sprint 7",
        sprint_start=timezone.localdate() - timedelta(days=13),
        sprint_end=timezone.localdate(),
        closes_at=now + timedelta(days=2),
        prompt_ids=list(prompts),
        send=True,
    )


def the_minute_tick() -> Callable[[], object]:
    make_due_run()
    return tasks.pulse_schedule_tick


def the_retro_tick() -> Callable[[], object]:
    creating_a_retro()()  # committed, with its links owed
    assert RetroSession.objects.filter(invitations_pending=True).exists()
    return tasks.retro_sessions_close_due


def the_import_sync() -> Callable[[], object]:
    team = TeamFactory()
    Repository.objects.create(organisation=team.organisation, team=team, name="r", source="/x")
    return repositories_sync


def filling_periods() -> Callable[[], object]:
    pulse = make_open_run(size=5)
    submit_all(pulse, 5)
    close_and_refresh(pulse.run.pk)
    periods_mark(run_ids=[pulse.run.pk])
    return lambda: pipeline.periods_refresh(reports_inline=False)


def the_alert_sweep() -> Callable[[], object]:
    run = make_due_run()
    SafetyAlert.objects.create(
        run=run, team=run.team, period_start=run.opens_at.date(), index=50.0, trailing_mean=70.0
    )  # its email still owed
    return pipeline.safety_alerts_sweep


ENQUEUERS = [
    opening_a_run,
    closing_a_run,
    creating_a_retro,
    the_minute_tick,
    the_retro_tick,
    the_import_sync,
    filling_periods,
    the_alert_sweep,
]


@pytest.mark.parametrize("commits", [False, True], ids=["rolled back", "committed"])
@pytest.mark.parametrize("enqueuer", ENQUEUERS, ids=lambda f: f.__name__.replace("_", " "))
def test_it_enqueues_nothing_from_a_transaction_that_rolls_back(
    enqueuer: Callable[[], Callable[[], object]], commits: bool
) -> None:
    act = enqueuer()
    broker_forget()
    try:
        with transaction.atomic():
            act()
            if not commits:
                raise RolledBack
    except RolledBack:
        TALLY["transactions rolled back after enqueueing"] += 1
    if commits:
        assert broker_backlog() >= 1  # the same call does reach the broker
    else:
        assert broker_backlog() == 0
    broker_forget()


def enqueues_outside_on_commit(source: str) -> list[int]:
    """Lines of `.delay(...)`, `.apply_async(...)` or `.send_task(...)` calls that are not
    inside the arguments of a `transaction.on_commit(...)` call."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}

    def deferred(node: ast.AST) -> bool:
        while node in parents:
            node = parents[node]
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "on_commit":
                    return True
        return False

    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in ENQUEUE and not deferred(node)
    ]


def test_it_finds_an_enqueue_outside_on_commit() -> None:
    assert enqueues_outside_on_commit("task.delay(1)\n") == [1]
    assert enqueues_outside_on_commit("on_commit(partial(task.delay, 1))\n") == []


def test_it_enqueues_every_task_only_after_a_commit_everywhere_in_the_code() -> None:
    sources = [
        path
        for package in PRODUCT
        if (ROOT / package).is_dir()
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
    ]
    assert len(sources) > 20
    found = {
        str(path.relative_to(ROOT)): lines
        for path in sources
        if (lines := enqueues_outside_on_commit(path.read_text()))
    }
    assert found == {}
    TALLY["source files checked for enqueues outside on_commit"] += len(sources)
