"""A real Celery worker on the configured broker (SQLite-backed kombu, or Redis in CI)
runs the beat tick, opens a run and sends each invitation exactly once."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.utils import timezone

from analytics.insights.models import RunSummary
from config.celery import app
from surveys import tasks
from surveys.pulses.models import Invitation, PulseRun, RunStatus
from tests.conftest import make_due_run
from tests.factories import MembershipFactory, TeamFactory

pytestmark = [pytest.mark.dates, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def worker() -> Iterator[None]:
    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not get there in time")


def test_the_tick_opens_a_due_run_and_the_worker_emails_each_invitee_once(worker: None) -> None:
    run = make_due_run()
    tasks.pulse_schedule_tick.delay()
    wait_for(lambda: len(mail.outbox) == 5)
    assert PulseRun.objects.get(pk=run.pk).status == RunStatus.OPEN
    assert Invitation.objects.filter(run=run, sent=True).count() == 5

    # Redelivery after a crash re-runs the same tasks: nothing is sent twice.
    tasks.pulse_run_open_task.delay(run.pk)
    tasks.invitations_send_task.delay(run.pk)
    tasks.pulse_run_close_task.delay(run.pk)  # closing refreshes aggregates: our end marker
    wait_for(lambda: RunSummary.objects.filter(run=run).exists())
    assert len(mail.outbox) == 5
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        Invitation.objects.filter(run=run).values_list("user__email", flat=True)
    )


def test_the_worker_imports_a_repository_by_id(worker: None, tmp_path, settings) -> None:
    from analytics.delivery.models import Commit, ImportRun, Repository
    from analytics.tasks import repository_import_task
    from tests.gitrepos import awkward_repo, ground_truth

    settings.DATA_DIR = tmp_path / "data"
    repo = awkward_repo(tmp_path / "r")
    team = TeamFactory()
    repository = Repository.objects.create(
        organisation=team.organisation, team=team, name="r", source=str(repo.path)
    )
    repository_import_task.delay(repository.pk)
    wait_for(
        lambda: ImportRun.objects.filter(repository=repository).exclude(status="running").exists()
    )
    assert ImportRun.objects.get(repository=repository).status == ImportRun.Status.SUCCEEDED
    assert Commit.objects.filter(repository=repository).count() == ground_truth(repo.path).commits


def test_the_worker_emails_retro_links_once_and_the_tick_closes_due_sessions(
    worker: None,
) -> None:
    from surveys.retros.models import RetroPrompt, RetroSession, RetroStatus
    from surveys.retros.services import retro_session_create

    team = TeamFactory()
    for _ in range(4):
        MembershipFactory(team=team)
    session = retro_session_create(
        team=team,
        created_by=None,
        label="Sprint 1",
        sprint_start=timezone.localdate() - timedelta(days=13),
        sprint_end=timezone.localdate(),
        closes_at=timezone.now() + timedelta(days=1),
        prompt_ids=list(RetroPrompt.objects.values_list("pk", flat=True)[:2]),
        send=False,
    )
    tasks.retro_invitations_send_task.delay(session.pk)
    wait_for(lambda: len(mail.outbox) == 4)
    tasks.retro_invitations_send_task.delay(session.pk)  # a redelivery sends nothing twice
    RetroSession.objects.filter(pk=session.pk).update(closes_at=timezone.now())
    tasks.retro_sessions_close_due.delay()
    wait_for(lambda: RetroSession.objects.get(pk=session.pk).status == RetroStatus.CLOSED)
    assert len(mail.outbox) == 4
    assert all("/r/" in message.body for message in mail.outbox)
