"""Roll-ups up the team tree: each team's subtree pooled per ISO week, shown only where
`analytics.suppression.tree_suppress` allows. Pooling combines the construct-score
moments (n, mean, mean of squares, computed in SQL) of every run in
the subtree, small teams' included (that is what a roll-up is for), so the decision of
what to show is taken over all of them at once, bottom-up, before anything is stored.
It counts people — who answered each run, from the invitations — not responses."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from analytics.insights import gaps, stats
from analytics.insights.aggregation.moments import construct_moments
from analytics.insights.models import TeamPeriod, TeamRollup
from surveys.anonymity import Node, TreeDecision, tree_suppress
from surveys.people.models import Team
from surveys.people.selectors import subtrees
from surveys.pulses.models import (
    PERCENT_LIMITS,
    Construct,
    Invitation,
    PulseRun,
    Response,
    RunStatus,
)
from surveys.pulses.schedule import week_of


def _measured_se(period: TeamPeriod) -> float | None:
    """The measured change's standard error in points, from its log-scale interval."""
    if period.measured is None or period.measured_high is None:
        return None
    ratio = 1 + period.measured / 100
    if ratio <= 0:
        return None
    se_log = math.log((1 + period.measured_high / 100) / ratio) / gaps.Z
    return ratio * se_log * 100


def pooled_measured(periods: list[TeamPeriod]) -> gaps.Interval | None:
    """The teams' measured changes, each team weighing the same. (Weighted by respondents,
    the pooled figure beside the teams' own measured changes — shown whatever the survey —
    gave back how many answered in a hidden sub-team.)"""
    parts = [
        (1, p.measured, se)
        for p in periods
        if p.measured is not None and (se := _measured_se(p)) is not None
    ]
    total = sum(weight for weight, _, _ in parts)
    if not total:
        return None
    value = sum(weight * m for weight, m, _ in parts) / total
    se = math.sqrt(sum((weight * s) ** 2 for weight, _, s in parts)) / total
    return gaps.Interval(value, value - gaps.Z * se, value + gaps.Z * se, se)


Moments = dict[tuple[int, str], tuple[int, float, float]]  # (run, construct) → n, mean, mean²


ROLLUP_CONSTRUCTS = (Construct.PERCEIVED_SPEED, Construct.PSYCHOLOGICAL_SAFETY)


def run_moments(run_ids: list[int]) -> Moments:
    """Perceived-speed and safety moments of every run, scored from its answers (a shown
    run's stored aggregates hold released figures only, no SD); they stay in memory and
    feed only roll-ups that tree_suppress lets through."""
    return construct_moments(run_ids, ROLLUP_CONSTRUCTS)


def pooled(parts: list[tuple[int, float, float]]) -> stats.Estimate | None:
    """The estimate over the union of groups given as (n, mean, mean of squares)."""
    n = sum(p[0] for p in parts)
    if n < 2:
        return None
    mean = sum(p[0] * p[1] for p in parts) / n
    square = sum(p[0] * p[2] for p in parts) / n
    return stats.estimate_from_moments(n, mean, square)


def _figures(
    runs: list[PulseRun], periods: dict[int, TeamPeriod], counts: dict[int, int], moments: Moments
) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    perceived_se = None
    for construct, name, (low, high) in (
        (Construct.PERCEIVED_SPEED, "perceived", PERCENT_LIMITS),
        (Construct.PSYCHOLOGICAL_SAFETY, "safety", (0, 100)),
    ):
        parts = [moments[(run.pk, construct)] for run in runs if (run.pk, construct) in moments]
        estimate = pooled(parts)
        if estimate is None:
            continue
        estimate = stats.clipped(estimate, low, high)
        fields[name], fields[f"{name}_low"], fields[f"{name}_high"] = (
            estimate.mean,
            estimate.ci_low,
            estimate.ci_high,
        )
        if name == "perceived" and estimate.sd is not None:
            perceived_se = estimate.sd / math.sqrt(estimate.n)
    measured = pooled_measured([periods[run.pk] for run in runs if run.pk in periods])
    if measured is not None:
        fields["measured"] = measured.value
        if "perceived" in fields and perceived_se is not None:
            gap = gaps.perception_gap(fields["perceived"], perceived_se, measured)
            fields["gap"], fields["gap_low"], fields["gap_high"] = gap.value, gap.low, gap.high
    return fields


def _tree(
    team: Team, children: dict[int | None, list[Team]], own: dict[int, list[frozenset[int]]]
) -> Node:
    """The team's node for one week: who answered each of its own runs, and its children."""
    runs = own.get(team.pk, [])
    return Node(
        team.pk,
        sum(map(len, runs)),
        [_tree(child, children, own) for child in children[team.pk]],
        runs=tuple(runs),
    )


def respondents_of(runs: Iterable[int]) -> dict[int, frozenset[int]]:
    """Who answered each run: the participation record (never linked to an answer), so
    that k counts people, not responses."""
    people: dict[int, set[int]] = defaultdict(set)
    for run_id, user_id in Invitation.objects.filter(run_id__in=list(runs), used=True).values_list(
        "run_id", "user_id"
    ):
        people[run_id].add(user_id)
    return {run_id: frozenset(users) for run_id, users in people.items()}


@dataclass(frozen=True)
class _Inputs:
    """What a week's roll-ups are computed from: the runs' team-periods, response counts,
    construct moments and respondents."""

    periods: dict[int, TeamPeriod]
    counts: dict[int, int]
    moments: Moments
    people: dict[int, frozenset[int]]


def weeks_waiting(*, organisation_id: int) -> set[date]:
    """The weeks with a run of the organisation that is open, or scheduled and still able
    to open: their roll-ups are not published yet."""
    pending = PulseRun.objects.filter(team__organisation_id=organisation_id).filter(
        Q(status=RunStatus.OPEN) | Q(status=RunStatus.SCHEDULED, closes_at__gt=timezone.now())
    )
    return {week_of(start) for start in pending.values_list("period_start", flat=True)}


def rollups_refresh(*, organisation_id: int, weeks: Iterable[date] | None = None) -> int:
    """Recompute the organisation's roll-ups (teams with sub-teams) for these ISO weeks,
    or for every week with a closed run; returns how many rows were written.

    A week's roll-ups are published once, when every run of the organisation in that week
    has closed; until then each row only says it is waiting. Results that moved as runs
    closed one by one would let anyone comparing two views read the team that closed last.
    Publishing freezes what each roll-up pools (`TeamRollup.runs`) and whether it is shown:
    later refreshes recompute its figures from those runs only (an import may move the
    measured change), so no late run, no team moving in the tree and nobody joining or
    leaving ever moves a published roll-up by a few people.
    """
    teams = list(Team.objects.filter(organisation_id=organisation_id))
    children: dict[int | None, list[Team]] = defaultdict(list)
    for team in teams:
        children[team.parent_id].append(team)
    parents = [t for t in teams if children[t.pk]]
    subtree = subtrees({t.pk: t.parent_id for t in teams})
    chosen = sorted(set(weeks)) if weeks is not None else None
    closed = _closed_in(organisation_id, chosen)
    runs = list(closed.order_by("period_start", "id"))
    frozen = _published(organisation_id, chosen)
    inputs = _inputs(closed, runs, moments=bool(parents or frozen), people=bool(parents))
    by_week: dict[date, list[PulseRun]] = defaultdict(list)
    for run in runs:
        by_week[week_of(run.period_start)].append(run)
    waiting = weeks_waiting(organisation_id=organisation_id)
    rows = []
    for week, week_runs in by_week.items():
        if frozen[week]:
            by_id = {run.pk: run for run in week_runs}
            rows += [_refigured(row, by_id, inputs) for row in frozen[week]]
            continue
        k, decision = _week_decision(week_runs, children, inputs)
        for parent in parents:
            members = [run for run in week_runs if run.team_id in subtree[parent.pk]]
            rows.append(
                _rollup(parent, week, k, members, decision, inputs, publish=week not in waiting)
            )
    with transaction.atomic():
        stale = TeamRollup.objects.filter(team__organisation_id=organisation_id)
        if chosen is not None:
            stale = stale.filter(week_start__in=chosen)
        stale.delete()
        TeamRollup.objects.bulk_create(rows)
    return len(rows)


def _closed_in(organisation_id: int, weeks: list[date] | None) -> QuerySet[PulseRun]:
    """The organisation's closed runs starting in these ISO weeks (all when None)."""
    closed = PulseRun.objects.filter(team__organisation_id=organisation_id, status=RunStatus.CLOSED)
    if weeks is None:
        return closed
    in_weeks = Q()
    for week in weeks:
        in_weeks |= Q(period_start__gte=week, period_start__lt=week + timedelta(days=7))
    return closed.filter(in_weeks) if weeks else closed.none()


def _published(organisation_id: int, weeks: list[date] | None) -> dict[date, list[TeamRollup]]:
    """The roll-ups already published in these weeks (all when None), by week."""
    published = TeamRollup.objects.filter(team__organisation_id=organisation_id, runs__isnull=False)
    if weeks is not None:
        published = published.filter(week_start__in=weeks)
    frozen: dict[date, list[TeamRollup]] = defaultdict(list)
    for row in published:
        frozen[row.week_start].append(row)
    return frozen


def _inputs(
    closed: QuerySet[PulseRun], runs: list[PulseRun], *, moments: bool, people: bool
) -> _Inputs:
    """The runs' team-periods and response counts, and — when some roll-up needs them —
    their construct moments and respondents."""
    return _Inputs(
        periods={p.run_id: p for p in TeamPeriod.objects.filter(run__in=closed)},
        counts=dict(
            Response.objects.filter(run__in=closed)
            .values("run")
            .annotate(n=Count("pk"))
            .values_list("run", "n")
        ),
        moments=run_moments([run.pk for run in runs]) if moments else {},
        people=respondents_of(run.pk for run in runs) if people else {},
    )


def _week_decision(
    week_runs: list[PulseRun], children: dict[int | None, list[Team]], inputs: _Inputs
) -> tuple[int, TreeDecision]:
    """The week's k (the largest of its runs') and, over every tree of the organisation,
    what may be shown (`surveys.anonymity.tree_suppress`)."""
    own: dict[int, list[frozenset[int]]] = defaultdict(list)
    for run in week_runs:
        own[run.team_id].append(inputs.people.get(run.pk, frozenset()))
    k = max(run.k for run in week_runs)
    decision = TreeDecision()
    for root in children[None]:
        part = tree_suppress(_tree(root, children, own), k)
        for name in ("total", "own_shown", "rollup_shown", "residue"):
            getattr(decision, name).update(getattr(part, name))
    return k, decision


def _rollup(
    parent: Team,
    week: date,
    k: int,
    runs: list[PulseRun],
    decision: TreeDecision,
    inputs: _Inputs,
    *,
    publish: bool,
) -> TeamRollup:
    """A parent's roll-up of the week: published (its runs frozen) or waiting."""
    shown = publish and decision.rollup_shown.get(parent.pk, False)
    row = TeamRollup(
        team=parent,
        week_start=week,
        k=k,
        shown=shown,
        teams=len({r.team_id for r in runs}),
        runs=sorted(run.pk for run in runs) if publish else None,
    )
    if shown:
        row.respondents = decision.total[parent.pk]
        for name, value in _figures(runs, inputs.periods, inputs.counts, inputs.moments).items():
            setattr(row, name, value)
    return row


def _refigured(row: TeamRollup, runs: dict[int, PulseRun], inputs: _Inputs) -> TeamRollup:
    """A published roll-up again, from the runs it was published with. If one of them is
    gone (its team was deleted), it is hidden for good: without it, the figure would move
    by that team."""
    pooled = [runs[pk] for pk in row.runs or [] if pk in runs]
    fresh = TeamRollup(
        team_id=row.team_id,
        week_start=row.week_start,
        k=row.k,
        shown=row.shown and len(pooled) == len(row.runs or []),
        teams=row.teams,
        runs=row.runs,
    )
    if fresh.shown:
        fresh.respondents = row.respondents
        for name, value in _figures(pooled, inputs.periods, inputs.counts, inputs.moments).items():
            setattr(fresh, name, value)
    return fresh
