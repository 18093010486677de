"""Publishing a retro's cards in batches of at least k people — the one way stored cards
reach a reader (docs/DESIGN.md §2.2, late answers; see `retro_board_publish`).

A submission is stored sealed (`SealedRetroResponse`, surveys/links/sealing.py) until it
is published: publishing a batch opens the waiting sealed submissions and writes them as
`RetroResponse`s and `RetroCard`s in the clear, shuffled under fresh keys, in a
transaction that touches no invitation, so no storage trace ties a card to the person
whose invitation was flipped next to its sealed row. "Waiting" counts the sealed
submissions and any written in the clear before sealing existed (`batch` null), alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

from django.db import transaction
from django.db.models import Count, Max, Q

from surveys.anonymity import group_shown
from surveys.links.rewrite import Submission, sealed_take, submissions_insert
from surveys.links.sealing import storage_scrub_on_commit
from surveys.retros.models import (
    RetroCard,
    RetroResponse,
    RetroSession,
    RetroStatus,
    SealedRetroResponse,
)

# What a submission keeps, and what each of its cards holds, sealed and in the clear.
SUBMISSION_FIELDS = ("session_id", "team_id")
CARD_FIELDS = ("prompt_id", "text", "category", "effect", "shared")


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
            submissions=counts["submissions"] + sealed_count(session_id),
            published=counts["published"],
            cards=[PublishedCard(*card) for card in cards],
        )


def sealed_count(session_id: int) -> int:
    """Submissions of the session still sealed (written, not yet published)."""
    return SealedRetroResponse.objects.filter(session_id=session_id).count()


def _next_batch(session: RetroSession) -> int | None:
    """The number the waiting submissions get as the next batch, if there are at least k
    of them (sealed, and in the clear with no batch); else None."""
    state = RetroResponse.objects.filter(session_id=session.pk).aggregate(
        waiting=Count("pk", filter=Q(batch__isnull=True)), last=Max("batch")
    )
    if not group_shown(state["waiting"] + sealed_count(session.pk), session.k):
        return None
    return (state["last"] or 0) + 1


def _sealed_open(session: RetroSession, batch: int | None) -> list[Submission]:
    """Open and delete every sealed submission of the session, each given `batch`."""
    opened = sealed_take(
        SealedRetroResponse.objects.filter(session_id=session.pk),
        kind=SealedRetroResponse.SEAL_KIND,
        window_id=session.pk,
        row_fields=CARD_FIELDS,
    )
    storage_scrub_on_commit()
    return [Submission({**s.fields, "batch": batch}, s.rows) for s in opened]


def batch_publish(session: RetroSession) -> None:
    """Publish the waiting submissions as the next batch if there are at least k of them:
    the ones in the clear get its number, the sealed ones are opened and written, shuffled
    under fresh keys. The caller holds the session's row lock."""
    batch = _next_batch(session)
    if batch is None:
        return
    RetroResponse.objects.filter(session_id=session.pk, batch__isnull=True).update(batch=batch)
    submissions_insert(
        _sealed_open(session, batch), model=RetroResponse, rows=RetroCard, row_fields=CARD_FIELDS
    )


def batch_last(session: RetroSession) -> list[Submission]:
    """At close: what is left is published as the last batch if it is at least k people,
    else never. The waiting ones in the clear get the batch (or stay without); the sealed
    ones are opened, deleted and returned with it, for the close to write with the rest.
    The caller holds the session's row lock."""
    batch = _next_batch(session)
    if batch is not None:
        RetroResponse.objects.filter(session_id=session.pk, batch__isnull=True).update(batch=batch)
    return _sealed_open(session, batch)
