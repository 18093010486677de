"""Reads of the delivery figures for pages and the API: team-week rows only, never a
commit or a pull request."""

from __future__ import annotations

from analytics.delivery.models import TeamWeekDelivery
from surveys.people.models import Team


def team_delivery_weeks(*, team: Team) -> list[TeamWeekDelivery]:
    """The team's delivery summary rows, oldest week first (one query)."""
    return list(TeamWeekDelivery.objects.filter(team=team).order_by("week_start"))
