"""Reads about people, teams and pulses; every visibility rule lives here.

Managers see the teams they manage and every team below them; engineers and facilitators
see their own team; admins see every team of their organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from surveys.models import Invitation, Membership, PulseRun, Question, Role, RunStatus, Team

AnyUser = AbstractBaseUser | AnonymousUser
INVITED_ROLES = (Role.ENGINEER, Role.FACILITATOR)


def memberships_active(*, user: AnyUser, day: date | None = None) -> QuerySet[Membership]:
    day = day or timezone.localdate()
    return Membership.objects.filter(user_id=user.pk or 0, start__lte=day).filter(
        Q(end__isnull=True) | Q(end__gt=day)
    )


def invitee_ids(*, team_id: int, day: date) -> QuerySet[Membership, int]:
    """Who is invited to a team's pulse run or retro opening on `day`: the engineers and
    facilitators whose membership covers that day."""
    return (
        Membership.objects.filter(team_id=team_id, role__in=INVITED_ROLES, start__lte=day)
        .filter(Q(end__isnull=True) | Q(end__gt=day))
        .values_list("user_id", flat=True)
        .distinct()
    )


def team_subtree_ids(*, roots: Iterable[int]) -> set[int]:
    """The given teams and every team below them."""
    found = set(roots)
    frontier = set(found)
    while frontier:
        frontier = (
            set(Team.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        )
        found |= frontier
    return found


def subtrees(parents: Mapping[int, int | None]) -> dict[int, set[int]]:
    """Each team's subtree (itself and every team below it), from child → parent ids."""
    subtrees: dict[int, set[int]] = {team: {team} for team in parents}
    for team in parents:
        ancestor = parents[team]
        seen = {team}
        while ancestor is not None and ancestor not in seen:
            subtrees[ancestor].add(team)
            seen.add(ancestor)
            ancestor = parents.get(ancestor)
    return subtrees


def team_ids_visible_to(*, user: AnyUser, day: date | None = None) -> set[int]:
    if not user.is_authenticated:
        return set()
    if getattr(user, "is_superuser", False):
        return set(Team.objects.values_list("pk", flat=True))
    visible: set[int] = set()
    managed: set[int] = set()
    admin_orgs: set[int] = set()
    for team_id, role, organisation_id in memberships_active(user=user, day=day).values_list(
        "team_id", "role", "team__organisation_id"
    ):
        visible.add(team_id)
        if role == Role.MANAGER:
            managed.add(team_id)
        elif role == Role.ADMIN:
            admin_orgs.add(organisation_id)
    visible |= team_subtree_ids(roots=managed)
    visible |= set(Team.objects.filter(organisation_id__in=admin_orgs).values_list("pk", flat=True))
    return visible


def teams_visible_to(*, user: AnyUser) -> QuerySet[Team]:
    return Team.objects.filter(pk__in=team_ids_visible_to(user=user)).select_related("parent")


def teams_visible_under(*, user: AnyUser, root: Team | None) -> QuerySet[Team]:
    """The teams the person may see, by name; only `root` and the teams below it when
    given (a filter that selects whole teams, each shown on its own terms)."""
    teams = teams_visible_to(user=user).order_by("name", "pk")
    if root is not None:
        teams = teams.filter(pk__in=team_subtree_ids(roots=[root.pk]))
    return teams


def team_get_visible(*, user: AnyUser, slug: str) -> Team:
    """The team if the person may see it; Http404 otherwise, so existence doesn't leak."""
    return get_object_or_404(teams_visible_to(user=user), slug=slug)


def run_get_visible(*, user: AnyUser, run_id: int) -> PulseRun:
    """An opened run of a team the person may see; Http404 otherwise."""
    return get_object_or_404(runs_visible_to(user=user), pk=run_id)


def runs_visible_to(*, user: AnyUser) -> QuerySet[PulseRun]:
    return (
        PulseRun.objects.filter(team_id__in=team_ids_visible_to(user=user))
        .exclude(status=RunStatus.SCHEDULED)
        .select_related("team")
    )


def invitations_open_for(*, user: AnyUser) -> QuerySet[Invitation]:
    """Invitations the person can still answer from 'My pulses'."""
    now = timezone.now()
    return Invitation.objects.filter(
        user_id=user.pk or 0,
        used=False,
        run__status=RunStatus.OPEN,
        run__opens_at__lte=now,
        run__closes_at__gt=now,
    ).select_related("run__team")


def pulse_runs_due(*, now: datetime) -> dict[str, list[int]]:
    """Ids of the runs to open, send invitations of, remind and close at `now`."""
    runs = PulseRun.objects.filter(pulse__active=True)
    due = {
        "open": runs.filter(status=RunStatus.SCHEDULED, opens_at__lte=now, closes_at__gt=now),
        "send": runs.filter(status=RunStatus.OPEN, invitations_pending=True, closes_at__gt=now),
        "remind": runs.filter(
            status=RunStatus.OPEN, reminders_sent=False, remind_at__lte=now, closes_at__gt=now
        ),
        "close": runs.filter(status=RunStatus.OPEN, closes_at__lte=now),
    }
    return {step: list(query.values_list("pk", flat=True)) for step, query in due.items()}


def is_org_admin(*, user: AnyUser) -> bool:
    return memberships_active(user=user).filter(role=Role.ADMIN).exists()


def questions_visible_to(*, user: AnyUser) -> QuerySet[Question]:
    """The built-in bank plus the questions of the person's organisations."""
    organisation_ids = memberships_active(user=user).values_list("team__organisation_id", flat=True)
    return Question.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id__in=organisation_ids), active=True
    )
