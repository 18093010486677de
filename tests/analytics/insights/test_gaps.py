"""The report maths against hand-computed values and published figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analytics.insights import gaps
from analytics.insights.gaps import Interval


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


def test_correlations_by_hand() -> None:
    # x 1..8, y pairs swapped: Sxy = 38, Sxx = Syy = 42, r = 38/42 (ranks equal values).
    frame = pd.DataFrame(
        {"team": ["a"] * 8, "period": range(8), "x": range(1, 9), "y": [2, 1, 4, 3, 6, 5, 8, 7]}
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
    # One team: no within-team coefficient (it needs at least four teams).
    assert ("pearson", "within-team") not in found


def _panel(teams: int, periods: int) -> tuple[np.ndarray, np.ndarray]:
    team = np.repeat(np.arange(teams), periods)
    period = np.tile(np.arange(periods), teams)
    return team, period


def test_within_team_removes_differences_between_teams_and_shared_trends() -> None:
    # Simpson's paradox and a shared drift: across teams y falls with x; over time both
    # rise in every team (a trend, not a relation); within team-periods beyond both, x
    # and y move together.
    rng = np.random.default_rng(1401)
    team, period = _panel(5, 6)
    shared = rng.normal(0, 1, len(team))
    frame = pd.DataFrame(
        {
            "team": team,
            "period": period,
            "x": 10 * team + 3 * period + shared,
            "y": -20 * team + 5 * period + shared + rng.normal(0, 0.3, len(team)),
        }
    )
    found = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}
    assert found["pearson", "pooled"].r < -0.5
    within = found["pearson", "within-team"]
    assert within.r > 0.9
    assert within.low < within.r < within.high
    assert (within.n, within.teams) == (30, 5)


def test_a_trend_all_teams_share_is_not_a_within_team_relation() -> None:
    """Six teams, twelve periods, x and y unrelated but both drifting with time (shared by
    every team) and autocorrelated: centring each team on its own mean — the old
    'within-team' — calls them related most of the time; team and period effects removed,
    with team-clustered inference, the false positives stay near the nominal 5 %."""
    rng = np.random.default_rng(1402)
    team, period = _panel(6, 12)
    old_rejects = new_rejects = 0
    trials = 1000
    for _ in range(trials):
        trend_x = np.cumsum(rng.normal(0, 1, 12))[period]
        trend_y = np.cumsum(rng.normal(0, 1, 12))[period]
        x = trend_x + rng.normal(0, 0.5, len(team)) + rng.normal(0, 2, 6)[team]
        y = trend_y + rng.normal(0, 0.5, len(team)) + rng.normal(0, 2, 6)[team]
        cx = x - (np.bincount(team, weights=x) / 12)[team]
        cy = y - (np.bincount(team, weights=y) / 12)[team]
        old_rejects += scipy_stats.pearsonr(cx, cy).pvalue < 0.05
        frame = pd.DataFrame({"team": team, "period": period, "x": x, "y": y})
        found = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}
        new_rejects += found["pearson", "within-team"].p < 0.05
    assert old_rejects / trials > 0.5  # measured 70 %
    assert 0.03 <= new_rejects / trials <= 0.075  # measured 6.6 %: within 2.5 points of 5 %


def test_the_within_team_slope_and_clustered_error_match_a_dummy_variable_regression() -> None:
    """An unbalanced panel, solved independently: OLS of y on x and a dummy per team and
    per period (numpy's least squares), the cluster-robust sandwich by teams."""
    rng = np.random.default_rng(1403)
    team, period = _panel(5, 7)
    keep = rng.random(len(team)) > 0.2
    team, period = team[keep], period[keep]
    x = rng.normal(0, 1, len(team)) + period * 0.3
    y = 0.5 * x + rng.normal(0, 1, len(team)) + team
    dummies = [(team == t).astype(float) for t in np.unique(team)]
    dummies += [(period == p).astype(float) for p in np.unique(period)[1:]]
    effects = np.column_stack(dummies)

    def residuals(values: np.ndarray) -> np.ndarray:
        fitted, *_ = np.linalg.lstsq(effects, values, rcond=None)
        return values - effects @ fitted

    # x and y scaled so their residuals have unit sum of squares: the slope is then r.
    rx, ry = residuals(x), residuals(y)
    x_std, y_std = x / math.sqrt(rx @ rx), y / math.sqrt(ry @ ry)
    design = np.column_stack([x_std, effects])
    coef, *_ = np.linalg.lstsq(design, y_std, rcond=None)
    residual = y_std - design @ coef
    bread = np.linalg.pinv(design.T @ design)
    scores = [design[team == t].T @ residual[team == t] for t in np.unique(team)]
    meat = sum(np.outer(score, score) for score in scores)
    sandwich = bread @ meat @ bread
    found = {
        (c.method, c.variant): c
        for c in gaps.correlations(
            pd.DataFrame({"team": team, "period": period, "x": x, "y": y}), "x", "y"
        )
    }
    within = found["pearson", "within-team"]
    assert within.r == pytest.approx(coef[0], abs=1e-9)
    # CR1's factor counts the slope and the period effects; the team effects nest in the
    # clusters (the reghdfe convention).
    clusters, n = 5, len(x)
    parameters = 1 + (len(np.unique(period)) - 1)
    se = math.sqrt(sandwich[0, 0] * clusters / (clusters - 1) * (n - 1) / (n - parameters))
    # Five teams: p comes from all 6⁵ wild cluster bootstrap draws, so it is a multiple
    # of 6⁻⁵; the t table's p is what a pre-bootstrap version reported.
    assert within.p * 6**5 == pytest.approx(round(within.p * 6**5), abs=1e-6)
    half = scipy_stats.t.isf(0.025, clusters - 1) * se / (1 - within.r**2)
    z = math.atanh(within.r)
    assert (within.low, within.high) == pytest.approx((math.tanh(z - half), math.tanh(z + half)))


def test_the_wild_cluster_bootstrap_keeps_false_positives_at_5_percent_with_few_unequal_teams() -> (
    None
):
    """Four teams of 3, 3, 3 and 15 periods, the long one three times as noisy, x and y
    unrelated: the t table on CR1 with teams − 1 df rejects at 5 % about 15 % of the time
    (an independent review's simulation); the restricted wild cluster bootstrap with
    Webb's weights keeps it near 5 %."""
    rng = np.random.default_rng(1405)
    sizes = (3, 3, 3, 15)
    team = np.concatenate([[g] * size for g, size in enumerate(sizes)])
    period = np.concatenate([np.arange(size) for size in sizes])
    noise = np.where(team == 3, 3.0, 1.0)
    trials, rejected, t_table = 600, 0, 0
    for _ in range(trials):
        x, y = rng.normal(size=len(team)) * noise, rng.normal(size=len(team)) * noise
        frame = pd.DataFrame({"team": team, "period": period, "x": x, "y": y})
        within = {(c.method, c.variant): c for c in gaps.correlations(frame, "x", "y")}[
            "pearson", "within-team"
        ]
        rejected += within.p < 0.05
        # The same t on the t table (teams − 1 df), from the interval's half-width.
        half = math.atanh(within.high) - math.atanh(within.r)
        se = half * (1 - within.r**2) / scipy_stats.t.isf(0.025, 3)
        t_table += 2 * scipy_stats.t.sf(abs(within.r / se), 3) < 0.05
    assert 0.01 <= rejected / trials <= 0.075  # measured 2.0 %
    assert t_table / trials >= 0.1  # the t table: 15.3 %


def test_no_coefficient_under_eight_team_periods() -> None:
    frame = pd.DataFrame(
        {"team": ["a"] * 7, "period": range(7), "x": range(7), "y": [0, 2, 1, 3, 5, 4, 6]}
    ).astype({"x": float, "y": float})
    assert gaps.correlations(frame, "x", "y") == []
    frame.loc[7] = ["a", 7, None, 3.0]  # an incomplete row does not count
    assert gaps.correlations(frame, "x", "y") == []


def test_no_within_team_coefficient_with_fewer_than_four_teams() -> None:
    team, period = _panel(3, 6)
    frame = pd.DataFrame(
        {"team": team, "period": period, "x": np.arange(18.0) % 5, "y": np.arange(18.0) % 7}
    )
    variants = {c.variant for c in gaps.correlations(frame, "x", "y")}
    assert variants == {"pooled"}


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


def test_a_column_constant_to_rounding_has_no_coefficient() -> None:
    # 0.1 eight times: its float mean is not exactly 0.1, yet there is nothing to correlate.
    frame = pd.DataFrame({"team": ["a"] * 8, "period": range(8), "x": [0.1] * 8, "y": range(8)})
    assert gaps.correlations(frame.astype({"y": float}), "x", "y") == []


def test_a_panel_that_does_not_converge_is_not_estimable() -> None:
    # Teams chained by one shared week each converge slowly; with too few sweeps left the
    # residuals are refused rather than returned half-done (a panel this large is swept,
    # not solved directly).
    teams = np.repeat(np.arange(300), 2)
    periods = np.array([week for team in range(300) for week in (team, team + 1)])
    assert gaps.DIRECT_EFFECTS < 300 + 301
    values = np.random.default_rng(1404).normal(size=len(teams))
    assert gaps.two_way_residuals(gaps.Panel.of(teams, periods), values) is None


def test_sweeping_and_direct_least_squares_give_the_same_residuals(monkeypatch) -> None:
    # An unbalanced panel: small enough to be solved directly, and swept when forced to.
    rng = np.random.default_rng(1405)
    present = rng.random((12, 40)) < 0.4
    teams, periods = (axis.ravel()[present.ravel()] for axis in np.indices(present.shape))
    values = rng.normal(size=(len(teams), 3)) + teams[:, None] * 0.5 + periods[:, None] * 0.1
    panel = gaps.Panel.of(teams, periods)
    direct = gaps.two_way_residuals(panel, values)
    monkeypatch.setattr(gaps, "DIRECT_EFFECTS", 0)
    swept = gaps.two_way_residuals(panel, values)
    assert direct is not None
    assert swept is not None
    assert np.abs(direct - swept).max() < 1e-8
    # Residuals of a two-way fit: orthogonal to every team and every period indicator.
    assert np.abs(np.eye(12)[panel.team_index].T @ direct).max() < 1e-9
    assert np.abs(np.eye(panel.period_count)[panel.period_index].T @ direct).max() < 1e-9
