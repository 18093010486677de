"""Team-periods: each closed pulse run's survey figures joined with the Git metrics of the
same weeks, into `TeamPeriod`, which every report reads (no aggregation in a request).

Filling is driven by `PeriodFill` records: `periods_mark` flags periods pending (a run
closed, an import finished, the nightly sweep), `periods_fill_pending` claims each one,
recomputes it whole and marks it done — whole teams of about FILL_RUNS periods per
transaction, their inputs read in a few queries for all of them. A fill that crashed
leaves its records `filling`; the next sweep takes them again after STALE_FILLING.
Re-running changes nothing but the figures' freshness.
"""

from __future__ import annotations

import json
import logging
import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from itertools import pairwise
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.db.models import F, FloatField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils import timezone

from analytics import gaps, reports
from analytics.bulk import rows_insert
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
FILL_RUNS = 5000  # periods per fill transaction, in whole teams
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
    """A construct's stored aggregate (n ≥ k), as a period reads it."""

    n: int
    mean: float
    sd: float | None
    low: float | None
    high: float | None


SUMMARY_COLUMNS = (
    "respondents",
    "ai_weekly_share",
    "ai_trust_share",
    "trust_gap",
    "trust_gap_low",
    "trust_gap_high",
    "trust_gap_n",
)


def period_figures(
    *,
    perceived: Score | None,
    safety: Score | None,
    summary: dict[str, Any] | None,
    period: Sequence[dict[str, Any]],
    baseline: Sequence[float],
) -> dict[str, Any]:
    """The TeamPeriod fields from summary rows (each already under-k free): `summary` is
    a shown run's RunSummary columns (SUMMARY_COLUMNS), `baseline` the baseline weeks'
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
        if measured is not None:
            se = (perceived.sd or 0.0) / math.sqrt(perceived.n)
            _interval(fields, "gap", gaps.perception_gap(perceived.mean, se, measured))
    return fields


def period_fill(*, run_id: int) -> TeamPeriod | None:
    """Recompute one team-period whole; None (and nothing stored) for a run not closed."""
    team_id = PulseRun.objects.values_list("team_id", flat=True).get(pk=run_id)
    team_periods_fill(runs_by_team={team_id: [run_id]})
    return TeamPeriod.objects.filter(run_id=run_id).first()


@dataclass(frozen=True)
class Inputs:
    """What the periods of some teams are computed from, read in a few queries."""

    adopted_on: dict[int, date | None]
    closed: dict[int, list[tuple[int, date, date, int]]]  # team → (run, start, end, k)
    summaries: dict[int, dict[str, Any]]  # shown runs only
    scores: dict[tuple[int, str], Score]
    invited: dict[int, set[int]]
    weeks: dict[int, list[tuple[date, dict[str, Any]]]]  # team → weeks with figures
    throughputs: dict[int, list[tuple[date, float]]]  # team → every week's throughput

    @classmethod
    def read(cls, runs_by_team: Mapping[int, Sequence[int]]) -> Inputs:
        teams = list(runs_by_team)
        closed: dict[int, list[tuple[int, date, date, int]]] = defaultdict(list)
        for run in (
            PulseRun.objects.filter(team_id__in=teams, status=RunStatus.CLOSED)
            .order_by("period_start", "pk")
            .values_list("team_id", "pk", "period_start", "period_end", "k")
        ):
            closed[run[0]].append(run[1:])
        wanted = {run for runs in runs_by_team.values() for run in runs}
        previous = {
            later[0]: earlier[0]
            for runs in closed.values()
            for earlier, later in pairwise(runs)
            if later[0] in wanted
        }
        return cls(
            adopted_on=dict(Team.objects.filter(pk__in=teams).values_list("pk", "ai_adopted_on")),
            closed=closed,
            summaries={
                row["run_id"]: {name: row[name] for name in SUMMARY_COLUMNS}
                for row in RunSummary.objects.filter(run_id__in=wanted, suppressed=False).values(
                    "run_id", *SUMMARY_COLUMNS
                )
            },
            scores={
                (run, construct): Score(n, mean, sd, low, high)
                for run, construct, n, mean, sd, low, high in ConstructAggregate.objects.filter(
                    run_id__in=wanted, construct__in=PERIOD_CONSTRUCTS
                ).values_list("run_id", "construct", "n", "mean", "sd", "ci_low", "ci_high")
            },
            invited=_invited([*wanted, *previous.values()]),
            weeks=_weeks(closed, wanted),
            throughputs=_throughputs(teams),
        )


PERIOD_CONSTRUCTS = (Construct.PERCEIVED_SPEED, Construct.PSYCHOLOGICAL_SAFETY)


def _invited(run_ids: Iterable[int]) -> dict[int, set[int]]:
    people: dict[int, set[int]] = defaultdict(set)
    for run_id, user_id in Invitation.objects.filter(run_id__in=list(run_ids)).values_list(
        "run_id", "user_id"
    ):
        people[run_id].add(user_id)
    return people


def _weeks(
    closed: Mapping[int, list[tuple[int, date, date, int]]], wanted: set[int]
) -> dict[int, list[tuple[date, dict[str, Any]]]]:
    """Each team's weeks with figures that overlap the wanted periods (read as one range
    per team, from the first wanted period to the last), oldest first."""
    spans = Q()
    for team_id, runs in closed.items():
        mine = [(start, end) for run, start, end, _ in runs if run in wanted]
        if mine:
            first = min(start for start, _ in mine) - WEEK
            last = max(end for _, end in mine)
            spans |= Q(team_id=team_id, week_start__gte=first, week_start__lt=last)
    found: dict[int, list[tuple[date, dict[str, Any]]]] = defaultdict(list)
    if not spans:
        return found
    rows = TeamWeekDelivery.objects.filter(spans, suppressed=False).order_by("week_start")
    for team_id, start, metrics in rows.values_list("team_id", "week_start", "metrics"):
        found[team_id].append((start, metrics))
    return found


def _throughputs(teams: Sequence[int]) -> dict[int, list[tuple[date, float]]]:
    """Each team's weekly throughput, every week with figures, oldest first: what its
    baseline is taken from (read out of the JSON as a number by the database, so no row's
    JSON is decoded here)."""
    found: dict[int, list[tuple[date, float]]] = defaultdict(list)
    rows = (
        TeamWeekDelivery.objects.filter(team_id__in=teams, suppressed=False)
        .order_by("week_start")
        .annotate(throughput=Cast(KeyTextTransform("throughput", "metrics"), FloatField()))
        .values_list("team_id", "week_start", "throughput")
    )
    for team_id, start, throughput in rows:
        found[team_id].append((start, throughput))
    return found


def _baseline(throughputs: list[tuple[date, Any]], adopted_on: date | None) -> list[float]:
    weeks = [
        (start, {"throughput": value} if value is not None else {}) for start, value in throughputs
    ]
    return [w["throughput"] for w in baseline_weeks(weeks, adopted_on) if "throughput" in w]


TEAM_PERIOD_FIELDS = tuple(f.name for f in TeamPeriod._meta.concrete_fields if not f.primary_key)


def team_periods_fill(*, runs_by_team: Mapping[int, Sequence[int]]) -> list[tuple[int, date]]:
    """Recompute these periods of these teams whole, in one transaction, from inputs read
    a few queries for all of them; runs not closed are skipped. Returns (team, period
    start) of each period stored."""
    inputs = Inputs.read(runs_by_team)
    adapt = connection.ops.adapt_datefield_value
    rows: list[tuple[Any, ...]] = []
    made: list[tuple[int, date]] = []
    for team_id, run_ids in runs_by_team.items():
        wanted = set(run_ids)
        closed = inputs.closed.get(team_id, [])
        baseline = _baseline(inputs.throughputs.get(team_id, []), inputs.adopted_on.get(team_id))
        weeks = inputs.weeks.get(team_id, [])
        starts = [start for start, _ in weeks]
        before = None
        for run_id, period_start, period_end, k in closed:
            if run_id in wanted:
                # The weeks overlapping [period_start, period_end): period_end is exclusive.
                first = bisect_left(starts, period_start - WEEK)
                last = bisect_left(starts, period_end)
                fields = period_figures(
                    perceived=inputs.scores.get((run_id, Construct.PERCEIVED_SPEED)),
                    safety=inputs.scores.get((run_id, Construct.PSYCHOLOGICAL_SAFETY)),
                    summary=inputs.summaries.get(run_id),
                    period=[metrics for _, metrics in weeks[first:last]],
                    baseline=baseline,
                )
                fields["change_shown"] = before is not None and not churn_isolates(
                    inputs.invited[before], inputs.invited[run_id], k
                )
                fields |= {
                    "run": run_id,
                    "team": team_id,
                    "period_start": adapt(period_start),
                    "period_end": adapt(period_end),
                    "k": k,
                }
                fields["delivery"] = json.dumps(fields["delivery"])
                rows.append(tuple(fields.get(name, EMPTY.get(name)) for name in TEAM_PERIOD_FIELDS))
                made.append((team_id, period_start))
            before = run_id
    stored = [row[0] for row in rows]
    with transaction.atomic():
        TeamPeriod.objects.filter(run_id__in=stored).delete()
        rows_insert(TeamPeriod, TEAM_PERIOD_FIELDS, rows)
    return made


# What a TeamPeriod column holds when its figure is missing.
EMPTY: dict[str, Any] = {"delivery_weeks": 0, "change_shown": False}


def periods_mark(
    *,
    run_ids: Iterable[int] | None = None,
    organisation_id: int | None = None,
) -> int:
    """Flag the periods of these closed runs (or of every closed run of the organisation,
    or of all) pending, in one INSERT … ON CONFLICT DO UPDATE; returns how many."""
    runs = PulseRun.objects.filter(status=RunStatus.CLOSED)
    if run_ids is not None:
        runs = runs.filter(pk__in=list(run_ids))
    if organisation_id is not None:
        runs = runs.filter(team__organisation_id=organisation_id)
    select, params = runs.order_by().values_list("id").query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(PeriodFill._meta.db_table)
    # "WHERE true": without a WHERE, SQLite would read ON CONFLICT as the join's ON.
    sql = f"""
        INSERT INTO {table} (run_id, state, attempts, changed_at, error)
        SELECT marked.id, %s, 0, %s, '' FROM ({select}) marked WHERE true
        ON CONFLICT (run_id) DO UPDATE
        SET state = excluded.state, attempts = 0, changed_at = excluded.changed_at
    """  # noqa: S608 -- names from the models, values as parameters
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(sql, [str(PeriodFill.State.PENDING), now, *params])
        return max(cursor.rowcount, 0)


def _chunks(pending: Mapping[int, list[int]]) -> Iterable[dict[int, list[int]]]:
    """The pending periods by team, in groups of whole teams of about FILL_RUNS runs."""
    chunk: dict[int, list[int]] = {}
    for team_id in sorted(pending):
        chunk[team_id] = pending[team_id]
        if sum(map(len, chunk.values())) >= FILL_RUNS:
            yield chunk
            chunk = {}
    if chunk:
        yield chunk


def _claim(run_ids: list[int], claimable: Q) -> tuple[dict[int, list[int]], Any]:
    """Claim these runs' claimable fills; (claimed run ids by team, the claim's stamp)."""
    stamp = timezone.now()
    PeriodFill.objects.filter(claimable, run_id__in=run_ids).update(
        state=PeriodFill.State.FILLING, attempts=F("attempts") + 1, changed_at=stamp
    )
    mine = PeriodFill.objects.filter(
        run_id__in=run_ids, state=PeriodFill.State.FILLING, changed_at=stamp
    ).values_list("run__team_id", "run_id")
    claimed: dict[int, list[int]] = defaultdict(list)
    for team_id, run_id in mine:
        claimed[team_id].append(run_id)
    return claimed, stamp


def _settle(run_ids: list[int], stamp: Any, error: Exception | None) -> None:
    """Mark claimed fills done, or after a failure pending again (failed after
    MAX_ATTEMPTS) with the error. Fills marked pending again meanwhile stay pending."""
    mine = PeriodFill.objects.filter(
        run_id__in=run_ids, state=PeriodFill.State.FILLING, changed_at=stamp
    )
    now = timezone.now()
    if error is None:
        mine.update(state=PeriodFill.State.DONE, error="", changed_at=now)
        return
    message = f"{type(error).__name__}: {error}"[:2000]
    mine.filter(attempts__gte=MAX_ATTEMPTS).update(
        state=PeriodFill.State.FAILED, error=message, changed_at=now
    )
    mine.filter(attempts__lt=MAX_ATTEMPTS).update(
        state=PeriodFill.State.PENDING, error=message, changed_at=now
    )


def _fill(claimed: dict[int, list[int]], stamp: Any) -> list[tuple[int, date]]:
    """Fill the claimed periods, all teams at once; if that fails, team by team, so one
    failing team does not hold back the others."""
    try:
        made = team_periods_fill(runs_by_team=claimed)
    except Exception as error:
        if len(claimed) > 1:
            return [made for team in claimed.items() for made in _fill(dict([team]), stamp)]
        team_id, run_ids = next(iter(claimed.items()))
        logger.exception("Filling the periods of team %s failed", team_id)
        _settle(run_ids, stamp, error)
        return []
    _settle([run for runs in claimed.values() for run in runs], stamp, None)
    return made


def periods_fill_pending(*, reports_inline: bool = True) -> int:
    """Fill every pending period (and any left `filling` by a crash), whole teams of about
    FILL_RUNS periods per transaction; returns how many were filled. One failing team
    does not hold back the others; after MAX_ATTEMPTS its periods stay `failed` with the
    error until marked again.

    Then the reports that depend on the filled periods (alerts, correlations, the weeks'
    roll-ups) are refreshed: here, or — `reports_inline=False`, what the Celery tasks
    do — by a task of their own enqueued on commit, so a refresh returns once the
    periods themselves are stored.
    """
    stale = timezone.now() - STALE_FILLING
    claimable = Q(state=PeriodFill.State.PENDING) | Q(
        state=PeriodFill.State.FILLING, changed_at__lt=stale
    )
    pending: dict[int, list[int]] = defaultdict(list)
    for team_id, run_id in PeriodFill.objects.filter(claimable).values_list(
        "run__team_id", "run_id"
    ):
        pending[team_id].append(run_id)
    made: list[tuple[int, date]] = []
    for chunk in _chunks(pending):
        claimed, stamp = _claim([run for runs in chunk.values() for run in runs], claimable)
        if claimed:  # else another worker has them
            made += _fill(claimed, stamp)
    if not made:
        return 0
    teams = {team for team, _ in made}
    weeks = {week_of(start) for _, start in made}
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
    return len(made)
