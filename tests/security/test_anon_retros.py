"""Anonymity attack 1 on retros: counts of 1 to k − 1 people. How many people wrote cards
(while fewer than k have, or since the board was last shown, or the invited who did not),
and which effect leads a heatmap cell whose counts are hidden, are counts under k too.

The attack is a comparison, as for answers: every surface is read as every viewer (the
facilitator included), one person more or fewer writes — or a hidden count moves — and
every surface is read again. Whatever differs was shown.
"""

from __future__ import annotations

import random

import pytest

from surveys.people.models import Role
from surveys.retros import board
from surveys.retros import services as retros
from surveys.retros.models import RetroInvitation, RetroResponse, RetroSession, RetroTally
from surveys.retros.publication import retro_board_publish
from tests.security.anon_surfaces import Snapshot, assert_unchanged, every_surface
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    superuser,
    tally,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
TEAM_SIZE = 10  # engineers; with the facilitator, 11 are invited to each retro


@pytest.fixture(autouse=True)
def cards_in_one_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """The board shuffles its cards on every reading (attack 9 checks that); here the same
    cards must read the same, so the shuffle is seeded for the comparison."""
    monkeypatch.setattr(board.random, "SystemRandom", lambda: random.Random(0))


def _viewers(world: World) -> dict:
    return {
        "anonymous": None,
        "engineer": world.members["Team"][0],
        "manager": world.viewer("manager", "Team", Role.MANAGER),
        "facilitator": world.viewers["facilitator"],
        "superuser": superuser(),
    }


def _shown_then_late(world: World, name: str, late: int, *, close: bool) -> RetroSession:
    """A session whose first five writers were shown on the board, then `late` more wrote."""
    session = world.retro(name, "Team", writers=range(5), close=False)
    assert retro_board_publish(session_id=session.pk).published == 5
    for index in range(5, 5 + late):
        world.write_cards(name, session, index)
    if close:
        retros.retro_session_close(session_id=session.pk)
    return session


def _writer_dropped(session: RetroSession) -> None:
    """One fewer person wrote (one not yet published): their submission and `used` flag go."""
    response = RetroResponse.objects.filter(session=session, batch__isnull=True).first()
    assert response is not None
    response.delete()
    invitation = RetroInvitation.objects.filter(session=session, used=True).order_by("-pk")[0]
    RetroInvitation.objects.filter(pk=invitation.pk).update(used=False)


def _not_vacuous(world: World, snapshot: Snapshot) -> None:
    """The facilitator reads the boards and the team's heatmap: there was something to see."""
    for name in ("Closed late", "Open late"):
        status, page = snapshot[("facilitator", f"/retros/{world.sessions[name].pk}/")]
        assert status == 200
        assert 'data-board="shown"' in page, name
    status, page = snapshot[("engineer", f"/teams/{world.teams['Team'].slug}/")]
    assert status == 200
    assert "Where AI helps us" in page


def test_no_surface_counts_fewer_than_k_people_who_wrote_cards() -> None:
    """Four sessions of a team of 11 invited: 3 wrote and it closed; 5 were shown, 2 more
    wrote and it closed; 2 wrote so far; 5 were shown and 1 more wrote so far. One writer
    fewer in the closed ones, one more in the open ones: no surface may change."""
    world = World()
    world.team("Team", TEAM_SIZE)
    world.viewer("facilitator", "Team", Role.FACILITATOR)
    closed_few = world.retro("Closed few", "Team", writers=range(3), close=True)
    closed_late = _shown_then_late(world, "Closed late", 2, close=True)
    open_few = world.retro("Open few", "Team", writers=range(2), close=False)
    open_late = _shown_then_late(world, "Open late", 1, close=False)
    viewers = _viewers(world)
    tokens = [world.tokens["Open few:9"], world.tokens["Open late:9"]]  # never used
    before = every_surface(world, viewers, tokens)
    _not_vacuous(world, before)

    _writer_dropped(closed_few)
    _writer_dropped(closed_late)
    world.write_cards("Open few", open_few, 2)
    world.write_cards("Open late", open_late, 6)
    after = every_surface(world, viewers, tokens)
    assert_unchanged(before, after)
    tally("attack 1: retro writers under k added or taken away", 4)
    tally("attack 1: surfaces compared", len(after))


def test_no_heatmap_cell_says_which_effect_leads_from_hidden_counts() -> None:
    """Six people wrote about tests: 4 said AI helped and 2 that it hurt, then the other
    way round. Both counts are hidden (2, and 6 − 4, are under k), so "Mostly helped" or
    "Mostly hurt" would tell them apart: no surface may change."""
    world = World()
    world.team("Team", TEAM_SIZE)
    world.viewer("facilitator", "Team", Role.FACILITATOR)
    session = world.retro("Sprint", "Team", writers=range(6), close=True)
    RetroTally.objects.filter(session=session).delete()
    tally_row = RetroTally.objects.create(
        session=session, category="tests", people=6, helped=4, hurt=2, chose_not=0
    )
    viewers = _viewers(world)
    before = every_surface(world, viewers, [])
    heatmap = before[("engineer", f"/api/teams/{world.teams['Team'].slug}/retro-heatmap/")]
    assert '"shown":true' in heatmap[1]  # the cell is shown; only its lean is at stake

    RetroTally.objects.filter(pk=tally_row.pk).update(helped=2, hurt=4)
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    tally("attack 1: hidden effect counts swapped in a shown retro cell", 1)
    tally("attack 1: surfaces compared", len(after))
