"""Reads about retros: who may run them, sessions, the prompt library and the heatmap.
The board and the card exports publish as they read, so they live in
surveys/retros/board.py.

Running a team's retros (creating sessions, seeing the board, exporting) is for the
team's facilitators, the managers who see the team (their own teams and every team
below), the organisation's admins and superusers. Engineers write cards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from surveys.models import Role, Team
from surveys.retros.learning import HEATMAP_SPRINTS, Counts, Heatmap, Sprint, heatmap_build
from surveys.retros.models import (
    RetroInvitation,
    RetroPrompt,
    RetroPromptSet,
    RetroSession,
    RetroStatus,
    RetroTally,
)
from surveys.selectors import AnyUser, memberships_active, team_ids_visible_to, team_subtree_ids


def team_ids_runnable_by(*, user: AnyUser) -> set[int]:
    """Teams whose retros the person may run."""
    if not user.is_authenticated:
        return set()
    if getattr(user, "is_superuser", False):
        return set(Team.objects.values_list("pk", flat=True))
    facilitated: set[int] = set()
    managed: set[int] = set()
    admin_orgs: set[int] = set()
    for team_id, role, organisation_id in memberships_active(user=user).values_list(
        "team_id", "role", "team__organisation_id"
    ):
        if role == Role.FACILITATOR:
            facilitated.add(team_id)
        elif role == Role.MANAGER:
            managed.add(team_id)
        elif role == Role.ADMIN:
            admin_orgs.add(organisation_id)
    runnable = facilitated | team_subtree_ids(roots=managed)
    runnable |= set(
        Team.objects.filter(organisation_id__in=admin_orgs).values_list("pk", flat=True)
    )
    return runnable


def team_get_runnable(*, user: AnyUser, slug: str) -> Team:
    """The team if the person may run its retros; Http404 if they cannot see it at all,
    PermissionDenied if they see it but do not run its retros."""
    team = get_object_or_404(Team, pk__in=team_ids_visible_to(user=user), slug=slug)
    if team.pk not in team_ids_runnable_by(user=user):
        raise PermissionDenied("Only the team's facilitators, managers and admins run retros.")
    return team


def retro_session_get_runnable(*, user: AnyUser, session_id: int) -> RetroSession:
    """A session the person may run; Http404 or PermissionDenied as `team_get_runnable`."""
    session = get_object_or_404(
        RetroSession.objects.select_related("team"),
        pk=session_id,
        team_id__in=team_ids_visible_to(user=user),
    )
    if session.team_id not in team_ids_runnable_by(user=user):
        raise PermissionDenied("Only the team's facilitators, managers and admins run retros.")
    return session


def retro_sessions_with_counts(*, team_ids: Iterable[int]) -> QuerySet[RetroSession]:
    """Sessions of the teams, newest sprint first, each with `submissions` (one query)."""
    return (
        RetroSession.objects.filter(team_id__in=list(team_ids))
        .select_related("team")
        .annotate(submissions=Count("responses"))
        .order_by("-sprint_start", "-pk")
    )


def retro_sessions_sending_due(*, now: datetime) -> list[int]:
    """Open sessions whose links are still owed (their sending task was lost)."""
    owed = RetroSession.objects.filter(
        status=RetroStatus.OPEN, invitations_pending=True, closes_at__gt=now
    )
    return list(owed.values_list("pk", flat=True))


def retro_invitations_open_for(*, user: AnyUser) -> QuerySet[RetroInvitation]:
    """Retros the person can still write cards for, logged in."""
    now = timezone.now()
    return RetroInvitation.objects.filter(
        user_id=user.pk or 0,
        used=False,
        session__status=RetroStatus.OPEN,
        session__opens_at__lte=now,
        session__closes_at__gt=now,
    ).select_related("session__team")


def retro_prompts_for(*, organisation_ids: Iterable[int]) -> QuerySet[RetroPrompt]:
    """The built-in prompts and the organisations' own, built-ins first."""
    return RetroPrompt.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id__in=list(organisation_ids)), active=True
    )


def retro_prompt_sets_for(*, organisation_ids: Iterable[int]) -> QuerySet[RetroPromptSet]:
    return RetroPromptSet.objects.filter(
        organisation_id__in=list(organisation_ids)
    ).prefetch_related("items")


def organisation_ids_of(*, user: AnyUser) -> set[int]:
    return set(memberships_active(user=user).values_list("team__organisation_id", flat=True))


def team_member_names(*, team_id: int) -> list[str]:
    """Every name by which a present or past member of the team could be recognised: first,
    last and full name, username and the part of the email before the @."""
    names: list[str] = []
    people = get_user_model().objects.filter(memberships__team_id=team_id).distinct()
    for first, last, username, email in people.values_list(
        "first_name", "last_name", "username", "email"
    ):
        names += [first, last, f"{first} {last}", username, email.split("@")[0]]
    return [name for name in names if name.strip()]


def retro_heatmap(*, team: Team) -> Heatmap:
    """The team's latest closed sessions (oldest first) against the task categories, from
    the stored tallies: two queries whatever the number of sessions."""
    sessions = list(
        retro_sessions_with_counts(team_ids=[team.pk]).filter(status=RetroStatus.CLOSED)[
            :HEATMAP_SPRINTS
        ]
    )
    sessions.reverse()
    column = {session.pk: index for index, session in enumerate(sessions)}
    tallies = {
        (column[tally.session_id], tally.category): Counts(
            people=tally.people, helped=tally.helped, hurt=tally.hurt, chose_not=tally.chose_not
        )
        for tally in RetroTally.objects.filter(session_id__in=column)
    }
    sprints = [
        Sprint(
            label=session.label,
            sprint_start=session.sprint_start,
            submissions=session.submissions,  # type: ignore[attr-defined]
            k=session.k,
        )
        for session in sessions
    ]
    return heatmap_build(sprints, tallies)
