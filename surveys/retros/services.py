"""Every write about retros, in one place: the pages, the API, the admin, the CLI, the
demo and the Celery tasks all call these functions.

Contracts worth knowing:
- `retro_response_submit` writes the cards sealed (surveys/links/sealing.py) and flips
  the invitation's `used` flag in one transaction; a conditional UPDATE makes concurrent
  submissions of one link (or of a link and the logged-in page) yield exactly one
  submission.
- `retro_board_publish` (surveys/retros/publication.py) is the one way stored cards
  reach a reader: under the session's row lock it publishes the unpublished submissions
  as the next batch when there are at least k of them — opening the sealed ones and
  writing their cards in the clear, shuffled — so no batch is under k people.
- `retro_session_close` is idempotent: it publishes what is left if it is at least k,
  opens what is still sealed, rewrites the cards shuffled with fresh keys and stores the
  tallies once; running it again changes nothing.
- `retro_invitations_send` emails each link at most once, like the pulses' invitations.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.celery import enqueue_on_commit
from surveys.anonymity import K_MIN, group_shown
from surveys.links.models import EMAIL_ATTEMPTS_MAX
from surveys.links.rewrite import submissions_rewrite
from surveys.links.sealing import ID_WIDEST, seal_size, submission_seal
from surveys.links.selectors import link_find
from surveys.links.sending import link_claim, links_email
from surveys.links.submission import submission_write, window_shared_lock
from surveys.people.models import Team
from surveys.people.selectors import invitee_ids
from surveys.retros import emails
from surveys.retros.cards import CARDS_MAX, CardInput, cards_clean
from surveys.retros.errors import (
    RetroAlreadySubmitted,
    RetroClosed,
    RetroInvitationNotFound,
    RetroNotOpen,
)
from surveys.retros.learning import tallies_count
from surveys.retros.models import (
    CARD_TEXT_MAX,
    PROMPT_TEXT_MAX,
    SESSION_PROMPTS_MAX,
    CardEffect,
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
    SealedRetroResponse,
    TaskCategory,
)
from surveys.retros.publication import CARD_FIELDS, SUBMISSION_FIELDS, batch_last

# The Celery task (surveys/tasks.py) that emails a session's links, enqueued by name so
# this module need not import the adapters that call it.
RETRO_INVITATIONS_SEND = "surveys.tasks.retro_invitations_send"


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
    chosen, texts = _session_clean(session, now, prompt_ids, new_prompts, save_as_set)
    with transaction.atomic():
        prompts = chosen + [
            retro_prompt_create(team=team, created_by=created_by, text=text) for text in texts
        ]
        session.save()
        _session_prompts_create(session, prompts)
        if save_as_set.strip():
            retro_prompt_set_create(
                team=team,
                created_by=created_by,
                name=save_as_set,
                prompt_ids=[prompt.pk for prompt in prompts],
            )
        _invitations_create(session)
        if send:
            session.invitations_pending = True
            session.save(update_fields=["invitations_pending"])
            enqueue_on_commit(RETRO_INVITATIONS_SEND, session.pk)
    return session


def _session_clean(
    session: RetroSession,
    now: datetime,
    prompt_ids: Sequence[int],
    new_prompts: Sequence[str],
    save_as_set: str,
) -> tuple[list[RetroPrompt], list[str]]:
    """Check a new session before anything is written: (the library prompts chosen, the
    texts of the new ones). Raises ValidationError naming the field."""
    team = session.team
    if RetroSession.objects.filter(team=team, label=session.label).exists():
        raise ValidationError({"label": "This team already has a retro with this name."})
    session.full_clean()
    if session.closes_at <= now:
        raise ValidationError({"closes_at": "The session must close in the future."})
    chosen = _prompts_usable(team=team, prompt_ids=prompt_ids, field="prompts")
    texts = _new_prompts_clean(new_prompts)
    if not chosen and not texts:
        raise ValidationError({"prompts": "Choose at least one prompt."})
    if len(chosen) + len(texts) > SESSION_PROMPTS_MAX:
        raise ValidationError({"prompts": f"A retro asks at most {SESSION_PROMPTS_MAX} prompts."})
    if save_as_set.strip():
        _set_name_free(team=team, name=save_as_set.strip(), field="save_as_set")
    return chosen, texts


def _session_prompts_create(session: RetroSession, prompts: Sequence[RetroPrompt]) -> None:
    """The prompts as asked in the session, in order, their text frozen."""
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


def _invitations_create(session: RetroSession) -> None:
    invitees = invitee_ids(team_id=session.team_id, day=timezone.localdate(session.opens_at))
    RetroInvitation.objects.bulk_create(
        [RetroInvitation(session=session, user_id=user_id) for user_id in invitees],
        ignore_conflicts=True,
    )


def retro_invitation_token_issue(*, invitation_id: int) -> str | None:
    """Claim an invitation for sending and give it its token; None if already claimed or
    tried EMAIL_ATTEMPTS_MAX times (`link_claim`)."""
    return link_claim(
        RetroInvitation.objects.all(),
        pk=invitation_id,
        pending={"sent": False},
        claimed={"sent": True},
        hash_field="token_hash",
    )


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
    invitation = link_find(
        RetroInvitation.objects.select_related("session__team"),
        raw_token=raw_token,
        hash_fields=("token_hash",),
        not_found=RetroInvitationNotFound(
            "This link is not valid. Check that it was copied whole."
        ),
        used=RetroAlreadySubmitted("Your cards for this retro are already in. Thank you!"),
    )
    _session_accepting(invitation.session, now or timezone.now())
    return invitation


def retro_seal_size() -> int:
    """The one padded size of every sealed retro submission: that of the widest one a
    session allows — CARDS_MAX cards of CARD_TEXT_MAX four-byte characters (`seal_size`),
    128 KiB — so a blob's length says nothing of how much its writer wrote."""
    widest_card = {
        "prompt_id": ID_WIDEST,
        "text": "\U0010ffff" * CARD_TEXT_MAX,
        "category": max(TaskCategory.values, key=len),
        "effect": max(CardEffect.values, key=len),
        "shared": False,
    }
    return seal_size(
        fields=dict.fromkeys(SUBMISSION_FIELDS, ID_WIDEST), rows=[widest_card] * CARDS_MAX
    )


RETRO_SEAL_SIZE = retro_seal_size()


def retro_response_submit(
    *, invitation: RetroInvitation, cards: Any, now: datetime | None = None
) -> SealedRetroResponse:
    """Store one person's cards for a session, sealed, and mark their invitation used;
    returns the sealed row. The cards are written in the clear, as an anonymous
    `RetroResponse`, when a batch of at least k is published or the session closes.

    `cards` is a list of {prompt (the library prompt's id), text, category, effect, shared}.
    Raises ValidationError (keys like `cards[0].text`) for bad cards, RetroAlreadySubmitted
    when the invitation was used (also by a concurrent request), RetroClosed / RetroNotOpen
    outside the window. Writes nothing unless everything is valid.
    """
    session = invitation.session
    asked = dict(session.prompts.values_list("prompt_id", "pk"))
    clean: list[CardInput] = cards_clean(cards, prompt_ids=asked)
    sealed = SealedRetroResponse(
        session_id=session.pk,
        blob=submission_seal(
            kind=SealedRetroResponse.SEAL_KIND,
            window_id=session.pk,
            size=RETRO_SEAL_SIZE,
            fields={"session_id": session.pk, "team_id": session.team_id},
            rows=[
                {
                    "prompt_id": asked[card.prompt_id],
                    "text": card.text,
                    "category": card.category,
                    "effect": card.effect,
                    "shared": card.shared,
                }
                for card in clean
            ],
        ),
    )
    submission_write(
        accepting=lambda: _session_accepting(
            window_shared_lock(RetroSession, session.pk), now or timezone.now()
        ),
        invitation=RetroInvitation.objects.filter(pk=invitation.pk),
        already_used=RetroAlreadySubmitted("Your cards for this retro are already in. Thank you!"),
        sealed=sealed,
    )
    return sealed


def retro_session_close(*, session_id: int) -> RetroSession:
    """Close a session: its links stop working, the submissions written since the last
    batch are published if there are at least k of them (else they are never shown), the
    sealed ones are opened, every card is rewritten in random order with fresh keys,
    keeping each submission's batch, and its tallies (categories with at least k people,
    from every submission) are stored. On SQLite the WAL is then checkpointed and truncated
    (surveys/links/sealing.py).

    One transaction, which writes no invitation: a close that fails anywhere changes
    nothing. The exclusive row lock waits for submissions in flight (they hold a shared
    lock on the session), so no card lands after the close. Idempotent.
    """
    with transaction.atomic():
        session = RetroSession.objects.select_for_update().get(pk=session_id)
        if session.status == RetroStatus.CLOSED:
            return session
        session.status = RetroStatus.CLOSED
        session.save(update_fields=["status"])
        still_sealed = batch_last(session)
        rewritten = submissions_rewrite(
            RetroResponse.objects.filter(session_id=session.pk),
            keep=(*SUBMISSION_FIELDS, "batch"),
            rows=RetroCard,
            row_fields=CARD_FIELDS,
            unsealed=still_sealed,
        )
        cards = [
            (response, category, effect) for response, (_, _, category, effect, _) in rewritten
        ]
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
            if group_shown(counts.people, session.k)
        )
    return session


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
