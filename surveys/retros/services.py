"""Every write about retros, in one place: the pages, the API, the admin, the CLI, the
demo and the Celery tasks all call these functions.

Contracts worth knowing:
- `retro_response_submit` writes the anonymous cards and flips the invitation's `used`
  flag in one transaction; a conditional UPDATE makes concurrent submissions of one link
  (or of a link and the logged-in page) yield exactly one submission.
- `retro_board_publish` is the one way stored cards reach a reader: under the session's
  row lock it publishes the unpublished submissions as the next batch when there are at
  least k of them, so of concurrent readers one publishes, and no batch is under k people.
- `retro_session_close` is idempotent: it publishes what is left if it is at least k,
  rewrites the cards shuffled with fresh keys and stores the tallies once; running it
  again changes nothing.
- `retro_invitations_send` emails each link at most once, like the pulses' invitations.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from config.celery import enqueue_on_commit
from surveys import emails
from surveys.errors import (
    RetroAlreadySubmitted,
    RetroClosed,
    RetroInvitationNotFound,
    RetroNotOpen,
)
from surveys.models import EMAIL_ATTEMPTS_MAX, K_MIN, Team
from surveys.retros.cards import CardInput, cards_clean
from surveys.retros.learning import tallies_count
from surveys.retros.models import (
    PROMPT_TEXT_MAX,
    SESSION_PROMPTS_MAX,
    RetroCard,
    RetroInvitation,
    RetroPrompt,
    RetroPromptSet,
    RetroPromptSetItem,
    RetroResponse,
    RetroSession,
    RetroSessionPrompt,
    RetroStatus,
    RetroTally,
)
from surveys.selectors import invitee_ids
from surveys.services import links_email, submission_write, window_shared_lock
from surveys.tokens import token_hash, token_new


def _prompts_usable(*, team: Team, prompt_ids: Sequence[int], field: str) -> list[RetroPrompt]:
    """The prompts, in the order given: built-in or the team's organisation's, active."""
    if len(set(prompt_ids)) != len(prompt_ids):
        raise ValidationError({field: "A prompt is listed twice."})
    usable = RetroPrompt.objects.filter(
        Q(organisation__isnull=True) | Q(organisation_id=team.organisation_id), active=True
    ).in_bulk(list(prompt_ids))
    unknown = [str(pk) for pk in prompt_ids if pk not in usable]
    if unknown:
        raise ValidationError({field: f"Unknown prompt: {', '.join(unknown)}."})
    return [usable[pk] for pk in prompt_ids]


def retro_prompt_create(
    *, team: Team, created_by: Any, text: str, suggested_effect: str = ""
) -> RetroPrompt:
    """Add a facilitator's own prompt to the library of the team's organisation."""
    prompt = RetroPrompt(
        organisation_id=team.organisation_id,
        text=" ".join(text.split()),
        suggested_effect=suggested_effect,
        created_by=created_by,
    )
    prompt.full_clean()
    prompt.save()
    return prompt


def retro_prompt_set_create(
    *, team: Team, created_by: Any, name: str, prompt_ids: Sequence[int]
) -> RetroPromptSet:
    """Save an ordered selection of prompts under a name, for the organisation's facilitators."""
    prompts = _prompts_usable(team=team, prompt_ids=prompt_ids, field="prompts")
    if not prompts:
        raise ValidationError({"prompts": "A prompt set needs at least one prompt."})
    prompt_set = RetroPromptSet(
        organisation_id=team.organisation_id, name=name.strip(), created_by=created_by
    )
    _set_name_free(team=team, name=prompt_set.name, field="name")
    prompt_set.full_clean()
    with transaction.atomic():
        prompt_set.save()
        RetroPromptSetItem.objects.bulk_create(
            RetroPromptSetItem(prompt_set=prompt_set, prompt=prompt, position=position)
            for position, prompt in enumerate(prompts, start=1)
        )
    return prompt_set


def _set_name_free(*, team: Team, name: str, field: str) -> None:
    taken = RetroPromptSet.objects.filter(organisation_id=team.organisation_id, name=name)
    if taken.exists():
        raise ValidationError({field: "A prompt set with this name exists already."})


def _new_prompts_clean(texts: Sequence[str]) -> list[str]:
    clean = [" ".join(text.split()) for text in texts if text and text.strip()]
    if any(len(text) > PROMPT_TEXT_MAX for text in clean):
        raise ValidationError({"new_prompts": f"Keep a prompt to {PROMPT_TEXT_MAX} characters."})
    return clean


def retro_session_create(
    *,
    team: Team,
    created_by: Any,
    label: str,
    sprint_start: date,
    sprint_end: date,
    closes_at: datetime,
    prompt_ids: Sequence[int] = (),
    new_prompts: Sequence[str] = (),
    save_as_set: str = "",
    opens_at: datetime | None = None,
    k: int = K_MIN,
    send: bool = True,
    now: datetime | None = None,
) -> RetroSession:
    """Open a retro for a team and sprint with library prompts plus new ones of the
    facilitator's (added to the library), optionally saved as a prompt set; invite the
    engineers and facilitators on the team when it opens and email their links after commit.

    All or nothing: raises ValidationError naming the field and writes nothing if any part
    is invalid.
    """
    now = now or timezone.now()
    opens_at = opens_at or now
    session = RetroSession(
        team=team,
        label=" ".join(label.split()),
        sprint_start=sprint_start,
        sprint_end=sprint_end,
        opens_at=opens_at,
        closes_at=closes_at,
        k=k,
        created_by=created_by,
    )
    if RetroSession.objects.filter(team=team, label=session.label).exists():
        raise ValidationError({"label": "This team already has a retro with this name."})
    session.full_clean()
    if closes_at <= now:
        raise ValidationError({"closes_at": "The session must close in the future."})
    chosen = _prompts_usable(team=team, prompt_ids=prompt_ids, field="prompts")
    texts = _new_prompts_clean(new_prompts)
    if not chosen and not texts:
        raise ValidationError({"prompts": "Choose at least one prompt."})
    if len(chosen) + len(texts) > SESSION_PROMPTS_MAX:
        raise ValidationError({"prompts": f"A retro asks at most {SESSION_PROMPTS_MAX} prompts."})
    if save_as_set.strip():
        _set_name_free(team=team, name=save_as_set.strip(), field="save_as_set")
    with transaction.atomic():
        prompts = chosen + [
            retro_prompt_create(team=team, created_by=created_by, text=text) for text in texts
        ]
        session.save()
        RetroSessionPrompt.objects.bulk_create(
            RetroSessionPrompt(
                session=session,
                prompt=prompt,
                position=position,
                text=prompt.text,
                suggested_effect=prompt.suggested_effect,
            )
            for position, prompt in enumerate(prompts, start=1)
        )
        if save_as_set.strip():
            retro_prompt_set_create(
                team=team,
                created_by=created_by,
                name=save_as_set,
                prompt_ids=[prompt.pk for prompt in prompts],
            )
        _invitations_create(session)
        if send:
            from surveys.tasks import retro_invitations_send_task

            session.invitations_pending = True
            session.save(update_fields=["invitations_pending"])
            enqueue_on_commit(retro_invitations_send_task, session.pk)
    return session


def _invitations_create(session: RetroSession) -> None:
    invitees = invitee_ids(team_id=session.team_id, day=timezone.localdate(session.opens_at))
    RetroInvitation.objects.bulk_create(
        [RetroInvitation(session=session, user_id=user_id) for user_id in invitees],
        ignore_conflicts=True,
    )


def retro_invitation_token_issue(*, invitation_id: int) -> str | None:
    """Claim an invitation for sending and give it its token; None if already claimed or
    tried EMAIL_ATTEMPTS_MAX times. Counts an attempt."""
    raw, hashed = token_new()
    claimed = RetroInvitation.objects.filter(
        pk=invitation_id, sent=False, send_attempts__lt=EMAIL_ATTEMPTS_MAX
    ).update(sent=True, token_hash=hashed, send_attempts=F("send_attempts") + 1)
    return raw if claimed else None


def retro_invitations_send(*, session_id: int) -> int:
    """Email each invitation of an open session its link, once; returns how many went out.
    Clears the session's `invitations_pending` once none is left to try."""
    pending = RetroInvitation.objects.filter(
        session_id=session_id,
        session__status=RetroStatus.OPEN,
        sent=False,
        send_attempts__lt=EMAIL_ATTEMPTS_MAX,
    )
    return links_email(
        pending.select_related("user", "session__team"),
        claim=lambda pk: retro_invitation_token_issue(invitation_id=pk),
        send=lambda invitation, raw: emails.retro_invitation_email_send(
            invitation=invitation, raw_token=raw
        ),
        release=lambda pk: RetroInvitation.objects.filter(pk=pk).update(
            sent=False, token_hash=None
        ),
        done=lambda: RetroSession.objects.filter(pk=session_id).update(invitations_pending=False),
        of=f"retro {session_id}",
    )


def _session_accepting(session: RetroSession, now: datetime) -> None:
    if session.status == RetroStatus.CLOSED or now >= session.closes_at:
        raise RetroClosed("This retro has closed: cards can no longer be written. Thank you!")
    if now < session.opens_at:
        raise RetroNotOpen(
            f"This retro opens on {timezone.localtime(session.opens_at):%A %d %B at %H:%M}."
        )


def retro_invitation_redeem(*, raw_token: str, now: datetime | None = None) -> RetroInvitation:
    """The invitation a link stands for, if cards can still be written with it."""
    invitation = (
        RetroInvitation.objects.select_related("session__team")
        .filter(token_hash=token_hash(raw_token))
        .first()
    )
    if invitation is None:
        raise RetroInvitationNotFound("This link is not valid. Check that it was copied whole.")
    if invitation.used:
        raise RetroAlreadySubmitted("Your cards for this retro are already in. Thank you!")
    _session_accepting(invitation.session, now or timezone.now())
    return invitation


def retro_response_submit(
    *, invitation: RetroInvitation, cards: Any, now: datetime | None = None
) -> RetroResponse:
    """Store one person's anonymous cards for a session and mark their invitation used.

    `cards` is a list of {prompt (the library prompt's id), text, category, effect, shared}.
    Raises ValidationError (keys like `cards[0].text`) for bad cards, RetroAlreadySubmitted
    when the invitation was used (also by a concurrent request), RetroClosed / RetroNotOpen
    outside the window. Writes nothing unless everything is valid.
    """
    session = invitation.session
    asked = dict(session.prompts.values_list("prompt_id", "pk"))
    clean: list[CardInput] = cards_clean(cards, prompt_ids=asked)
    response = RetroResponse(session_id=session.pk, team_id=session.team_id)
    rows = [
        RetroCard(
            response=response,
            prompt_id=asked[card.prompt_id],
            text=card.text,
            category=card.category,
            effect=card.effect,
            shared=card.shared,
        )
        for card in clean
    ]
    submission_write(
        accepting=lambda: _session_accepting(
            window_shared_lock(RetroSession, session.pk), now or timezone.now()
        ),
        invitation=RetroInvitation.objects.filter(pk=invitation.pk),
        already_used=RetroAlreadySubmitted("Your cards for this retro are already in. Thank you!"),
        response=response,
        rows=rows,
    )
    return response


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
    holds at least k people: a late answer appears only with k - 1 others (DESIGN.md §2.2,
    late answers). A closed session publishes nothing more; its close decided. Idempotent
    while fewer than k wait.
    """
    with transaction.atomic():
        session = RetroSession.objects.select_for_update().only("status", "k").get(pk=session_id)
        if session.status == RetroStatus.OPEN:
            _batch_publish(session)
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


def _batch_publish(session: RetroSession) -> None:
    """Give the unpublished submissions the next batch number if there are at least k of
    them. The caller holds the session's row lock."""
    responses = RetroResponse.objects.filter(session_id=session.pk)
    state = responses.aggregate(
        waiting=Count("pk", filter=Q(batch__isnull=True)), last=Max("batch")
    )
    if state["waiting"] >= session.k:
        responses.filter(batch__isnull=True).update(batch=(state["last"] or 0) + 1)


def retro_session_close(*, session_id: int) -> RetroSession:
    """Close a session: its links stop working, the submissions written since the last
    batch are published if there are at least k of them (else they are never shown), its
    cards are rewritten in random order with fresh keys, keeping each submission's batch,
    and its tallies (categories with at least k people, from every submission) are stored.

    The exclusive row lock waits for submissions in flight (they hold a shared lock on the
    session), so no card lands after the close. Idempotent.
    """
    with transaction.atomic():
        session = RetroSession.objects.select_for_update().get(pk=session_id)
        if session.status == RetroStatus.CLOSED:
            return session
        session.status = RetroStatus.CLOSED
        session.save(update_fields=["status"])
        _batch_publish(session)
        cards = _cards_rewrite(session_id=session.pk)
        RetroTally.objects.bulk_create(
            RetroTally(
                session=session,
                category=category,
                people=counts.people,
                helped=counts.helped or 0,  # tallies_count hides nothing: never None here
                hurt=counts.hurt or 0,
                chose_not=counts.chose_not or 0,
            )
            for category, counts in tallies_count(cards).items()
            if counts.people >= session.k
        )
    return session


def _cards_rewrite(*, session_id: int) -> list[tuple[uuid.UUID, str, str]]:
    """Delete and re-insert a session's submissions and cards, shuffled, with fresh keys
    (each submission keeps its batch, which is not an order); returns (submission,
    category, effect) of every card for the tallies.

    Why, as for pulse responses: while a session is open each submission sits next to its
    invitation's update in storage (SQLite's rowid, PostgreSQL's xmin); after this
    transaction neither trace exists.
    """
    shuffle = random.SystemRandom().shuffle
    responses = list(
        RetroResponse.objects.filter(session_id=session_id).values_list("id", "team_id", "batch")
    )
    old_ids = [response_id for response_id, _, _ in responses]
    cards = list(
        RetroCard.objects.filter(response_id__in=old_ids).values_list(
            "response_id", "prompt_id", "text", "category", "effect", "shared"
        )
    )
    RetroCard.objects.filter(response_id__in=old_ids).delete()
    RetroResponse.objects.filter(id__in=old_ids).delete()
    shuffle(responses)
    shuffle(cards)
    fresh = {old_id: uuid.uuid4() for old_id in old_ids}
    RetroResponse.objects.bulk_create(
        RetroResponse(id=fresh[old_id], session_id=session_id, team_id=team_id, batch=batch)
        for old_id, team_id, batch in responses
    )
    RetroCard.objects.bulk_create(
        RetroCard(
            response_id=fresh[response_id],
            prompt_id=prompt_id,
            text=text,
            category=category,
            effect=effect,
            shared=shared,
        )
        for response_id, prompt_id, text, category, effect, shared in cards
    )
    return [
        (fresh[response_id], category, effect) for response_id, _, _, category, effect, _ in cards
    ]


def retro_sessions_close_due(*, now: datetime) -> list[int]:
    """Close every open session whose window has ended; returns their ids."""
    due = list(
        RetroSession.objects.filter(status=RetroStatus.OPEN, closes_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    for session_id in due:
        retro_session_close(session_id=session_id)
    return due
