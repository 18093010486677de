"""The report maths of docs/DESIGN.md §5: the throughput change as a rate ratio (against a
baseline, or against comparison teams as a difference in differences), the perception gap
by MOVER, the psychological-safety control chart and correlations (the trust gap, made
from released shares, is `analytics.insights.release.trust_gap_release`; reference figures
are in `analytics.insights.references`). Pure functions: numbers in, numbers out, no ORM,
so each can be checked against hand-computed and published figures.

Intervals are 95 %; each function says how it is made (t or Welch–Satterthwaite degrees of
freedom where a variance is estimated).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special
from scipy import stats as scipy_stats

from surveys.anonymity import group_shown

Z = float(scipy_stats.norm.ppf(0.975))

MIN_CORRELATION_PERIODS = 8


MIN_BASELINE_WEEKS = 8  # fewer baseline weeks cannot estimate the week-to-week noise
MAX_AUTOCORRELATION = 0.8  # lag-1 autocorrelation above this is a trend, not noise


@dataclass(frozen=True)
class RateRatio:
    """A change in a weekly rate as a percentage (0: no change), with its 95 % interval,
    and the log rate ratio's standard error and degrees of freedom it was made from."""

    value: float
    low: float
    high: float
    log_se: float
    df: float

    @classmethod
    def of(cls, log_ratio: float, log_se: float, df: float) -> RateRatio:
        half = float(special.stdtrit(df, 0.975)) * log_se
        return cls(
            value=math.expm1(log_ratio) * 100,
            low=math.expm1(log_ratio - half) * 100,
            high=math.expm1(log_ratio + half) * 100,
            log_se=log_se,
            df=df,
        )

    @property
    def log_ratio(self) -> float:
        return math.log1p(self.value / 100)

    @property
    def triple(self) -> tuple[float, float, float]:
        return self.value, self.low, self.high


def _sum_inflation(rho: float, weeks: int) -> float:
    """Var(Σ of `weeks` AR(1) terms) ÷ (weeks · the variance of one): 1 + 2 Σ (1 − j/m) ρʲ."""
    return 1 + 2 * math.fsum((1 - j / weeks) * rho**j for j in range(1, weeks))


@dataclass(frozen=True)
class Baseline:
    """What a rate ratio needs of its baseline weeks, worked out once per team: the
    rate, the total count, the dispersion φ and the AR(1) autocorrelation ρ."""

    weeks: int
    count: float
    rate: float
    dispersion: float
    rho: float

    @classmethod
    def fit(cls, baseline: Sequence[tuple[float, float]]) -> Baseline | None:
        """None with fewer than MIN_BASELINE_WEEKS weeks or nothing counted in them."""
        if len(baseline) < MIN_BASELINE_WEEKS:
            return None
        counts = np.array([c for c, _ in baseline], dtype=float)
        exposure = np.array([e for _, e in baseline], dtype=float)
        total, exposed = float(counts.sum()), float(exposure.sum())
        if total <= 0 or exposed <= 0 or (exposure <= 0).any():
            return None
        rate = total / exposed
        expected = exposure * rate
        residuals = (counts - expected) / np.sqrt(expected)
        squares = float(residuals @ residuals)
        rho = float(residuals[1:] @ residuals[:-1]) / squares if squares > 0 else 0.0
        return cls(
            weeks=len(counts),
            count=total,
            rate=rate,
            dispersion=max(1.0, squares / (len(counts) - 1)),
            rho=min(max(rho, 0.0), MAX_AUTOCORRELATION),
        )

    def ratio(self, period: Sequence[tuple[float, float]]) -> RateRatio | None:
        """The period's rate against this baseline (see rate_ratio)."""
        period_count = math.fsum(c for c, _ in period)
        period_exposure = math.fsum(e for _, e in period)
        if period_count <= 0 or period_exposure <= 0:
            return None
        variance = self.dispersion * (
            _sum_inflation(self.rho, len(period)) / period_count
            + _sum_inflation(self.rho, self.weeks) / self.count
        )
        log_ratio = math.log(period_count / period_exposure / self.rate)
        return RateRatio.of(log_ratio, math.sqrt(variance), self.weeks - 1)


def rate_ratio(
    period: Sequence[tuple[float, float]], baseline: Sequence[tuple[float, float]]
) -> RateRatio | None:
    """The period's weekly rate against the baseline's, each week given as (count,
    exposure) — merged PRs (or commits) and active contributors: a quasi-Poisson rate
    ratio with exposure as offset, ΣC_p/ΣE_p ÷ ΣC_b/ΣE_b, the maximum-likelihood estimate
    of a Poisson model with a period indicator.

    Its variance on the log scale is φ·(f_p/ΣC_p + f_b/ΣC_b): φ the dispersion of weekly
    counts around the baseline rate (Pearson χ² / (B − 1), never below 1 — a week of PRs
    is rarely less variable than Poisson), f the inflation of a sum of weeks whose noise
    follows an AR(1) with the baseline residuals' lag-1 autocorrelation (clipped to
    [0, MAX_AUTOCORRELATION]: neighbouring weeks share reviews and releases). The interval
    is t with B − 1 degrees of freedom, as φ is estimated from B baseline weeks. None
    with fewer than MIN_BASELINE_WEEKS baseline weeks or a zero count on either side
    (not estimable)."""
    if not period:
        return None
    fitted = Baseline.fit(baseline)
    return fitted.ratio(period) if fitted is not None else None


def _welch(parts: Sequence[RateRatio], weights: Sequence[float]) -> tuple[float, float]:
    """The standard error of a weighted sum of independent log ratios and its
    Welch–Satterthwaite degrees of freedom."""
    terms = [(w * p.log_se) ** 2 for p, w in zip(parts, weights, strict=True)]
    variance = math.fsum(terms)
    df = variance**2 / math.fsum(t**2 / p.df for t, p in zip(terms, parts, strict=True))
    return math.sqrt(variance), df


def difference_in_differences(treated: RateRatio, comparison: RateRatio) -> RateRatio:
    """The treated team's rate ratio over the comparison teams' for the same baseline
    and period weeks — the change that is not shared (a ratio of rate ratios, the
    difference in differences on the log scale). Independent teams: the log variances
    add; Welch–Satterthwaite degrees of freedom."""
    se, df = _welch([treated, comparison], [1.0, -1.0])
    return RateRatio.of(treated.log_ratio - comparison.log_ratio, se, df)


def pooled_rate_ratio(parts: Sequence[RateRatio]) -> RateRatio | None:
    """The geometric mean of the teams' rate ratios, each team weighing the same
    (weighting by people would give back a hidden sub-team's size)."""
    if not parts:
        return None
    weights = [1 / len(parts)] * len(parts)
    se, df = _welch(parts, weights)
    return RateRatio.of(math.fsum(p.log_ratio for p in parts) / len(parts), se, df)


def mover_difference(
    first: tuple[float, float, float], second: tuple[float, float, float]
) -> tuple[float, float, float]:
    """first − second, each (value, low, high) with its own 95 % interval, with the
    interval of the difference by MOVER (Zou & Donner 2008; Newcombe's square-and-add):
    each side's distance to its own limits, added in quadrature — so it inherits each
    interval's shape (t, Wilson, asymmetric) and is never narrower than either. Assumes
    the two are independent; two periods of one team share people, whose answers
    correlate positively, which makes it conservative."""
    (a, a_low, a_high), (b, b_low, b_high) = first, second
    value = a - b
    return (
        value,
        value - math.hypot(a - a_low, b_high - b),
        value + math.hypot(a_high - a, b - b_low),
    )


# The safety alert's control chart (safety_chart): an EWMA of standardised changes.
SAFETY_SCALE_ITEMS = 7  # Edmondson's seven: only the whole scale is charted
CHART_WINDOW = 4  # each period is compared with the mean of the 4 charted ones before it
CHART_HISTORY = 6  # ... once at least 6 came before it (the spread is estimated from them)
CHART_WEIGHT = 0.3  # λ: the EWMA's weight on the newest change
CHART_LIMIT = 1.0  # h: an alert when the EWMA falls below −h
# Stated on every alert: the share of steady teams (no real change) that the chart alerts
# at least once in CHART_PERIODS periods, by simulation (tests/analytics/insights/
# test_safety_chart.py asserts it).
CHART_FALSE_ALARMS = 0.04
CHART_PERIODS = 26


@dataclass(frozen=True)
class SafetyPoint:
    """One period's released safety index (None: suppressed, n < k, or not asked) with
    its n, released interval and how many of the scale's items it is made of."""

    index: float | None
    n: int | None
    low: float | None = None
    high: float | None = None
    items: int | None = SAFETY_SCALE_ITEMS

    def charted(self, k: int) -> bool:
        return (
            self.index is not None
            and group_shown(self.n or 0, k)
            and self.items == SAFETY_SCALE_ITEMS
        )


@dataclass(frozen=True)
class Drop:
    """An alert of the chart: the period's index against the mean of the window before,
    and the EWMA statistic that crossed the limit."""

    latest: float
    trailing_mean: float
    statistic: float
    limit: float = -CHART_LIMIT

    @property
    def points(self) -> float:
        return self.trailing_mean - self.latest


def chart_terms() -> dict[str, float | int]:
    """The chart's settings, as pages and emails state them."""
    return {
        "window": CHART_WINDOW,
        "false_alarms_percent": round(100 * CHART_FALSE_ALARMS),
        "periods": CHART_PERIODS,
    }


def ewma_chart(
    index: np.ndarray,
    *,
    window: int = CHART_WINDOW,
    history: int = CHART_HISTORY,
    weight: float = CHART_WEIGHT,
    limit: float = CHART_LIMIT,
) -> tuple[np.ndarray, np.ndarray]:
    """The EWMA control chart on (series, periods) arrays of unbroken charted periods:
    returns the statistic (nan until `history` periods came before) and where it alerts.

    Each period's change from the mean of the `window` periods before it is divided by
    the index's period-to-period SD, estimated from every period before it by the mean
    squared successive difference (von Neumann; a slow drift barely inflates it), and
    mapped from t on that estimate's effective degrees of freedom, 2(m − 1)²/(3m − 4) for
    m periods, to a normal score. E_t = λ·Z_t + (1 − λ)·E_{t−1}; an alert when E_t < −h,
    after which the chart starts again from 0.

    The SD is the series' own, not the released interval's: that interval is built so
    that it pins nobody (its items taken as moving together, then widened), two to four
    times the sampling error, and a chart on it would not fire; the series' spread also
    counts real week-to-week fluctuation as noise, which no manager wants an alert for.
    Only released means go in, so the alert reveals nothing the figures do not."""
    series, periods = index.shape
    statistic = np.full((series, periods), np.nan)
    alerts = np.zeros((series, periods), dtype=bool)
    level = np.zeros(series)
    for t in range(max(history, window), periods):
        steps = np.diff(index[:, :t], axis=1)
        spread = (steps * steps).mean(axis=1) / 2
        freedom = 2 * (t - 1) ** 2 / (3 * t - 4)
        change = index[:, t] - index[:, t - window : t].mean(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = change / np.sqrt(spread * (1 + 1 / window))
        # A series that has not moved at all: any fall is outside it; no fall is nothing.
        ratio = np.where(spread > 0, ratio, np.sign(change) * np.inf)
        score = special.ndtri(special.stdtr(freedom, np.nan_to_num(ratio, nan=0.0)))
        score = np.clip(score, -8.0, 8.0)  # a normal score past 8 says no more
        level = weight * score + (1 - weight) * level
        statistic[:, t] = level
        alerts[:, t] = level < -limit
        level = np.where(alerts[:, t], 0.0, level)
    return statistic, alerts


def safety_chart(history: Sequence[SafetyPoint], k: int) -> list[Drop | None]:
    """The control chart over a team's periods, oldest first: for each period, the alert
    it raises or None. Only periods with the whole scale and n ≥ k are charted; any
    other period breaks the chart, which starts again after it with a full history (it
    never compares across figures nobody may see or different item sets)."""
    found: list[Drop | None] = [None] * len(history)
    segment: list[int] = []
    for position in [*range(len(history)), None]:
        if position is not None and history[position].charted(k):
            segment.append(position)
            continue
        if len(segment) > max(CHART_HISTORY, CHART_WINDOW):
            index = np.array([[history[i].index for i in segment]], dtype=float)
            statistic, alerts = ewma_chart(index)
            for column in np.flatnonzero(alerts[0]):
                found[segment[column]] = Drop(
                    latest=float(index[0, column]),
                    trailing_mean=float(index[0, column - CHART_WINDOW : column].mean()),
                    statistic=float(statistic[0, column]),
                )
        segment = []
    return found


@dataclass(frozen=True)
class Correlation:
    method: str  # "spearman" or "pearson"
    variant: str  # "pooled" (between teams, trends included) or "within-team" (trends removed)
    n: int  # team-periods
    teams: int
    r: float
    low: float
    high: float
    p: float


# Declared before looking at any data: the pairs the product's questions are about (does
# felt speed go with throughput, safety with failed changes, trust with review time). The
# rest are exploratory and say so; q-values control the false discovery rate over all.
PRIMARY_PAIRS = frozenset(
    {
        ("perceived", "throughput"),
        ("safety", "change_failure_rate"),
        ("ai_trust_share", "review_median_h"),
    }
)

MIN_WITHIN_TEAMS = 4  # cluster-robust inference needs clusters; fewer: not shown


def _fisher_interval(r: float, n_effective: float, method: str) -> tuple[float, float] | None:
    """Fisher z interval; Spearman's with the Fieller–Hartley–Pearson variance 1.06/(n−3).
    None where it cannot be estimated (|r| = 1, or three observations or fewer): never a
    zero-width interval."""
    if n_effective <= 3 or abs(r) >= 1:
        return None
    variance = (1.06 if method == "spearman" else 1.0) / (n_effective - 3)
    centre = math.atanh(r)
    half = Z * math.sqrt(variance)
    return math.tanh(centre - half), math.tanh(centre + half)


def _pooled(x: np.ndarray, y: np.ndarray, method: str) -> tuple[float, float, float, float] | None:
    """r, its Fisher interval and t-test p-value over all team-periods as they are."""
    if method == "spearman":
        x, y = scipy_stats.rankdata(x), scipy_stats.rankdata(y)
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx <= 1e-12 * max(1.0, float(x @ x)) or syy <= 1e-12 * max(1.0, float(y @ y)):
        return None  # a constant column (to rounding): nothing to correlate
    r = max(-1.0, min(1.0, float(dx @ dy) / math.sqrt(sxx * syy)))
    interval = _fisher_interval(r, len(x), method)
    if interval is None:
        return None
    df = len(x) - 2
    t = r * math.sqrt(df / (1 - r * r))
    # special.stdtr is the t CDF itself: t.sf's distribution machinery costs ~50× more,
    # and a refresh asks for tens of thousands of these.
    return r, *interval, float(2 * special.stdtr(df, -abs(t)))


@dataclass(frozen=True)
class Panel:
    """Rows' team and period as indices 0..count−1, worked out once per panel."""

    team_index: np.ndarray
    period_index: np.ndarray
    team_count: int
    period_count: int

    @classmethod
    def of(cls, teams: np.ndarray, periods: np.ndarray) -> Panel:
        _, team_index = np.unique(teams, return_inverse=True)
        _, period_index = np.unique(periods, return_inverse=True)
        return cls(team_index, period_index, int(team_index.max()) + 1, int(period_index.max()) + 1)


def _group_means(index: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Each row's group mean, column by column (values of shape (n,) or (n, k))."""
    counts = np.bincount(index, minlength=size)
    if values.ndim == 1:
        return (np.bincount(index, weights=values, minlength=size) / counts)[index]
    # Sums by group as a product with the rows' one-hot matrix (np.add.at is ~10× slower).
    sums = np.eye(size)[index].T @ values
    return (sums / counts[:, None])[index]


DIRECT_EFFECTS = 100  # a factor with at most this many levels: solved directly


def two_way_residuals(panel: Panel, values: np.ndarray) -> np.ndarray | None:
    """values less their team and period effects (the residuals of a two-way fixed-effects
    regression), column by column for an (n, k) array. When either factor has at most
    DIRECT_EFFECTS levels, directly (Frisch–Waugh–Lovell): the larger factor's means
    removed exactly, then a least-squares fit on the smaller factor's indicators, likewise
    demeaned — exact, even for a panel that is not connected. Otherwise by alternating
    projections, which converge geometrically; they stop when the error left — the last
    change times ρ / (1 − ρ), ρ the ratio of successive changes — is negligible, and give
    None if a weakly connected panel has not converged in 1 000 sweeps (not estimable)."""
    indices = sorted(
        [(panel.team_count, panel.team_index), (panel.period_count, panel.period_index)],
        key=lambda pair: pair[0],
    )
    (small_count, small_index), (large_count, large_index) = indices
    if small_count <= DIRECT_EFFECTS:
        left = values - _group_means(large_index, values, large_count)
        design = np.eye(small_count)[small_index]
        design = design - _group_means(large_index, design, large_count)
        return left - design @ np.linalg.lstsq(design, left, rcond=None)[0]
    residual = values - values.mean(axis=0)
    tolerance = 1e-11 * max(1.0, float(np.abs(residual).max()))
    previous = math.inf
    for _ in range(1000):
        before = residual
        residual = residual - _group_means(panel.team_index, residual, panel.team_count)
        residual = residual - _group_means(panel.period_index, residual, panel.period_count)
        change = float(np.abs(residual - before).max())
        ratio = min(change / previous, 0.999) if previous > 0 else 0.0
        if change * ratio / (1 - ratio) <= tolerance and change <= tolerance * 1e3:
            return residual
        previous = change
    return None


def _within(
    teams: np.ndarray, periods: np.ndarray, x: np.ndarray, y: np.ndarray, method: str
) -> tuple[float, float, float, float] | None:
    """r between x and y after removing each team's level and each period's shared shift
    (two-way fixed effects; Spearman on pooled average ranks), with a p-value and interval
    from the slope of the standardised residuals and its team-clustered (CR1) standard
    error (periods of one team are not independent): the interval on Fisher's z scale with
    t on teams − 1 degrees of freedom; the p-value, up to WILD_BOOTSTRAP_TEAMS teams, from
    the restricted wild cluster bootstrap of that t (the t table is liberal with few or
    unequal teams), above it from the t table."""
    if method == "spearman":
        x, y = scipy_stats.rankdata(x), scipy_stats.rankdata(y)
    panel = Panel.of(teams, periods)
    rx, ry = two_way_residuals(panel, x), two_way_residuals(panel, y)
    if rx is None or ry is None:
        return None
    sxx, syy = float(rx @ rx), float(ry @ ry)
    if sxx <= 1e-12 * max(1.0, float(x @ x)) or syy <= 1e-12 * max(1.0, float(y @ y)):
        return None
    a, b = rx / math.sqrt(sxx), ry / math.sqrt(syy)
    r = max(-1.0, min(1.0, float(a @ b)))
    if abs(r) >= 1:
        return None
    residual = b - r * a
    index, clusters = panel.team_index, panel.team_count
    scores = np.bincount(index, weights=a * residual, minlength=clusters)
    n, parameters = len(x), panel.period_count  # 1 + periods − 1; teams nest in clusters
    if n - parameters <= 0:
        return None
    correction = clusters / (clusters - 1) * (n - 1) / (n - parameters)
    se = math.sqrt(correction * float(scores @ scores))  # Σ a² = 1
    if se <= 0:
        return None
    df = clusters - 1
    t = r / se
    p = (
        _wild_cluster_p(t, panel, a, b, correction)
        if clusters <= WILD_BOOTSTRAP_TEAMS
        else float(2 * special.stdtr(df, -abs(t)))
    )
    # The interval on Fisher's z scale (delta method: se_z = se / (1 − r²)), so it stays
    # inside (−1, 1) and narrows near ±1 as r's sampling distribution does.
    half = float(scipy_stats.t.isf(0.025, df)) * se / (1 - r * r)
    centre = math.atanh(r)
    low, high = math.tanh(centre - half), math.tanh(centre + half)
    return r, low, high, p


WILD_BOOTSTRAP_TEAMS = 30  # at most this many teams: p from the wild cluster bootstrap
WILD_DRAWS = 1999
# Webb's six-point weights: with few clusters Rademacher's two points give too few
# distinct draws (2^G); these give 6^G, enumerated whole up to five teams.
WEBB = np.array([-math.sqrt(1.5), -1.0, -math.sqrt(0.5), math.sqrt(0.5), 1.0, math.sqrt(1.5)])


def _wild_cluster_p(
    t: float, panel: Panel, a: np.ndarray, b: np.ndarray, correction: float
) -> float:
    """The p-value of r = 0 by the restricted wild cluster bootstrap (Cameron, Gelbach and
    Miller 2008; Webb's weights): under the null y* = b·w_g, w drawn per team; each draw's
    slope and CR1 t are linear in w once the fixed effects are projected out of b·1_g for
    every team g, so a draw costs O(G²), not a regression. Exact enumeration of all 6^G
    weight vectors up to five teams, else WILD_DRAWS draws from a fixed seed (the same
    data always give the same p)."""
    index, clusters = panel.team_index, panel.team_count
    # Column g is b inside team g, 0 elsewhere; all projected in one pass.
    columns = np.zeros((len(b), clusters))
    columns[np.arange(len(b)), index] = b
    projected = two_way_residuals(panel, columns)
    if projected is None:
        return math.nan
    # cross[h, g] = Σ_{i in team h} a_i · (M (b·1_g))_i; own[g] = Σ_{i in g} a_i b_i;
    # mass[h] = Σ_{i in h} a_i².
    cross = np.eye(clusters)[index].T @ (a[:, None] * projected)
    own = np.bincount(index, weights=a * b, minlength=clusters)
    mass = np.bincount(index, weights=a * a, minlength=clusters)
    if clusters <= 5:
        grid = np.meshgrid(*[WEBB] * clusters, indexing="ij")
        weights = np.stack([axis.reshape(-1) for axis in grid], axis=1)
    else:
        weights = np.random.default_rng(20261206).choice(WEBB, size=(WILD_DRAWS, clusters))
    slopes = weights @ own
    scores = weights @ cross.T - slopes[:, None] * mass[None, :]
    errors = np.sqrt(correction * (scores * scores).sum(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        drawn = np.where(errors > 0, slopes / errors, 0.0)
    return float(np.mean(np.abs(drawn) >= abs(t) - 1e-12))


def correlations(
    frame: pd.DataFrame, x: str, y: str, *, minimum: int = MIN_CORRELATION_PERIODS
) -> list[Correlation]:
    """Spearman and Pearson between columns x and y of team-period rows (columns `team`
    and `period`), or [] below `minimum` complete team-periods:

    - pooled — between teams, trends included: every team-period as it is, Fisher z
      interval, t-test p;
    - within-team, trends removed: two-way fixed effects (team and period), so neither
      differences between teams' levels nor a drift all teams share (a quarter-end, a
      holiday, a tool everyone adopted) reads as a relation; inference clustered by team
      (`_within`), shown only with at least MIN_WITHIN_TEAMS teams of two periods or more.
    """
    xs, ys = frame[x].to_numpy(float), frame[y].to_numpy(float)
    complete = ~(np.isnan(xs) | np.isnan(ys))
    if complete.sum() < minimum:
        return []
    teams, periods = frame["team"].to_numpy()[complete], frame["period"].to_numpy()[complete]
    xs, ys = xs[complete], ys[complete]
    labels, index, sizes = np.unique(teams, return_inverse=True, return_counts=True)
    several = sizes[index] > 1
    within_teams = int((sizes > 1).sum())
    found: list[Correlation] = []
    for method in ("spearman", "pearson"):
        pooled = _pooled(xs, ys, method)
        if pooled is not None:
            found.append(Correlation(method, "pooled", len(xs), len(labels), *pooled))
        if within_teams < MIN_WITHIN_TEAMS or several.sum() < minimum:
            continue
        within = _within(teams[several], periods[several], xs[several], ys[several], method)
        if within is not None:
            found.append(
                Correlation(method, "within-team", int(several.sum()), within_teams, *within)
            )
    return found
