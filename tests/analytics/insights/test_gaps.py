"""The report maths against hand-computed values and published figures."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analytics.insights import gaps
from analytics.insights.gaps import Interval, SafetyPoint


def test_measured_change_interval_by_hand() -> None:
    # Baseline 8, 12 (mean 10, sd 2.828), period 11: ratio 1.1.
    # se(log) = sqrt(8/(1·121) + 8/(2·100)) = sqrt(0.066116 + 0.04) = 0.325755
    measured = gaps.measured_change([11.0], [8.0, 12.0])
    assert measured is not None
    assert measured.value == pytest.approx(10.0)
    assert measured.low == pytest.approx((1.1 * math.exp(-1.959964 * 0.325755) - 1) * 100, abs=1e-3)
    assert measured.high == pytest.approx((1.1 * math.exp(1.959964 * 0.325755) - 1) * 100, abs=1e-3)
    assert measured.se == pytest.approx(1.1 * 0.325755 * 100, abs=1e-3)


def test_for_cycle_time_shorter_is_faster() -> None:
    measured = gaps.measured_change([40.0], [45.0, 55.0], lower_is_faster=True)
    assert measured is not None
    assert measured.value == pytest.approx(25.0)


@pytest.mark.parametrize(
    ("period", "baseline"),
    [
        ([], [1.0, 2.0]),
        ([1.0], [2.0]),
        ([0.0], [1.0, 2.0]),
        ([1.0], [0.0, 0.0]),
        ([8.1], [10.0, 10.0, 10.0]),  # no spread: a zero-width interval, not estimable
    ],
)
def test_no_measured_change_without_enough_positive_data(period, baseline) -> None:
    assert gaps.measured_change(period, baseline) is None


def test_perception_gap_errors_add_in_quadrature() -> None:
    gap = gaps.perception_gap(15.0, 3.0, Interval(value=5.0, low=0, high=0, se=4.0))
    assert gap.value == 10.0
    assert gap.se == pytest.approx(5.0)
    assert (gap.low, gap.high) == pytest.approx((10 - 1.959964 * 5, 10 + 1.959964 * 5))


def _history(*points: tuple[float | None, int]) -> list[SafetyPoint]:
    return [SafetyPoint(index, n) for index, n in points]


def test_a_fall_of_ten_points_against_the_trailing_three_runs_alerts() -> None:
    drop = gaps.safety_drop(_history((70, 6), (72, 6), (68, 7), (60, 6)), k=5)
    assert drop is not None
    assert drop.trailing_mean == pytest.approx(70.0)
    assert drop.points == pytest.approx(10.0)


@pytest.mark.parametrize(
    "points",
    [
        ((70, 6), (72, 6), (68, 7), (60.1, 6)),  # 9.9 points: under the threshold
        ((70, 6), (72, 4), (68, 7), (50, 6)),  # a run in the window under k
        ((70, 6), (None, 6), (68, 7), (50, 6)),  # a suppressed run in the window
        ((70, 6), (72, 6), (68, 7), (50, 4)),  # the latest run under k
        ((72, 6), (68, 7), (50, 6)),  # fewer than three runs before
    ],
)
def test_no_alert(points) -> None:
    assert gaps.safety_drop(_history(*points), k=5) is None


def test_correlations_by_hand() -> None:
    # x 1..8, y pairs swapped: Sxy = 38, Sxx = Syy = 42, r = 38/42 (ranks equal values).
    frame = pd.DataFrame(
        {"team": ["a"] * 8, "x": range(1, 9), "y": [2, 1, 4, 3, 6, 5, 8, 7]}
    ).astype({"x": float, "y": float})
    found = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}
    pearson = found["pearson", "pooled"]
    assert pearson.r == pytest.approx(38 / 42)
    assert pearson.n == 8
    assert pearson.p == pytest.approx(scipy_stats.pearsonr(frame["x"], frame["y"]).pvalue)
    z = math.atanh(38 / 42)
    assert (pearson.low, pearson.high) == pytest.approx(
        (math.tanh(z - 1.959964 / math.sqrt(5)), math.tanh(z + 1.959964 / math.sqrt(5))), abs=1e-5
    )
    assert found["spearman", "pooled"].r == pytest.approx(38 / 42)


def test_within_team_centring_removes_differences_between_teams() -> None:
    # Simpson's paradox: across teams y falls with x, within each team it rises.
    frame = pd.DataFrame(
        {
            "team": ["a"] * 4 + ["b"] * 4,
            "x": [1, 2, 3, 4, 5, 6, 7, 8],
            "y": [10, 11, 12, 13.5, 0, 1, 2, 3.5],
        }
    )
    found = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}
    assert found["pearson", "pooled"].r < -0.5
    within = found["pearson", "within-team"]
    assert within.r > 0.95
    assert (within.n, within.teams) == (8, 2)


def test_no_coefficient_under_eight_team_periods() -> None:
    frame = pd.DataFrame({"team": ["a"] * 7, "x": range(7), "y": range(7)}).astype(
        {"x": float, "y": float}
    )
    assert gaps.correlations(frame, "x", "y") == []
    frame.loc[7] = ["a", None, 3.0]  # an incomplete row does not count
    assert gaps.correlations(frame, "x", "y") == []


def test_one_teams_within_team_coefficients_equal_its_centred_values_by_hand() -> None:
    xs = [3.0, 7.5, 1.0, 4.0, 9.0, 2.5, 6.0, 8.0, 5.0, 7.5]
    ys = [2.0, 5.0, 1.5, 4.5, 6.0, 3.0, 3.5, 7.0, 4.0, 6.5]
    frame = pd.DataFrame({"team": ["a"] * 10, "x": xs, "y": ys})
    found = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}

    centred_x = [v - sum(xs) / 10 for v in xs]
    centred_y = [v - sum(ys) / 10 for v in ys]
    spearman = scipy_stats.spearmanr(centred_x, centred_y)
    pearson = scipy_stats.pearsonr(centred_x, centred_y)
    within_spearman, within_pearson = (
        found["spearman", "within-team"],
        found["pearson", "within-team"],
    )
    assert (within_spearman.r, within_spearman.p) == pytest.approx(
        (spearman.statistic, spearman.pvalue)
    )
    assert (within_pearson.r, within_pearson.p) == pytest.approx(
        (pearson.statistic, pearson.pvalue)
    )
    assert (within_pearson.n, within_pearson.teams) == (10, 1)
    assert within_pearson.low == found["pearson", "pooled"].low


def test_a_difference_of_two_intervals_by_mover() -> None:
    # 70 [60, 78] now against 62 [55, 70] before: 8 points, below by √(10² + 8²) = 12.806,
    # above by √(8² + 7²) = 10.630 — each side's own distances, never narrower than either.
    value, low, high = gaps.mover_difference((70.0, 60.0, 78.0), (62.0, 55.0, 70.0))
    assert value == 8.0
    assert low == pytest.approx(8 - math.hypot(10, 8))
    assert high == pytest.approx(8 + math.hypot(8, 7))
    # Two symmetric normal intervals: the usual √(se₁² + se₂²) interval.
    value, low, high = gaps.mover_difference((10.0, 6.08, 13.92), (0.0, -3.92, 3.92))
    assert (low, high) == pytest.approx((10 - 3.92 * math.sqrt(2), 10 + 3.92 * math.sqrt(2)))
