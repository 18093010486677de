"""Roll-ups up the team tree: each team's subtree pooled per ISO week, shown only where
`surveys.anonymity.tree_suppress` allows. Pooling combines the construct-score
moments (n, mean, mean of squares, computed in SQL) of every run in the subtree, small
teams' included (that is what a roll-up is for), so the decision of what to show is taken
over all of them at once, bottom-up, before anything is stored. It counts people — who
answered each run, from the invitations — not responses.

The pooled scores are released with discrete Laplace noise on their sums, drawn once per
set of answering runs and stored (`analytics.insights.noise`, `RollupRelease`): exact
pooled moments would give back the sums of a roll-up of one run (or of one run more than
another roll-up), and with them its counts."""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from analytics.insights import gaps, noise, release
from analytics.insights.aggregation.moments import construct_moments
from analytics.insights.models import RollupRelease, TeamPeriod, TeamRollup
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


def pooled_measured(periods: list[TeamPeriod]) -> gaps.RateRatio | None:
    """The teams' throughput changes pooled, each team weighing the same (weighted by
    respondents, the pooled figure beside the teams' own measured changes — shown whatever
    the survey — gave back how many answered in a hidden sub-team)."""
    return gaps.pooled_rate_ratio(
        [
            gaps.RateRatio(p.measured, p.measured_low, p.measured_high, p.measured_log_se, df)
            for p in periods
            if p.measured is not None
            and p.measured_low is not None
            and p.measured_high is not None
            and p.measured_log_se is not None
            and (df := p.measured_df) is not None
        ]
    )


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
)


def _runs_key(runs: Iterable[int]) -> str:
    return hashlib.sha256(",".join(map(str, sorted(runs))).encode()).hexdigest()


def _asked(run: PulseRun, construct: str, bank: dict[int, Question]) -> list[tuple[float, float]]:
    """The score ranges of the construct's items in the run's form, as asked (answers are
    checked against the form; the score map is the bank's, as in the moments)."""
    ranges = []
    for spec in run.form:
        question = bank.get(spec.get("question_id", 0))
        if question is None or question.construct != construct:
            continue
        a, b = release.score_map(question)
        ends = (a * spec["scale_min"] + b, a * spec["scale_max"] + b)
        ranges.append((min(ends), max(ends)))
    return ranges


@dataclass(frozen=True)
class _Pool:
    """A roll-up construct cell's pool: the runs asking the construct and those not, the
    runs whose answers it holds, and its key in the stored draws."""

    construct: str
    asking: list[PulseRun]
    others: list[PulseRun]
    answered: list[int]

    @property
    def key(self) -> tuple[str, str]:
        return self.construct, _runs_key(self.answered)

    def bounds(self, inputs: _Inputs) -> tuple[float, float]:
        ranges = [r for run in self.asking for r in _asked(run, self.construct, inputs.bank)]
        return min(low for low, _ in ranges), max(high for _, high in ranges)

    def multiplicity(self, inputs: _Inputs) -> int:
        """The most asking runs of the pool any one person was invited to."""
        invited = (inputs.invited.get(run.pk, frozenset()) for run in self.asking)
        return max(noise.runs_per_person(invited).values(), default=1)

    def draw(self, inputs: _Inputs) -> noise.NoisySums:
        parts = [inputs.moments[(pk, self.construct)] for pk in self.answered]
        n, total, squares = pooled(parts)
        return noise.noisy_sums(n, total, squares, self.bounds(inputs), self.multiplicity(inputs))


def _pools(runs: list[PulseRun], inputs: _Inputs) -> list[_Pool]:
    """The roll-up's construct pools that hold answers."""
    found = []
    for construct in ROLLUP_CONSTRUCTS:
        asking = [run for run in runs if _asked(run, construct, inputs.bank)]
        answered = [
            run.pk for run in asking if inputs.moments.get((run.pk, construct), (0, 0, 0))[0]
        ]
        if answered:
            others = [run for run in runs if run not in asking]
            found.append(_Pool(construct, asking, others, answered))
    return found


def stored_draws(
    organisation_id: int, wanted: dict[tuple[str, str], _Pool], inputs: _Inputs
) -> dict[tuple[str, str], noise.NoisySums]:
    """The stored noisy sums of these pools, drawing and storing the missing ones first.
    Two refreshes racing to draw one pool both end up with the one stored first (the
    insert ignores the conflict, then everything is read back)."""
    found = _stored(wanted)
    missing = [key for key in wanted if key not in found]
    if missing:
        made = []
        for key in missing:
            pool = wanted[key]
            sums = pool.draw(inputs)
            made.append(
                RollupRelease(
                    organisation_id=organisation_id,
                    construct=pool.construct,
                    runs_key=key[1],
                    runs=sorted(pool.answered),
                    **{field: getattr(sums, field) for field in _SUMS_FIELDS},
                )
            )
        RollupRelease.objects.bulk_create(made, ignore_conflicts=True)
        found |= _stored(missing)
    return found


_SUMS_FIELDS = ("total", "squares", "low", "high", "total_scale", "squares_scale")


def _stored(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], noise.NoisySums]:
    wanted = set(keys)
    found: dict[tuple[str, str], noise.NoisySums] = {}
    hashes = sorted({runs_key for _, runs_key in wanted})
    for start in range(0, len(hashes), 500):
        for row in RollupRelease.objects.filter(runs_key__in=hashes[start : start + 500]):
            if (row.construct, row.runs_key) in wanted:
                found[(row.construct, row.runs_key)] = noise.NoisySums(
                    **{field: getattr(row, field) for field in _SUMS_FIELDS}
                )
    return found


def survey_figures(
    row: TeamRollup,
    pools: list[_Pool],
    inputs: _Inputs,
    drawn: dict[tuple[str, str], noise.NoisySums],
) -> dict[str, Any]:
    """The roll-up's perceived speed and safety from their stored noisy sums
    (`noise.noisy_release`)."""
    fields: dict[str, Any] = {"released": True}
    names: dict[str, str] = {str(construct): name for construct, name in ROLLUP_FIGURES}
    for pool in pools:
        name = names[pool.construct]
        people = row.respondents or 0
        answers = noise.answer_bounds(
            (inputs.invited.get(run.pk, frozenset()) for run in pool.asking),
            (inputs.invited.get(run.pk, frozenset()) for run in pool.others),
            people,
        )
        figure = noise.noisy_release(drawn[pool.key], people, answers)
        if figure is None:
            continue
        fields[name], fields[f"{name}_low"], fields[f"{name}_high"] = (
            figure.mean,
            figure.low,
            figure.high,
        )
    return fields


def git_figures(
    row: TeamRollup, runs: list[PulseRun], periods: dict[int, TeamPeriod]
) -> dict[str, Any]:
    """The roll-up's throughput change (its teams weighing the same, `pooled_measured`)
    and the perception gap against its released perceived speed by MOVER; recomputed on
    every refresh, as imports move the measured change."""
    fields: dict[str, Any] = dict.fromkeys(
        ("measured", "measured_low", "measured_high", "gap", "gap_low", "gap_high")
    )
    measured = pooled_measured([periods[run.pk] for run in runs if run.pk in periods])
    if measured is None:
        return fields
    fields["measured"], fields["measured_low"], fields["measured_high"] = measured.triple
    felt_low, felt, felt_high = row.perceived_low, row.perceived, row.perceived_high
    if felt is not None and felt_low is not None and felt_high is not None:
        # Independent (answers, Git history): MOVER adds each side's distances to its
        # limits in quadrature, so the gap is never narrower than either interval.
        gap = gaps.mover_difference((felt, felt_low, felt_high), measured.triple)
        fields["gap"], fields["gap_low"], fields["gap_high"] = gap
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


def invitations_of(runs: Iterable[int]) -> tuple[dict[int, frozenset[int]], ...]:
    """Who was invited to each run, and who answered it: the participation record (never
    linked to an answer), so that k counts people, not responses, and the noise is
    scaled to who could answer, not who did."""
    invited: dict[int, set[int]] = defaultdict(set)
    people: dict[int, set[int]] = defaultdict(set)
    for run_id, user_id, used in Invitation.objects.filter(run_id__in=list(runs)).values_list(
        "run_id", "user_id", "used"
    ):
        invited[run_id].add(user_id)
        if used:
            people[run_id].add(user_id)
    return (
        {run_id: frozenset(users) for run_id, users in invited.items()},
        {run_id: frozenset(users) for run_id, users in people.items()},
    )


@dataclass(frozen=True)
class _Inputs:
    """What a week's roll-ups are computed from: the runs' team-periods, construct
    moments, who was invited to and who answered each run, and the roll-up constructs'
    questions."""

    periods: dict[int, TeamPeriod]
    moments: Moments
    people: dict[int, frozenset[int]]
    invited: dict[int, frozenset[int]]
    bank: dict[int, Question]


@dataclass(frozen=True)
class _Built:
    """A roll-up row being refreshed, the runs it pools, and whether its survey figures
    are to be made (from the stored draws)."""

    row: TeamRollup
    runs: list[PulseRun]
    needs_figures: bool


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
    built: list[_Built] = []
    for week, week_runs in by_week.items():
        if frozen[week]:
            by_id = {run.pk: run for run in week_runs}
            built += [_refigured(row, by_id) for row in frozen[week]]
            continue
        k, decision = _week_decision(week_runs, children, inputs)
        for parent in parents:
            members = [run for run in week_runs if run.team_id in subtree[parent.pk]]
            built.append(_rollup(parent, week, k, members, decision, publish=week not in waiting))
    _figure(organisation_id, built, inputs)
    rows = [item.row for item in built]
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
    moments, invitations and respondents."""
    invited, answered = invitations_of(run.pk for run in runs) if people else ({}, {})
    return _Inputs(
        periods={p.run_id: p for p in TeamPeriod.objects.filter(run__in=closed)},
        moments=run_moments([run.pk for run in scored]) if scored else {},
        people=answered,
        invited=invited,
        bank=Question.objects.filter(
            construct__in=ROLLUP_CONSTRUCTS, kind__in=(QuestionKind.SCALE, QuestionKind.PERCENT)
        ).in_bulk()
        if scored
        else {},
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
    *,
    publish: bool,
) -> _Built:
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
    return _Built(row, runs, needs_figures=shown)


def _refigured(row: TeamRollup, runs: dict[int, PulseRun]) -> _Built:
    """A published roll-up again, from the runs it was published with: its released
    survey figures as stored (a shown row without them gets them from the stored draws).
    If one of its runs is gone (its team was deleted), it is hidden for good: without it,
    the figure would move by that team."""
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
    return _Built(fresh, pooled, needs_figures=fresh.shown and not row.released)


def _figure(organisation_id: int, built: list[_Built], inputs: _Inputs) -> None:
    """Every shown roll-up's figures: survey figures from the stored draws (drawn now for
    pools never drawn before), then the measured change and gap."""
    needing = [(item, _pools(item.runs, inputs)) for item in built if item.needs_figures]
    wanted: dict[tuple[str, str], _Pool] = {}
    for _, pools in needing:
        for pool in pools:
            wanted.setdefault(pool.key, pool)
    drawn = stored_draws(organisation_id, wanted, inputs) if wanted else {}
    for item, pools in needing:
        _set(item.row, survey_figures(item.row, pools, inputs, drawn))
    for item in built:
        if item.row.shown:
            _set(item.row, git_figures(item.row, item.runs, inputs.periods))


def _set(row: TeamRollup, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(row, name, value)
