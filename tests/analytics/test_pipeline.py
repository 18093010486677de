"""The refresh pipeline (analytics/pipeline.py): what a closed run, an import and the
sweeps set off, in which order, and what is left to a task (by name)."""

from __future__ import annotations

import pytest

from analytics import pipeline
from analytics import tasks as analytics_tasks  # noqa: F401 -- registers the tasks
from analytics.insights.models import PeriodFill, RunSummary, TeamPeriod, TeamSnapshot
from config.celery import app
from surveys import tasks as surveys_tasks  # noqa: F401 -- the same
from surveys.pulses import services
from surveys.pulses.models import PulseRun
from surveys.retros import services as retro_services
from tests.conftest import make_open_run, submit_all

pytestmark = pytest.mark.django_db

ENQUEUED_BY_NAME = [
    pipeline.AGGREGATES_REFRESH,
    pipeline.AGGREGATES_REFRESH_STALE,
    pipeline.AGGREGATES_REFRESH_ALL,
    pipeline.DELIVERY_REFRESH,
    pipeline.REPORTS_REFRESH,
    pipeline.SAFETY_ALERT_NOTIFY,
    pipeline.SAFETY_ALERTS_NOTIFY_PENDING,
    services.INVITATIONS_SEND,
    retro_services.RETRO_INVITATIONS_SEND,
]


def test_every_task_enqueued_by_name_is_registered_under_that_name() -> None:
    assert sorted(set(ENQUEUED_BY_NAME) - set(app.tasks)) == []


def test_closing_a_run_enqueues_its_refresh_once_the_close_commits(
    django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, tuple[int, ...]]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **_: sent.append((name, args)))
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)

    with django_capture_on_commit_callbacks() as callbacks:
        services.pulse_run_close(run_id=open_run.run.pk)
        assert sent == []  # nothing leaves before the close commits
    for callback in callbacks:
        callback()

    assert sent == [(pipeline.AGGREGATES_REFRESH, (open_run.run.pk,))]
    assert PulseRun.objects.get(pk=open_run.run.pk).aggregates_stale  # the outbox, meanwhile


def test_a_closed_run_goes_through_aggregates_team_period_and_reports(
    django_capture_on_commit_callbacks, tasks_inline
) -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)

    with django_capture_on_commit_callbacks(execute=True):
        services.pulse_run_close(run_id=open_run.run.pk)

    assert [name for name, _ in tasks_inline] == [
        pipeline.AGGREGATES_REFRESH,
        pipeline.REPORTS_REFRESH,
    ]
    assert not RunSummary.objects.get(run=open_run.run).suppressed
    assert PeriodFill.objects.get(run=open_run.run).state == PeriodFill.State.DONE
    assert TeamPeriod.objects.get(run=open_run.run).respondents == 5
    assert TeamSnapshot.objects.get(team=open_run.team).has_period  # the reports ran


def test_the_minute_sweep_refreshes_a_run_whose_task_was_lost(tasks_inline) -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    services.pulse_run_close(run_id=open_run.run.pk)  # its task never runs (no commit here)
    assert not RunSummary.objects.filter(run=open_run.run).exists()

    assert pipeline.stale_runs_refresh() == 1

    assert TeamPeriod.objects.filter(run=open_run.run).exists()
    assert not PulseRun.objects.get(pk=open_run.run.pk).aggregates_stale


def test_an_import_hands_the_organisation_over_to_the_delivery_refresh(
    django_capture_on_commit_callbacks, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, tuple[int, ...]]] = []
    monkeypatch.setattr(app, "send_task", lambda name, args=(), **_: sent.append((name, args)))

    with django_capture_on_commit_callbacks(execute=True):
        pipeline.on_import_done(organisation_id=7)

    assert sent == [(pipeline.DELIVERY_REFRESH, (7,))]


def test_the_nightly_recompute_refills_every_period_and_its_reports_inline() -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    services.pulse_run_close(run_id=open_run.run.pk)

    assert pipeline.everything_refresh() == 1

    assert TeamPeriod.objects.filter(run=open_run.run).exists()
    assert TeamSnapshot.objects.filter(team=open_run.team).exists()
