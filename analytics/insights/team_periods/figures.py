"""A team-period's figures from rows already under-k free (pure: numbers in, numbers out):
the period's delivery figures averaged over its weeks, the baseline weeks measured speed
is compared with, and the perception gap."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any, NamedTuple

from analytics.insights import gaps
from analytics.insights.stats import t_quantile

BASELINE_WEEKS = 4


WEEK = timedelta(days=6)


# The weekly delivery figures averaged over a period's weeks, and the AI-assisted split.
DELIVERY_KEYS = (
    "throughput",
    "commits",
    "merged_prs",
    "cycle_median_h",
    "pickup_median_h",
    "review_median_h",
    "pr_size_median",
    "deployment_days",
    "lead_time_median_h",
    "change_failure_rate",
    "time_to_restore_median_h",
    "ai_commit_share",
    "ai_pr_share",
)


SPLIT_KEYS = ("merged_prs", "cycle_median_h", "review_median_h", "pr_size_median")


def _mean_of(weeks: Sequence[dict[str, Any]], key: str) -> float | None:
    values = [w[key] for w in weeks if isinstance(w.get(key), int | float)]
    return math.fsum(values) / len(values) if values else None


def delivery_mean(weeks: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A period's delivery figures: the mean over its weeks of each weekly figure (weeks
    without the figure left out), and the same for the AI-assisted vs other PR split."""
    figures: dict[str, Any] = {}
    for key in DELIVERY_KEYS:
        if (value := _mean_of(weeks, key)) is not None:
            figures[key] = value
    split = {}
    for side in ("ai", "other"):
        sides = [w["ai_split"][side] for w in weeks if side in w.get("ai_split", {})]
        values = {key: _mean_of(sides, key) for key in SPLIT_KEYS}
        if any(v is not None for v in values.values()):
            split[side] = {key: value for key, value in values.items() if value is not None}
    if split:
        figures["ai_split"] = split
    bases = sorted({w["change_failure_basis"] for w in weeks if w.get("change_failure_basis")})
    if bases:
        figures["change_failure_basis"] = "; ".join(bases)
    return figures


def baseline_weeks(
    weeks: Sequence[tuple[date, dict[str, Any]]], adopted_on: date | None
) -> list[dict[str, Any]]:
    """The weeks measured speed is compared with: those ending before the adoption date,
    or without one, the first BASELINE_WEEKS weeks with figures. Oldest first."""
    if adopted_on is not None:
        return [figures for start, figures in weeks if start + WEEK < adopted_on]
    return [figures for _, figures in weeks[:BASELINE_WEEKS]]


def _interval(fields: dict[str, Any], name: str, interval: gaps.Interval | None) -> None:
    if interval is None:
        return
    fields[name], fields[f"{name}_low"], fields[f"{name}_high"] = (
        interval.value,
        interval.low,
        interval.high,
    )


class Score(NamedTuple):
    """A construct's stored aggregate (n ≥ k, released), as a period reads it."""

    n: int
    mean: float
    low: float | None
    high: float | None
    items: int | None = None

    @property
    def se(self) -> float | None:
        """The standard error its released interval stands for: the half-width over the t
        quantile. The released interval is the exact one widened, so this errs wide."""
        if self.low is None or self.high is None or self.n < 2:
            return None
        return (self.high - self.low) / (2 * t_quantile(0.975, self.n - 1))


def period_figures(
    *,
    perceived: Score | None,
    safety: Score | None,
    summary: dict[str, Any] | None,
    period: Sequence[dict[str, Any]],
    baseline: Sequence[float],
) -> dict[str, Any]:
    """The TeamPeriod fields from summary rows (each already under-k free): `summary` is
    a shown run's RunSummary respondents and SUMMARY_FIGURES, `baseline` the baseline weeks'
    throughputs."""
    fields: dict[str, Any] = {"delivery_weeks": len(period), "delivery": delivery_mean(period)}
    if summary is not None:
        fields |= summary
    if safety is not None:
        fields |= {
            "safety": safety.mean,
            "safety_low": safety.low,
            "safety_high": safety.high,
            "safety_n": safety.n,
            "safety_items": safety.items,
        }
    measured = gaps.measured_change(
        [w["throughput"] for w in period if "throughput" in w], baseline
    )
    _interval(fields, "measured", measured)
    if perceived is not None:
        fields |= {
            "perceived": perceived.mean,
            "perceived_low": perceived.low,
            "perceived_high": perceived.high,
        }
        if measured is not None and perceived.se is not None:
            gap = gaps.perception_gap(perceived.mean, perceived.se, measured)
            _interval(fields, "gap", gap)
    return fields


def baseline_throughputs(
    throughputs: list[tuple[date, Any]], adopted_on: date | None
) -> list[float]:
    """The baseline weeks' throughputs, from every week's (start, throughput or None)."""
    weeks = [
        (start, {"throughput": value} if value is not None else {}) for start, value in throughputs
    ]
    return [w["throughput"] for w in baseline_weeks(weeks, adopted_on) if "throughput" in w]
