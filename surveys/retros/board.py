"""The facilitator's board and the card exports: which of a session's cards may be shown.

Reading is publishing. Every reader of cards — the session page, the printable page, the
API, the exports and the CLI — comes here, and so through `retro_board_publish`, which
publishes the submissions written since the last batch once there are at least k of them
(docs/DESIGN.md §2.2, late answers). So every reader shows exactly the published shared cards,
scrubbed and shuffled anew on each reading, with no author, no time and no batch. Scrubbing
masks the names of everyone in the team's organisation (`surveys.people.names`). How many
people took part is said as surveys/retros/participation.py allows: never how many have
written so far, nor how many wrote since the last batch.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from surveys.people.names import team_name_book
from surveys.retros.errors import RetroBoardHidden
from surveys.retros.exports import ExportCard, ExportPrompt, RetroDocument
from surveys.retros.models import RetroSession
from surveys.retros.participation import Participation, participation
from surveys.retros.publication import RetroPublication, retro_board_publish
from surveys.retros.scrub import Scrubber


@dataclass(frozen=True)
class RetroBoard:
    """A session's board. Its counts decide what is shown; only `participation` says any
    of them, as it may (never `submissions` or `held_back` themselves: under k)."""

    state: str  # "waiting", "too-few" or "shown" (see board_state)
    submissions: int  # people who have written cards
    held_back: int  # people who wrote after the last batch (RetroPublication.held_back)
    closed: bool
    participation: Participation
    document: RetroDocument  # with the published shared cards only when shown


def board_state(publication: RetroPublication) -> str:
    """ "shown" once a batch is published; before that "waiting" while the session is open,
    and "too-few" once it has closed with fewer than k submissions."""
    if publication.published:
        return "shown"
    return "too-few" if publication.closed else "waiting"


def retro_board(*, session: RetroSession) -> RetroBoard:
    """The session's board once whatever may be published is: its state, the counts, and
    the prompts with the published shared cards, scrubbed and shuffled."""
    publication = retro_board_publish(session_id=session.pk)
    state = board_state(publication)
    said = participation(
        written=publication.submissions,
        published=publication.published,
        invited=session.invitations.count(),
        k=session.k,
    )
    return RetroBoard(
        state=state,
        submissions=publication.submissions,
        held_back=publication.held_back,
        closed=publication.closed,
        participation=said,
        document=_document(session, publication if state == "shown" else None, said),
    )


def retro_document(*, session: RetroSession, with_cards: bool) -> RetroDocument:
    """The session as an exportable document: its prompts, and with `with_cards` the
    published shared cards, publishing first as the board does. Raises RetroBoardHidden
    when cards are asked for and none may be shown."""
    if not with_cards:
        return _document(session, None)
    board = retro_board(session=session)
    if board.state == "waiting":
        raise RetroBoardHidden(
            f"The cards are shown once at least {session.k} people have written "
            f"(so far fewer than {session.k})."
        )
    if board.state == "too-few":
        raise RetroBoardHidden(
            f"Not enough people wrote cards (k = {session.k}), so none are shown."
        )
    return board.document


def _document(
    session: RetroSession,
    publication: RetroPublication | None,
    said: Participation | None = None,
) -> RetroDocument:
    """The prompts, with the publication's cards (and how many people's, as `said` may
    say it) unless it is None."""
    prompts = list(session.prompts.all())
    cards: dict[int, list[ExportCard]] = {prompt.pk: [] for prompt in prompts}
    if publication is not None:
        # Compiled once per reading: whoever joined the organisation since is masked too.
        book = team_name_book(team=session.team)
        scrub = Scrubber.for_names(
            book.names, nicknames=book.nicknames, initials_of=book.initials_of
        )
        shared = list(publication.cards)
        # Storage order is random after the close; shuffle anyway, so no listing ever
        # follows an order someone could tie to a submission.
        random.SystemRandom().shuffle(shared)
        for card in shared:
            cards[card.prompt_id].append(
                ExportCard(category=card.category, effect=card.effect, text=scrub(card.text))
            )
    return RetroDocument(
        team=session.team.name,
        session=session.label,
        sprint_start=session.sprint_start,
        sprint_end=session.sprint_end,
        k=session.k,
        cards_included=publication is not None,
        submissions=said.people if publication is not None and said is not None else None,
        held_back=bool(publication and publication.closed and publication.held_back),
        prompts=tuple(
            ExportPrompt(number=number, text=prompt.text, cards=tuple(cards[prompt.pk]))
            for number, prompt in enumerate(prompts, start=1)
        ),
    )
