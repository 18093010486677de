"""The correlations stage: survey figures against delivery metrics over team-periods,
organisation-wide and per team subtree, stored for pages and the API to read (the maths
is `analytics.insights.gaps.correlations`). Correlation, labelled as such."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from django.db import transaction
from scipy import stats

from analytics.bulk import rows_insert
from analytics.insights import gaps
from analytics.insights.models import CorrelationResult, TeamPeriod
from surveys.people.models import Team
from surveys.people.selectors import subtrees
from surveys.pulses.schedule import week_of

# Survey figures (x) and delivery metrics (y) that correlations pair up, with labels.
SURVEY_FIGURES = {
    "perceived": "Perceived speed change (%)",
    "safety": "Psychological safety (0–100)",
    "ai_trust_share": "Trusting AI output (%)",
}


DELIVERY_FIGURES = {
    "review_median_h": "Review time (hours, median)",
    "pr_size_median": "PR size (lines, median)",
    "change_failure_rate": "Change failure rate",
    "cycle_median_h": "PR cycle time (hours, median)",
    "throughput": "Throughput (per person-week)",
}


PERIOD_COLUMNS = ["team_id", "period_start", *SURVEY_FIGURES]


def team_periods_frame(organisation_id: int) -> pd.DataFrame:
    """The organisation's team-period rows, survey figures and delivery metrics as columns."""
    rows = TeamPeriod.objects.filter(team__organisation_id=organisation_id).values(
        *PERIOD_COLUMNS, "delivery"
    )
    records = [
        {column: row[column] for column in PERIOD_COLUMNS}
        | {metric: row["delivery"].get(metric) for metric in DELIVERY_FIGURES}
        for row in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=[*PERIOD_COLUMNS, *DELIVERY_FIGURES])
    frame["period"] = [week_of(start) for start in frame["period_start"]]
    return frame.rename(columns={"team_id": "team"}).astype(
        dict.fromkeys([*SURVEY_FIGURES, *DELIVERY_FIGURES], "float64")
    )


def q_values(p_values: list[float]) -> list[float]:
    """Benjamini–Hochberg adjusted p-values (q), over one scope's coefficients."""
    if not p_values:
        return []
    return [float(q) for q in stats.false_discovery_control(np.asarray(p_values), method="bh")]


def correlations_refresh(*, organisation_id: int) -> int:
    """Recompute the organisation's coefficients, organisation-wide and per team subtree;
    returns how many were stored."""
    parents = dict(
        Team.objects.filter(organisation_id=organisation_id).values_list("pk", "parent_id")
    )
    team_ids = list(parents)
    frame = team_periods_frame(organisation_id)
    by_team = dict(iter(frame.groupby("team")))  # not dict(groupby): it has a .keys
    scopes: list[tuple[int | None, set[int]]] = [(None, set(team_ids))]
    scopes += list(subtrees(parents).items())
    found = []
    for scope, ids in scopes:
        parts = [by_team[team] for team in ids if team in by_team]
        if not parts:
            continue
        rows = parts[0] if len(parts) == 1 else pd.concat(parts)
        scoped = [
            (x, y, c)
            for x in SURVEY_FIGURES
            for y in DELIVERY_FIGURES
            for c in gaps.correlations(rows, x, y)
        ]
        # One family per (variant, method): pooled p-values treat team-periods as
        # independent and the four variants are near-copies of each pair, so they are not
        # pooled into one family.
        qs = [math.nan] * len(scoped)
        for family in {(c.variant, c.method) for _, _, c in scoped}:
            members = [i for i, (_, _, c) in enumerate(scoped) if (c.variant, c.method) == family]
            for i, q in zip(members, q_values([scoped[i][2].p for i in members]), strict=True):
                qs[i] = q
        found += [
            (
                organisation_id,
                scope,
                x,
                y,
                c.method,
                c.variant,
                c.n,
                c.teams,
                c.r,
                c.low,
                c.high,
                c.p,
                q,
            )
            for (x, y, c), q in zip(scoped, qs, strict=True)
        ]
    with transaction.atomic():
        CorrelationResult.objects.filter(organisation_id=organisation_id).delete()
        rows_insert(CorrelationResult, CORRELATION_FIELDS, found)
    return len(found)


CORRELATION_FIELDS = (
    "organisation",
    "scope_team",
    "x",
    "y",
    "method",
    "variant",
    "n",
    "teams",
    "r",
    "low",
    "high",
    "p",
    "q",
)
