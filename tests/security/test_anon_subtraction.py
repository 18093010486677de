"""Anonymity attacks 3 and 4: subtraction. Whatever figures the API shows about a team
tree — each run's results, each team-period, each sub-tree roll-up, the heatmap with and
without its filter, the retro heatmap's totals — no difference or other combination of
them reveals a group of 1 to k − 1 people.

The attacker is as strong as can be: they know the sum behind every figure shown (its
mean times its n) and may add and subtract any of them. A group is revealed when its
indicator (over the runs) lies in the span of the figures shown; that is checked exactly,
for every group of runs with 1 to k − 1 people, on random team trees built through the
real services (shared people, second pulses, empty teams included) and on named ones.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pytest
from django.test import Client

from surveys.pulses.models import Invitation, PulseRun
from surveys.pulses.schedule import week_of
from tests.security.anon_world import (
    K,
    World,
    anonymity_tally,  # noqa: F401
    refresh_everything,
    superuser,
    tally,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
RANDOM_TREES = 14


@dataclass(frozen=True)
class Figure:
    """A figure the API shows, as the runs whose answers it sums."""

    where: str
    runs: frozenset[int]


def _subtree(world: World, name: str) -> set[int]:
    root = world.teams[name].pk
    found = {root}
    parents = {team.pk: team.parent_id for team in world.teams.values()}
    changed = True
    while changed:
        grown = found | {team for team, parent in parents.items() if parent in found}
        changed, found = grown != found, grown
    return found


def shown_figures(world: World, client: Client) -> list[Figure]:
    """Every survey figure the API shows for the world's teams, with the runs behind it.
    Also checks that figures of one group agree wherever they appear (a difference of
    two views of one group must be 0)."""
    runs = {run.pk: run for run in world.runs.values()}
    figures = []
    for name, team in world.teams.items():
        results = client.get(f"/api/teams/{team.slug}/results/").json()
        periods = client.get(f"/api/teams/{team.slug}/periods/").json()
        # A team with two pulses has two periods starting the same day: compare as lists.
        seen = sorted((r["run"]["period_start"], r["respondents"] or 0) for r in results)
        stored = sorted((p["period_start"], p["respondents"] or 0) for p in periods)
        assert seen == stored, (name, seen, stored)
        for result in results:
            if not result["suppressed"]:
                figures.append(Figure(f"run {name}", frozenset([result["run"]["id"]])))
        for row in client.get(f"/api/teams/{team.slug}/rollups/").json():
            if row["shown"]:
                members = _subtree(world, name)
                pooled = frozenset(
                    pk
                    for pk, run in runs.items()
                    if run.team_id in members
                    and week_of(run.period_start).isoformat() == row["week_start"]
                )
                figures.append(Figure(f"roll-up {name} {row['week_start']}", pooled))
    _heatmap_agrees_with_its_filter(world, client)
    return figures


def _heatmap_agrees_with_its_filter(world: World, client: Client) -> None:
    everything = {
        row["team"]: row for row in client.get("/api/insights/heatmap/?limit=500").json()["results"]
    }
    for team in world.teams.values():
        under = client.get(f"/api/insights/heatmap/?under={team.slug}&limit=500").json()
        for row in under["results"]:
            assert row == everything[row["team"]], (team.slug, row["team"])
            tally("attack 4: heatmap cells compared with and without the filter", len(row["cells"]))


def revealed_groups(figures: Iterable[Figure], people: dict[int, set[int]]) -> list[set[int]]:
    """The groups of runs with 1 to k − 1 people whose total the figures give away: those
    whose indicator lies in the span of the figures' indicators."""
    runs = sorted(people)
    if not runs:
        return []
    column = {run: index for index, run in enumerate(runs)}
    matrix = np.zeros((0, len(runs)))
    for figure in figures:
        row = np.zeros(len(runs))
        row[[column[run] for run in figure.runs if run in column]] = 1
        matrix = np.vstack([matrix, row])
    rank = np.linalg.matrix_rank(matrix) if len(matrix) else 0
    revealed = []
    for size in range(1, len(runs) + 1):
        for group in itertools.combinations(runs, size):
            who = set().union(*(people[run] for run in group))
            if not 0 < len(who) < K:
                continue
            tally("attack 3: groups of runs under k tried")
            candidate = np.zeros(len(runs))
            candidate[[column[run] for run in group]] = 1
            if np.linalg.matrix_rank(np.vstack([matrix, candidate])) == rank:
                revealed.append(set(group))
    return revealed


def _respondents(world: World) -> dict[int, set[int]]:
    found: dict[int, set[int]] = {run.pk: set() for run in world.runs.values()}
    for run_id, user_id in Invitation.objects.filter(
        run__in=list(world.runs.values()), used=True
    ).values_list("run_id", "user_id"):
        found[run_id].add(user_id)
    return found


def _audit(world: World) -> None:
    refresh_everything()
    client = Client()
    client.force_login(superuser(f"root-{world.organisation.slug}"))
    figures = shown_figures(world, client)
    tally("attack 3: figures shown and combined", len(figures))
    revealed = revealed_groups(figures, _respondents(world))
    assert revealed == [], [
        [PulseRun.objects.get(pk=run).team.name for run in group] for group in revealed
    ]


def _random_tree(seed: int) -> World:
    """A random organisation: 3 to 7 teams in a tree, 0 to 8 people each, some people on
    two teams, some teams with a second pulse; one week, each invitee answering or not."""
    rng = random.Random(seed)
    world = World()
    names = [f"T{index}" for index in range(rng.randint(3, 7))]
    for index, name in enumerate(names):
        parent = names[rng.randrange(index)] if index and rng.random() < 0.9 else None
        world.team(name, rng.choice([0, 1, 2, 3, 4, 5, 6, 8]), parent=parent)
    for _ in range(rng.randint(0, 2)):
        giver, taker = rng.sample(names, 2)
        world.join(taker, world.members[giver][: rng.randint(1, 3)])
    for name in names:
        invitees = len(world.members[name])
        for pulse in [name] + ([f"{name}-b"] if rng.random() < 0.4 else []):
            world.pulse(name, pulse)
            answering = rng.sample(range(invitees), rng.randint(0, invitees)) if invitees else []
            if invitees:
                world.run(pulse, pulse, weeks_ago=1, answering=answering)
    return world


@pytest.mark.parametrize("seed", range(RANDOM_TREES))
def test_it_reveals_no_group_under_k_by_subtraction_on_a_random_tree(seed: int) -> None:
    tally("attack 3: random team trees")
    _audit(_random_tree(seed))


NAMED = {
    # (team, parent, people, answering, pulses, people shared with an earlier team)
    # parent's own group of 6 with a child of 3: parent roll-up minus parent = the child
    "own group and a small child": [("P", None, 6, 6, 1, None), ("C", "P", 3, 3, 1, None)],
    # two shown children and a small one: roll-up minus both = the small one
    "small sibling": [
        ("P", None, 0, 0, 1, None),
        ("A", "P", 6, 6, 1, None),
        ("B", "P", 6, 6, 1, None),
        ("C", "P", 4, 2, 1, None),
    ],
    # a small grandchild under a shown child
    "small grandchild": [
        ("P", None, 0, 0, 1, None),
        ("A", "P", 6, 6, 1, None),
        ("G", "A", 4, 3, 1, None),
        ("B", "P", 6, 5, 1, None),
    ],
    # two small children that add up to k
    "small twins": [
        ("P", None, 6, 6, 1, None),
        ("A", "P", 3, 3, 1, None),
        ("B", "P", 2, 2, 1, None),
    ],
    # a trio with two pulses: six responses a week from three people
    "trio with two pulses": [("P", None, 0, 0, 1, None), ("T", "P", 3, 3, 2, None)],
    # the same three people on two sister teams
    "trio on two teams": [
        ("P", None, 0, 0, 1, None),
        ("A", "P", 3, 3, 1, None),
        ("B", "P", 0, 3, 1, "A"),
    ],
}


@pytest.mark.parametrize("shape", NAMED)
def test_it_reveals_no_group_under_k_by_subtraction_on_named_trees(shape: str) -> None:
    world = World()
    for name, parent, size, _, _, shared in NAMED[shape]:
        world.team(name, size, parent=parent)
        if shared:
            world.join(name, world.members[shared])
    for name, _, _, answering, pulses, _ in NAMED[shape]:
        for pulse in [f"{name}-{number}" for number in range(pulses)]:
            if world.members[name]:
                world.pulse(name, pulse)
                world.run(pulse, pulse, weeks_ago=1, answering=range(answering))
    tally("attack 3: named team trees")
    _audit(world)
