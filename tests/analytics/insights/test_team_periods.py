"""Team-periods: survey figures joined with the same weeks' Git metrics, filled through
re-runnable fill-state records."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
from django.utils import timezone

from analytics import pipeline
from analytics.delivery.models import TeamWeekDelivery
from analytics.insights.models import PeriodFill, TeamPeriod
from analytics.insights.team_periods import state as periods
from analytics.insights.team_periods.fill import period_fill
from surveys.people.models import Team
from surveys.pulses.models import PulseRun
from tests.analytics.insights.released import assert_released_score
from tests.conftest import close_and_refresh, make_open_run, submit_all

pytestmark = [pytest.mark.dates, pytest.mark.django_db]

PERCEIVED = [-10, 0, 20, 30, 50]  # what valid_answers gives respondents 0..4: mean 18


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _week(team: Team, start: date, throughput: float | None, **metrics: Any) -> None:
    TeamWeekDelivery.objects.create(
        team=team,
        week_start=start,
        k=5,
        suppressed=throughput is None,
        active_contributors=None if throughput is None else 6,
        metrics={} if throughput is None else {"throughput": throughput, **metrics},
    )


def _closed_run(respondents: int, period_throughput: float | None = 8.1) -> PulseRun:
    """A run answered by `respondents` of 6, a baseline of 9, 11, 10, 10 a week (mean 10)
    in the four weeks before it and `period_throughput` in its own week."""
    open_run = make_open_run(size=6)
    run = open_run.run
    week = _monday(run.period_start)
    for back, throughput in zip(range(5, 1, -1), (9.0, 11.0, 10.0, 10.0), strict=True):
        _week(open_run.team, week - timedelta(weeks=back), throughput, cycle_median_h=20.0)
    _week(open_run.team, week, period_throughput, cycle_median_h=30.0)
    _week(open_run.team, week + timedelta(weeks=1), 99.0)  # after the period: not counted
    submit_all(open_run, respondents)
    close_and_refresh(run.pk)
    return run


def test_a_closed_run_becomes_a_team_period_with_its_perception_gap() -> None:
    run = _closed_run(5)
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.PENDING
    assert pipeline.periods_refresh(reports_inline=True) == 1
    period = TeamPeriod.objects.get(run=run)
    assert period.respondents == 5
    assert_released_score(period.perceived, run, "perceived_speed", 18.0)
    assert period.measured == pytest.approx(-19.0)
    assert period.gap == pytest.approx(period.perceived + 19.0)
    # The survey's standard error is the one the released interval stands for, never
    # narrower than the exact one (sd/√5); the measured change's by the delta method:
    # baseline SD √(2/3), se(log) = √(⅔/8.1² + ⅔/(4·10²)) = 0.108756, ×0.81×100 = 8.8092.
    se = (period.perceived_high - period.perceived_low) / (2 * 2.776445)  # t(0.975, 4)
    measured_se = 0.81 * math.sqrt((2 / 3) / 8.1**2 + (2 / 3) / 400) * 100
    assert measured_se == pytest.approx(8.8092, abs=1e-3)
    assert period.gap_high - period.gap == pytest.approx(
        1.959964 * math.hypot(se, measured_se), abs=1e-3
    )
    sd = 23.874672772626646  # of −10, 0, 20, 30, 50
    assert se >= sd / 5**0.5
    assert period.delivery["throughput"] == pytest.approx(8.1)
    assert period.delivery["cycle_median_h"] == pytest.approx(30.0)
    assert period.delivery_weeks == 1
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.DONE


def test_the_trust_gap_is_weekly_users_minus_trusting_respondents() -> None:
    run = _closed_run(5)
    pipeline.periods_refresh(reports_inline=True)
    period = TeamPeriod.objects.get(run=run)
    summary = run.summary
    # Three of five use AI weekly, two trust it: each share would count 2 or 3 people, so
    # neither is shown — and nor is their difference, which with a paired interval gave
    # back how many use AI weekly without trusting it.
    assert (summary.ai_weekly_share, summary.ai_trust_share) == (None, None)
    assert (summary.trust_gap, summary.trust_gap_n) == (None, None)
    assert (period.trust_gap, period.trust_gap_low, period.trust_gap_high) == (None, None, None)


def test_a_run_under_k_gives_delivery_but_no_survey_figure() -> None:
    run = _closed_run(4)
    pipeline.periods_refresh(reports_inline=True)
    period = TeamPeriod.objects.get(run=run)
    assert period.respondents is None
    assert period.perceived is None
    assert period.gap is None
    assert period.trust_gap is None
    assert period.safety is None
    assert period.measured == pytest.approx(-19.0)


def test_a_suppressed_week_gives_no_delivery_and_no_gap() -> None:
    run = _closed_run(5, period_throughput=None)
    pipeline.periods_refresh(reports_inline=True)
    period = TeamPeriod.objects.get(run=run)
    assert (period.delivery_weeks, period.delivery) == (0, {})
    assert period.measured is None
    assert period.gap is None
    assert_released_score(period.perceived, run, "perceived_speed", 18.0)


def test_the_adoption_date_sets_the_baseline() -> None:
    run = _closed_run(5)
    week = _monday(run.period_start)
    TeamWeekDelivery.objects.filter(
        team=run.team, week_start__in=[week - timedelta(weeks=3), week - timedelta(weeks=2)]
    ).update(metrics={"throughput": 9.0})
    Team.objects.filter(pk=run.team_id).update(ai_adopted_on=week - timedelta(weeks=2))
    period = period_fill(run_id=run.pk)
    assert period is not None
    # Weeks ending before adoption: −5, −4, −3 at 10, 10, 9 (the default, the first
    # four weeks, would take in week −2 as well).
    assert period.measured == pytest.approx((8.1 / (29 / 3) - 1) * 100)


def test_filling_again_recomputes_the_same_single_row() -> None:
    run = _closed_run(5)
    pipeline.periods_refresh(reports_inline=True)
    first = TeamPeriod.objects.get(run=run)
    periods.periods_mark(run_ids=[run.pk])
    assert pipeline.periods_refresh(reports_inline=True) == 1
    again = TeamPeriod.objects.get(run=run)
    assert (again.gap, again.delivery) == (first.gap, first.delivery)


def test_a_failed_fill_is_retried_then_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    run = _closed_run(5)

    def crash(**_: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(periods, "team_periods_fill", crash)
    for attempt in range(1, periods.MAX_ATTEMPTS + 1):
        assert pipeline.periods_refresh(reports_inline=True) == 0
        fill = PeriodFill.objects.get(run=run)
        assert fill.attempts == attempt
        assert "disk full" in fill.error
    assert fill.state == PeriodFill.State.FAILED
    assert not TeamPeriod.objects.filter(run=run).exists()
    monkeypatch.undo()
    periods.periods_mark(run_ids=[run.pk])  # an admin or the nightly sweep marks it again
    assert pipeline.periods_refresh(reports_inline=True) == 1


def test_a_fill_that_died_midway_is_taken_up_again_after_the_grace_time() -> None:
    run = _closed_run(5)
    PeriodFill.objects.filter(run=run).update(state=PeriodFill.State.FILLING)
    assert pipeline.periods_refresh(reports_inline=True) == 0  # maybe still running elsewhere
    PeriodFill.objects.filter(run=run).update(
        changed_at=timezone.now() - periods.STALE_FILLING - timedelta(seconds=1)
    )
    assert pipeline.periods_refresh(reports_inline=True) == 1
    assert TeamPeriod.objects.filter(run=run).count() == 1


def test_an_import_marks_every_closed_period_of_the_organisation() -> None:
    run = _closed_run(5)
    pipeline.periods_refresh(reports_inline=True)
    assert periods.periods_mark(organisation_id=run.team.organisation_id) == 1
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.PENDING


def test_from_a_task_the_reports_follow_in_a_task_of_their_own(
    django_capture_on_commit_callbacks,
) -> None:
    from analytics.insights.models import TeamRollup
    from analytics.tasks import reports_refresh_task
    from tests.factories import TeamFactory

    run = _closed_run(5)
    parent = TeamFactory(organisation=run.team.organisation)
    Team.objects.filter(pk=run.team_id).update(parent=parent)
    with django_capture_on_commit_callbacks() as callbacks:
        assert pipeline.periods_refresh(reports_inline=False) == 1
    assert len(callbacks) == 1
    assert TeamPeriod.objects.filter(run=run).exists()
    assert not TeamRollup.objects.exists()  # not inline
    week = _monday(run.period_start)
    reports_refresh_task.run([run.team_id], [week.isoformat()])  # what the task runs
    rollup = TeamRollup.objects.get(team=parent)
    assert (rollup.week_start, rollup.shown, rollup.respondents) == (week, True, 5)


def test_a_failing_team_does_not_hold_back_the_others_filled_with_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    healthy, broken = _closed_run(5), _closed_run(5)
    fill = periods.team_periods_fill

    def fill_unless_broken(*, runs_by_team: dict[int, list[int]]) -> list[tuple[int, date]]:
        if broken.team_id in runs_by_team:
            raise RuntimeError("bad week")
        return fill(runs_by_team=runs_by_team)

    monkeypatch.setattr(periods, "team_periods_fill", fill_unless_broken)

    assert pipeline.periods_refresh(reports_inline=True) == 1

    assert TeamPeriod.objects.filter(run=healthy).exists()
    assert PeriodFill.objects.get(run=healthy).state == PeriodFill.State.DONE
    failed = PeriodFill.objects.get(run=broken)
    assert (failed.state, failed.attempts) == (PeriodFill.State.PENDING, 1)
    assert "bad week" in failed.error
    assert not TeamPeriod.objects.filter(run=broken).exists()
