"""The disclosure control of one question's figures, checked by brute force: an attacker
who knows the whole algorithm enumerates every answer set of n people, keeps those that
publish exactly what was published (n, bins, shares, mean, interval, precision) and looks
for a count of 1..k − 1 people that all of them share — alone, or knowing their own
answer. Written without the module's universe or classes, so it checks them."""

from __future__ import annotations

import itertools
import random
from collections import defaultdict
from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from surveys import disclosure
from surveys.anonymity import ordered_bins

K = 5


def counts_of(answers: Sequence[int], steps: int) -> tuple[int, ...]:
    return tuple(answers.count(step) for step in range(steps))


def publication(shape: disclosure.Shape, counts: Sequence[int], share: tuple[int, int] | None):
    """Everything a reader sees of one group: the facts and the released figures."""
    values = shape.values
    shares = [(*share, sum(counts[share[0] : share[1]]))] if share else []
    in_groups = [sum(counts[i] for i in group) for group in shape.groups]
    facts = disclosure.published_facts(in_groups, K, shares)
    total = sum(c * v for c, v in zip(counts, values, strict=True))
    squares = sum(c * v * v for c, v in zip(counts, values, strict=True))
    return facts, disclosure.release(shape, facts, total, squares, K)


def small(count: int, people: int) -> bool:
    """A count that singles out 1..k − 1 people: neither none nor everyone, and it or the
    rest under k."""
    return 0 < count < people and (count < K or people - count < K)


def pinned(worlds: list[tuple[int, ...]], people: int, minus: int | None = None) -> list:
    """The contiguous ranges whose count (of the others, when `minus` is the attacker's
    own step) is the same small number in every world."""
    steps = len(worlds[0])
    found = []
    for start in range(steps):
        for stop in range(start + 1, steps + 1):
            if (start, stop) == (0, steps):
                continue
            seen = {
                sum(w[start:stop]) - (minus is not None and start <= minus < stop) for w in worlds
            }
            if len(seen) == 1 and small(next(iter(seen)), people):
                found.append((start, stop, next(iter(seen))))
    return found


def fixed_by_facts(worlds: list[tuple[int, ...]]) -> set[tuple[int, int]]:
    """Ranges whose count every world of these facts shares (unions of whole bins, shares):
    "my bin minus me" is inherent to any threshold."""
    steps = len(worlds[0])
    return {
        (start, stop)
        for start in range(steps)
        for stop in range(start + 1, steps + 1)
        if len({sum(w[start:stop]) for w in worlds}) == 1
    }


def attack(shape: disclosure.Shape, n: int, share: tuple[int, int] | None = None) -> dict:
    """Every answer set of n people, grouped by what it publishes; the pins found."""
    steps = len(shape.values)
    by_output: dict = defaultdict(list)
    by_facts: dict = defaultdict(list)
    for answers in itertools.combinations_with_replacement(range(steps), n):
        counts = counts_of(list(answers), steps)
        facts, released = publication(shape, counts, share)
        by_output[(facts, released)].append(counts)
        by_facts[facts].append(counts)
    found: dict = {"outputs": len(by_output), "pins": [], "shown": 0}
    for (facts, released), worlds in by_output.items():
        found["shown"] += released.mean is not None
        for where in pinned(worlds, n):
            found["pins"].append(("reader", released, worlds[0], where))
        inherent = fixed_by_facts(by_facts[facts])
        for mine in range(steps):
            mine_worlds = [w for w in worlds if w[mine] > 0]
            if not mine_worlds:
                continue
            for start, stop, _ in pinned(mine_worlds, n - 1, minus=mine):
                if (start, stop) not in inherent:
                    found["pins"].append(("respondent", mine, released, worlds[0], (start, stop)))
    return found


@pytest.mark.parametrize(("steps", "n"), [(5, 5), (5, 6), (5, 7), (7, 5), (7, 6), (7, 8), (4, 9)])
def test_no_answer_set_publishes_a_figure_that_pins_a_count(steps: int, n: int) -> None:
    found = attack(disclosure.Shape.scale(1, steps), n)
    assert found["pins"] == []
    assert found["shown"] > 0  # the release publishes means at all


def test_a_shown_share_is_part_of_what_the_mean_is_audited_against() -> None:
    # The usage item: a share counts the top three of five steps.
    found = attack(disclosure.Shape.scale(1, 5), 6, share=(2, 5))
    assert found["pins"] == []


def test_a_percentage_in_buckets_pins_nothing() -> None:
    values = (-20, 0, 20, 50)
    groups = ((0,), (1,), (2, 3))  # the last bucket holds two answer values
    shape = disclosure.Shape(values, groups, -20, 50, disclosure.PERCENT_LEVELS)
    found = attack(shape, 6)
    assert found["pins"] == []


def test_the_attack_finds_the_leak_of_an_exact_mean_and_interval(monkeypatch) -> None:
    # The guard removed: every group published at the finest level, as before the release
    # layer. The same attacker then pins counts (here: on almost every output).
    finest = len(disclosure.SCALE_LEVELS) - 1

    class Finest(dict):
        def get(self, key, default=None):
            return finest

    monkeypatch.setattr(disclosure, "_levels", lambda shape, facts, k: Finest())
    found = attack(disclosure.Shape.scale(1, 5), 6)
    assert len(found["pins"]) > 10


def test_the_released_interval_holds_the_exact_one_and_the_mean() -> None:
    rng = random.Random(7)
    shape = disclosure.Shape.scale(1, 7)
    for _ in range(300):
        n = rng.randint(5, 25)
        answers = [rng.randint(1, 7) for _ in range(n)]
        counts = counts_of([a - 1 for a in answers], 7)
        _, released = publication(shape, counts, None)
        if released.mean is None:
            continue
        mean = sum(answers) / n
        assert abs(released.mean - mean) <= released.precision + 1e-9
        assert released.low <= mean <= released.high
        assert released.low < released.high  # never zero width


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=6), min_size=5, max_size=40))
def test_the_universe_is_every_answer_set_with_the_same_bins(answers: list[int]) -> None:
    counts = counts_of(answers, 7)
    facts = disclosure.published_facts(list(counts), K)
    universe = disclosure.universe(disclosure.Shape.scale(1, 7), facts, K)
    assert universe is not None
    rows = {tuple(row) for row in universe.tolist()}
    assert counts in rows
    assert all(sum(row) == len(answers) for row in rows)
    assert all(
        [(b.start, b.stop) for b in ordered_bins(list(row), K)]
        == [(start, stop) for start, stop, _ in facts.bins]
        for row in rows
    )
    if len(answers) <= 9:  # small enough to list every answer set
        every = {
            counts_of(list(c), 7)
            for c in itertools.combinations_with_replacement(range(7), len(answers))
        }
        assert rows == {c for c in every if disclosure.published_facts(list(c), K) == facts}
