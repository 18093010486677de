"""Aggregates and what pages show: nothing at all under k, n and CI at or above it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.models import ConstructAggregate, QuestionAggregate, RunSummary
from analytics.services import run_aggregates_refresh, stale_runs_refresh
from surveys.models import PulseRun
from tests.conftest import make_open_run, submit_all

pytestmark = pytest.mark.django_db


def test_a_run_under_k_stores_no_number_at_all() -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 4)
    summary = run_aggregates_refresh(run_id=open_run.run.pk)
    assert summary.suppressed
    assert summary.respondents is None
    assert summary.ai_weekly_share is None
    assert not QuestionAggregate.objects.filter(run=open_run.run).exists()
    assert not ConstructAggregate.objects.filter(run=open_run.run).exists()


def test_a_run_at_k_has_n_means_intervals_and_distributions() -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 5)
    summary = run_aggregates_refresh(run_id=open_run.run.pk)
    assert not summary.suppressed
    assert summary.respondents == 5
    speed = QuestionAggregate.objects.get(run=open_run.run, question__key="perceived_speed")
    assert speed.n == 5
    assert speed.mean == pytest.approx((-10 + 0 + 20 + 30 + 50) / 5)
    assert speed.ci_low < speed.mean < speed.ci_high
    assert sum(row["count"] for row in speed.distribution) == 5
    safety = ConstructAggregate.objects.get(run=open_run.run, construct="psychological_safety")
    assert 0 <= safety.mean <= 100
    assert safety.n == 5


def test_refreshing_twice_gives_the_same_rows() -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    run_aggregates_refresh(run_id=open_run.run.pk)
    first = list(QuestionAggregate.objects.values_list("question_id", "n", "mean"))
    run_aggregates_refresh(run_id=open_run.run.pk)
    assert sorted(first) == sorted(
        QuestionAggregate.objects.values_list("question_id", "n", "mean")
    )
    assert RunSummary.objects.count() == 1


def test_the_stale_sweep_refreshes_runs_that_received_answers_and_clears_the_flag() -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    assert stale_runs_refresh() == 1
    assert not PulseRun.objects.get(pk=open_run.run.pk).aggregates_stale
    assert RunSummary.objects.get(run=open_run.run).respondents == 5
    assert stale_runs_refresh() == 0


def _page(client, user, name: str, *args) -> str:
    client.force_login(user)
    response = client.get(reverse(name, args=args))
    assert response.status_code == 200
    return response.content.decode()


def test_pages_say_not_enough_responses_and_show_no_count_under_k(client, manager_of) -> None:
    open_run = make_open_run(size=9)
    submit_all(open_run, 4)
    run_aggregates_refresh(run_id=open_run.run.pk)
    manager = manager_of(open_run.team)
    for name, args in (
        ("run-results", (open_run.run.pk,)),
        ("team-results", (open_run.team.slug,)),
        ("dashboard", ()),
    ):
        html = _page(client, manager, name, *args)
        assert "Not enough responses (k = 5)" in html
        assert "n = " not in html
        assert "95 % CI" not in html
        assert "response rate" not in html


def test_results_page_shows_n_ci_and_response_rate_at_k(client, manager_of) -> None:
    open_run = make_open_run(size=8)
    submit_all(open_run, 6)
    run_aggregates_refresh(run_id=open_run.run.pk)
    html = _page(client, manager_of(open_run.team), "run-results", open_run.run.pk)
    assert "n = 6" in html
    assert "95 % CI" in html
    assert "response rate 75 %" in html


def test_response_rate_is_hidden_where_fewer_than_five_were_invited(client, manager_of) -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    run = PulseRun.objects.get(pk=open_run.run.pk)
    run.invitations.first().delete()  # 4 invited, 5 answered is impossible, but rate must hide
    run_aggregates_refresh(run_id=run.pk)
    html = _page(client, manager_of(open_run.team), "run-results", run.pk)
    assert "response rate" not in html


def test_team_page_draws_trend_charts_with_a_data_table(client, manager_of) -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 6)
    run_aggregates_refresh(run_id=open_run.run.pk)
    html = _page(client, manager_of(open_run.team), "team-results", open_run.team.slug)
    assert "<svg" in html
    assert "Psychological safety (0–100)" in html
    assert "Data table" in html
