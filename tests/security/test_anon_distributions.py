"""Anonymity attack 1, inside a group of k or more: no count of 1 to k − 1 people.

A question answered by n ≥ k people has a distribution; a cell of it counting 1 to
k − 1 people ("one person strongly disagrees") is a count for fewer than k, and so is a
share or an effect count that, times n, gives one. The rule (surveys/anonymity.py):
an ordered distribution (scale steps, percentage buckets) is shown in bins of adjacent
steps merged from the lowest up until each holds 0 or at least k people; an unordered
count (an option of a multiple-choice question, a retro effect, the share of weekly AI
users or of those who trust AI output) is shown only when it and what it leaves out
(n − count) are each 0 or at least k. Checked on the run page, the run API, the team
pages and APIs, the CSVs and the retro heatmap, as each viewer reads them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from surveys.people.models import Role
from surveys.pulses.models import Question, QuestionKind
from tests.security.anon_world import (
    K,
    World,
    anonymity_tally,  # noqa: F401
    refresh_everything,
    tally,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]
RESPONDENTS = 7


def _small(count: int | None) -> bool:
    return count is not None and 0 < count < K


def _world() -> World:
    """Seven people answer; valid_answers spreads them over the steps, so most steps hold
    one or two people."""
    world = World()
    world.team("Seven", RESPONDENTS)
    world.pulse("Seven")
    for weeks_ago in (3, 2, 1):
        world.run(f"w{weeks_ago}", "Seven", weeks_ago=weeks_ago, answering=range(RESPONDENTS))
    world.viewer("facilitator", "Seven", Role.FACILITATOR)
    for number in (1, 2):
        world.retro(f"Sprint {number}", "Seven", writers=range(RESPONDENTS), close=True)
    refresh_everything()
    return world


def _client(world: World) -> Client:
    client = Client()
    client.force_login(world.viewer("manager", "Seven", Role.MANAGER))
    return client


def test_no_distribution_cell_or_share_counts_fewer_than_k_people() -> None:
    world = _world()
    client = _client(world)
    kinds = dict(Question.objects.values_list("key", "kind"))
    checked = 0
    for run in world.runs.values():
        body = client.get(f"/api/runs/{run.pk}/results/").json()
        n = body["respondents"]
        assert n == RESPONDENTS
        assert not body["suppressed"]
        for question in body["questions"]:
            counts = [row["count"] for row in question["distribution"]]
            assert sum(count or 0 for count in counts) <= question["n"]
            for count in counts:
                checked += 1
                assert not _small(count), (question["key"], counts)
                if kinds[question["key"]] == QuestionKind.MULTI and count is not None:
                    assert not _small(question["n"] - count), (question["key"], counts)
        for share in ("ai_weekly_share", "ai_trust_share"):
            if body[share] is not None:
                count = round(body[share] * n / 100)
                checked += 1
                assert not _small(count), (share, body[share])
                assert not _small(n - count), (share, body[share])
        page = client.get(f"/runs/{run.pk}/").content.decode()
        shown = [int(c) for c in re.findall(r'<td class="count">(\d+)</td>', page)]
        assert shown
        assert not [c for c in shown if _small(c)], shown
    tally("attack 1: distribution cells and shares checked", checked)


def test_no_retro_heatmap_cell_counts_fewer_than_k_people() -> None:
    world = _world()
    client = _client(world)
    heatmap: dict[str, Any] = client.get(
        f"/api/teams/{world.teams['Seven'].slug}/retro-heatmap/"
    ).json()
    checked = 0
    for row in heatmap["rows"]:
        for cell in [*row["cells"], {"counts": row["shown_total"]}]:
            counts = cell["counts"]
            if counts is None:
                continue
            for effect in ("helped", "hurt", "chose_not"):
                checked += 1
                assert not _small(counts[effect]), (row["category"], counts)
                if counts[effect] is not None:
                    assert not _small(counts["people"] - counts[effect]), (row["category"], counts)
    assert checked
    page = client.get(f"/teams/{world.teams['Seven'].slug}/").content.decode()
    for helped, hurt, chose in re.findall(r"(\d+) helped · (\d+) hurt · (\d+) chose not", page):
        assert not [c for c in map(int, (helped, hurt, chose)) if _small(c)]
    tally("attack 1: retro heatmap counts checked", checked)
