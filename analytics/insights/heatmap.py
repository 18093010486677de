"""The organisation heatmap: teams × constructs, each cell the construct's latest figure
from the team's last closed pulses, with each team's latest perception and trust gaps.

A stage and its read: `heatmap_refresh` computes one row per team into `TeamSnapshot`
(after every fill, through the pipeline); pages and the API read those rows only
(`heatmap`, `heatmap_document`), so a page of 500 teams is one query. Every cell comes from
summary rows already free of anything under k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from analytics.insights.models import ConstructAggregate, RunSummary, TeamPeriod, TeamSnapshot
from surveys.people.models import Team
from surveys.pulses.models import Construct, RunStatus

# How many closed runs back the heatmap looks for a construct (the rotation covers the
# whole bank within four runs).
HEATMAP_RUNS = 4


# ... and no further back than this, so the page reads a bounded number of rows however
# long the history (four monthly or four-week-sprint pulses fit).
HEATMAP_WINDOW = timedelta(weeks=20)


HEATMAP_CONSTRUCTS = [
    Construct.PSYCHOLOGICAL_SAFETY,
    Construct.PERCEIVED_SPEED,
    Construct.AI_USAGE,
    Construct.AI_TRUST,
    Construct.SATISFACTION,
    Construct.REVIEW_BURDEN,
    Construct.FEEDBACK_LOOPS,
    Construct.COGNITIVE_LOAD,
    Construct.FLOW,
]


@dataclass(frozen=True)
class Cell:
    """One heatmap cell: a value with its n, or why there is none."""

    construct: str
    label: str
    unit: str = ""
    mean: float | None = None
    low: float | None = None
    high: float | None = None
    n: int | None = None
    state: str = "shown"  # shown | suppressed | not-asked | no-pulse
    period_start: Any = None

    @property
    def shade(self) -> int:
        """0–4 for the cell's colour: the value's position on its scale."""
        if self.mean is None:
            return 0
        if self.unit == "percent":
            return max(0, min(4, int((self.mean + 50) / 150 * 5)))
        return max(0, min(4, int(self.mean / 20.01)))


@dataclass(frozen=True)
class Latest:
    """The latest team-period's headline figures, as the heatmap shows them."""

    respondents: int | None
    gap: float | None
    trust_gap: float | None
    trust_gap_n: int | None
    gap_low: float | None = None
    gap_high: float | None = None
    trust_gap_low: float | None = None
    trust_gap_high: float | None = None


LATEST_FIELDS = (
    "respondents",
    "gap",
    "trust_gap",
    "trust_gap_n",
    "gap_low",
    "gap_high",
    "trust_gap_low",
    "trust_gap_high",
)


@dataclass
class HeatmapRow:
    team: Team
    cells: list[Cell] = field(default_factory=list)
    latest: Latest | None = None


def heatmap(*, teams: Sequence[Team]) -> list[HeatmapRow]:
    """The heatmap rows of these teams, from their snapshots (one row each; see
    heatmap_compute for what a row holds). A team never refreshed has no cells yet."""
    labels = dict(Construct.choices)
    snapshots = {s.team_id: s for s in TeamSnapshot.objects.filter(team__in=list(teams))}
    rows = []
    for team in teams:
        snapshot = snapshots.get(team.pk)
        if snapshot is None:
            cells = [Cell(str(c), labels[c], state="no-pulse") for c in HEATMAP_CONSTRUCTS]
            rows.append(HeatmapRow(team=team, cells=cells))
            continue
        cells = [
            Cell(
                construct=c["construct"],
                label=labels[c["construct"]],
                unit=c["unit"],
                mean=c["mean"],
                low=c["low"],
                high=c["high"],
                n=c["n"],
                state=c["state"],
                period_start=date.fromisoformat(c["period_start"]) if c["period_start"] else None,
            )
            for c in snapshot.cells
        ]
        latest = (
            Latest(**{name: getattr(snapshot, name) for name in LATEST_FIELDS})
            if snapshot.has_period
            else None
        )
        rows.append(HeatmapRow(team=team, cells=cells, latest=latest))
    return rows


def heatmap_compute(*, teams: Sequence[Team]) -> list[HeatmapRow]:
    """Teams × constructs: each construct's figure from the team's latest closed run that
    asked it (within HEATMAP_RUNS and HEATMAP_WINDOW), and the latest perception and
    trust gaps. What the snapshots store; pages read the snapshots."""
    team_ids = [t.pk for t in teams]
    cutoff = timezone.localdate() - HEATMAP_WINDOW
    summaries: dict[int, list[RunSummary]] = {}
    for summary in (
        RunSummary.objects.filter(
            team_id__in=team_ids, run__status=RunStatus.CLOSED, run__period_start__gte=cutoff
        )
        .select_related("run")
        .only("run_id", "team_id", "suppressed", "run__period_start")
        .order_by("-run__period_start", "-run_id")
    ):
        if len(summaries.setdefault(summary.team_id, [])) < HEATMAP_RUNS:
            summaries[summary.team_id].append(summary)
    run_ids = [s.run_id for group in summaries.values() for s in group]
    aggregates: dict[tuple[int, str], ConstructAggregate] = {}
    wanted = ConstructAggregate.objects.filter(run_id__in=run_ids, construct__in=HEATMAP_CONSTRUCTS)
    for aggregate in wanted.only("run_id", "construct", "unit", "n", "mean", "ci_low", "ci_high"):
        aggregates[(aggregate.run_id, aggregate.construct)] = aggregate
    latest_periods: dict[int, Latest] = {}
    latest_rows = TeamPeriod.objects.filter(team_id__in=team_ids, period_start__gte=cutoff)
    latest_rows = latest_rows.only("team_id", "period_start", *LATEST_FIELDS)
    for period in latest_rows.order_by("period_start", "run_id"):
        latest_periods[period.team_id] = Latest(
            **{name: getattr(period, name) for name in LATEST_FIELDS}
        )
    rows = []
    labels = dict(Construct.choices)
    for team in teams:
        row = HeatmapRow(team=team, latest=latest_periods.get(team.pk))
        recent = summaries.get(team.pk, [])
        for construct in HEATMAP_CONSTRUCTS:
            row.cells.append(_cell(construct, labels[construct], recent, aggregates))
        rows.append(row)
    return rows


def _cell(
    construct: str,
    label: str,
    recent: list[RunSummary],
    aggregates: dict[tuple[int, str], ConstructAggregate],
) -> Cell:
    if not recent:
        return Cell(construct, label, state="no-pulse")
    if recent[0].suppressed:
        return Cell(construct, label, state="suppressed", period_start=recent[0].run.period_start)
    for summary in recent:
        if summary.suppressed:
            continue
        found = aggregates.get((summary.run_id, construct))
        if found is not None:
            return Cell(
                construct,
                label,
                unit=found.unit,
                mean=found.mean,
                low=found.ci_low,
                high=found.ci_high,
                n=found.n,
                period_start=summary.run.period_start,
            )
    return Cell(construct, label, state="not-asked")


def cell_document(cell: Cell) -> dict[str, Any]:
    return {
        "construct": cell.construct,
        "state": cell.state,
        "unit": cell.unit,
        "mean": cell.mean,
        "low": cell.low,
        "high": cell.high,
        "n": cell.n,
        "period_start": cell.period_start.isoformat() if cell.period_start else None,
    }


def heatmap_document(rows: Sequence[HeatmapRow]) -> list[dict[str, Any]]:
    """The heatmap as plain data (analytics.api.HeatmapRowOutput documents its shape): a
    serializer per cell cost more than the whole query at 500 teams."""
    return [
        {
            "team": row.team.slug,
            "name": row.team.name,
            "cells": [
                {key: value for key, value in cell_document(cell).items() if key != "unit"}
                for cell in row.cells
            ],
            "perception_gap": row.latest.gap if row.latest else None,
            "perception_gap_low": row.latest.gap_low if row.latest else None,
            "perception_gap_high": row.latest.gap_high if row.latest else None,
            "trust_gap": row.latest.trust_gap if row.latest else None,
            "trust_gap_low": row.latest.trust_gap_low if row.latest else None,
            "trust_gap_high": row.latest.trust_gap_high if row.latest else None,
            "trust_gap_n": row.latest.trust_gap_n if row.latest else None,
        }
        for row in rows
    ]


def heatmap_refresh(*, team_ids: Iterable[int]) -> int:
    """Rebuild these teams' heatmap rows (TeamSnapshot); returns how many."""
    teams = list(Team.objects.filter(pk__in=list(team_ids)))
    rows = heatmap_compute(teams=teams)
    today = timezone.localdate()
    snapshots = [
        TeamSnapshot(
            team=row.team,
            cells=[cell_document(cell) for cell in row.cells],
            **{name: getattr(row.latest, name) if row.latest else None for name in LATEST_FIELDS},
            has_period=row.latest is not None,
            refreshed_on=today,
        )
        for row in rows
    ]
    with transaction.atomic():
        TeamSnapshot.objects.filter(team__in=teams).delete()
        TeamSnapshot.objects.bulk_create(snapshots, batch_size=500)
    return len(snapshots)
