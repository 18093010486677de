"""Reports kept up to date from team-periods after every fill: safety drop alerts (emailed
once to the team's managers) and the stored correlations that pages and the API read."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import pandas as pd
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from analytics import gaps, rollups
from analytics.bulk import rows_insert
from analytics.models import CorrelationResult, SafetyAlert, TeamPeriod, TeamSnapshot
from config.celery import enqueue_on_commit
from surveys.models import Membership, Role, Team
from surveys.selectors import subtrees

logger = logging.getLogger(__name__)

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
    return frame.rename(columns={"team_id": "team"}).astype(
        dict.fromkeys([*SURVEY_FIGURES, *DELIVERY_FIGURES], "float64")
    )


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
        for x in SURVEY_FIGURES:
            for y in DELIVERY_FIGURES:
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
                    )
                    for c in gaps.correlations(rows, x, y)
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
)


def safety_alerts_check(*, team_id: int) -> list[SafetyAlert]:
    """Raise an alert for every period of the team that the drop rule flags and that has
    none yet; each new alert's email is enqueued once the transaction commits. A period
    whose change from the one before is withheld (1 to k − 1 people joined or left)
    raises none: the alert would be that change."""
    periods = list(
        TeamPeriod.objects.filter(team_id=team_id)
        .order_by("period_start", "run_id")
        .values("run_id", "period_start", "k", "safety", "safety_n", "change_shown")
    )
    history = [gaps.SafetyPoint(p["safety"], p["safety_n"]) for p in periods]
    created = []
    for position, period in enumerate(periods):
        drop = gaps.safety_drop(history[: position + 1], period["k"])
        if drop is None or not period["change_shown"]:
            continue
        alert, new = SafetyAlert.objects.get_or_create(
            run_id=period["run_id"],
            defaults={
                "team_id": team_id,
                "period_start": period["period_start"],
                "index": drop.latest,
                "trailing_mean": drop.trailing_mean,
            },
        )
        if new:
            created.append(alert)
            from analytics.tasks import safety_alert_notify_task

            enqueue_on_commit(safety_alert_notify_task, alert.pk)
    return created


def _managers(team: Team) -> list[str]:
    today = timezone.localdate()
    memberships = Membership.objects.filter(team=team, role=Role.MANAGER, start__lte=today)
    # `end` is exclusive (Membership): a manager whose membership ends today has left.
    memberships = memberships.exclude(end__lte=today).select_related("user")
    return sorted({m.user.email for m in memberships if m.user.email})


def safety_alerts_notify_pending() -> int:
    """Beat sweep: send again the alerts whose email has not gone out — its task was lost
    (the broker was away when the alert was raised) or gave up — while attempts remain.
    Returns how many were sent on their way."""
    from analytics.tasks import safety_alert_notify_task

    pending = SafetyAlert.objects.filter(
        notified=False, notify_attempts__lt=SafetyAlert.NOTIFY_ATTEMPTS
    ).values_list("pk", flat=True)
    ids = list(pending)
    for alert_id in ids:
        enqueue_on_commit(safety_alert_notify_task, alert_id)
    return len(ids)


def safety_alert_notify(*, alert_id: int) -> int:
    """Email the team's managers about the alert, once: the claim (which counts an
    attempt) is committed before the email goes out and released if sending fails, so the
    task's retry or the sweep sends it, `SafetyAlert.NOTIFY_ATTEMPTS` times at most.
    Returns how many addresses were written to."""
    claimed = SafetyAlert.objects.filter(
        pk=alert_id, notified=False, notify_attempts__lt=SafetyAlert.NOTIFY_ATTEMPTS
    ).update(notified=True, notify_attempts=F("notify_attempts") + 1)
    if not claimed:
        return 0
    alert = SafetyAlert.objects.select_related("team").get(pk=alert_id)
    recipients = _managers(alert.team)
    if not recipients:
        return 0
    context = {
        "alert": alert,
        "team": alert.team,
        "link": settings.CANDOR_BASE_URL + reverse("team-insights", args=[alert.team.slug]),
        "rule_points": gaps.DROP_POINTS,
        "rule_window": gaps.DROP_WINDOW,
    }
    message = EmailMultiAlternatives(
        subject=render_to_string("emails/safety_alert_subject.txt", context).strip(),
        body=render_to_string("emails/safety_alert.txt", context),
        to=recipients,
    )
    message.attach_alternative(render_to_string("emails/safety_alert.html", context), "text/html")
    try:
        message.send()
    except Exception:
        SafetyAlert.objects.filter(pk=alert_id).update(notified=False)
        raise
    return len(recipients)


def heatmap_refresh(*, team_ids: Iterable[int]) -> int:
    """Rebuild these teams' heatmap rows (TeamSnapshot); returns how many."""
    from analytics import insights

    teams = list(Team.objects.filter(pk__in=list(team_ids)))
    rows = insights.heatmap_compute(teams=teams)
    today = timezone.localdate()
    snapshots = [
        TeamSnapshot(
            team=row.team,
            cells=[insights.cell_document(cell) for cell in row.cells],
            respondents=row.latest.respondents if row.latest else None,
            gap=row.latest.gap if row.latest else None,
            trust_gap=row.latest.trust_gap if row.latest else None,
            trust_gap_n=row.latest.trust_gap_n if row.latest else None,
            has_period=row.latest is not None,
            refreshed_on=today,
        )
        for row in rows
    ]
    with transaction.atomic():
        TeamSnapshot.objects.filter(team__in=teams).delete()
        TeamSnapshot.objects.bulk_create(snapshots, batch_size=500)
    return len(snapshots)


def reports_refresh(*, team_ids: Iterable[int], weeks: Iterable[date] | None = None) -> None:
    """After periods were filled: alerts for those teams, correlations for their
    organisations, roll-ups for those weeks (every week when None)."""
    ids = set(team_ids)
    for team_id in ids:
        safety_alerts_check(team_id=team_id)
    heatmap_refresh(team_ids=ids)
    organisations = Team.objects.filter(pk__in=ids).values_list("organisation_id", flat=True)
    chosen = None if weeks is None else set(weeks)
    for organisation_id in set(organisations):
        correlations_refresh(organisation_id=organisation_id)
        rollups.rollups_refresh(organisation_id=organisation_id, weeks=chosen)
