"""Team-periods: each closed pulse run's survey figures joined with the Git metrics of the
same weeks, into `TeamPeriod`, which every report reads (no aggregation in a request).

Filling is driven by `PeriodFill` records: `periods_mark` flags periods pending (a run
closed, an import finished, the nightly sweep), `periods_fill_pending` claims each one,
recomputes it whole in one transaction and marks it done. A fill that crashed leaves its
record `filling`; the next sweep takes it again after STALE_FILLING. Re-running changes
nothing but the figures' freshness.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from analytics import gaps, reports
from analytics.models import (
    ConstructAggregate,
    PeriodFill,
    RunSummary,
    TeamPeriod,
    TeamWeekDelivery,
)
from analytics.suppression import churn_isolates
from surveys.models import Construct, Invitation, PulseRun, RunStatus

logger = logging.getLogger(__name__)

BASELINE_WEEKS = 4
MAX_ATTEMPTS = 3
STALE_FILLING = timedelta(minutes=15)
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
    return statistics.fmean(values) if values else None


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


def period_figures(
    *,
    perceived: ConstructAggregate | None,
    safety: ConstructAggregate | None,
    summary: RunSummary | None,
    period: Sequence[dict[str, Any]],
    baseline: Sequence[dict[str, Any]],
) -> dict[str, Any]:
    """The TeamPeriod fields from summary rows (each already under-k free)."""
    fields: dict[str, Any] = {"delivery_weeks": len(period), "delivery": delivery_mean(period)}
    if summary is not None and not summary.suppressed:
        fields["respondents"] = summary.respondents
        fields["ai_weekly_share"] = summary.ai_weekly_share
        fields["ai_trust_share"] = summary.ai_trust_share
        fields["trust_gap"] = summary.trust_gap
        fields["trust_gap_low"] = summary.trust_gap_low
        fields["trust_gap_high"] = summary.trust_gap_high
    if safety is not None:
        fields |= {
            "safety": safety.mean,
            "safety_low": safety.ci_low,
            "safety_high": safety.ci_high,
            "safety_n": safety.n,
        }
    measured = gaps.measured_change(
        [w["throughput"] for w in period if "throughput" in w],
        [w["throughput"] for w in baseline if "throughput" in w],
    )
    _interval(fields, "measured", measured)
    if perceived is not None:
        fields |= {
            "perceived": perceived.mean,
            "perceived_low": perceived.ci_low,
            "perceived_high": perceived.ci_high,
        }
        if measured is not None:
            se = (perceived.sd or 0.0) / math.sqrt(perceived.n)
            _interval(fields, "gap", gaps.perception_gap(perceived.mean, se, measured))
    return fields


def period_fill(*, run_id: int) -> TeamPeriod | None:
    """Recompute one team-period whole; None (and nothing stored) for a run not closed."""
    run = PulseRun.objects.select_related("team").get(pk=run_id)
    if run.status != RunStatus.CLOSED:
        return None
    summary = RunSummary.objects.filter(run=run).first()
    constructs = {c.construct: c for c in ConstructAggregate.objects.filter(run=run)}
    weeks = [
        (start, metrics)
        for start, metrics in TeamWeekDelivery.objects.filter(team_id=run.team_id, suppressed=False)
        .order_by("week_start")
        .values_list("week_start", "metrics")
    ]
    # The weeks overlapping [period_start, period_end): period_end is exclusive.
    period = [
        m for start, m in weeks if start < run.period_end and start + WEEK >= run.period_start
    ]
    fields = period_figures(
        perceived=constructs.get(Construct.PERCEIVED_SPEED),
        safety=constructs.get(Construct.PSYCHOLOGICAL_SAFETY),
        summary=summary,
        period=period,
        baseline=baseline_weeks(weeks, run.team.ai_adopted_on),
    )
    fields["change_shown"] = _change_shown(run)
    with transaction.atomic():
        TeamPeriod.objects.filter(run=run).delete()
        return TeamPeriod.objects.create(
            run=run,
            team_id=run.team_id,
            period_start=run.period_start,
            period_end=run.period_end,
            k=run.k,
            **fields,
        )


def _change_shown(run: PulseRun) -> bool:
    """Whether the change from the team's previous closed run may be shown (see
    analytics.suppression.churn_isolates); False when there is none."""
    previous = (
        PulseRun.objects.filter(
            team_id=run.team_id, status=RunStatus.CLOSED, period_start__lt=run.period_start
        )
        .order_by("-period_start")
        .first()
    )
    if previous is None:
        return False

    def invited(of: PulseRun) -> set[int]:
        return set(Invitation.objects.filter(run=of).values_list("user_id", flat=True))

    return not churn_isolates(invited(previous), invited(run), run.k)


def periods_mark(
    *,
    run_ids: Iterable[int] | None = None,
    organisation_id: int | None = None,
) -> int:
    """Flag the periods of these closed runs (or of every closed run of the organisation,
    or of all) pending; returns how many."""
    runs = PulseRun.objects.filter(status=RunStatus.CLOSED)
    if run_ids is not None:
        runs = runs.filter(pk__in=list(run_ids))
    if organisation_id is not None:
        runs = runs.filter(team__organisation_id=organisation_id)
    ids = list(runs.values_list("pk", flat=True))
    PeriodFill.objects.bulk_create(
        [PeriodFill(run_id=run_id) for run_id in ids], ignore_conflicts=True
    )
    PeriodFill.objects.filter(run_id__in=ids).update(
        state=PeriodFill.State.PENDING, attempts=0, changed_at=timezone.now()
    )
    return len(ids)


def periods_fill_pending() -> int:
    """Fill every pending period (and any left `filling` by a crash); returns how many were
    filled. One failing period does not hold back the others; after MAX_ATTEMPTS it stays
    `failed` with its error until marked again."""
    stale = timezone.now() - STALE_FILLING
    claimable = Q(state=PeriodFill.State.PENDING) | Q(
        state=PeriodFill.State.FILLING, changed_at__lt=stale
    )
    filled = 0
    teams: set[int] = set()
    pending = PeriodFill.objects.filter(claimable).values_list("pk", "run_id", "run__team_id")
    for fill_id, run_id, team_id in pending:
        claimed = PeriodFill.objects.filter(claimable, pk=fill_id).update(
            state=PeriodFill.State.FILLING, attempts=F("attempts") + 1, changed_at=timezone.now()
        )
        if not claimed:
            continue  # another worker has it
        try:
            period_fill(run_id=run_id)
        except Exception as error:
            logger.exception("Filling the period of run %s failed", run_id)
            attempts = PeriodFill.objects.values_list("attempts", flat=True).get(pk=fill_id)
            state = (
                PeriodFill.State.FAILED if attempts >= MAX_ATTEMPTS else PeriodFill.State.PENDING
            )
            PeriodFill.objects.filter(pk=fill_id).update(
                state=state,
                error=f"{type(error).__name__}: {error}"[:2000],
                changed_at=timezone.now(),
            )
            continue
        # Marked pending again while filling: leave it pending for the next sweep.
        PeriodFill.objects.filter(pk=fill_id, state=PeriodFill.State.FILLING).update(
            state=PeriodFill.State.DONE, error="", changed_at=timezone.now()
        )
        filled += 1
        teams.add(team_id)
    if teams:
        reports.reports_refresh(team_ids=teams)
    return filled
