"""Publishing a retro's cards in batches of at least k people — the one way stored cards
reach a reader (docs/DESIGN.md §2.2, late answers; see `retro_board_publish`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Max, Q

from surveys.anonymity import group_shown
from surveys.retros.models import RetroCard, RetroResponse, RetroSession, RetroStatus


class PublishedCard(NamedTuple):
    prompt_id: int  # the RetroSessionPrompt's
    category: str
    effect: str
    text: str


@dataclass(frozen=True)
class RetroPublication:
    """What a session's board may show, read under the publishing lock."""

    closed: bool
    submissions: int  # people who have written cards
    published: int  # people whose cards may be shown
    cards: list[PublishedCard]  # the shared cards of the published submissions

    @property
    def held_back(self) -> int:
        """People who wrote after the last batch: shown once k of them have (never once
        the session has closed)."""
        return self.submissions - self.published


def retro_board_publish(*, session_id: int) -> RetroPublication:
    """Publish the session's unpublished submissions as its next batch if there are at
    least k of them, and return the shared cards of every published submission with the
    counts of people who wrote and who were published.

    Every reader of cards (board, print page, API, exports, CLI) comes through here. The
    exclusive lock on the session row waits for submissions in flight, for another
    publisher and for a close, so concurrent readers publish one batch and every batch
    holds at least k people: a late answer appears only with k - 1 others (docs/DESIGN.md §2.2,
    late answers). A closed session publishes nothing more; its close decided. Idempotent
    while fewer than k wait.
    """
    with transaction.atomic():
        session = RetroSession.objects.select_for_update().only("status", "k").get(pk=session_id)
        if session.status == RetroStatus.OPEN:
            batch_publish(session)
        counts = RetroResponse.objects.filter(session_id=session_id).aggregate(
            submissions=Count("pk"), published=Count("pk", filter=Q(batch__isnull=False))
        )
        cards = RetroCard.objects.filter(
            response__session_id=session_id, response__batch__isnull=False, shared=True
        ).values_list("prompt_id", "category", "effect", "text")
        return RetroPublication(
            closed=session.status == RetroStatus.CLOSED,
            submissions=counts["submissions"],
            published=counts["published"],
            cards=[PublishedCard(*card) for card in cards],
        )


def batch_publish(session: RetroSession) -> None:
    """Give the unpublished submissions the next batch number if there are at least k of
    them. The caller holds the session's row lock."""
    responses = RetroResponse.objects.filter(session_id=session.pk)
    state = responses.aggregate(
        waiting=Count("pk", filter=Q(batch__isnull=True)), last=Max("batch")
    )
    if group_shown(state["waiting"], session.k):
        responses.filter(batch__isnull=True).update(batch=(state["last"] or 0) + 1)
