"""Anonymity attacks 1 and 2 on every surface: a group under k shows nothing — no mean,
distribution, count or comment — on any page, API route, export, CSV, admin page or CLI
export, and k counts distinct people, so pooling several runs of a 3-person team (or the
same 3 people on two teams) shows nothing either.

The attack is a comparison: every surface is read, the hidden group's answers and cards
are rewritten (or one of its respondents taken away) and the figures refreshed, and every
surface is read again. Whatever differs was shown.
"""

from __future__ import annotations

import pytest

from surveys.people.models import Role
from tests.security.anon_surfaces import (
    assert_unchanged,
    every_surface,
    routes,
    urls,
)
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    answers_mirrored,
    cards_rewritten,
    refresh_everything,
    respondent_dropped,
    superuser,
    tally,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]


def _viewers(world: World, *, manager_of: tuple[str, ...], engineer_of: str) -> dict:
    manager = world.viewer("manager", manager_of[0], Role.MANAGER)
    for team in manager_of[1:]:
        world.join(team, [manager], Role.MANAGER)
        world.members[team].remove(manager)
    viewers = {
        "anonymous": None,
        "manager": manager,
        "engineer": world.members[engineer_of][0],
        "superuser": superuser(),
    }
    if "facilitator" in world.viewers:
        viewers["facilitator"] = world.viewers["facilitator"]
    return viewers


def _small_team() -> World:
    """Platform has Big (6 answer) and Small (4 of 6 answer: k − 1), weekly, two closed
    weeks and this week's open run; Small has a closed and an open retro with 4 writers."""
    world = World()
    world.team("Platform", 0)
    world.team("Big", 6, parent="Platform")
    world.team("Small", 6, parent="Platform")
    world.viewer("facilitator", "Small", Role.FACILITATOR)
    world.pulse("Big")
    world.pulse("Small")
    for weeks_ago in (2, 1):
        world.run(f"big-{weeks_ago}", "Big", weeks_ago=weeks_ago, answering=range(6))
        world.run(f"small-{weeks_ago}", "Small", weeks_ago=weeks_ago, answering=range(4))
    world.run("small-now", "Small", weeks_ago=0, answering=range(4), close=False)
    world.retro("Sprint 1", "Small", writers=range(4), close=True)
    world.retro("Sprint 2", "Small", writers=range(4), close=False)
    refresh_everything()
    return world


def test_it_shows_nothing_of_a_team_with_k_minus_one_responses_anywhere() -> None:
    world = _small_team()
    viewers = _viewers(world, manager_of=("Platform",), engineer_of="Small")
    tokens = [world.tokens[name] for name in ("small-now:0", "small-now:5", "Sprint 2:0")]
    small = [world.runs[name] for name in ("small-2", "small-1", "small-now")]
    before = every_surface(world, viewers, tokens)

    tally("attack 1: answers and cards of a k − 1 group rewritten", answers_mirrored(small))
    cards_rewritten(list(world.sessions.values()), "rewritten")
    refresh_everything()
    rewritten = every_surface(world, viewers, tokens)
    assert_unchanged(before, rewritten)

    for run in small:
        respondent_dropped(run)
    refresh_everything()
    fewer = every_surface(world, viewers, tokens)
    assert_unchanged(before, fewer)
    tally("attack 1: surfaces compared", 2 * len(before))

    _it_said_so_and_saw_the_big_team(world, before, tokens)


# Routes that never answer a GET with a page of their own, and why that is no gap.
NOT_READ = {
    "home": "redirects to the dashboard or the login page",
    "api-invitation-response": "write only (GET is 405); its answer is covered as a side channel",
    "api-retro-invitation-submission": "write only (GET is 405), as above",
    "api-retro-close": "write only (GET is 405)",
    "retro-session-close": "write only (GET is 405)",
}
# What a route answers when it has read the world and refused to show it.
ANSWERED = (200, 409, 410)


def _it_said_so_and_saw_the_big_team(world: World, snapshot: dict, tokens: list[str]) -> None:
    """The comparison is not vacuous: the small team's pages say why they are empty, the
    big team's show its figures, and every route answered someone."""
    small_run = snapshot[("manager", f"/runs/{world.runs['small-1'].pk}/")]
    big_run = snapshot[("manager", f"/runs/{world.runs['big-1'].pk}/")]
    assert small_run[0] == 200
    assert "Not enough responses (k = 5)" in small_run[1]
    assert "n = 6" in big_run[1]
    api = snapshot[("manager", f"/api/runs/{world.runs['small-1'].pk}/results/")][1]
    assert '"suppressed":true' in api
    assert '"respondents":null' in api
    answered = {url for (_, url), (status, _) in snapshot.items() if status in ANSWERED}
    unread = [
        name
        for name, group in urls(world, tokens).items()
        if not answered & set(group) and name not in NOT_READ
    ]
    assert unread == [], f"no viewer could read {unread}: the attack did not reach them"
    tally("attack 1: routes from the URL resolver", len(routes()))


def _pooled() -> World:
    """Tribe's only sub-team, Trio, has 3 people and two weekly pulses: every week six
    responses from three people. Guild's two sub-teams have the same 3 people."""
    world = World()
    world.team("Tribe", 0)
    world.team("Trio", 3, parent="Tribe")
    world.team("Guild", 0)
    world.team("Left", 3, parent="Guild")
    world.team("Right", 0, parent="Guild")
    world.join("Right", world.members["Left"])
    for pulse, team in (
        ("trio-a", "Trio"),
        ("trio-b", "Trio"),
        ("left", "Left"),
        ("right", "Right"),
    ):
        world.pulse(team, pulse)
        for weeks_ago in (3, 2, 1):
            world.run(f"{pulse}-{weeks_ago}", pulse, weeks_ago=weeks_ago, answering=range(3))
    refresh_everything()
    return world


def test_it_counts_distinct_people_so_pooling_a_trio_shows_nothing() -> None:
    world = _pooled()
    viewers = _viewers(world, manager_of=("Tribe", "Guild"), engineer_of="Trio")
    before = every_surface(world, viewers, [])

    changed_answers = answers_mirrored(list(world.runs.values()))
    tally("attack 2: answers of pooled trios rewritten", changed_answers)
    refresh_everything()
    after = every_surface(world, viewers, [])
    assert_unchanged(before, after)
    tally("attack 2: surfaces compared", len(before))
