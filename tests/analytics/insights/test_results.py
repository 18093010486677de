"""Aggregates and what pages show: nothing at all under k, n and CI at or above it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from analytics.insights import stats
from analytics.insights.aggregates import run_aggregates_refresh, stale_runs_refresh
from analytics.insights.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.pulses.errors import RunClosed
from surveys.pulses.models import Answer, Invitation, PulseRun, Response, SealedResponse
from surveys.pulses.services import pulse_run_close
from tests.analytics.insights.released import assert_released
from tests.conftest import (
    close_and_refresh,
    make_open_run,
    submit_all,
    submit_all_from,
    valid_answers,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def test_a_run_under_k_stores_no_number_at_all() -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 4)
    summary = close_and_refresh(open_run.run.pk)
    assert summary.suppressed
    assert summary.respondents is None
    assert summary.ai_weekly_share is None
    assert not QuestionAggregate.objects.filter(run=open_run.run).exists()
    assert not ConstructAggregate.objects.filter(run=open_run.run).exists()


def test_a_run_at_k_has_n_means_intervals_and_distributions() -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 5)
    summary = close_and_refresh(open_run.run.pk)
    assert not summary.suppressed
    assert summary.respondents == 5
    speed = QuestionAggregate.objects.get(run=open_run.run, question__key="perceived_speed")
    assert speed.n == 5
    exact = stats.mean_ci([-10, 0, 20, 30, 50])
    assert_released(speed, stats.clipped(exact, speed.question.scale_min, speed.question.scale_max))
    assert speed.ci_low < speed.mean < speed.ci_high
    assert sum(row["count"] for row in speed.distribution) == 5
    safety = ConstructAggregate.objects.get(run=open_run.run, construct="psychological_safety")
    assert 0 <= safety.mean <= 100
    assert safety.n == 5


def test_refreshing_twice_gives_the_same_rows() -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    close_and_refresh(open_run.run.pk)
    first = list(QuestionAggregate.objects.values_list("question_id", "n", "mean"))
    close_and_refresh(open_run.run.pk)
    assert sorted(first) == sorted(
        QuestionAggregate.objects.values_list("question_id", "n", "mean")
    )
    assert RunSummary.objects.count() == 1


def test_the_stale_sweep_refreshes_a_closed_run_whose_refresh_task_never_ran() -> None:
    open_run = make_open_run(size=5)
    submit_all(open_run, 5)
    assert stale_runs_refresh() == 0  # submissions never flag an open run
    pulse_run_close(run_id=open_run.run.pk)  # its on-commit task is lost, as with no broker
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
    close_and_refresh(open_run.run.pk)
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
    close_and_refresh(open_run.run.pk)
    html = _page(client, manager_of(open_run.team), "run-results", open_run.run.pk)
    assert "n = 6" in html
    assert "95 % CI" in html
    assert "response rate 75 %" in html


def test_an_open_run_shows_no_results_even_at_k(client, manager_of, api_client) -> None:
    open_run = make_open_run(size=8)
    submit_all(open_run, 6)
    assert run_aggregates_refresh(run_id=open_run.run.pk) is None
    assert not RunSummary.objects.exists()
    manager = manager_of(open_run.team)
    for name, args in (
        ("run-results", (open_run.run.pk,)),
        ("team-results", (open_run.team.slug,)),
    ):
        html = _page(client, manager, name, *args)
        assert "n = " not in html
        assert "when it closes" in html or "Open until" in html
    api_client.force_authenticate(manager)
    body = api_client.get(reverse("api-run-results", args=[open_run.run.pk])).json()
    assert body["is_open"] is True
    assert body["respondents"] is None
    assert body["questions"] == []


def test_a_late_answer_cannot_be_isolated_by_comparing_two_views() -> None:
    """Results appear only once, at close: before, there is nothing to compare with; after,
    no answer can be added."""
    open_run = make_open_run(size=8)
    submit_all(open_run, 5)
    assert run_aggregates_refresh(run_id=open_run.run.pk) is None
    submit_all_from(open_run, 5, 6)
    close_and_refresh(open_run.run.pk)
    before = list(QuestionAggregate.objects.values_list("question_id", "n", "mean"))
    with pytest.raises(RunClosed):
        submit_all_from(open_run, 6, 7)
    run_aggregates_refresh(run_id=open_run.run.pk)
    assert sorted(before) == sorted(
        QuestionAggregate.objects.values_list("question_id", "n", "mean")
    )


def _answer_rows(run: PulseRun, offset: int) -> list[tuple[int, int | None, list | None]]:
    """valid_answers(run, offset) as the answer rows they become."""
    ids = dict(run.run_questions.values_list("question__key", "question_id"))
    return [
        (ids[key], None, value) if isinstance(value, list) else (ids[key], value, None)
        for key, value in valid_answers(run, offset).items()
    ]


def test_closing_writes_every_response_with_fresh_keys_and_the_same_answers() -> None:
    """Sealed responses, and those written in the clear before sealing existed (a run open
    when the migration ran), come out of the close together, each set of answers whole."""
    open_run = make_open_run(size=6)
    submit_all(open_run, 4)  # sealed, through the service
    for offset in (4, 5):  # as a submission wrote them before sealing
        response = Response.objects.create(run=open_run.run, team=open_run.team)
        Answer.objects.bulk_create(
            Answer(response=response, question_id=q, value=v, choices=c)
            for q, v, c in _answer_rows(open_run.run, offset)
        )
        Invitation.objects.filter(pk=open_run.invitations[offset].pk).update(used=True)
    old_ids = set(Response.objects.values_list("id", flat=True))
    assert len(old_ids) == 2
    assert SealedResponse.objects.count() == 4
    pulse_run_close(run_id=open_run.run.pk)
    assert not old_ids & set(Response.objects.values_list("id", flat=True))
    assert not SealedResponse.objects.exists()
    assert Response.objects.filter(run=open_run.run).count() == 6
    stored = sorted(
        sorted(r.answers.values_list("question_id", "value", "choices"), key=str)
        for r in Response.objects.all()
    )
    expected = sorted(sorted(_answer_rows(open_run.run, offset), key=str) for offset in range(6))
    assert stored == expected


def test_team_page_draws_trend_charts_with_a_data_table(client, manager_of) -> None:
    open_run = make_open_run(size=6)
    submit_all(open_run, 6)
    close_and_refresh(open_run.run.pk)
    html = _page(client, manager_of(open_run.team), "team-results", open_run.team.slug)
    assert "<svg" in html
    assert "Psychological safety (0–100)" in html
    assert "Data table" in html
