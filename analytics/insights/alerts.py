"""The safety-alert stage: a drop in a team's psychological-safety index raises an alert
(the control chart is `analytics.insights.gaps.safety_chart`), and its email reaches the team's
managers once. The alert row is its own outbox: `notified` stays false until the email
went out, and a sweep sends what a lost or failed task left (at most NOTIFY_ATTEMPTS)."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from analytics.insights import gaps
from analytics.insights.models import SafetyAlert, TeamPeriod
from surveys.people.models import Membership, Role, Team

logger = logging.getLogger(__name__)


def safety_alerts_check(*, team_id: int) -> list[SafetyAlert]:
    """Raise an alert for every period of the team that the control chart flags and that
    has none yet, and return the new ones (their emails are the pipeline's to send). A
    period whose change from the one before is withheld (1 to k − 1 people joined or
    left) raises none: the alert would be that change."""
    periods = list(
        TeamPeriod.objects.filter(team_id=team_id)
        .order_by("period_start", "run_id")
        .values(
            "run_id",
            "period_start",
            "k",
            "safety",
            "safety_n",
            "safety_low",
            "safety_high",
            "safety_items",
            "change_shown",
        )
    )
    history = [
        gaps.SafetyPoint(
            p["safety"], p["safety_n"], p["safety_low"], p["safety_high"], p["safety_items"]
        )
        for p in periods
    ]
    # One k for the chart: the strictest any of the team's periods was run with.
    k = max((p["k"] for p in periods), default=0)
    created = []
    for period, point, drop in zip(periods, history, gaps.safety_chart(history, k), strict=True):
        if drop is None or not period["change_shown"]:
            continue
        alert, new = SafetyAlert.objects.get_or_create(
            run_id=period["run_id"],
            defaults={
                "team_id": team_id,
                "period_start": period["period_start"],
                "index": drop.latest,
                "index_low": point.low,
                "index_high": point.high,
                "n": point.n,
                "trailing_mean": drop.trailing_mean,
                "statistic": drop.statistic,
                "limit": drop.limit,
                "false_alarm_rate": gaps.CHART_FALSE_ALARMS,
            },
        )
        if new:
            created.append(alert)
    return created


def _managers(team: Team) -> list[str]:
    today = timezone.localdate()
    memberships = Membership.objects.filter(team=team, role=Role.MANAGER, start__lte=today)
    # `end` is exclusive (Membership): a manager whose membership ends today has left.
    memberships = memberships.exclude(end__lte=today).select_related("user")
    return sorted({m.user.email for m in memberships if m.user.email})


def safety_alerts_unsent() -> list[int]:
    """The alerts whose email has not gone out — its task was lost (the broker was away
    when the alert was raised) or gave up — while attempts remain: the beat sweep's
    work."""
    pending = SafetyAlert.objects.filter(
        notified=False, notify_attempts__lt=SafetyAlert.NOTIFY_ATTEMPTS
    ).values_list("pk", flat=True)
    return list(pending)


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
        "chart": gaps.chart_terms(),
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
