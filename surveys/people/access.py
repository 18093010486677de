"""Every authorisation rule of Candor, in one place. Pages, the API, exports and the CLI
ask here; nothing else decides who may see or do what.

| who | sees (results, insights, retro tallies) | runs retros (sessions, board, exports) |
|---|---|---|
| engineer, facilitator | their own teams | facilitators: their own teams |
| manager | the teams they manage and every team below | the same |
| organisation admin | every team of the organisation | the same |
| superuser (operators) | every team | every team |

Memberships count on the day asked (today by default). A team, run or session the person
may not see is a 404, so its existence does not leak; one they see but may not run is a
403. Adding to the question bank is for organisation admins (`IsOrgAdmin`). Everything
else in the API needs a login (REST_FRAMEWORK's default IsAuthenticated), except the
single-use links' twins, where the token in the path is the credential
(`surveys.links.api.LinkApiView`). Nobody, whatever their role, reads an answer or a card
next to a person: no rule here grants it, and no model links them.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request

from surveys.people.models import Role, Team
from surveys.people.selectors import AnyUser, memberships_active, team_subtree_ids

TeamOwnedT = TypeVar("TeamOwnedT", bound=models.Model)
NOT_RUNNER = "Only the team's facilitators, managers and admins run retros."


def _roles(user: AnyUser, day: date | None = None) -> tuple[set[int], dict[str, set[int]]]:
    """(the teams the person is on, and per role the teams — or, for admins, the
    organisations — they hold it in)."""
    teams: set[int] = set()
    held: dict[str, set[int]] = {Role.MANAGER: set(), Role.FACILITATOR: set(), Role.ADMIN: set()}
    for team_id, role, organisation_id in memberships_active(user=user, day=day).values_list(
        "team_id", "role", "team__organisation_id"
    ):
        teams.add(team_id)
        if role in (Role.MANAGER, Role.FACILITATOR):
            held[role].add(team_id)
        elif role == Role.ADMIN:
            held[role].add(organisation_id)
    return teams, held


def _organisations_teams(organisation_ids: set[int]) -> set[int]:
    return set(
        Team.objects.filter(organisation_id__in=organisation_ids).values_list("pk", flat=True)
    )


def team_ids_visible_to(*, user: AnyUser, day: date | None = None) -> set[int]:
    """The teams whose results the person may see."""
    if not user.is_authenticated:
        return set()
    if getattr(user, "is_superuser", False):
        return set(Team.objects.values_list("pk", flat=True))
    teams, held = _roles(user, day)
    return (
        teams | team_subtree_ids(roots=held[Role.MANAGER]) | _organisations_teams(held[Role.ADMIN])
    )


def team_ids_runnable_by(*, user: AnyUser) -> set[int]:
    """The teams whose retros the person may run."""
    if not user.is_authenticated:
        return set()
    if getattr(user, "is_superuser", False):
        return set(Team.objects.values_list("pk", flat=True))
    _, held = _roles(user)
    return (
        held[Role.FACILITATOR]
        | team_subtree_ids(roots=held[Role.MANAGER])
        | _organisations_teams(held[Role.ADMIN])
    )


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


def visible_get(objects: QuerySet[TeamOwnedT], *, user: AnyUser, pk: int) -> TeamOwnedT:
    """One of `objects` (which have a `team`) if it belongs to a team the person may see;
    Http404 otherwise."""
    return get_object_or_404(objects, pk=pk, team_id__in=team_ids_visible_to(user=user))


def team_get_runnable(*, user: AnyUser, slug: str) -> Team:
    """The team if the person may run its retros; Http404 if they cannot see it at all,
    PermissionDenied if they see it but do not run its retros."""
    team = get_object_or_404(Team, pk__in=team_ids_visible_to(user=user), slug=slug)
    if team.pk not in team_ids_runnable_by(user=user):
        raise PermissionDenied(NOT_RUNNER)
    return team


def runnable_get(objects: QuerySet[TeamOwnedT], *, user: AnyUser, pk: int) -> TeamOwnedT:
    """One of `objects` (retro sessions) of a team whose retros the person runs; Http404
    or PermissionDenied as `team_get_runnable`."""
    found = visible_get(objects, user=user, pk=pk)
    if getattr(found, "team_id", None) not in team_ids_runnable_by(user=user):
        raise PermissionDenied(NOT_RUNNER)
    return found


def is_org_admin(*, user: AnyUser) -> bool:
    """Whether the person is an admin of an organisation (adds to its question bank)."""
    return memberships_active(user=user).filter(role=Role.ADMIN).exists()


class IsOrgAdmin(IsAuthenticated):
    """Anyone logged in reads; only organisation admins add (POST). Other methods are left
    to the view, which answers 405 for them."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method != "POST":
            return super().has_permission(request, view)
        return super().has_permission(request, view) and is_org_admin(user=request.user)
