"""Reads about retros: sessions, the prompt library, the sessions a person may run or write
for, and the heatmap. The board and the card exports publish as they read, so they live
in surveys/retros/board.py; who may run a team's retros is decided in
surveys/people/access.py."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from surveys.links.selectors import invitations_open
from surveys.people.access import runnable_get
from surveys.people.models import Team
from surveys.people.selectors import AnyUser
from surveys.retros.learning import HEATMAP_SPRINTS, Counts, Heatmap, Sprint, heatmap_build
from surveys.retros.models import (
    RetroInvitation,
    RetroPrompt,
    RetroPromptSet,
    RetroResponse,
    RetroSession,
    RetroStatus,
    RetroTally,
)
from surveys.retros.participation import Participation, participation


def retro_session_get_runnable(*, user: AnyUser, session_id: int) -> RetroSession:
    """A session the person may run; Http404 if they cannot see its team, PermissionDenied
    if they see it but do not run its retros."""
    return runnable_get(RetroSession.objects.select_related("team"), user=user, pk=session_id)


def retro_invitations_open_for(*, user: AnyUser) -> QuerySet[RetroInvitation]:
    """Retros the person can still write cards for, logged in."""
    return invitations_open(
        RetroInvitation.objects.all(), user=user, window="session", open_status=RetroStatus.OPEN
    )


def retro_sessions_with_counts(*, team_ids: Iterable[int]) -> QuerySet[RetroSession]:
    """Sessions of the teams, newest sprint first, each with `submissions` (one query)."""
    return (
        RetroSession.objects.filter(team_id__in=list(team_ids))
        .select_related("team")
        .annotate(submissions=Count("responses", distinct=True) + Count("sealed", distinct=True))
        .order_by("-sprint_start", "-pk")
    )


def _per_session(rows: QuerySet) -> Coalesce:
    """How many of these rows belong to the outer session (a subquery; 0 for none)."""
    counted = rows.filter(session=OuterRef("pk")).order_by().values("session")
    return Coalesce(
        Subquery(counted.annotate(n=Count("pk")).values("n"), output_field=IntegerField()), 0
    )


def retro_sessions_listed(*, team_ids: Iterable[int]) -> QuerySet[RetroSession]:
    """`retro_sessions_with_counts`, each also with `published` (people whose cards are
    published) and `invited`: what `retro_participation` says of it (one query)."""
    return retro_sessions_with_counts(team_ids=team_ids).annotate(
        published=_per_session(RetroResponse.objects.filter(batch__isnull=False)),
        invited=_per_session(RetroInvitation.objects.all()),
    )


def retro_session_listed(*, session_id: int) -> RetroSession:
    """One session as `retro_sessions_listed` gives it."""
    team_id = RetroSession.objects.values_list("team_id", flat=True).get(pk=session_id)
    return retro_sessions_listed(team_ids=[team_id]).prefetch_related("prompts").get(pk=session_id)


def retro_participation(session: RetroSession) -> Participation:
    """What may be said of who took part in a session from `retro_sessions_listed`."""
    return participation(
        written=session.submissions,  # type: ignore[attr-defined]
        published=session.published,  # type: ignore[attr-defined]
        invited=session.invited,  # type: ignore[attr-defined]
        k=session.k,
    )


def retro_sessions_sending_due(*, now: datetime) -> list[int]:
    """Open sessions whose links are still owed (their sending task was lost)."""
    owed = RetroSession.objects.filter(
        status=RetroStatus.OPEN, invitations_pending=True, closes_at__gt=now
    )
    return list(owed.values_list("pk", flat=True))


def retro_prompts_for(*, organisation_ids: Iterable[int]) -> QuerySet[RetroPrompt]:
    """The built-in prompts and the organisations' own, built-ins first."""
    return RetroPrompt.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id__in=list(organisation_ids)), active=True
    )


def retro_prompt_sets_for(*, organisation_ids: Iterable[int]) -> QuerySet[RetroPromptSet]:
    return RetroPromptSet.objects.filter(
        organisation_id__in=list(organisation_ids)
    ).prefetch_related("items")


def retro_heatmap(*, team: Team) -> Heatmap:
    """The team's latest closed sessions (oldest first) against the task categories, from
    the stored tallies: two queries whatever the number of sessions."""
    sessions = list(
        retro_sessions_listed(team_ids=[team.pk]).filter(status=RetroStatus.CLOSED)[
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
            people=retro_participation(session).people,
        )
        for session in sessions
    ]
    return heatmap_build(sprints, tallies)
