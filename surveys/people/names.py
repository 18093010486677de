"""Every name by which someone in an organisation could be recognised, for masking card
texts (`surveys/retros/scrub.py` does the masking, purely).

The people of an organisation are everyone who has been on one of its teams: their first,
last and full names, usernames and the part of their email before the @. Other apps add
names that `surveys` cannot see by registering a *name source* — a function from an
organisation id to names — in their AppConfig.ready: `analytics` adds the Git identities
(author names, email local parts, GitHub logins), since `surveys` never imports it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Q

from surveys.people.models import Nickname, Team

NameSource = Callable[[int], Iterable[str]]

_name_sources: dict[str, NameSource] = {}


def name_source_register(uid: str, source: NameSource) -> None:
    """Add `source` to the names of every organisation; registering a `uid` again replaces
    its source (AppConfig.ready may run more than once)."""
    _name_sources[uid] = source


def name_source_unregister(uid: str) -> None:
    _name_sources.pop(uid, None)


def email_name(email: str) -> str:
    """The part of an email address that names its owner: before the @ and any +tag, or
    the login in GitHub's no-reply addresses (12345+login@users.noreply.github.com)."""
    local, _, domain = email.partition("@")
    if domain.lower() == "users.noreply.github.com":
        return local.rpartition("+")[2]
    return local.partition("+")[0]


@dataclass(frozen=True)
class NameBook:
    """What masking needs for one team's cards."""

    names: list[str]  # everyone in the organisation, under every name they go by
    nicknames: dict[str, list[str]]  # name → its nicknames, the organisation's and global
    initials_of: list[str]  # the full names of the team's people, whose initials are masked


def people_names(*, organisation_id: int) -> list[str]:
    """Every name of everyone who has been on one of the organisation's teams, and every
    name the registered name sources give for it."""
    people = (
        get_user_model()
        .objects.filter(memberships__team__organisation_id=organisation_id)
        .distinct()
        .values_list("first_name", "last_name", "username", "email")
    )
    names: list[str] = []
    for first, last, username, email in people:
        names += [first, last, f"{first} {last}", username, email_name(email)]
    for source in list(_name_sources.values()):
        names += source(organisation_id)
    return [name for name in names if name and name.strip()]


def nicknames_of(*, organisation_id: int) -> dict[str, list[str]]:
    """Name → nicknames, from the rows for every organisation and the organisation's own."""
    found: dict[str, list[str]] = {}
    rows = Nickname.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id=organisation_id)
    ).order_by("pk")
    for row in rows:
        found.setdefault(row.name, []).extend(row.nickname_list())
    return found


def team_initials_of(*, team_id: int) -> list[str]:
    """The full names of everyone who has been on the team."""
    people = (
        get_user_model()
        .objects.filter(memberships__team_id=team_id)
        .distinct()
        .values_list("first_name", "last_name")
    )
    return [f"{first} {last}" for first, last in people if first.strip() and last.strip()]


def team_name_book(*, team: Team) -> NameBook:
    """The names to mask in the team's cards: the whole organisation's, with nicknames,
    and the initials of the team's own people."""
    return NameBook(
        names=people_names(organisation_id=team.organisation_id),
        nicknames=nicknames_of(organisation_id=team.organisation_id),
        initials_of=team_initials_of(team_id=team.pk),
    )
