"""Reads about people and teams: current memberships, who is invited on a day, the team
tree. Who may see what is in `surveys.people.access`; every name by which someone could be
recognised, in `surveys.people.names`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from surveys.people.models import Membership, Role, Team

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


def organisation_ids_of(*, user: AnyUser) -> set[int]:
    return set(memberships_active(user=user).values_list("team__organisation_id", flat=True))
