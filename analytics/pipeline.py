"""What happens after a pulse run closes, after an import, and on the sweeps: the order of
the refresh work, in one place.

    a run closes ──→ aggregates ──→ team-periods ──→ reports
    an import ends ─→ delivery weeks ──→ team-periods ──→ reports
    every minute: runs still flagged stale ──→ team-periods ──→ reports
    every ten minutes: alert emails still owed
    nightly: every run's aggregates ──→ every team-period ──→ reports, inline

    reports = REPORTS, in order: safety alerts (then their emails), the heatmap rows,
              correlations, the weeks' roll-ups

Each step is a stage of its own module (`analytics.insights.aggregates`,
`.team_periods`, `.alerts`, `.heatmap`, `.correlations`, `.rollups`,
`analytics.delivery.refresh`); stages never import each other, this module or the tasks.
This is the only place that decides what runs now and what is left to a Celery task:
tasks are enqueued by name (the adapters in analytics/tasks.py bind the names below), so
each step a task takes over commits before the next is sent. Every step is idempotent
and leaves an outbox behind it (a stale flag, a pending fill, an unsent alert), so a lost
task costs freshness until the next sweep, never correctness.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from analytics.delivery import refresh as delivery
from analytics.insights import aggregates, alerts, correlations, heatmap, rollups
from analytics.insights.team_periods import state as team_periods
from config.celery import enqueue_on_commit
from surveys.people.models import Team
from surveys.pulses.schedule import week_of

# Task names, kept from before the app's split so queued messages and beat entries stay
# valid (some still say "surveys.tasks").
AGGREGATES_REFRESH = "surveys.tasks.aggregates_refresh"
AGGREGATES_REFRESH_STALE = "surveys.tasks.aggregates_refresh_stale"
AGGREGATES_REFRESH_ALL = "surveys.tasks.aggregates_refresh_all"
DELIVERY_REFRESH = "analytics.tasks.delivery_metrics_refresh"
REPORTS_REFRESH = "analytics.tasks.reports_refresh"
SAFETY_ALERT_NOTIFY = "analytics.tasks.safety_alert_notify"
SAFETY_ALERTS_NOTIFY_PENDING = "analytics.tasks.safety_alerts_notify_pending"


def periods_due(run_ids: list[int]) -> None:
    """Inside the transaction that stores a batch's aggregates: their periods are due."""
    team_periods.periods_mark(run_ids=run_ids)


# --- a run closes ---------------------------------------------------------------------------


def on_run_closed(sender: Any, *, run_id: int, **kwargs: Any) -> None:
    """Receiver of `surveys.pulses.signals.run_closed` (connected in analytics/apps.py),
    in the close's transaction: the run's refresh is enqueued once it commits. Were the
    task lost, the close's `aggregates_stale` flag brings the run to the minute sweep."""
    enqueue_on_commit(AGGREGATES_REFRESH, run_id)


def run_refresh(*, run_id: int) -> None:
    """A closed run's aggregates, then its team-period; the reports are enqueued."""
    aggregates.run_aggregates_refresh(run_id=run_id, within=periods_due)
    periods_refresh(reports_inline=False)


def stale_runs_refresh() -> int:
    """The minute sweep: every run still flagged stale, then every pending team-period
    (including any a crashed fill left behind); the reports are enqueued. Returns how many
    runs were refreshed. A failing run stays flagged for the next sweep."""
    refreshed = aggregates.stale_runs_refresh(within=periods_due)
    periods_refresh(reports_inline=False)
    return refreshed


def everything_refresh() -> int:
    """The nightly recompute: every closed run's aggregates, every team-period, every
    report, inline. Returns how many runs were recomputed."""
    refreshed = aggregates.all_runs_refresh(within=periods_due)
    team_periods.periods_mark()
    periods_refresh(reports_inline=True)
    return refreshed


def on_design_changed(sender: Any, *, organisation_id: int, **kwargs: Any) -> None:
    """Receiver of `surveys.people.signals.design_changed`: every team-period of the
    organisation is due (the minute sweep fills them and refreshes the reports)."""
    team_periods.periods_mark(organisation_id=organisation_id)


# --- an import ends -------------------------------------------------------------------------


def on_import_done(*, organisation_id: int) -> None:
    """After a repository import or pull-request sync committed: the organisation's
    delivery weeks and everything they feed, by a task."""
    enqueue_on_commit(DELIVERY_REFRESH, organisation_id)


def delivery_refresh(*, organisation_id: int, reports_inline: bool = False) -> int:
    """The organisation's delivery weeks, then every team-period of it, then the reports
    (enqueued, or inline for the CLI and the demo). Returns how many team-weeks were
    written."""
    weeks = delivery.delivery_metrics_refresh(organisation_id=organisation_id)
    team_periods.periods_mark(organisation_id=organisation_id)
    periods_refresh(reports_inline=reports_inline)
    return weeks


def organisation_refresh(*, organisation_id: int) -> None:
    """Everything of one organisation, inline: its closed runs' aggregates, its delivery
    weeks, its team-periods and the reports (the demo, after seeding)."""
    run_ids = aggregates.closed_run_ids(organisation_id=organisation_id)
    aggregates.runs_aggregate(run_ids, within=periods_due)
    delivery_refresh(organisation_id=organisation_id, reports_inline=True)


# --- team-periods, then the reports ---------------------------------------------------------


def periods_refresh(*, reports_inline: bool) -> int:
    """Fill every pending team-period, then refresh the reports that depend on the ones
    filled: here, or by a task of their own enqueued on commit, so a refresh returns once
    the periods themselves are stored. Returns how many periods were filled."""
    made = team_periods.periods_fill_pending()
    if not made:
        return 0
    teams = sorted({team for team, _ in made})
    weeks = sorted({week_of(start) for _, start in made})
    if reports_inline:
        reports_refresh(team_ids=teams, weeks=weeks)
    else:
        enqueue_on_commit(REPORTS_REFRESH, teams, [week.isoformat() for week in weeks])
    return len(made)


def _alerts(team_ids: set[int], organisation_ids: set[int], weeks: set[date] | None) -> None:
    for team_id in team_ids:
        for alert in alerts.safety_alerts_check(team_id=team_id):
            enqueue_on_commit(SAFETY_ALERT_NOTIFY, alert.pk)


def _heatmap(team_ids: set[int], organisation_ids: set[int], weeks: set[date] | None) -> None:
    heatmap.heatmap_refresh(team_ids=team_ids)


def _correlations(team_ids: set[int], organisation_ids: set[int], weeks: set[date] | None) -> None:
    for organisation_id in organisation_ids:
        correlations.correlations_refresh(organisation_id=organisation_id)


def _rollups(team_ids: set[int], organisation_ids: set[int], weeks: set[date] | None) -> None:
    for organisation_id in organisation_ids:
        rollups.rollups_refresh(organisation_id=organisation_id, weeks=weeks)


# What is refreshed after team-periods were filled, in this order; each takes the teams
# filled, their organisations and the weeks filled (None: every week).
REPORTS: tuple[Callable[[set[int], set[int], set[date] | None], None], ...] = (
    _alerts,
    _heatmap,
    _correlations,
    _rollups,
)


def reports_refresh(*, team_ids: Iterable[int], weeks: Iterable[date] | None = None) -> None:
    """After periods were filled: alerts for those teams (each new one's email enqueued),
    their heatmap rows, correlations for their organisations, roll-ups for those weeks
    (every week when None)."""
    ids = set(team_ids)
    organisations = set(Team.objects.filter(pk__in=ids).values_list("organisation_id", flat=True))
    chosen = None if weeks is None else set(weeks)
    for step in REPORTS:
        step(ids, organisations, chosen)


# --- the alert emails -----------------------------------------------------------------------


def safety_alerts_sweep() -> int:
    """Every ten minutes: send again each alert email a lost or failed task left unsent
    (while attempts remain). Returns how many were sent on their way."""
    unsent = alerts.safety_alerts_unsent()
    for alert_id in unsent:
        enqueue_on_commit(SAFETY_ALERT_NOTIFY, alert_id)
    return len(unsent)
