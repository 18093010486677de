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
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from functools import partial
from itertools import pairwise
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
from surveys.models import Construct, Invitation, PulseRun, RunStatus, Team
from surveys.periods import week_of

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
        fields["trust_gap_n"] = summary.trust_gap_n
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
    team_id = PulseRun.objects.values_list("team_id", flat=True).get(pk=run_id)
    filled = team_periods_fill(team_id=team_id, run_ids=[run_id])
    return filled[0] if filled else None


def _invited(run_ids: Iterable[int]) -> dict[int, set[int]]:
    people: dict[int, set[int]] = defaultdict(set)
    for run_id, user_id in Invitation.objects.filter(run_id__in=list(run_ids)).values_list(
        "run_id", "user_id"
    ):
        people[run_id].add(user_id)
    return people


def team_periods_fill(*, team_id: int, run_ids: Sequence[int]) -> list[TeamPeriod]:
    """Recompute these periods of one team whole, in one transaction, reading the team's
    summary rows and delivery weeks once; runs not closed are skipped."""
    team = Team.objects.get(pk=team_id)
    closed = list(
        PulseRun.objects.filter(team_id=team_id, status=RunStatus.CLOSED).order_by("period_start")
    )
    wanted = set(run_ids)
    runs = [run for run in closed if run.pk in wanted]
    if not runs:
        return []
    previous = {later.pk: earlier for earlier, later in pairwise(closed)}
    ids = [run.pk for run in runs]
    summaries = {s.run_id: s for s in RunSummary.objects.filter(run_id__in=ids)}
    constructs = {
        (c.run_id, c.construct): c
        for c in ConstructAggregate.objects.filter(
            run_id__in=ids,
            construct__in=[Construct.PERCEIVED_SPEED, Construct.PSYCHOLOGICAL_SAFETY],
        )
    }
    invited = _invited(ids + [previous[i].pk for i in ids if i in previous])
    weeks = list(
        TeamWeekDelivery.objects.filter(team_id=team_id, suppressed=False)
        .order_by("week_start")
        .values_list("week_start", "metrics")
    )
    baseline = baseline_weeks(weeks, team.ai_adopted_on)
    made = []
    for run in runs:
        # The weeks overlapping [period_start, period_end): period_end is exclusive.
        period = [
            m for start, m in weeks if start < run.period_end and start + WEEK >= run.period_start
        ]
        fields = period_figures(
            perceived=constructs.get((run.pk, Construct.PERCEIVED_SPEED)),
            safety=constructs.get((run.pk, Construct.PSYCHOLOGICAL_SAFETY)),
            summary=summaries.get(run.pk),
            period=period,
            baseline=baseline,
        )
        before = previous.get(run.pk)
        fields["change_shown"] = before is not None and not churn_isolates(
            invited[before.pk], invited[run.pk], run.k
        )
        made.append(
            TeamPeriod(
                run=run,
                team_id=team_id,
                period_start=run.period_start,
                period_end=run.period_end,
                k=run.k,
                **fields,
            )
        )
    with transaction.atomic():
        TeamPeriod.objects.filter(run_id__in=ids).delete()
        TeamPeriod.objects.bulk_create(made, batch_size=1000)
    return made


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
        [PeriodFill(run_id=run_id) for run_id in ids], ignore_conflicts=True, batch_size=1000
    )
    # The run queryset as a subquery: a list of every run id could pass SQLite's limit on
    # parameters in one statement.
    PeriodFill.objects.filter(run__in=runs).update(
        state=PeriodFill.State.PENDING, attempts=0, changed_at=timezone.now()
    )
    return len(ids)


def _claim(team_id: int, claimable: Q) -> tuple[list[int], list[int], Any]:
    """Claim the team's claimable fills; (fill ids, run ids, the claim's stamp)."""
    stamp = timezone.now()
    candidates = list(
        PeriodFill.objects.filter(claimable, run__team_id=team_id).values_list("pk", flat=True)
    )
    PeriodFill.objects.filter(claimable, pk__in=candidates).update(
        state=PeriodFill.State.FILLING, attempts=F("attempts") + 1, changed_at=stamp
    )
    mine = PeriodFill.objects.filter(
        pk__in=candidates, state=PeriodFill.State.FILLING, changed_at=stamp
    ).values_list("pk", "run_id")
    return [pk for pk, _ in mine], [run_id for _, run_id in mine], stamp


def periods_fill_pending(*, reports_inline: bool = True) -> int:
    """Fill every pending period (and any left `filling` by a crash), a team at a time;
    returns how many were filled. One failing team does not hold back the others; after
    MAX_ATTEMPTS its periods stay `failed` with the error until marked again.

    Then the reports that depend on the filled periods (alerts, correlations, the weeks'
    roll-ups) are refreshed: here, or — `reports_inline=False`, what the Celery tasks
    do — by a task of their own enqueued on commit, so a refresh returns once the
    periods themselves are stored.
    """
    stale = timezone.now() - STALE_FILLING
    claimable = Q(state=PeriodFill.State.PENDING) | Q(
        state=PeriodFill.State.FILLING, changed_at__lt=stale
    )
    team_ids = set(
        PeriodFill.objects.filter(claimable).values_list("run__team_id", flat=True).distinct()
    )
    filled = 0
    teams: set[int] = set()
    weeks: set[date] = set()
    for team_id in sorted(team_ids):
        fill_ids, run_ids, stamp = _claim(team_id, claimable)
        if not fill_ids:
            continue  # another worker has them
        try:
            made = team_periods_fill(team_id=team_id, run_ids=run_ids)
        except Exception as error:
            logger.exception("Filling the periods of team %s failed", team_id)
            message = f"{type(error).__name__}: {error}"[:2000]
            mine = PeriodFill.objects.filter(pk__in=fill_ids, changed_at=stamp)
            mine.filter(attempts__gte=MAX_ATTEMPTS).update(
                state=PeriodFill.State.FAILED, error=message, changed_at=timezone.now()
            )
            mine.filter(attempts__lt=MAX_ATTEMPTS).update(
                state=PeriodFill.State.PENDING, error=message, changed_at=timezone.now()
            )
            continue
        # Marked pending again while filling: left pending for the next sweep.
        PeriodFill.objects.filter(
            pk__in=fill_ids, state=PeriodFill.State.FILLING, changed_at=stamp
        ).update(state=PeriodFill.State.DONE, error="", changed_at=timezone.now())
        filled += len(fill_ids)
        teams.add(team_id)
        weeks.update(week_of(period.period_start) for period in made)
    if not teams:
        return filled
    if reports_inline:
        reports.reports_refresh(team_ids=teams, weeks=weeks)
    else:
        from analytics.tasks import reports_refresh_task

        transaction.on_commit(
            partial(
                reports_refresh_task.delay,
                sorted(teams),
                sorted(week.isoformat() for week in weeks),
            )
        )
    return filled
