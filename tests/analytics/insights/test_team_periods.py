"""Team-periods: survey figures joined with the same weeks' Git metrics, filled through
re-runnable fill-state records."""

from __future__ import annotations

import math
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from scipy import stats as scipy_stats

from analytics import pipeline
from analytics.delivery.models import TeamWeekDelivery
from analytics.insights.models import PeriodFill, TeamPeriod
from analytics.insights.team_periods import figures
from analytics.insights.team_periods import state as periods
from analytics.insights.team_periods.fill import period_fill
from surveys.people.models import Organisation, Team
from surveys.pulses.models import PulseRun
from tests.analytics.insights.released import assert_released_score
from tests.conftest import close_and_refresh, make_open_run, submit_all
from tests.factories import TeamFactory, UserFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]

PERCEIVED = [-10, 0, 20, 30, 50]  # what valid_answers gives respondents 0..4: mean 18


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


ACTIVE = 6
BASELINE_COUNTS = (54, 66, 60, 60, 57, 63, 60, 60)  # merged PRs a week: 10 per person-week


def _week(team: Team, start: date, count: int | None, **metrics: Any) -> None:
    figures = {"throughput": (count or 0) / ACTIVE, "throughput_count": count}
    figures["throughput_basis"] = "merged PRs"
    TeamWeekDelivery.objects.create(
        team=team,
        week_start=start,
        k=5,
        suppressed=count is None,
        active_contributors=None if count is None else ACTIVE,
        metrics={} if count is None else {**figures, **metrics},
    )


def _closed_run(
    respondents: int, period_count: int | None = 48, *, adopted: bool = True
) -> PulseRun:
    """A run answered by `respondents` of 6 in a team that adopted AI tools the Monday of
    its week (if `adopted`): eight baseline weeks before it, BASELINE_COUNTS merged PRs by
    6 people, and `period_count` in its own week."""
    open_run = make_open_run(size=6)
    run = open_run.run
    week = _monday(run.period_start)
    if adopted:
        Team.objects.filter(pk=open_run.team.pk).update(ai_adopted_on=week)
    for back, count in zip(range(8, 0, -1), BASELINE_COUNTS, strict=True):
        _week(open_run.team, week - timedelta(weeks=back), count, cycle_median_h=20.0)
    _week(open_run.team, week, period_count, cycle_median_h=30.0)
    _week(open_run.team, week + timedelta(weeks=1), 99)  # after the period: not counted
    submit_all(open_run, respondents)
    close_and_refresh(run.pk)
    return run


# The period's 48 merged PRs by 6 against 480 by 48 person-weeks: a rate ratio of 0.8.
# Pearson residuals of the baseline around 60: Σr² = 90/60 = 1.5 over 7 df, so φ = 1; their
# lag-1 autocorrelation is negative, so no inflation: Var(log) = 1/48 + 1/480, t on 7 df.
MEASURED_SE = math.sqrt(1 / 48 + 1 / 480)
T7 = 2.364624


def test_a_closed_run_becomes_a_team_period_with_its_perception_gap() -> None:
    run = _closed_run(5)
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.PENDING
    assert pipeline.periods_refresh(reports_inline=True) == 1
    period = TeamPeriod.objects.get(run=run)
    assert period.respondents == 5
    assert_released_score(period.perceived, run, "perceived_speed", 18.0)
    assert period.measured == pytest.approx(-20.0)
    assert period.measured_low == pytest.approx((0.8 * math.exp(-T7 * MEASURED_SE) - 1) * 100)
    assert period.measured_high == pytest.approx((0.8 * math.exp(T7 * MEASURED_SE) - 1) * 100)
    assert (period.measured_baseline_weeks, period.measured_basis) == (8, "merged PRs")
    assert period.measured_design.startswith("AI tools adopted on")
    assert period.measured_reason == ""
    # No other team in the organisation: no comparison, the gap is against the baseline.
    assert period.comparative is None
    assert period.gap_against == "baseline"
    assert period.gap == pytest.approx(period.perceived + 20.0)
    # MOVER: each side's distance to its own limit, in quadrature.
    assert period.gap_high - period.gap == pytest.approx(
        math.hypot(period.perceived_high - period.perceived, period.measured - period.measured_low)
    )
    assert period.delivery["throughput"] == pytest.approx(8.0)
    assert period.delivery["cycle_median_h"] == pytest.approx(30.0)
    assert period.delivery_weeks == 1
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.DONE


def test_without_a_design_there_is_no_measured_change_and_the_period_says_how_to_set_one() -> None:
    run = _closed_run(5, adopted=False)
    pipeline.periods_refresh(reports_inline=True)
    period = TeamPeriod.objects.get(run=run)
    assert (period.measured, period.gap, period.comparative) == (None, None, None)
    assert period.measured_reason == figures.NO_DESIGN
    assert period.delivery["throughput"] == pytest.approx(8.0)  # still shown as a figure


def test_the_organisations_adoption_date_is_every_teams_design() -> None:
    run = _closed_run(5, adopted=False)
    Organisation.objects.filter(teams=run.team_id).update(ai_adopted_on=_monday(run.period_start))
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.measured == pytest.approx(-20.0)
    assert "(the organisation)" in period.measured_design


def test_a_period_inside_its_baseline_gets_no_change() -> None:
    run = _closed_run(5)
    later = _monday(run.period_start) + timedelta(weeks=1)
    Team.objects.filter(pk=run.team_id).update(ai_adopted_on=later)
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.measured is None
    assert period.measured_reason.startswith("No measured change: the period is not after")


def test_a_baseline_window_sets_the_weeks_compared() -> None:
    run = _closed_run(5, adopted=False)
    week = _monday(run.period_start)
    # The window's last two weeks left out: six weeks are too few.
    Team.objects.filter(pk=run.team_id).update(
        baseline_start=week - timedelta(weeks=8), baseline_end=week - timedelta(weeks=2)
    )
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.measured is None
    assert "the baseline has 6 weeks" in period.measured_reason
    Team.objects.filter(pk=run.team_id).update(baseline_end=week)
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.measured == pytest.approx(-20.0)
    assert period.measured_design.startswith("baseline window")


def test_a_team_not_yet_adopting_is_the_comparison() -> None:
    run = _closed_run(5)
    week = _monday(run.period_start)
    other = TeamFactory(organisation=run.team.organisation)
    Team.objects.filter(pk=other.pk).update(ai_adopted_on=week + timedelta(weeks=8))
    # The comparison team slowed down by the same 20 % in the same week: nothing is left.
    for back, count in zip(range(8, 0, -1), BASELINE_COUNTS, strict=True):
        _week(other, week - timedelta(weeks=back), count)
    _week(other, week, 48)
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.measured == pytest.approx(-20.0)
    assert period.comparative == pytest.approx(0.0, abs=1e-9)
    assert period.comparative_teams == 1
    assert period.gap_against == "comparison"
    assert period.gap == pytest.approx(period.perceived)
    # Independent teams: log variances add, Welch df = 14 for two equal halves of 7.
    se = math.sqrt(2) * MEASURED_SE
    half = scipy_stats.t.ppf(0.975, 14) * se
    assert period.comparative_high == pytest.approx(math.expm1(half) * 100)
    # Once it has adopted too (before the period's end), it is no comparison.
    Team.objects.filter(pk=other.pk).update(ai_adopted_on=week)
    period = period_fill(run_id=run.pk)
    assert period is not None
    assert period.comparative is None


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
    assert period.measured == pytest.approx(-20.0)


def test_a_suppressed_week_gives_no_delivery_and_no_gap() -> None:
    run = _closed_run(5, period_count=None)
    pipeline.periods_refresh(reports_inline=True)
    period = TeamPeriod.objects.get(run=run)
    assert (period.delivery_weeks, period.delivery) == (0, {})
    assert period.measured is None
    assert period.gap is None
    assert_released_score(period.perceived, run, "perceived_speed", 18.0)


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


def test_an_admin_setting_the_adoption_date_brings_the_measured_change(client) -> None:
    run = _closed_run(5, adopted=False)
    pipeline.periods_refresh(reports_inline=True)
    assert TeamPeriod.objects.get(run=run).measured is None
    organisation = run.team.organisation
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    response = client.post(
        reverse("admin:surveys_organisation_change", args=[organisation.pk]),
        {
            "name": organisation.name,
            "slug": organisation.slug,
            "ai_adopted_on": _monday(run.period_start).isoformat(),
        },
    )
    assert response.status_code == 302
    assert PeriodFill.objects.get(run=run).state == PeriodFill.State.PENDING
    assert pipeline.periods_refresh(reports_inline=True) == 1
    assert TeamPeriod.objects.get(run=run).measured == pytest.approx(-20.0)


def test_a_baseline_window_needs_both_ends_in_order() -> None:
    team = TeamFactory()
    team.baseline_start = date(2026, 1, 5)
    with pytest.raises(ValidationError) as half:
        team.clean()
    assert "baseline_end" in half.value.message_dict
    team.baseline_end = date(2026, 1, 5)
    with pytest.raises(ValidationError) as backwards:
        team.clean()
    assert "baseline_end" in backwards.value.message_dict
