"""Roll-ups up the team tree: each team's subtree pooled per ISO week, shown only where
`surveys.anonymity.tree_suppress` allows. Pooling combines the construct-score
moments (n, mean, mean of squares, computed in SQL) of every run in the subtree, small
teams' included (that is what a roll-up is for), so the decision of what to show is taken
over all of them at once, bottom-up, before anything is stored. It counts people — who
answered each run, from the invitations — not responses.

The pooled scores are released with Laplace noise drawn once, at publication, and stored
(`release.noisy_release`): exact pooled moments would give back the sums of a roll-up of
one run (or of one run more than another roll-up), and with them its counts."""

from __future__ import annotations

import math
import secrets
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from analytics.insights import gaps, release
from analytics.insights.aggregation.moments import construct_moments
from analytics.insights.models import TeamPeriod, TeamRollup
from surveys.anonymity import Node, TreeDecision, tree_suppress
from surveys.people.models import Team
from surveys.people.selectors import subtrees
from surveys.pulses.models import (
    Construct,
    Invitation,
    PulseRun,
    Question,
    QuestionKind,
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


def pooled(parts: list[tuple[int, float, float]]) -> tuple[int, float, float]:
    """(n, Σ x, Σ x²) over the union of groups given as (n, mean, mean of squares)."""
    return (
        sum(p[0] for p in parts),
        math.fsum(p[0] * p[1] for p in parts),
        math.fsum(p[0] * p[2] for p in parts),
    )


ROLLUP_FIGURES = (
    (Construct.PERCEIVED_SPEED, "perceived"),
    (Construct.PSYCHOLOGICAL_SAFETY, "safety"),
)
SURVEY_FIELDS = (
    "released",
    *(f"{name}{end}" for _, name in ROLLUP_FIGURES for end in ("", "_low", "_high")),
    "perceived_se",
)


class Noise:
    """Standard Laplace draws for roll-up cells, one pair per (pooled runs, construct) in
    this refresh: roll-ups pooling the same runs (a parent and its only child with runs)
    show the same figures, so no one can average two draws of one sum. Drawn from the
    operating system's randomness, never from anything stored."""

    def __init__(self) -> None:
        self._rng = np.random.default_rng(secrets.randbits(128))
        self._drawn: dict[tuple[frozenset[int], str], tuple[float, float]] = {}

    def __call__(self, runs: frozenset[int], construct: str) -> tuple[float, float]:
        key = (runs, construct)
        if key not in self._drawn:
            first, second = self._rng.laplace(size=2).tolist()
            self._drawn[key] = (first, second)
        return self._drawn[key]


def score_bounds() -> dict[str, tuple[float, float]]:
    """Each roll-up construct's score range: 0–100 for scales, the percentage items'
    widest range for percentages (the noise is scaled to it)."""
    found: dict[str, tuple[float, float]] = {}
    for construct, kind, low, high in Question.objects.filter(
        construct__in=ROLLUP_CONSTRUCTS, kind__in=(QuestionKind.SCALE, QuestionKind.PERCENT)
    ).values_list("construct", "kind", "scale_min", "scale_max"):
        low, high = (0, 100) if kind == QuestionKind.SCALE else (low, high)
        before = found.get(construct, (low, high))
        found[construct] = (min(before[0], low), max(before[1], high))
    return found


def survey_figures(runs: list[PulseRun], inputs: _Inputs, noise: Noise) -> dict[str, Any]:
    """The roll-up's perceived speed and safety, released with noise
    (`release.noisy_release`), and the perceived score's standard error."""
    fields: dict[str, Any] = {"released": True}
    pooled_runs = frozenset(run.pk for run in runs)
    for construct, name in ROLLUP_FIGURES:
        parts = [inputs.moments[key] for r in runs if (key := (r.pk, construct)) in inputs.moments]
        if construct not in inputs.bounds or not parts:
            continue
        n, total, squares = pooled(parts)
        figure = release.noisy_release(
            n, total, squares, inputs.bounds[construct], noise(pooled_runs, construct)
        )
        if figure is None:
            continue
        fields[name], fields[f"{name}_low"], fields[f"{name}_high"] = (
            figure.mean,
            figure.low,
            figure.high,
        )
        if name == "perceived":
            fields["perceived_se"] = figure.se
    return fields


def git_figures(
    row: TeamRollup, runs: list[PulseRun], periods: dict[int, TeamPeriod]
) -> dict[str, Any]:
    """The roll-up's measured change (its teams weighing the same) and the perception gap
    against its released perceived speed; recomputed on every refresh, as imports move
    the measured change."""
    fields: dict[str, Any] = {"measured": None, "gap": None, "gap_low": None, "gap_high": None}
    measured = pooled_measured([periods[run.pk] for run in runs if run.pk in periods])
    if measured is None:
        return fields
    fields["measured"] = measured.value
    if row.perceived is not None and row.perceived_se is not None:
        gap = gaps.perception_gap(row.perceived, row.perceived_se, measured)
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
    """What a week's roll-ups are computed from: the runs' team-periods, construct
    moments and respondents, and the constructs' score ranges."""

    periods: dict[int, TeamPeriod]
    moments: Moments
    people: dict[int, frozenset[int]]
    bounds: dict[str, tuple[float, float]]


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
    by_week: dict[date, list[PulseRun]] = defaultdict(list)
    for run in runs:
        by_week[week_of(run.period_start)].append(run)
    # Published roll-ups keep their released survey figures (hidden ones have none): only
    # the others need moments.
    scored = [
        run
        for week, week_runs in by_week.items()
        if not frozen[week] or not all(row.released or not row.shown for row in frozen[week])
        for run in week_runs
    ]
    inputs = _inputs(closed, runs, scored if parents or frozen else [], people=bool(parents))
    waiting = weeks_waiting(organisation_id=organisation_id)
    noise = Noise()
    rows = []
    for week, week_runs in by_week.items():
        if frozen[week]:
            by_id = {run.pk: run for run in week_runs}
            rows += [_refigured(row, by_id, inputs, noise) for row in frozen[week]]
            continue
        k, decision = _week_decision(week_runs, children, inputs)
        for parent in parents:
            members = [run for run in week_runs if run.team_id in subtree[parent.pk]]
            rows.append(
                _rollup(
                    parent, week, k, members, decision, inputs, noise, publish=week not in waiting
                )
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
    closed: QuerySet[PulseRun], runs: list[PulseRun], scored: list[PulseRun], *, people: bool
) -> _Inputs:
    """The runs' team-periods and — when some roll-up needs them — their construct
    moments and respondents."""
    return _Inputs(
        periods={p.run_id: p for p in TeamPeriod.objects.filter(run__in=closed)},
        moments=run_moments([run.pk for run in scored]) if scored else {},
        people=respondents_of(run.pk for run in runs) if people else {},
        bounds=score_bounds() if scored else {},
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
    noise: Noise,
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
        _set(row, survey_figures(runs, inputs, noise))
        _set(row, git_figures(row, runs, inputs.periods))
    return row


def _set(row: TeamRollup, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(row, name, value)


def _refigured(
    row: TeamRollup, runs: dict[int, PulseRun], inputs: _Inputs, noise: Noise
) -> TeamRollup:
    """A published roll-up again, from the runs it was published with: its released
    survey figures as stored (drawn once; a row from before the noise gets its draws
    now), its measured change and gap recomputed. If one of its runs is gone (its team
    was deleted), it is hidden for good: without it, the figure would move by that team."""
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
        if row.released:
            _set(fresh, {name: getattr(row, name) for name in SURVEY_FIELDS})
        else:
            _set(fresh, survey_figures(pooled, inputs, noise))
        _set(fresh, git_figures(fresh, pooled, inputs.periods))
    return fresh
