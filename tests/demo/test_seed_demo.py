"""The demo organisation a newcomer sees after `make run`."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from analytics.insights.models import ConstructAggregate, RunSummary
from surveys.people.models import Team
from surveys.pulses.models import PulseRun, Response, RunStatus
from surveys.retros.board import retro_board
from surveys.retros.models import RetroCard, RetroSession, RetroStatus
from surveys.retros.selectors import retro_heatmap

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker, tmp_path_factory):
    # Seeded once for the module inside a transaction that is rolled back afterwards.
    data_dir = tmp_path_factory.mktemp("demo-data")
    with django_db_blocker.unblock(), override_settings(DATA_DIR=data_dir), transaction.atomic():
        call_command("seed_demo")
        yield
        transaction.set_rollback(True)


def _counts() -> tuple[int, ...]:
    models = (Team, PulseRun, Response, RetroSession, RetroCard)
    return tuple(model.objects.count() for model in models)


def test_it_is_idempotent(seeded) -> None:
    counts = _counts()
    call_command("seed_demo")
    assert _counts() == counts


def test_a_demo_seeded_before_retros_existed_gets_them(seeded) -> None:
    RetroSession.objects.all().delete()
    call_command("seed_demo")
    assert RetroSession.objects.count() == 6 * 6
    assert Team.objects.filter(organisation__slug="northwind").count() == 7


def test_each_team_with_engineers_has_five_closed_retros_and_this_sprints_open(seeded) -> None:
    for team in Team.objects.filter(memberships__role="engineer").distinct():
        sessions = team.retro_sessions.order_by("sprint_start")
        assert [s.status for s in sessions] == [RetroStatus.CLOSED] * 5 + [RetroStatus.OPEN]
        assert sessions.last().sprint_start <= timezone.localdate() <= sessions.last().sprint_end


def test_the_payments_board_shows_shared_cards_with_names_masked(seeded) -> None:
    payments = Team.objects.get(slug="payments")
    session = payments.retro_sessions.filter(status=RetroStatus.CLOSED).first()
    board = retro_board(session=session)
    assert board.state == "shown"
    texts = [card.text for prompt in board.document.prompts for card in prompt.cards]
    assert len(texts) >= 10
    assert any("[name]" in text for text in texts)
    first_names = set(payments.memberships.values_list("user__first_name", flat=True))
    assert not any(name in text for name in first_names for text in texts)


def test_the_heatmap_shows_where_ai_helps_and_hides_the_small_team(seeded) -> None:
    leans = []
    for slug in ("payments", "data"):
        heatmap = retro_heatmap(team=Team.objects.get(slug=slug))
        assert heatmap.has_data
        for row in heatmap.rows:
            shown = [cell.counts for cell in row.cells if cell.counts is not None]
            for counts in [*shown, *([row.shown_total] if row.shown_total else [])]:
                if counts.lean is not None:  # a lean only where no count it reads is hidden
                    assert None not in (counts.helped, counts.hurt, counts.chose_not)
                    leans.append((row.category, counts.lean))
    # Where a whole cell agrees, it says so: AI helps with boilerplate and tests.
    assert {lean for category, lean in leans if category in ("boilerplate", "tests")} == {"helped"}
    assert not retro_heatmap(team=Team.objects.get(slug="design-systems")).has_data


def test_it_has_five_teams_of_different_sizes_one_under_k_and_one_with_sub_teams(seeded) -> None:
    teams = Team.objects.filter(organisation__slug="northwind")
    assert teams.count() >= 5
    sizes = {t.slug: t.memberships.filter(role="engineer").count() for t in teams}
    assert min(v for v in sizes.values() if v) < 5
    assert len({v for v in sizes.values() if v}) >= 4
    assert teams.filter(children__isnull=False).exists()


def test_it_has_twelve_closed_weekly_runs_per_team_and_this_weeks_open(seeded) -> None:
    payments = Team.objects.get(slug="payments")
    assert payments.runs.filter(status=RunStatus.CLOSED).count() == 12
    this_week = payments.runs.get(sequence=12)
    expected = RunStatus.OPEN if this_week.opens_at <= timezone.now() else RunStatus.SCHEDULED
    assert this_week.status == expected


def test_the_small_team_is_always_suppressed(seeded) -> None:
    summaries = RunSummary.objects.filter(team__slug="design-systems")
    assert summaries.exists()
    assert all(s.suppressed and s.respondents is None for s in summaries)


def test_payments_psychological_safety_falls(seeded) -> None:
    scores = list(
        ConstructAggregate.objects.filter(team__slug="payments", construct="psychological_safety")
        .order_by("run__period_start")
        .values_list("mean", flat=True)
    )
    assert len(scores) >= 10
    assert sum(scores[-3:]) / 3 < sum(scores[:3]) / 3 - 15


def test_each_team_with_engineers_has_an_imported_repository(seeded) -> None:
    from analytics.delivery.models import ImportRun, PullRequest, Repository

    repositories = Repository.objects.filter(organisation__slug="northwind")
    assert repositories.count() == 6
    assert set(ImportRun.objects.values_list("status", flat=True)) == {"succeeded"}
    assert PullRequest.objects.filter(repository__in=repositories).exclude(ai_tool="").exists()


def test_the_demo_shows_delivery_next_to_pulses_and_hides_the_small_team(seeded) -> None:
    from analytics.delivery.models import TeamWeekDelivery

    payments = TeamWeekDelivery.objects.filter(team__slug="payments", suppressed=False)
    assert payments.count() >= 10
    assert all(week.metrics["merged_prs"] > 0 for week in payments)
    assert not TeamWeekDelivery.objects.filter(
        team__slug="design-systems", suppressed=False
    ).exists()


def test_ai_assisted_share_rises_over_the_demo_weeks(seeded) -> None:
    from analytics.delivery.models import PullRequest, TeamWeekDelivery

    # From the pull requests themselves: the pages withhold a week's share when its
    # AI-assisted or other PRs come from fewer than k people, as they often do in the
    # first weeks (one or two people trying it) and the last (one or two not).
    merged = PullRequest.objects.filter(
        repository__team__slug="data", merged_at__isnull=False
    ).order_by("merged_at")
    by_week: dict[tuple[int, int], list[bool]] = {}
    for pull in merged:
        by_week.setdefault(pull.merged_at.isocalendar()[:2], []).append(pull.ai_tool != "")
    shares = [100 * sum(week) / len(week) for week in by_week.values()]
    assert sum(shares[-3:]) / 3 > sum(shares[:3]) / 3 + 20
    weeks = TeamWeekDelivery.objects.filter(team__slug="data", suppressed=False)
    for week in weeks:
        if "ai_pr_share" in week.metrics["withheld"]:
            assert "ai_pr_share" not in week.metrics
    assert any(week.metrics.get("ai_pr_share") is not None for week in weeks)


def test_throughput_is_measured_against_a_design_and_teams_not_yet_using_ai(seeded) -> None:
    from analytics.insights.models import TeamPeriod
    from analytics.insights.team_periods.figures import NO_DESIGN
    from demo.organisation import BASELINE_GIT_WEEKS, LATE_ADOPTER

    periods = TeamPeriod.objects.filter(team__organisation__slug="northwind")
    assert not periods.filter(measured_reason=NO_DESIGN).exists()  # the organisation set one
    measured = periods.filter(team__slug="payments", measured__isnull=False)
    assert measured.count() >= 8
    assert {p.measured_baseline_weeks for p in measured} == {BASELINE_GIT_WEEKS}
    assert all(p.measured_low < p.measured < p.measured_high for p in measured)
    # The team that adopts after the demo's last week has no change of its own: it is the
    # comparison of the others, whose gaps are taken against it where it has figures.
    late = periods.filter(team__slug=LATE_ADOPTER)
    assert late.exists()
    assert all(p.measured is None for p in late)
    assert all("not after the baseline" in p.measured_reason for p in late)
    compared = periods.filter(team__slug="payments", gap_against="comparison")
    assert compared.exists()
    assert all(p.comparative_teams == 1 for p in compared)


def test_ai_assisted_prs_are_slower_at_equal_size(seeded) -> None:
    from analytics.insights.models import TeamPeriod

    # The demo's AI-assisted PRs wait 1.6× as long for a first review and 1.8× as long in
    # review, whatever their size: the same-size comparison finds them slower.
    latest = TeamPeriod.objects.filter(team__slug="payments").order_by("period_start").last()
    assert latest is not None
    compared = latest.delivery["ai_same_size"]
    assert 1 < compared["low"] < compared["ratio"] < compared["high"]
    assert 1.4 < compared["ratio"] < 2.4


def test_felt_speed_rises_while_throughput_does_not_and_ai_prs_are_bigger(seeded) -> None:
    import statistics

    from analytics.insights.models import TeamPeriod

    periods = list(
        TeamPeriod.objects.filter(team__organisation__slug="northwind").order_by("period_start")
    )
    # The generator puts no effect on throughput: its changes hover around zero and their
    # 95 % intervals include zero (about 1 in 20 may not, by chance).
    measured = [
        (p.measured, p.measured_low, p.measured_high)
        for p in periods
        if p.measured is not None and p.measured_low is not None and p.measured_high is not None
    ]
    assert len(measured) >= 30
    assert sum(low > 0 or high < 0 for _, low, high in measured) <= len(measured) / 10
    assert abs(statistics.median(change for change, _, _ in measured)) < 10
    # ... while people feel faster as the weeks go by.
    teams = {p.team_id for p in periods}
    rises = []
    for team in teams:
        felt = [p.perceived for p in periods if p.team_id == team and p.perceived is not None]
        if len(felt) >= 8:
            rises.append(statistics.mean(felt[-4:]) - statistics.mean(felt[:4]))
    assert len(rises) >= 3
    assert statistics.mean(rises) > 5
    # AI-assisted PRs are bigger wherever both sides' sizes are shown.
    sizes = [
        (split["ai"]["pr_size_median"], split["other"]["pr_size_median"])
        for p in periods
        if (split := p.delivery.get("ai_split"))
        and "pr_size_median" in split.get("ai", {})
        and "pr_size_median" in split.get("other", {})
    ]
    assert len(sizes) >= 5
    assert all(ai > other for ai, other in sizes)
