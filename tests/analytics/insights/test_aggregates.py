"""The database-computed aggregates equal the pure statistics over the same answers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from django.db.models import F
from django.utils import timezone

from analytics.insights import aggregates, rollups, stats
from analytics.insights import selectors as insights
from analytics.insights.aggregation.moments import construct_moments
from analytics.insights.models import ConstructAggregate, QuestionAggregate, RunSummary
from surveys.pulses.models import (
    Answer,
    Construct,
    PulseRun,
    Question,
    QuestionKind,
    Response,
    RunQuestion,
    RunStatus,
)
from tests.analytics.insights.released import assert_on_grid, assert_released
from tests.conftest import close_and_refresh, make_open_run, submit_all
from tests.factories import PulseFactory

pytestmark = [pytest.mark.dates, pytest.mark.django_db]


def answers_frame(run: PulseRun) -> pd.DataFrame:
    """Every answer of the run with its question's scoring fields: the reference input."""
    rows = Answer.objects.filter(response__run=run).values(
        "response_id",
        "value",
        "choices",
        key=F("question__key"),
        construct=F("question__construct"),
        kind=F("question__kind"),
        scale_min=F("question__scale_min"),
        scale_max=F("question__scale_max"),
        reverse_scored=F("question__reverse_scored"),
    )
    columns = ["response_id", "value", "choices", "key", "construct", "kind", "scale_min"]
    columns += ["scale_max", "reverse_scored"]
    return pd.DataFrame.from_records(list(rows), columns=columns)


def test_sql_aggregates_match_the_pure_statistics() -> None:
    open_run = make_open_run(size=9)
    submit_all(open_run, 9)
    summary = close_and_refresh(open_run.run.pk)
    frame = answers_frame(open_run.run)
    assert summary.respondents == 9

    for aggregate in QuestionAggregate.objects.filter(run=open_run.run).select_related("question"):
        question = aggregate.question
        answers = frame[frame["key"] == question.key]
        if question.kind == QuestionKind.MULTI:
            expected = stats.distribution_multi(list(answers["choices"]), question.options)
            assert aggregate.counts == [row["count"] for row in expected]
            continue
        values = [int(v) for v in answers["value"]]
        estimate = stats.clipped(stats.mean_ci(values), question.scale_min, question.scale_max)
        assert_released(aggregate, estimate)
        assert_on_grid(aggregate)
        if question.kind == QuestionKind.PERCENT:
            expected = stats.distribution_percent(values)
        else:
            expected = stats.distribution_scale(
                values, question.scale_min, question.scale_max, question.labels
            )
        assert aggregate.counts == [row["count"] for row in expected]

    assert_constructs_match_the_pure_statistics(open_run.run)


def test_estimate_from_moments_equals_mean_ci() -> None:
    values = [1.0, 4.0, 4.0, 5.0, 7.0, 2.0]
    n, mean = len(values), sum(values) / len(values)
    square = sum(v * v for v in values) / n
    got, want = stats.estimate_from_moments(n, mean, square), stats.mean_ci(values)
    assert (got.n, got.mean) == (want.n, pytest.approx(want.mean))
    assert (got.sd, got.ci_low, got.ci_high) == pytest.approx((want.sd, want.ci_low, want.ci_high))


def closed_run_with(keys: list[str], people: list[dict[str, Any]]) -> PulseRun:
    """A closed run that asked these questions, with these respondents' answers stored as
    a close leaves them (values for scales and percentages, choice lists otherwise)."""
    pulse = PulseFactory()
    now = timezone.now()
    run = PulseRun.objects.create(
        pulse=pulse,
        team=pulse.team,
        sequence=1,
        period_start=pulse.start_date,
        period_end=pulse.start_date + timedelta(days=7),
        opens_at=now,
        remind_at=now,
        closes_at=now,
        status=RunStatus.CLOSED,
    )
    bank = {q.key: q for q in Question.objects.filter(key__in=keys)}
    for position, key in enumerate(keys, start=1):
        RunQuestion.objects.create(run=run, question=bank[key], position=position)
    for answers in people:
        response = Response.objects.create(run=run, team=run.team)
        for key, value in answers.items():
            chosen = value if isinstance(value, list) else None
            Answer.objects.create(
                response=response,
                question=bank[key],
                value=None if chosen else value,
                choices=chosen,
            )
    return run


def mapped(question: Question, value: float) -> float:
    """An item's value on its construct's scale: 0–100, reversed where marked; % as is."""
    if question.kind != QuestionKind.SCALE:
        return value
    low, high = question.scale_min, question.scale_max
    index = (value - low) / (high - low) * 100
    return 100 - index if question.reverse_scored else index


def assert_constructs_match_the_pure_statistics(run: PulseRun) -> None:
    """Each construct is the mean of its items' released means (and interval ends), mapped;
    where every item has one, it is the respondents' exact score released: within half its
    precision, its interval around the exact one. Nothing where no item has a mean."""
    scores = stats.construct_scores(answers_frame(run).astype({"value": "float64"}))
    stored = {c.construct: c for c in ConstructAggregate.objects.filter(run=run)}
    items = QuestionAggregate.objects.filter(run=run).select_related("question")
    for construct, group in scores.groupby("construct"):
        parts = [
            i for i in items if i.question.construct == construct and i.question.kind != "multi"
        ]
        shown = [i for i in parts if i.mean is not None]
        if not shown:
            assert str(construct) not in stored
            continue
        got = stored[str(construct)]
        means = [mapped(i.question, i.mean) for i in shown]
        assert got.mean == pytest.approx(sum(means) / len(means))
        ends = [
            sorted((mapped(i.question, i.ci_low), mapped(i.question, i.ci_high))) for i in shown
        ]
        assert got.ci_low == pytest.approx(sum(e[0] for e in ends) / len(ends))
        assert got.ci_high == pytest.approx(sum(e[1] for e in ends) / len(ends))
        if len(shown) == len(parts):
            unit_range = (0, 100) if got.unit == "index" else (-100, 1000)
            want = stats.clipped(stats.mean_ci(list(group["score"])), *unit_range)
            assert_released(got, want)


SINGLE_ITEMS = ["perceived_speed", "review_confidence", "ai_usage_frequency", "ai_trust_accuracy"]


def test_a_construct_asked_with_one_item_is_scored_as_its_respondents_are() -> None:
    # review_confidence is reverse-scored: its one item maps to the index downwards.
    people = [
        {
            "perceived_speed": s,
            "review_confidence": c,
            "ai_usage_frequency": u,
            "ai_trust_accuracy": t,
        }
        for s, c, u, t in [
            (20, 1, 5, 2),
            (-10, 2, 4, 4),
            (50, 5, 3, 1),
            (0, 4, 2, 5),
            (30, 3, 5, 3),
            (10, 2, 1, 2),
        ]
    ]
    run = closed_run_with(SINGLE_ITEMS, people)

    assert aggregates.runs_aggregate([run.pk]) == 1

    assert_constructs_match_the_pure_statistics(run)
    confidence = ConstructAggregate.objects.get(run=run, construct="review_burden")
    exact = 100 - (17 / 6 - 1) / 4 * 100  # reversed: 5 maps to 0
    assert abs(confidence.mean - exact) <= confidence.precision + 1e-9


def test_a_construct_with_several_items_in_another_run_of_the_batch_scores_the_same() -> None:
    people = [
        {
            "perceived_speed": 10 * i,
            "review_confidence": 1 + i % 5,
            "ai_usage_frequency": 3,
            "ai_trust_accuracy": 1 + i % 4,
        }
        for i in range(6)
    ]
    single = closed_run_with(SINGLE_ITEMS, people)
    several = closed_run_with(
        ["review_time", "review_confidence"],
        [{"review_time": 1 + i % 5, "review_confidence": 5 - i % 3} for i in range(7)],
    )
    aggregates.runs_aggregate([single.pk])
    alone = ConstructAggregate.objects.get(run=single, construct="review_burden")

    aggregates.runs_aggregate([single.pk, several.pk])  # review_burden takes the person pass

    together = ConstructAggregate.objects.get(run=single, construct="review_burden")
    assert (together.n, together.mean) == (alone.n, pytest.approx(alone.mean))
    assert (together.sd, together.ci_low) == (pytest.approx(alone.sd), pytest.approx(alone.ci_low))
    assert_constructs_match_the_pure_statistics(several)


def test_multiple_choice_counts_each_option_and_who_answered() -> None:
    options = [o["key"] for o in Question.objects.get(key="ai_task_types").options]
    people = [{"ai_task_types": options[: 1 + i % 3], "ai_usage_frequency": 4} for i in range(7)]
    run = closed_run_with(["ai_task_types", "ai_usage_frequency"], people)

    aggregates.runs_aggregate([run.pk])

    stored = QuestionAggregate.objects.get(run=run, question__key="ai_task_types")
    expected = stats.distribution_multi(
        [p["ai_task_types"] for p in people], stored.question.options
    )
    assert (stored.n, stored.counts) == (7, [row["count"] for row in expected])


def test_roll_ups_take_a_shown_runs_moments_from_its_stored_aggregates() -> None:
    people = [
        {"perceived_speed": 10 * i - 20, "psych_safety_1": 1 + i % 7, "psych_safety_2": 7 - i % 5}
        for i in range(8)
    ]
    shown = closed_run_with(["perceived_speed", "psych_safety_1", "psych_safety_2"], people)
    small = closed_run_with(["perceived_speed"], [{"perceived_speed": 5}, {"perceived_speed": 15}])
    aggregates.runs_aggregate([shown.pk, small.pk])
    constructs = [Construct.PERCEIVED_SPEED, Construct.PSYCHOLOGICAL_SAFETY]
    from_answers = construct_moments([shown.pk, small.pk], constructs)

    from_rows = rollups.run_moments([shown.pk, small.pk])

    assert not ConstructAggregate.objects.filter(run=small).exists()  # under k: nothing stored
    assert (
        from_rows.keys()
        == from_answers.keys()
        == {
            (shown.pk, "perceived_speed"),
            (shown.pk, "psychological_safety"),
            (small.pk, "perceived_speed"),
        }
    )
    for key, (n, mean, square) in from_answers.items():
        assert from_rows[key] == (n, pytest.approx(mean), pytest.approx(square))
    assert from_answers[(small.pk, "perceived_speed")] == (2, 10.0, 125.0)


def test_the_trust_gap_comes_from_the_shown_shares_alone() -> None:
    # Ten people: five use AI monthly (2), five weekly (4); five trust it somewhat (3),
    # five a great deal (5). Each share's range is a union of whole bins of five, so both
    # show (5 of 10), and so does their difference — with Newcombe's paired interval at
    # the least favourable pairing two shares of 50 % allow (correlation −1: nobody who
    # uses it weekly trusts it), which holds however the answers really pair up.
    people = [
        {"ai_usage_frequency": 2 + 2 * (i % 2), "ai_trust_accuracy": 3 + 2 * (i // 5)}
        for i in range(10)
    ]
    run = closed_run_with(["ai_usage_frequency", "ai_trust_accuracy"], people)

    aggregates.runs_aggregate([run.pk])

    summary = RunSummary.objects.get(run=run)
    assert (summary.ai_weekly_share, summary.ai_trust_share) == (50.0, 50.0)
    assert (summary.trust_gap, summary.trust_gap_n) == (0.0, 10)
    # Wilson for 5 of 10 by hand: z = 1.959964, half-width
    # z √(0.025 + z²/400) / (1 + z²/10) = 0.263407 either side of 0.5; with φ = −1 the
    # gap's half-widths are √(d₁² + 2 d₁ e₂ + e₂²) = d₁ + e₂ = 0.526814.
    assert summary.trust_gap_low == pytest.approx(-52.6814, abs=1e-3)
    assert summary.trust_gap_high == pytest.approx(52.6814, abs=1e-3)
    # The results surfaces carry each share's own 95 % Wilson interval and the gap's.
    results = insights.run_results(run=run)
    for low, high in (
        (results.ai_weekly_share_low, results.ai_weekly_share_high),
        (results.ai_trust_share_low, results.ai_trust_share_high),
    ):
        assert (low, high) == pytest.approx((50 - 26.3407, 50 + 26.3407), abs=1e-3)
    assert (results.trust_gap_low, results.trust_gap_high) == (
        summary.trust_gap_low,
        summary.trust_gap_high,
    )


def test_a_share_cut_inside_a_bin_is_withheld_and_so_is_the_gap() -> None:
    # Six people, all using AI at least weekly (4 or 5): one bin of six over the whole
    # scale; "6 of 6 use it weekly" beside it would say nobody answered 1–3, which the bins
    # do not — so neither share, nor the gap, is shown.
    people = [{"ai_usage_frequency": 4 + i % 2, "ai_trust_accuracy": 1 + i % 3} for i in range(6)]
    run = closed_run_with(["ai_usage_frequency", "ai_trust_accuracy"], people)

    aggregates.runs_aggregate([run.pk])

    summary = RunSummary.objects.get(run=run)
    assert (summary.ai_weekly_share, summary.trust_gap, summary.trust_gap_low) == (None,) * 3
