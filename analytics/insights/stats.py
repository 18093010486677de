"""Survey statistics as pure functions over plain values and DataFrames (no ORM).

Means carry a two-sided 95 % Student-t confidence interval. Scale items are
reverse-scored where marked and mapped to a 0–100 index: (x − min) / (max − min) × 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95


@dataclass(frozen=True)
class Estimate:
    n: int
    mean: float
    sd: float | None
    ci_low: float | None
    ci_high: float | None


@lru_cache(maxsize=4096)
def t_quantile(probability: float, df: int) -> float:
    """Student's t quantile, cached: scipy takes ~0.1 ms a call and a recompute asks for
    the same few degrees of freedom hundreds of thousands of times."""
    return float(stats.t.ppf(probability, df=df))


def mean_ci(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """Mean with sample sd and a t interval; sd and CI are None below two values."""
    n = len(values)
    if n == 0:
        raise ValueError("No values to summarise.")
    mean = math.fsum(values) / n
    if n < 2:
        return Estimate(n=n, mean=mean, sd=None, ci_low=None, ci_high=None)
    sd = math.sqrt(math.fsum((v - mean) ** 2 for v in values) / (n - 1))
    return _with_interval(n, mean, sd, confidence)


def estimate_from_moments(n: int, mean: float, mean_square: float) -> Estimate:
    """The Estimate mean_ci gives, from n, the mean and the mean of squares (what a SQL
    GROUP BY returns); sd and CI are None below two values."""
    if n < 2:
        return Estimate(n=n, mean=mean, sd=None, ci_low=None, ci_high=None)
    variance = max(0.0, (mean_square - mean * mean) * n / (n - 1))
    return _with_interval(n, mean, math.sqrt(variance), CONFIDENCE)


def _with_interval(n: int, mean: float, sd: float, confidence: float) -> Estimate:
    """The estimate with its Student-t interval (n ≥ 2)."""
    half = t_quantile((1 + confidence) / 2, n - 1) * sd / math.sqrt(n)
    return Estimate(n=n, mean=mean, sd=sd, ci_low=mean - half, ci_high=mean + half)


def estimates(
    n: np.ndarray, total: np.ndarray, squares: np.ndarray, low: np.ndarray, high: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """estimate_from_moments then clipped, over arrays: (mean, sd, ci_low, ci_high) from
    n, Σ x and Σ x², the interval cut to [low, high]; sd and interval NaN where n < 2."""
    count = n.astype(np.float64)
    mean = total / count
    few = count < 2
    df = np.where(few, 1.0, count - 1)
    variance = np.maximum(0.0, (squares / count - mean * mean) * count / df)
    sd = np.sqrt(variance)
    # scipy's ppf costs per element; a recompute has few distinct degrees of freedom.
    distinct, back = np.unique(df, return_inverse=True)
    t = stats.t.ppf((1 + CONFIDENCE) / 2, distinct)[back]
    half = t * sd / np.sqrt(count)
    sd[few] = np.nan
    half[few] = np.nan
    return mean, sd, np.maximum(low, mean - half), np.minimum(high, mean + half)


def clipped(estimate: Estimate, low: float, high: float) -> Estimate:
    """The estimate with its interval cut to the scale: a t interval can overshoot it."""
    if estimate.ci_low is None or estimate.ci_high is None:
        return estimate
    return Estimate(
        n=estimate.n,
        mean=estimate.mean,
        sd=estimate.sd,
        ci_low=max(low, estimate.ci_low),
        ci_high=min(high, estimate.ci_high),
    )


def reverse_score(value: float, low: int, high: int) -> float:
    return low + high - value


def to_index(value: float, low: int, high: int) -> float:
    return (value - low) / (high - low) * 100


def construct_scores(answers: pd.DataFrame) -> pd.DataFrame:
    """One score per respondent and construct: the definition that the SQL of
    analytics.aggregation.construct_moments implements for the database (a test holds
    the two equal).

    `answers` has columns response_id, construct, kind ("scale" or "percent"), value,
    scale_min, scale_max, reverse_scored. Scale items become 0–100 after reversal; percent
    items stay in %. Returns response_id, construct, unit, score.
    """
    columns = ["response_id", "construct", "unit", "score"]
    numeric = answers[answers["kind"].isin(["scale", "percent"])]
    if numeric.empty:
        return pd.DataFrame(columns=columns)
    is_scale = numeric["kind"] == "scale"
    low, high = numeric["scale_min"], numeric["scale_max"]
    reversed_value = numeric["value"].where(
        ~numeric["reverse_scored"], low + high - numeric["value"]
    )
    score = (reversed_value - low) / (high - low) * 100
    frame = numeric.assign(
        score=score.where(is_scale, numeric["value"]),
        unit=is_scale.map({True: "index", False: "percent"}),
    )
    grouped = frame.groupby(["response_id", "construct", "unit"])["score"].mean()
    return grouped.reset_index()


def share_at_least(values: Sequence[int], threshold: int) -> float:
    """Percentage of values at or above a threshold."""
    if not values:
        raise ValueError("No values to summarise.")
    return 100 * sum(1 for v in values if v >= threshold) / len(values)


PERCENT_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("slower by more than 25 %", -100, -26),
    ("slower by up to 25 %", -25, -1),
    ("no difference", 0, 0),
    ("faster by up to 25 %", 1, 25),
    ("faster by 26–50 %", 26, 50),
    ("faster by more than 50 %", 51, 1000),
)


def distribution_scale(
    values: Sequence[int], low: int, high: int, labels: Sequence[str]
) -> list[dict]:
    names = list(labels) or [str(step) for step in range(low, high + 1)]
    return [
        {"label": names[step - low], "value": step, "count": sum(1 for v in values if v == step)}
        for step in range(low, high + 1)
    ]


def distribution_percent(values: Sequence[int]) -> list[dict]:
    return [
        {"label": label, "count": sum(1 for v in values if low <= v <= high)}
        for label, low, high in PERCENT_BUCKETS
    ]


def distribution_multi(chosen: Sequence[Sequence[str]], options: Sequence[dict]) -> list[dict]:
    return [
        {
            "label": option["label"],
            "value": option["key"],
            "count": sum(1 for c in chosen if option["key"] in c),
        }
        for option in options
    ]
