"""A team-period's figures from rows already under-k free (pure: numbers in, numbers out):
the period's delivery figures averaged over its weeks; the measured change, which needs a
design (an adoption date or a baseline window: `Design`) and is a rate ratio of weekly
throughput against the baseline (`gaps.rate_ratio`) and, where the organisation has teams
that had not yet adopted AI tools, a difference in differences against them; and the
perception gap, felt speed minus the measured change by MOVER."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NamedTuple

from analytics.insights import gaps

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
    without the figure left out), and the same for the AI-assisted vs other PR split; the
    same-size comparison of its last week that has one (a window of weeks already)."""
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
    compared = [w["ai_same_size"] for w in weeks if w.get("ai_same_size")]
    if compared:  # the window ending at the period's last week that has one
        figures["ai_same_size"] = compared[-1]
    bases = sorted({w["change_failure_basis"] for w in weeks if w.get("change_failure_basis")})
    if bases:
        figures["change_failure_basis"] = "; ".join(bases)
    return figures


class Week(NamedTuple):
    """One shown week's throughput as the measured change reads it: merged PRs (or
    commits, in a repository without PR data) and the active contributors they are per."""

    start: date
    events: float
    exposure: float
    basis: str


BASELINE_SPAN = timedelta(weeks=26)  # the weeks before an adoption date that are its baseline


def _day(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


@dataclass(frozen=True)
class Design:
    """What a team's measured change compares: the baseline weeks, those starting in
    [start, end) and ending by `end`, against periods starting on or after `end`."""

    start: date
    end: date
    label: str

    @classmethod
    def of(
        cls,
        *,
        adopted_on: date | None,
        organisation_adopted_on: date | None,
        baseline_start: date | None,
        baseline_end: date | None,
    ) -> Design | None:
        """The team's design: its own baseline window, else its adoption date, else its
        organisation's; None without any (no measured change is shown then)."""
        if baseline_start is not None and baseline_end is not None:
            label = f"baseline window {_day(baseline_start)} to {_day(baseline_end)}"
            return cls(baseline_start, baseline_end, label)
        adoption = adopted_on or organisation_adopted_on
        if adoption is None:
            return None
        whose = "the team" if adopted_on else "the organisation"
        label = f"AI tools adopted on {_day(adoption)} ({whose}); the 26 weeks before"
        return cls(adoption - BASELINE_SPAN, adoption, label)

    def baseline(self, weeks: Sequence[Week]) -> list[Week]:
        return [w for w in weeks if self.start <= w.start and w.start + WEEK < self.end]


NO_DESIGN = (
    "No measured change: Candor needs to know what to compare with. An admin sets when "
    "AI tools arrived (for the organisation or this team) or a baseline window."
)


def _in_baseline(design: Design) -> str:
    return f"No measured change: the period is not after the baseline ({design.label})."


def _short(baseline: int) -> str:
    return (
        f"No measured change: the baseline has {baseline} weeks with throughput; "
        f"at least {gaps.MIN_BASELINE_WEEKS} are needed."
    )


NOT_ESTIMABLE = "No measured change: nothing merged (or committed) in the period or baseline."
NO_WEEKS = (
    "No measured change: no week of the period has its throughput shown (no Git data, or "
    "its PRs or commits come from fewer than k people)."
)


class Measured(NamedTuple):
    """A period's measured change, or why there is none."""

    change: gaps.RateRatio | None
    reason: str
    design: str = ""  # its label
    baseline_weeks: int = 0
    basis: str = ""


def _pairs(weeks: Sequence[Week]) -> list[tuple[float, float]]:
    return [(w.events, w.exposure) for w in weeks]


class TeamBaseline(NamedTuple):
    """A team's baseline weeks under its design, and their fit (None: not estimable)."""

    weeks: list[Week]
    fit: gaps.Baseline | None

    @classmethod
    def of(cls, design: Design | None, weeks: Sequence[Week]) -> TeamBaseline:
        baseline = design.baseline(weeks) if design is not None else []
        return cls(baseline, gaps.Baseline.fit(_pairs(baseline)))


def measured_for(
    design: Design | None, baseline: TeamBaseline, period_start: date, period: Sequence[Week]
) -> Measured:
    """The period's throughput against the design's baseline (gaps.rate_ratio)."""
    if design is None:
        return Measured(None, NO_DESIGN)
    if period_start < design.end:
        return Measured(None, _in_baseline(design), design.label)
    weeks = len(baseline.weeks)
    if weeks < gaps.MIN_BASELINE_WEEKS:
        return Measured(None, _short(weeks), design.label, weeks)
    if not period:
        return Measured(None, NO_WEEKS, design.label, weeks)
    change = baseline.fit.ratio(_pairs(period)) if baseline.fit is not None else None
    basis = "; ".join(sorted({w.basis for w in [*baseline.weeks, *period]}))
    return Measured(change, "" if change else NOT_ESTIMABLE, design.label, weeks, basis)


def pooled_weeks(series: Sequence[Sequence[Week]], starts: set[date]) -> list[Week]:
    """Comparison teams' weeks summed week by week (counts and contributors), over the
    given week starts; each team counts in the weeks it has figures for."""
    totals: dict[date, list[float]] = {}
    for weeks in series:
        for week in weeks:
            if week.start in starts:
                total = totals.setdefault(week.start, [0.0, 0.0])
                total[0] += week.events
                total[1] += week.exposure
    return [Week(start, c, e, "") for start, (c, e) in sorted(totals.items())]


class Comparative(NamedTuple):
    change: gaps.RateRatio
    teams: int


def comparative_for(
    measured: Measured,
    baseline: TeamBaseline,
    period: Sequence[Week],
    comparisons: Sequence[Sequence[Week]],
) -> Comparative | None:
    """The difference in differences against comparison teams — the organisation's teams
    that had not adopted AI tools by the period's end — over the same baseline and period
    weeks, so a trend or a season they share does not read as the AI effect."""
    if measured.change is None or not comparisons:
        return None
    before = pooled_weeks(comparisons, {w.start for w in baseline.weeks})
    after = pooled_weeks(comparisons, {w.start for w in period})
    control = gaps.rate_ratio(_pairs(after), _pairs(before))
    if control is None:
        return None
    return Comparative(gaps.difference_in_differences(measured.change, control), len(comparisons))


def _interval(fields: dict[str, Any], name: str, change: gaps.RateRatio | None) -> None:
    if change is not None:
        fields[name], fields[f"{name}_low"], fields[f"{name}_high"] = change.triple


class Score(NamedTuple):
    """A construct's stored aggregate (n ≥ k, released), as a period reads it."""

    n: int
    mean: float
    low: float | None
    high: float | None
    items: int | None = None


def period_figures(
    *,
    perceived: Score | None,
    safety: Score | None,
    summary: dict[str, Any] | None,
    period: Sequence[dict[str, Any]],
    measured: Measured,
    comparative: Comparative | None,
) -> dict[str, Any]:
    """The TeamPeriod fields from summary rows (each already under-k free): `summary` is
    a shown run's RunSummary respondents and SUMMARY_FIGURES, `period` the period's
    weekly delivery figures; `measured` and `comparative` its throughput change against
    its own baseline and against comparison teams."""
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
    _interval(fields, "measured", measured.change)
    fields |= {
        "measured_reason": measured.reason,
        "measured_design": measured.design,
        "measured_baseline_weeks": measured.baseline_weeks or None,
        "measured_basis": measured.basis,
    }
    if measured.change is not None:
        fields["measured_log_se"], fields["measured_df"] = (
            measured.change.log_se,
            measured.change.df,
        )
    against = measured.change
    if comparative is not None:
        _interval(fields, "comparative", comparative.change)
        fields["comparative_teams"] = comparative.teams
        against = comparative.change
    if perceived is not None:
        fields |= {
            "perceived": perceived.mean,
            "perceived_low": perceived.low,
            "perceived_high": perceived.high,
        }
        if against is not None and perceived.low is not None and perceived.high is not None:
            gap = gaps.mover_difference(
                (perceived.mean, perceived.low, perceived.high), against.triple
            )
            fields["gap"], fields["gap_low"], fields["gap_high"] = gap
            fields["gap_against"] = "comparison" if comparative is not None else "baseline"
    return fields
