"""Reads of the delivery figures for pages and the API: team-week rows only, never a
commit or a pull request; and the organisation's Git identities as names to mask in retro
cards (`contributor_names`, registered with `surveys.people.names` in analytics/apps.py)."""

from __future__ import annotations

from analytics.delivery.models import Contributor, TeamWeekDelivery
from surveys.people.models import Team
from surveys.people.names import email_name


def team_delivery_weeks(*, team: Team) -> list[TeamWeekDelivery]:
    """The team's delivery summary rows, oldest week first (one query)."""
    return list(TeamWeekDelivery.objects.filter(team=team).order_by("week_start"))


# What Git writes for an identity nobody configured: no one is recognised by it.
PLACEHOLDER_NAMES = frozenset({"your name", "root", "unknown", "user", "admin", "ubuntu", "none"})


def contributor_names(organisation_id: int) -> list[str]:
    """Every name the organisation's people go by in Git: author names, the part of their
    emails before the @ and GitHub logins; bots' excluded (Copilot is no colleague)."""
    names: list[str] = []
    identities = Contributor.objects.filter(organisation_id=organisation_id, is_bot=False)
    for name, email, login in identities.values_list("name", "email", "github_login"):
        for part in (name, email_name(email), login):
            if part.strip() and part.casefold() not in PLACEHOLDER_NAMES:
                names.append(part)
    return names
