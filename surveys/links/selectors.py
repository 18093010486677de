"""Reads of single-use links, for pulses and retros: the invitation a link stands for, and
the invitations a logged-in person can still answer."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from surveys.links.errors import LinkError
from surveys.links.tokens import token_hash
from surveys.people.selectors import AnyUser

InvitationT = TypeVar("InvitationT", bound=models.Model)


def link_find(
    invitations: QuerySet[InvitationT],
    *,
    raw_token: str,
    hash_fields: Sequence[str],
    not_found: LinkError,
    used: LinkError,
) -> InvitationT:
    """The unused invitation whose stored hash (in any of `hash_fields`) is the token's;
    raises `not_found` or `used`. Whether its run or session still takes answers is the
    caller's to check."""
    hashed = token_hash(raw_token)
    matching = Q()
    for field in hash_fields:
        matching |= Q(**{field: hashed})
    invitation = invitations.filter(matching).first()
    if invitation is None:
        raise not_found
    if getattr(invitation, "used", False):
        raise used
    return invitation


def invitations_open(
    invitations: QuerySet[InvitationT], *, user: AnyUser, window: str, open_status: Any
) -> QuerySet[InvitationT]:
    """The person's unused invitations whose run or session — the foreign key `window` —
    is open and inside its answer window now."""
    now = timezone.now()
    return invitations.filter(
        user_id=user.pk or 0,
        used=False,
        **{
            f"{window}__status": open_status,
            f"{window}__opens_at__lte": now,
            f"{window}__closes_at__gt": now,
        },
    ).select_related(f"{window}__team")
