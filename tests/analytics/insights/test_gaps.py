"""The report maths against hand-computed values and published figures."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from analytics.insights import gaps

BASELINE = [(c, 5.0) for c in (10, 12, 8, 10, 11, 9, 10, 10)]


def test_rate_ratio_by_hand() -> None:
    # Baseline rate 80/40 = 2 per person-week; the period 15/5 = 3: a ratio of 1.5.
    # Pearson residuals (c − 10)/√10: Σr² = 1.0, so φ = max(1, 1/7) = 1; their lag-1
    # autocorrelation is −0.5, clipped to 0. Var(log) = 1/15 + 1/80; t on 7 df.
    change = gaps.rate_ratio([(15.0, 5.0)], BASELINE)
    assert change is not None
    se = math.sqrt(1 / 15 + 1 / 80)
    half = scipy_stats.t.ppf(0.975, 7) * se
    assert change.value == pytest.approx(50.0)
    assert change.low == pytest.approx((1.5 * math.exp(-half) - 1) * 100)
    assert change.high == pytest.approx((1.5 * math.exp(half) - 1) * 100)
    assert (change.log_se, change.df) == pytest.approx((se, 7))


def test_overdispersed_and_autocorrelated_weeks_widen_the_interval() -> None:
    calm = gaps.rate_ratio([(15.0, 5.0)], BASELINE)
    # The same total, in runs of busy and quiet weeks: φ and ρ both above their floors.
    lumpy = gaps.rate_ratio([(15.0, 5.0)], [(c, 5.0) for c in (16, 15, 14, 5, 4, 6, 10, 10)])
    assert calm is not None
    assert lumpy is not None
    assert lumpy.value == pytest.approx(calm.value)
    assert lumpy.log_se > 1.5 * calm.log_se


@pytest.mark.parametrize(
    ("period", "baseline"),
    [
        ([], BASELINE),
        ([(5.0, 5.0)], BASELINE[:7]),  # fewer than MIN_BASELINE_WEEKS
        ([(0.0, 5.0)], BASELINE),  # nothing merged in the period: no log ratio
        ([(5.0, 5.0)], [(0.0, 5.0)] * 8),
    ],
)
def test_no_rate_ratio_without_enough_data(period, baseline) -> None:
    assert gaps.rate_ratio(period, baseline) is None


def test_difference_in_differences_by_hand() -> None:
    treated = gaps.RateRatio.of(math.log(1.5), 0.2, 9)
    comparison = gaps.RateRatio.of(math.log(1.2), 0.1, 19)
    did = gaps.difference_in_differences(treated, comparison)
    variance = 0.2**2 + 0.1**2
    df = variance**2 / (0.2**4 / 9 + 0.1**4 / 19)
    assert did.value == pytest.approx(25.0)
    assert (did.log_se, did.df) == pytest.approx((math.sqrt(variance), df))
    half = scipy_stats.t.ppf(0.975, df) * math.sqrt(variance)
    assert did.low == pytest.approx((1.25 * math.exp(-half) - 1) * 100)


def _weekly_counts(
    rng: np.random.Generator, weeks: int, exposure: np.ndarray, log_rate: np.ndarray
) -> np.ndarray:
    """Negative-binomial weekly counts (dispersion 2 at these means) around an AR(1)
    log rate (ρ 0.4, SD 0.12): noisier and stickier than Poisson, as real teams are."""
    noise = np.zeros(weeks)
    for week in range(weeks):
        previous = noise[week - 1] if week else rng.normal(0, 0.12)
        noise[week] = 0.4 * previous + rng.normal(0, 0.12 * math.sqrt(1 - 0.16))
    mean = exposure * np.exp(log_rate + noise)
    size = mean  # variance = mean + mean² / size = 2 × mean
    return rng.negative_binomial(size, size / (size + mean))


COVERAGE_RUNS = 1500


@pytest.mark.parametrize(("baseline_weeks", "period_weeks"), [(8, 1), (12, 2), (26, 1)])
def test_rate_ratio_interval_covers_the_true_change(baseline_weeks, period_weeks) -> None:
    """A true 20 % rise: the 95 % interval covers it in 93–98.5 % of series. A plain
    Poisson interval (no dispersion, independent weeks) covers it far less often."""
    rng = np.random.default_rng(baseline_weeks * 10 + period_weeks)
    weeks = baseline_weeks + period_weeks
    covered = naive = missing = 0
    for _ in range(COVERAGE_RUNS):
        exposure = rng.integers(5, 9, weeks).astype(float)
        log_rate = np.log(1.5) + np.where(np.arange(weeks) >= baseline_weeks, math.log(1.2), 0)
        counts = _weekly_counts(rng, weeks, exposure, log_rate)
        pairs = list(zip(counts.astype(float), exposure, strict=True))
        change = gaps.rate_ratio(pairs[baseline_weeks:], pairs[:baseline_weeks])
        if change is None:  # nothing merged in the period: not estimable, and said so
            missing += 1
            continue
        covered += change.low <= 20 <= change.high
        after, before = counts[baseline_weeks:].sum(), counts[:baseline_weeks].sum()
        ratio = after / exposure[baseline_weeks:].sum() / (before / exposure[:baseline_weeks].sum())
        half = 1.959964 * math.sqrt(1 / after + 1 / before)
        naive += ratio * math.exp(-half) <= 1.2 <= ratio * math.exp(half)
    assert missing < COVERAGE_RUNS / 100
    assert 0.93 <= covered / (COVERAGE_RUNS - missing) <= 0.985
    assert naive / (COVERAGE_RUNS - missing) < 0.88


def test_difference_in_differences_covers_under_a_shared_trend() -> None:
    """Every team's throughput drifts up 3 % a week and the treated team gains a true
    10 %: the before/after change reads the drift as AI (it misses the truth far more
    often than 5 %), the difference in differences against two teams not yet adopting
    does not."""
    rng = np.random.default_rng(7)
    baseline_weeks, weeks = 12, 14
    trend = 0.03 * np.arange(weeks)
    after = np.arange(weeks) >= baseline_weeks
    covered = own = 0
    for _ in range(COVERAGE_RUNS):
        exposure = rng.integers(20, 31, weeks).astype(float)
        treated = _weekly_counts(rng, weeks, exposure, np.log(1.5) + trend + after * math.log(1.1))
        others = [_weekly_counts(rng, weeks, exposure, np.log(1.5) + trend) for _ in range(2)]
        control = sum(others)
        pairs = list(zip(treated.astype(float), exposure, strict=True))
        pooled = list(zip(control.astype(float), 2 * exposure, strict=True))
        change = gaps.rate_ratio(pairs[baseline_weeks:], pairs[:baseline_weeks])
        comparison = gaps.rate_ratio(pooled[baseline_weeks:], pooled[:baseline_weeks])
        assert change is not None
        assert comparison is not None
        did = gaps.difference_in_differences(change, comparison)
        covered += did.low <= 10 <= did.high
        own += change.low <= 10 <= change.high
    assert 0.93 <= covered / COVERAGE_RUNS <= 0.99
    assert own / COVERAGE_RUNS < 0.90


def test_mover_gap_is_never_narrower_than_either_side() -> None:
    felt = (25.0, 10.0, 40.0)
    measured = gaps.RateRatio.of(math.log(1.1), 0.1, 9)
    value, low, high = gaps.mover_difference(felt, measured.triple)
    assert value == pytest.approx(25 - 10)
    assert high - low >= max(felt[2] - felt[1], measured.high - measured.low)
    assert low == pytest.approx(value - math.hypot(15.0, measured.high - measured.value))


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
