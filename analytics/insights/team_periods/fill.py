"""Filling team-periods: each closed pulse run's survey figures joined with the Git
metrics of the same weeks, into `TeamPeriod`, which every report reads (no aggregation in
a request). Whole teams at a time, their inputs read in a few queries for all of them;
which periods to fill, and when, is `state.py`'s."""

from __future__ import annotations

import json
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from django.db import connection, transaction
from django.db.models import FloatField, Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from analytics.bulk import rows_insert
from analytics.delivery.models import TeamWeekDelivery
from analytics.insights.models import SUMMARY_FIGURES, ConstructAggregate, RunSummary, TeamPeriod
from analytics.insights.team_periods.figures import (
    WEEK,
    Design,
    Score,
    TeamBaseline,
    Week,
    comparative_for,
    measured_for,
    period_figures,
)
from surveys.anonymity import churn_isolates
from surveys.people.models import Team
from surveys.pulses.models import Construct, Invitation, PulseRun, RunStatus


def period_fill(*, run_id: int) -> TeamPeriod | None:
    """Recompute one team-period whole; None (and nothing stored) for a run not closed."""
    team_id = PulseRun.objects.values_list("team_id", flat=True).get(pk=run_id)
    team_periods_fill(runs_by_team={team_id: [run_id]})
    return TeamPeriod.objects.filter(run_id=run_id).first()


SUMMARY_COLUMNS = ("respondents", *SUMMARY_FIGURES)  # what a period copies from its run


@dataclass(frozen=True)
class Inputs:
    """What the periods of some teams are computed from, read in a few queries."""

    designs: dict[int, Design | None]  # team → its measured change's design
    organisation_of: dict[int, int]
    adoptions: dict[int, list[tuple[date, int]]]  # organisation → (adopted on, team), sorted
    closed: dict[int, list[tuple[int, date, date, int]]]  # team → (run, start, end, k)
    summaries: dict[int, dict[str, Any]]  # shown runs only
    scores: dict[tuple[int, str], Score]
    invited: dict[int, set[int]]
    weeks: dict[int, list[tuple[date, dict[str, Any]]]]  # team → weeks with figures
    series: dict[int, list[Week]]  # team → every week's throughput, comparison teams too

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
        designs, organisation_of, adoptions = _designs(teams)
        # Comparison teams: those adopting after the end of a wanted period that is past
        # its own team's baseline (a period inside it is compared with nothing).
        ends = [
            end
            for team, runs in closed.items()
            for run, start, end, _ in runs
            if run in wanted and (design := designs.get(team)) is not None and start >= design.end
        ]
        candidates = {
            team
            for organisation in {organisation_of[t] for t in teams}
            for adopted, team in adoptions.get(organisation, [])
            if ends and adopted >= min(ends)
        }
        return cls(
            designs=designs,
            organisation_of=organisation_of,
            adoptions=adoptions,
            closed=closed,
            summaries={
                row["run_id"]: {name: row[name] for name in SUMMARY_COLUMNS}
                for row in RunSummary.objects.filter(run_id__in=wanted, suppressed=False).values(
                    "run_id", *SUMMARY_COLUMNS
                )
            },
            scores={
                (run, construct): Score(n, mean, low, high, items)
                for run, construct, n, mean, low, high, items in ConstructAggregate.objects.filter(
                    run_id__in=wanted, construct__in=PERIOD_CONSTRUCTS
                ).values_list("run_id", "construct", "n", "mean", "ci_low", "ci_high", "items")
            },
            invited=_invited([*wanted, *previous.values()]),
            weeks=_weeks(closed, wanted),
            series=_series([*teams, *candidates], _spans(designs, closed, wanted)),
        )

    def comparisons(self, team_id: int, period_end: date) -> list[list[Week]]:
        """The weeks of the organisation's other teams that had not adopted AI tools by
        the period's end (period_end is exclusive)."""
        adoptions = self.adoptions.get(self.organisation_of[team_id], [])
        later = bisect_left(adoptions, (period_end,))
        return [
            self.series[team]
            for _, team in adoptions[later:]
            if team != team_id and self.series.get(team)
        ]


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


def _designs(
    teams: Sequence[int],
) -> tuple[dict[int, Design | None], dict[int, int], dict[int, list[tuple[date, int]]]]:
    """Every team of these teams' organisations: its design, its organisation, and each
    organisation's teams with an adoption date (their own, else the organisation's)."""
    designs: dict[int, Design | None] = {}
    organisation_of: dict[int, int] = {}
    adoptions: dict[int, list[tuple[date, int]]] = defaultdict(list)
    organisations = Team.objects.filter(pk__in=teams).values("organisation_id")
    for pk, organisation, adopted, organisation_adopted, start, end in Team.objects.filter(
        organisation_id__in=organisations
    ).values_list(
        "pk",
        "organisation_id",
        "ai_adopted_on",
        "organisation__ai_adopted_on",
        "baseline_start",
        "baseline_end",
    ):
        organisation_of[pk] = organisation
        designs[pk] = Design.of(
            adopted_on=adopted,
            organisation_adopted_on=organisation_adopted,
            baseline_start=start,
            baseline_end=end,
        )
        if (adoption := adopted or organisation_adopted) is not None:
            adoptions[organisation].append((adoption, pk))
    return designs, organisation_of, {o: sorted(a) for o, a in adoptions.items()}


MAX_SPANS = 50  # more distinct baselines than this: read every week instead


def _spans(
    designs: Mapping[int, Design | None],
    closed: Mapping[int, list[tuple[int, date, date, int]]],
    wanted: set[int],
) -> Q:
    """The weeks a fill reads throughput from: every design's baseline and the span of
    the wanted periods (comparison teams are read over the same weeks)."""
    periods = [(start, end) for (_, start, end, _) in _wanted_runs(closed, wanted)]
    if not periods:
        return Q(pk__in=[])
    spans = Q(
        week_start__gte=min(start for start, _ in periods) - WEEK,
        week_start__lt=max(end for _, end in periods),
    )
    baselines = {(d.start, d.end) for d in designs.values() if d is not None}
    if len(baselines) > MAX_SPANS:
        return Q()
    for start, end in baselines:
        spans |= Q(week_start__gte=start, week_start__lt=end)
    return spans


def _wanted_runs(
    closed: Mapping[int, list[tuple[int, date, date, int]]], wanted: set[int]
) -> list[tuple[int, date, date, int]]:
    return [run for runs in closed.values() for run in runs if run[0] in wanted]


def _series(teams: Sequence[int], spans: Q) -> dict[int, list[Week]]:
    """Each team's weekly throughput count and active contributors over these spans of
    weeks, every shown week with a count, oldest first (read out of the JSON by the
    database, so no row's JSON is decoded here)."""
    found: dict[int, list[Week]] = defaultdict(list)
    rows = (
        TeamWeekDelivery.objects.filter(spans, team_id__in=teams, suppressed=False)
        .order_by("week_start")
        .annotate(
            count=Cast(KeyTextTransform("throughput_count", "metrics"), FloatField()),
            basis=KeyTextTransform("throughput_basis", "metrics"),
        )
        .values_list("team_id", "week_start", "count", "active_contributors", "basis")
    )
    for team_id, start, count, active, basis in rows:
        if count is not None and active:
            found[team_id].append(Week(start, count, float(active), basis or ""))
    return found


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
        design = inputs.designs.get(team_id)
        series = inputs.series.get(team_id, [])
        baseline = TeamBaseline.of(design, series)
        series_starts = [week.start for week in series]
        weeks = inputs.weeks.get(team_id, [])
        starts = [start for start, _ in weeks]
        before = None
        for run_id, period_start, period_end, k in closed:
            if run_id in wanted:
                # The weeks overlapping [period_start, period_end): period_end is exclusive.
                first = bisect_left(starts, period_start - WEEK)
                last = bisect_left(starts, period_end)
                counted = series[
                    bisect_left(series_starts, period_start - WEEK) : bisect_left(
                        series_starts, period_end
                    )
                ]
                measured = measured_for(design, baseline, period_start, counted)
                fields = period_figures(
                    perceived=inputs.scores.get((run_id, Construct.PERCEIVED_SPEED)),
                    safety=inputs.scores.get((run_id, Construct.PSYCHOLOGICAL_SAFETY)),
                    summary=inputs.summaries.get(run_id),
                    period=[metrics for _, metrics in weeks[first:last]],
                    measured=measured,
                    comparative=comparative_for(
                        measured,
                        baseline,
                        counted,
                        inputs.comparisons(team_id, period_end) if measured.change else [],
                    ),
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
EMPTY: dict[str, Any] = {
    "delivery_weeks": 0,
    "change_shown": False,
    "measured_reason": "",
    "measured_basis": "",
    "measured_design": "",
    "gap_against": "",
}
