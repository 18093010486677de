"""The database-computed aggregates equal the pure statistics over the same answers."""

from __future__ import annotations

import pandas as pd
import pytest
from django.db.models import F

from analytics import stats
from analytics.models import ConstructAggregate, QuestionAggregate
from surveys.models import Answer, PulseRun, QuestionKind
from tests.conftest import close_and_refresh, make_open_run, submit_all

pytestmark = pytest.mark.django_db


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
            assert aggregate.distribution == expected
            continue
        values = [int(v) for v in answers["value"]]
        estimate = stats.clipped(stats.mean_ci(values), question.scale_min, question.scale_max)
        assert (aggregate.n, aggregate.mean) == (estimate.n, pytest.approx(estimate.mean))
        assert aggregate.sd == pytest.approx(estimate.sd)
        assert (aggregate.ci_low, aggregate.ci_high) == pytest.approx(
            (estimate.ci_low, estimate.ci_high)
        )
        if question.kind == QuestionKind.PERCENT:
            assert aggregate.distribution == stats.distribution_percent(values)
        else:
            assert aggregate.distribution == stats.distribution_scale(
                values, question.scale_min, question.scale_max, question.labels
            )

    scores = stats.construct_scores(frame.astype({"value": "float64"}))
    stored = {c.construct: c for c in ConstructAggregate.objects.filter(run=open_run.run)}
    assert set(stored) == set(scores["construct"])
    for construct, group in scores.groupby("construct"):
        estimate = stats.mean_ci(list(group["score"]))
        aggregate = stored[str(construct)]
        assert aggregate.n == estimate.n
        assert aggregate.mean == pytest.approx(estimate.mean)
        assert aggregate.sd == pytest.approx(estimate.sd)


def test_estimate_from_moments_equals_mean_ci() -> None:
    values = [1.0, 4.0, 4.0, 5.0, 7.0, 2.0]
    n, mean = len(values), sum(values) / len(values)
    square = sum(v * v for v in values) / n
    got, want = stats.estimate_from_moments(n, mean, square), stats.mean_ci(values)
    assert (got.n, got.mean) == (want.n, pytest.approx(want.mean))
    assert (got.sd, got.ci_low, got.ci_high) == pytest.approx((want.sd, want.ci_low, want.ci_high))
