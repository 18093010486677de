"""The safety alert's control chart (gaps.safety_chart / ewma_chart): its stated
false-alarm rate holds by simulation, it finds a real fall, and it never charts across
figures nobody may see or across different item sets."""

from __future__ import annotations

import numpy as np
import pytest

from analytics.insights import gaps
from analytics.insights.gaps import SafetyPoint

SERIES = 4000  # simulated teams per case: Monte Carlo SE ≈ 0.3 points at a 4 % rate
SD = 15.0  # respondents' SD on the 0–100 index


def _simulated(rng: np.random.Generator, n: int, fall: float = 0.0, at: int = 15) -> np.ndarray:
    """Each team-period's index: the mean of its n answers, over gaps.CHART_PERIODS
    periods, with `fall` from period `at` on (the chart sees only these means)."""
    answers = rng.normal(70.0, SD, size=(SERIES, gaps.CHART_PERIODS, n))
    answers[:, at:, :] -= fall
    return answers.mean(axis=2)


@pytest.mark.parametrize("n", [5, 8, 15])
def test_steady_teams_are_alerted_at_the_stated_rate(n: int) -> None:
    _, alerts = gaps.ewma_chart(_simulated(np.random.default_rng(14_600 + n), n))
    rate = alerts.any(axis=1).mean()
    # The stated rate is the one every alert carries; at most 5 % whatever the team size.
    assert rate <= 0.05
    assert rate == pytest.approx(gaps.CHART_FALSE_ALARMS, abs=0.015)


@pytest.mark.parametrize(("n", "power"), [(8, 0.5), (15, 0.8)])
def test_a_sustained_fall_of_15_points_is_flagged_within_three_periods(
    n: int, power: float
) -> None:
    _, alerts = gaps.ewma_chart(_simulated(np.random.default_rng(14_700 + n), n, fall=15.0))
    flagged = alerts[:, 15:18].any(axis=1) & ~alerts[:, :15].any(axis=1)
    assert flagged.mean() >= power


def test_the_old_ten_point_rule_alerted_most_steady_teams() -> None:
    # What the issue saw: 10 points under the trailing mean of 3, no sampling error — at
    # a respondent SD of 15 most steady teams were alerted within 26 periods.
    index = _simulated(np.random.default_rng(14_800), 5)
    trailing = np.stack(
        [index[:, t - 3 : t].mean(axis=1) for t in range(3, gaps.CHART_PERIODS)], axis=1
    )
    old = (trailing - index[:, 3:] >= 10).any(axis=1).mean()
    assert old > 0.7


STEADY = (70.0, 72.0, 68.0, 71.0, 69.0, 70.0, 71.0, 69.0)
NOISY = (70.0, 80.0, 62.0, 76.0, 64.0, 78.0, 66.0, 74.0)  # the same level, a wide spread


def _points(*indices: float, n: int = 8, items: int = 7) -> list[SafetyPoint]:
    return [SafetyPoint(i, n, i - 12, i + 12, items) for i in indices]


def test_a_clear_fall_after_a_steady_history_alerts_with_its_figures() -> None:
    found = gaps.safety_chart(_points(*STEADY, 50), k=5)
    assert found[:8] == [None] * 8
    drop = found[8]
    assert drop is not None
    assert drop.latest == 50
    assert drop.trailing_mean == pytest.approx(69.75)  # the four before: 69, 70, 71, 69
    assert drop.statistic < drop.limit == -gaps.CHART_LIMIT


def test_the_chart_starts_again_after_an_alert() -> None:
    # A team that stays low after its fall is not alerted again at once.
    found = gaps.safety_chart(_points(*STEADY, 50, 50), k=5)
    assert found[8] is not None
    assert found[9] is None


def test_a_fall_within_a_wide_spread_is_noise() -> None:
    # 6.5 under the mean of the four before, where periods swing by 10 to 18 points.
    found = gaps.safety_chart(_points(*NOISY, 64), k=5)
    assert found == [None] * 9


@pytest.mark.parametrize(
    "history",
    [
        _points(*STEADY[:5], 50),  # only five periods before the fall: no spread yet
        [*_points(*STEADY[:4]), *_points(71, items=3), *_points(*STEADY[5:], 50)],  # 3 of 7
        [*_points(*STEADY), *_points(50, n=4)],  # the fall is under k
        [*_points(*STEADY[:3]), SafetyPoint(None, 6), *_points(*STEADY[4:], 50)],  # suppressed
        _points(*STEADY, 90),  # a rise
    ],
)
def test_no_alert(history: list[SafetyPoint]) -> None:
    assert gaps.safety_chart(history, k=5)[-1] is None


def test_the_same_fall_with_the_whole_scale_in_every_period_alerts() -> None:
    # The counterpart of the no-alert cases: with nothing breaking the chart, 50 alerts.
    assert gaps.safety_chart(_points(*STEADY, 50), k=5)[-1] is not None
