"""Emailing single-use links, for pulses and retros: each pending invitation is claimed
(a fresh token, an attempt counted) before its email goes out, so a link is sent at most
once however many workers race or die, and a broken address is given up on after
EMAIL_ATTEMPTS_MAX tries. The invitations are their own outbox: what is still pending is
what the beat sweeps send."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.db import models
from django.db.models import F, QuerySet

from surveys.links.errors import InvitationsNotSent
from surveys.links.models import EMAIL_ATTEMPTS_MAX
from surveys.links.tokens import token_new

logger = logging.getLogger(__name__)

InvitationT = TypeVar("InvitationT", bound=models.Model)


def link_claim(
    invitations: QuerySet[Any],
    *,
    pk: int,
    pending: Mapping[str, Any],
    claimed: Mapping[str, Any],
    hash_field: str,
) -> str | None:
    """Claim one invitation for sending and give it a fresh token; None if it is not
    `pending` any more (another worker claimed it) or its attempts are used up.

    The claim is a conditional UPDATE — `pending` → `claimed`, the token's hash in
    `hash_field`, one more attempt — so of two workers racing on one invitation exactly
    one gets a token and sends an email.
    """
    raw, hashed = token_new()
    updated = invitations.filter(pk=pk, send_attempts__lt=EMAIL_ATTEMPTS_MAX, **pending).update(
        **claimed, **{hash_field: hashed}, send_attempts=F("send_attempts") + 1
    )
    return raw if updated else None


def links_email(
    pending: QuerySet[InvitationT],
    *,
    claim: Callable[[int], str | None],
    send: Callable[[InvitationT, str], None],
    release: Callable[[int], object],
    done: Callable[[], object],
    of: str,
) -> int:
    """Claim each pending invitation (a fresh token, or None if another worker has it or
    its attempts are used up), email its link, and return how many went out.

    At most once per invitation: the claim is committed before the email goes out, so the
    one in flight when a worker dies is not sent again (its invitee still gets the
    reminder). A failed send releases its claim and the others still go out;
    InvitationsNotSent is raised at the end, so the task's retry sends only the ones that
    failed. However the call ends, `done` runs once none is pending any more (each was
    emailed or tried EMAIL_ATTEMPTS_MAX times), to clear the outbox flag.
    """
    sent, failed = 0, 0
    try:
        for invitation in pending:
            raw = claim(invitation.pk)
            if raw is None:
                continue
            try:
                send(invitation, raw)
            except Exception:
                release(invitation.pk)
                logger.warning("Invitation %s of %s could not be emailed", invitation.pk, of)
                failed += 1
                continue
            sent += 1
    finally:
        if not pending.all().exists():
            done()
    if failed:
        raise InvitationsNotSent(f"{failed} invitation(s) of {of} could not be emailed.")
    return sent
