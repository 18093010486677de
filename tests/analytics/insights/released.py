"""Checks that a stored figure is the exact one as the release layer lets it out, computed
independently of analytics.insights.release from the raw answers."""

from __future__ import annotations

from typing import Any

import pytest

from analytics.insights import stats

SLACK = 1e-9


def assert_released(stored: Any, exact: stats.Estimate) -> None:
    """`stored` (a QuestionAggregate or ConstructAggregate) is `exact` released: no SD; the
    mean within its precision (a half-width) of the exact mean, the interval around the exact
    interval — or no mean, no interval and no precision at all."""
    assert stored.sd is None
    assert stored.n == exact.n
    if stored.mean is None:
        assert (stored.ci_low, stored.ci_high, stored.precision) == (None, None, None)
        return
    assert stored.precision > 0
    assert abs(stored.mean - exact.mean) <= stored.precision + SLACK
    if exact.ci_low is not None and exact.ci_high is not None:
        assert stored.ci_low <= exact.ci_low + SLACK
        assert stored.ci_high >= exact.ci_high - SLACK


def assert_on_grid(stored: Any) -> None:
    """A question's released mean and interval are multiples of its precision."""
    if stored.mean is None:
        return
    for value in (stored.mean, stored.ci_low, stored.ci_high):
        assert value / stored.precision == pytest.approx(round(value / stored.precision))


def assert_released_score(value: float | None, run: Any, construct: str, exact: float) -> None:
    """A figure a period, page or export shows for a run's construct is the construct's
    released score: the stored ConstructAggregate's mean, within its precision of
    the exact mean of the answers."""
    from analytics.insights.models import ConstructAggregate

    stored = ConstructAggregate.objects.get(run=run, construct=construct)
    assert value == pytest.approx(stored.mean)
    assert abs(stored.mean - exact) <= stored.precision + SLACK
