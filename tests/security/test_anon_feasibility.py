"""Anonymity attack 5: solving for the counts (docs/DESIGN.md §2.2, "nor by solving for it").

A question's bins hold 0 or at least k people, but its n and a mean and interval are
published too; with n of 5–10 on a 5- or 7-step scale an exact mean and interval (which
gives the SD back) admit very few count vectors, and the bin rule prunes the rest. The
release layer (surveys.disclosure) publishes the mean only as a cell of a grid and the
interval rounded outward to it, or one computed from the cell alone, at the finest grid
its audit finds safe; every other figure is computed from those. A respondent also knows
their own answer.

The solver (tests/security/feasibility.py) is checked first on its own, against brute
force over the release's own functions and on hand-made groups. Then every surface is read
as each role (tests/security/feasibility_surfaces.py), on a generated organisation (teams
of 5 to 10, random and adversarial answers) and on the demo; every figure read is checked
against the stored release (a question's) or the function of it it should be (constructs,
team-periods, heatmap, shares, trust gap); and every (run, question) group and every trust
table is solved from the outside and as each of its respondents could. The test passes
when the model never excludes the true answers, every figure is released or derived, no
count of 1 to k − 1 people is pinned and no group was too big to solve. With the guard
removed (every group at the finest level) the same attack pins counts.
"""

from __future__ import annotations

import itertools
import math
import random
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from analytics.insights import noise
from analytics.insights import release as app_release
from analytics.insights import stats as app_stats
from analytics.insights.aggregation.queries import AI_TRUST_A_LOT, AI_USAGE_WEEKLY
from analytics.insights.models import QuestionAggregate, RunSummary, TeamRollup
from analytics.insights.stats import PERCENT_BUCKETS
from surveys import disclosure
from surveys.anonymity import ordered_bins
from surveys.people.models import Organisation, Role, Team
from surveys.pulses.models import (
    PERCENT_STEPS,
    PulseRun,
    Question,
    QuestionKind,
    RunQuestion,
    RunStatus,
)
from surveys.retros.models import RetroSession
from tests.security import feasibility
from tests.security.access_world import figures_record
from tests.security.anon_surfaces import urls
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    refresh_everything,
    tally,
)
from tests.security.feasibility import (
    Bin,
    Estimate,
    Finding,
    Grid,
    Group,
    Interval,
    Released,
    TrustTable,
    grids_for,
    solve,
    solve_trust,
    trust_figures,
)
from tests.security.feasibility_surfaces import (
    PARSED,
    UNPARSED,
    ItemRelease,
    Pages,
    Reading,
    Tally,
    Truth,
    attack_cells,
    bins_of,
    categories_of,
    cells,
    check_derived,
    read,
    read_json,
    steps_of,
    unclassified,
)
from tests.security.feasibility_world import (
    SEED,
    TEAMS,
    AnsweredWorld,
    _profile_answers,
    generated_world,
    true_counts,
    true_pairs,
)

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]

SEVEN = tuple(range(1, 8))
# The organisation the guard-removed attack runs on: small, a run each.
GUARD_TEAMS = tuple(team for team in TEAMS if team[0] in ("Five", "Seven", "Dissent", "Extremes"))
FIVE = tuple(range(1, 6))

# --- the solver on its own ---------------------------------------------------------------------


def published(
    counts: Sequence[int],
    values: Sequence[int] = SEVEN,
    *,
    k: int = 5,
    decimals: int | None = None,
    sd: bool = True,
    categories: tuple[tuple[int, ...], ...] | None = None,
) -> Group:
    """What the app publishes about these counts, computed by the app's own functions
    (stats.estimates, anonymity.ordered_bins): JSON floats, or printed to `decimals`."""
    n = sum(counts)
    total = float(sum(c * v for c, v in zip(counts, values, strict=True)))
    squares = float(sum(c * v * v for c, v in zip(counts, values, strict=True)))
    low, high = float(values[0]), float(values[-1])
    mean, spread, ci_low, ci_high = (
        float(a[0])
        for a in app_stats.estimates(
            np.array([n]),
            np.array([total]),
            np.array([squares]),
            np.array([low]),
            np.array([high]),
        )
    )
    per_category = (
        [sum(counts[s] for s in steps) for steps in categories] if categories else list(counts)
    )
    bins = tuple(
        Bin(r.start, r.stop - 1, sum(per_category[i] for i in r))
        for r in ordered_bins(per_category, k)
    )

    def shown(value: float) -> Interval:
        if decimals is None:
            return Interval.exact(value)
        return Interval.printed(round(value, decimals), decimals)

    estimate = Estimate(
        mean=shown(mean),
        sd=shown(spread) if sd else None,
        ci_low=shown(ci_low),
        ci_high=shown(ci_high),
        clip=(low, high),
    )
    return Group(
        values=tuple(values),
        k=k,
        sizes=(n,),
        bins=bins,
        categories=categories,
        estimates=(estimate,),
    )


def compositions(n: int, parts: int) -> Iterator[tuple[int, ...]]:
    for bars in itertools.combinations(range(n + parts - 1), parts - 1):
        edges = (-1, *bars, n + parts - 1)
        yield tuple(b - a - 1 for a, b in itertools.pairwise(edges))


def brute_force(group: Group) -> list[tuple[int, ...]]:
    """Every count vector tried, published by the app's functions and compared with the
    group: those that fit."""
    (n,) = group.sizes
    steps = group.category_steps()
    found = []
    for vector in compositions(n, len(group.values)):
        per_category = [sum(vector[s] for s in c) for c in steps]
        bins = tuple(
            Bin(r.start, r.stop - 1, sum(per_category[i] for i in r))
            for r in ordered_bins(per_category, group.k)
        )
        if group.bins is not None and bins != group.bins:
            continue
        if all(_app_fits(vector, group, e) for e in group.estimates):
            found.append(vector)
    return found


def range_counts(
    vectors: list[tuple[int, ...]], own: int | None
) -> dict[tuple[int, int], frozenset[int]]:
    """The counts of every run of steps over these vectors (of the others with own)."""
    found: dict[tuple[int, int], set[int]] = {}
    for vector in vectors:
        if own is not None and not vector[own]:
            continue
        for first in range(len(vector)):
            for last in range(first, len(vector)):
                mine = 1 if own is not None and first <= own <= last else 0
                found.setdefault((first, last), set()).add(sum(vector[first : last + 1]) - mine)
    return {key: frozenset(v) for key, v in found.items()}


def _app_fits(vector: Sequence[int], group: Group, estimate: Estimate) -> bool:
    n = sum(vector)
    total = float(sum(c * v for c, v in zip(vector, group.values, strict=True)))
    squares = float(sum(c * v * v for c, v in zip(vector, group.values, strict=True)))
    low, high = estimate.clip
    figures = app_stats.estimates(
        np.array([n]),
        np.array([total]),
        np.array([squares]),
        np.array([low]),
        np.array([high]),
    )
    for value, interval in zip(
        figures, (estimate.mean, estimate.sd, estimate.ci_low, estimate.ci_high), strict=True
    ):
        if interval is not None and float(value[0]) not in interval:
            return False
    return True


def test_the_solver_pins_a_lone_dissenter_from_the_api_and_from_the_page_alone() -> None:
    # Four people "Neither agree nor disagree", one "Somewhat disagree": one bin of five.
    counts = [0, 0, 1, 4, 0, 0, 0]
    for group in (published(counts), published(counts, decimals=1, sd=False)):
        assert group.bins == (Bin(0, 3, 5), Bin(4, 6, 0))
        solution = solve(group)
        assert solution.vectors == 1
        assert Finding(2, 2, 1) in solution.pinned
        assert solution.admits(counts, group)


def test_the_solver_pins_nothing_from_the_bins_alone() -> None:
    rng = random.Random(5)
    for _ in range(40):
        values = rng.choice((FIVE, SEVEN))
        counts = [0] * len(values)
        for _ in range(rng.randint(5, 12)):
            counts[rng.randrange(len(values))] += 1
        group = published(counts, values)
        bare = Group(values=values, k=5, sizes=group.sizes, bins=group.bins)
        solution = solve(bare)
        assert solution.pinned == [], (counts, solution.pinned)
        assert solution.admits(counts, bare)


def test_the_solver_pins_nothing_from_a_coarse_release() -> None:
    # A release that gives the mean on a grid of 0.5 (± 0.25), no SD, the interval on a
    # grid of 1: many vectors fit and no count is the same in all of them.
    counts = [1, 0, 2, 2, 3, 1, 1]
    exact = published(counts)
    mean = exact.estimates[0].mean
    assert mean is not None
    centre = round((mean.lo + mean.hi) / 2 * 2) / 2
    coarse = Group(
        values=SEVEN,
        k=5,
        sizes=exact.sizes,
        bins=exact.bins,
        estimates=(Estimate(mean=Interval.around(centre, 0.25), clip=(1.0, 7.0)),),
    )
    solution = solve(coarse)
    assert solution.vectors > 10
    assert solution.pinned == []
    assert solve(exact).pinned  # the same group as published today


@pytest.mark.parametrize("seed", range(6))
def test_the_solver_agrees_with_brute_force(seed: int) -> None:
    """The counts of every run of steps, over every vector that fits, equal brute force's:
    from the outside and knowing each answer, on exact and printed figures, 5 and 7 steps,
    k of 5 and 6, and a percentage question's buckets of several steps."""
    rng = random.Random(seed)
    percent = (-50, -30, -20, -10, 0, 10, 20, 30, 50, 75, 100)
    buckets = ((0, 1), (2, 3), (4,), (5, 6), (7, 8), (9, 10))
    for trial in range(8):
        if trial == 7:
            values, categories, n = percent, buckets, rng.randint(5, 6)
        else:
            values, categories, n = rng.choice((FIVE, SEVEN)), None, rng.randint(5, 8)
        counts = [0] * len(values)
        for _ in range(n):
            counts[min(len(values) - 1, max(0, round(rng.gauss(len(values) / 2, 1.5))))] += 1
        k = rng.choice((5, 5, 6)) if n >= 6 else 5
        decimals = rng.choice((None, 1, 0))
        group = published(counts, values, k=k, decimals=decimals, categories=categories)
        fitting = brute_force(group)
        assert tuple(counts) in fitting
        for own in (None, *(i for i, c in enumerate(counts) if c)):
            solution = solve(group, own)
            assert solution.admits(counts, group), (counts, own)
            assert solution.values == range_counts(fitting, own), (counts, own, decimals)


def test_a_respondent_of_a_group_of_k_tells_what_is_inherent_from_what_is_pinned() -> None:
    # n = k = 5: the bin of all five is published; "the others are four" is inherent to k,
    # but the figures pin where the other four are.
    counts = [0, 0, 0, 1, 1, 3, 0]
    group = published(counts)
    solution = solve(group, own=5)
    assert Finding(0, 6, 4) not in solution.pinned  # the others, all of them: n − 1
    assert solution.inherent or solution.pinned
    assert Finding(3, 3, 1) in solution.pinned or Finding(5, 5, 2) in solution.pinned
    assert all(0 < f.count < 5 for f in solution.pinned)


def test_the_solver_reports_a_group_too_big_to_solve(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(feasibility, "STATE_CAP", 3)
    group = Group(
        values=SEVEN, k=5, sizes=(20,), estimates=(Estimate(mean=Interval.around(4.0, 0.25)),)
    )
    solution = solve(group)
    assert solution.skipped is not None
    assert "states" in solution.skipped
    assert not solution.pinned


def test_the_solver_solves_sixty_people_on_seven_steps_without_giving_up() -> None:
    rng = random.Random(60)
    counts = [0] * 7
    for _ in range(60):
        counts[min(6, max(0, round(rng.gauss(3.5, 1.5))))] += 1
    exact = published(counts)
    mean = sum(c * v for c, v in zip(counts, SEVEN, strict=True)) / 60
    spread = exact.estimates[0].sd
    assert spread is not None
    coarse = Estimate(
        mean=Interval.around(round(mean * 2) / 2, 0.25),
        sd=Interval.around(round(spread.lo * 2) / 2, 0.25),
        clip=(1.0, 7.0),
    )
    groups = (
        exact,  # the API today
        published(counts, decimals=1, sd=False),  # the page today
        replace(exact, estimates=(coarse,)),  # a coarse release with the bins
        Group(values=SEVEN, k=5, sizes=(60,), estimates=(coarse,)),  # ... and without them
    )
    for group in groups:
        solution = solve(group, own=3)
        assert solution.skipped is None
        assert solution.admits(counts, group)


def test_the_solver_counts_past_sixty_four_people() -> None:
    # Nothing published but n: every run of steps holds anything from 0 to n.
    solution = solve(Group(values=FIVE, k=5, sizes=(70,)))
    assert solution.values[(1, 2)] == frozenset(range(71))
    assert solution.vectors == math.comb(74, 4)


# --- the released figures (surveys.disclosure), modelled -------------------------------------


PERCENT_SHAPE = app_release.shape_of(
    Question(kind=QuestionKind.PERCENT, scale_min=-50, scale_max=100)
)


def test_the_ladder_is_the_release_s() -> None:
    assert feasibility.SCALE_LADDER == disclosure.SCALE_LEVELS
    assert feasibility.PERCENT_LADDER == disclosure.PERCENT_LEVELS
    assert PERCENT_SHAPE.values == PERCENT_STEPS
    assert len(PERCENT_SHAPE.groups) == len(PERCENT_BUCKETS)


def app_publishes(
    shape: disclosure.Shape, counts: Sequence[int], level: tuple[float, str]
) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high) these counts publish at a level of the ladder, by the
    release's own functions (`_keys`, `bound_interval`), as `disclosure.release` does."""
    values = np.array(shape.values, dtype=np.int64)
    vector = np.array(counts, dtype=np.int64)
    n = int(vector.sum())
    total, squares = int(vector @ values), int(vector @ (values * values))
    grid, kind = level
    keys = disclosure._keys(shape, n, np.array([total]), np.array([squares]), level)[0]
    if kind == "t":
        low, high = float(keys[1]) * grid, float(keys[2]) * grid
    else:
        low, high = disclosure.bound_interval(shape, n, float(keys[0]) * grid, grid)
    return round((float(keys[0]) + 0.5) * grid, 6), round(low, 6), round(high, 6)


def released_group(
    shape: disclosure.Shape,
    counts: Sequence[int],
    level: tuple[float, str],
    *,
    k: int = 5,
    printed: bool = False,
) -> Group:
    """What a group publishes at a level: the bins and the released figures, read as JSON
    floats or as the run page prints them (1 decimal, precision to 2)."""
    mean, low, high = app_publishes(shape, counts, level)
    per_group = [sum(counts[i] for i in steps) for steps in shape.groups]
    bins = tuple(
        Bin(r.start, r.stop - 1, sum(per_group[i] for i in r)) for r in ordered_bins(per_group, k)
    )

    def read(value: float, decimals: int) -> Interval:
        return (
            Interval.printed(round(value, decimals), decimals) if printed else Interval.exact(value)
        )

    ladder = (
        feasibility.PERCENT_LADDER
        if shape.levels == disclosure.PERCENT_LEVELS
        else feasibility.SCALE_LADDER
    )
    released = Released(
        mean=read(mean, 1),
        grids=grids_for(read(level[0] / 2, 2), ladder),
        low=shape.low,
        high=shape.high,
        ci_low=read(low, 1),
        ci_high=read(high, 1),
    )
    percent = len(shape.groups) != len(shape.values)
    return Group(
        values=shape.values,
        k=k,
        sizes=(sum(counts),),
        bins=bins,
        categories=shape.groups if percent else None,
        releases=(released,),
    )


def released_brute_force(shape: disclosure.Shape, group: Group) -> list[tuple[int, ...]]:
    """Every count vector with the group's bins that publishes what it read at some level
    of the ladder with a grid the read precision allows (the release's own functions)."""
    (n,) = group.sizes
    (released,) = group.releases
    steps = {grid.step for grid in released.grids}
    levels = [level for level in shape.levels if level[0] in steps]
    found = []
    for vector in compositions(n, len(shape.values)):
        per_group = [sum(vector[i] for i in g) for g in shape.groups]
        bins = tuple(
            Bin(r.start, r.stop - 1, sum(per_group[i] for i in r))
            for r in ordered_bins(per_group, group.k)
        )
        if bins != group.bins:
            continue
        for level in levels:
            published_figures = app_publishes(shape, vector, level)
            read = (released.mean, released.ci_low, released.ci_high)
            if all(i is None or v in i for v, i in zip(published_figures, read, strict=True)):
                found.append(vector)
                break
    return found


@pytest.mark.parametrize("seed", range(4))
def test_the_released_figures_model_agrees_with_the_release_and_brute_force(seed: int) -> None:
    """At every level of the ladder (a "t" and a "bound" interval, every grid), read as
    JSON or as printed: the solver's counts of every run of steps equal those of brute
    force over the release's own functions, the true counts always among them — and the
    level the release really chose is one of them."""
    rng = random.Random(seed)
    for trial in range(6):
        if trial == 5:
            shape, n = PERCENT_SHAPE, rng.randint(5, 6)
        else:
            shape = disclosure.Shape.scale(1, rng.choice((5, 7)))
            n = rng.randint(5, 8)
        counts = [0] * len(shape.values)
        for _ in range(n):
            centre = len(counts) / 2
            counts[min(len(counts) - 1, max(0, round(rng.gauss(centre, 1.5))))] += 1
        levels = list(shape.levels)
        chosen = disclosure.release(
            shape,
            disclosure.published_facts([sum(counts[i] for i in g) for g in shape.groups], 5),
            int(np.dot(counts, shape.values)),
            int(np.dot(counts, np.square(shape.values))),
            5,
        )
        for level in (rng.choice(levels), rng.choice(levels)):
            group = released_group(shape, counts, level, printed=rng.random() < 0.3)
            fitting = released_brute_force(shape, group)
            assert tuple(counts) in fitting
            for own in (None, *(i for i, c in enumerate(counts) if c)):
                solution = solve(group, own)
                assert solution.admits(counts, group), (counts, level, own)
                assert solution.values == range_counts(fitting, own), (counts, level, own)
        if chosen.mean is not None:
            assert chosen.precision is not None
            assert any(
                app_publishes(shape, counts, level) == (chosen.mean, chosen.low, chosen.high)
                for level in levels
                if level[0] == 2 * chosen.precision
            )


def test_an_exact_mean_and_interval_pin_a_lone_dissenter_and_the_release_does_not() -> None:
    # Five "4" and one "1" on five steps: one bin of six. At the finest level the mean's
    # cell and the t interval (the SD) pin the "1"; the release's own choice (3.5 ± 0.5,
    # 2 to 5) pins nothing, from the outside or for any of the six.
    shape = disclosure.Shape.scale(1, 5)
    counts = [1, 0, 0, 5, 0]
    finest = solve(released_group(shape, counts, shape.levels[-1]))
    assert Finding(0, 0, 1) in finest.pinned
    chosen = disclosure.release(shape, disclosure.published_facts(counts, 5), 21, 81, 5)
    assert chosen.mean is not None
    assert chosen.precision is not None
    released = Released(
        mean=Interval.exact(chosen.mean),
        grids=grids_for(Interval.exact(chosen.precision), feasibility.SCALE_LADDER),
        low=1.0,
        high=5.0,
        ci_low=Interval.exact(chosen.low),
        ci_high=Interval.exact(chosen.high),
    )
    group = replace(released_group(shape, counts, shape.levels[0]), releases=(released,))
    for own in (None, 0, 3):
        solution = solve(group, own)
        assert solution.pinned == [], (own, solution.pinned)
        assert solution.admits(counts, group)


def _trust_table(weekly: int, trusting: int, n: int, *, interval: bool) -> TrustTable:
    gap, low, high = trust_figures(weekly, n, trusting, n)
    return TrustTable(
        k=5,
        n=n,
        gap=Interval.exact(gap),
        gap_low=Interval.exact(low) if interval else None,
        gap_high=Interval.exact(high) if interval else None,
        weekly_share=Interval.exact(100 * weekly / n),
        trusting_share=Interval.exact(100 * trusting / n),
    )


def test_the_trust_gap_says_nothing_of_how_the_shares_pair() -> None:
    # Ten answered both, five use AI weekly and five trust it: 0 to 5 do both.
    solution = solve_trust(_trust_table(5, 5, 10, interval=True))
    assert solution.pinned == []
    assert {cells[0] for cells in solution.tables_fit} == set(range(6))
    # Everyone uses AI weekly, five trust it: "weekly & trusting" is the trusting share
    # itself, so knowing one's own cell, "the others who do both" is inherent, not pinned.
    table = _trust_table(10, 5, 10, interval=True)
    for own in (None, 0, 1):
        mine = solve_trust(table, own)
        assert mine.pinned == [], (own, mine.pinned)
        assert (5, 5, 0, 0) in mine.tables_fit
    assert solve_trust(table, 0).inherent


def test_the_trust_table_solver_finds_a_share_cut_inside_a_bin() -> None:
    # Were the trusting share shown for three of seven (a count inside a bin), the table
    # would pin it, and with everyone a weekly user, the four who do not trust.
    solution = solve_trust(
        TrustTable(
            k=5,
            n=7,
            weekly_share=Interval.exact(100.0),
            trusting_share=Interval.exact(300 / 7),
        )
    )
    assert ("trusting", 3) in solution.pinned
    assert ("weekly, not trusting", 4) in solution.pinned
    assert solution.tables_fit == {(3, 4, 0, 0)}


# --- the reader, on what the release layer publishes -------------------------------------------


def _near(interval: Interval | None, low: float, high: float) -> bool:
    return interval is not None and abs(interval.lo - low) < 1e-5 and abs(interval.hi - high) < 1e-5


def test_the_reader_takes_the_released_figures_and_treats_missing_ones_as_unknown() -> None:
    bank = {q.key: q for q in Question.objects.all()}
    everyone = [{"label": "Strongly disagree – Strongly agree", "count": 6}]
    document = {
        "run": {"id": 1, "team": "t", "period_start": "2026-01-05", "k": 5},
        "respondents": 6,
        "trust_gap": None,
        "questions": [
            {
                "key": "devex_flow",
                "n": 6,
                "mean": 3.5,
                "precision": 0.5,  # a grid of 1: a "bound" or a "t" interval
                "ci_low": 2.0,
                "ci_high": 5.0,
                "distribution": everyone,
            },
            {"key": "devex_feedback_loops", "mean": None, "distribution": everyone},  # no n
        ],
    }
    reading = Reading()
    read_json("api-run-results", document, reading, bank)
    found, _, _ = cells(reading, bank, {1: ["devex_flow", "devex_feedback_loops"]})
    flow, loops = (
        next(c for c in found if c.key == key) for key in ("devex_flow", "devex_feedback_loops")
    )
    assert flow.group.estimates == ()  # no SD, nothing exact
    (released,) = flow.group.releases
    assert _near(released.mean, 3.5, 3.5)
    assert released.grids == (Grid(1.0, frozenset({"bound", "t"})),)
    assert _near(released.ci_low, 2.0, 2.0)
    assert flow.group.bins == (Bin(0, 4, 6),)
    assert loops.group.sizes == (6,)  # n from the bins
    assert loops.group.releases == ()
    assert solve(loops.group).pinned == []


def test_the_reader_takes_a_page_as_printed() -> None:
    bank = {q.key: q for q in Question.objects.all()}
    text, other = bank["devex_flow"].text, bank["devex_feedback_loops"].text
    row = (
        '<tr><th scope="row">Strongly disagree – Strongly agree</th><td class="bar-cell">'
        '</td><td class="count">6</td></tr></section>'
    )
    body = (
        '<p class="muted">Closed · answers from 1 Jan to 4 Jan · k = 5</p><p>n = 6</p>'
        f'<section class="card question-result"><h3>{text}</h3>'
        '<p>Mean <strong>3.5</strong> <span class="muted">± 0.13</span> '
        "(95 % CI 2.1 to 4.9) · n = 6</p>" + row + '<section class="card question-result">'
        f'<h3>{other}</h3><p><span class="muted">Mean not shown: with this spread of answers '
        "it would single out fewer than 5 people.</span> · n = 6</p>" + row
    )
    reading = Reading()
    Pages("run-results", reading, bank).run_results(body, 1)
    found, _, _ = cells(reading, bank, {1: ["devex_flow", "devex_feedback_loops"]})
    flow, loops = (
        next(c for c in found if c.key == key) for key in ("devex_flow", "devex_feedback_loops")
    )
    (released,) = flow.group.releases
    assert _near(released.mean, 3.45 - 1e-9 * 3.5, 3.55 + 1e-9 * 3.5)
    assert released.grids == (Grid(0.25, frozenset({"t"})),)  # 0.125 printed as 0.13
    assert _near(released.ci_low, 2.05 - 1e-9 * 2.1, 2.15 + 1e-9 * 2.1)
    assert flow.group.k == 5
    assert loops.group.bins == (Bin(0, 4, 6),)
    assert loops.group.releases == ()


# --- the app, read as each role ----------------------------------------------------------------


def _truth(run_ids: list[int]) -> Truth:
    released = {
        (run, key): ItemRelease(n, mean, low, high, precision)
        for run, key, n, mean, low, high, precision in QuestionAggregate.objects.filter(
            run_id__in=run_ids
        ).values_list("run_id", "question__key", "n", "mean", "ci_low", "ci_high", "precision")
    }
    respondents = dict(
        RunSummary.objects.filter(run_id__in=run_ids, respondents__isnull=False).values_list(
            "run_id", "respondents"
        )
    )
    return Truth(
        counts=true_counts(run_ids),
        pairs=true_pairs(run_ids, AI_USAGE_WEEKLY, AI_TRUST_A_LOT),
        released=released,
        respondents=respondents,
    )


def _asked(run_ids: list[int]) -> dict[int, list[str]]:
    asked: dict[int, list[str]] = {}
    rows = RunQuestion.objects.filter(run_id__in=run_ids).order_by("position")
    for run_id, key in rows.values_list("run_id", "question__key"):
        asked.setdefault(run_id, []).append(key)
    return asked


def attack(
    world: World, viewers: dict[str, Any], *, per_surface: bool = True
) -> tuple[dict[str, Tally], list[str]]:
    """Every role's tallies (joined across surfaces and, with `per_surface`, per surface;
    from the outside and as a respondent), and their lines."""
    bank = {q.key: q for q in Question.objects.all()}
    run_ids = list(
        PulseRun.objects.filter(
            team__organisation=world.organisation, status=RunStatus.CLOSED
        ).values_list("pk", flat=True)
    )
    truth, asked = _truth(run_ids), _asked(run_ids)
    groups = urls(world)
    tallies: dict[str, Tally] = {}
    lines: list[str] = []
    for role, viewer in viewers.items():
        reading = read(viewer, groups, bank)
        scopes: list[tuple[str, list[str] | None]] = [("joined", None)]
        if per_surface:
            scopes += [(surface, [surface]) for surface in sorted(reading.surfaces)]
        for scope, surfaces in scopes:
            found, trust_cells, _ = cells(reading, bank, asked, surfaces)
            derived = check_derived(reading, bank, asked, truth, surfaces)
            if not found and not trust_cells and not derived[0]:
                continue
            for own in (False, True):
                name = f"{role} [{scope}, {'own answer known' if own else 'outsider'}]"
                found_tally = attack_cells(name, reading, found, trust_cells, truth, own, derived)
                tallies[name] = found_tally
                lines.append(found_tally.line(name))
                if scope == "joined":
                    tally("attack 5: groups solved for their counts", found_tally.cells)
        found, _, notes = cells(reading, bank, asked)
        read_count = sum(reading.surfaces.values())
        lines.append(
            f"feasibility {role}: read {read_count} bodies of {len(reading.surfaces)} routes; "
            f"not solved: {dict(notes) or 'none'}; not tied to a run: "
            f"{dict(reading.unmapped) or 'none'}; released figures read: {_levels_read(found)}"
        )
    return tallies, lines


def _levels_read(found: Sequence[Any]) -> dict[str, int]:
    """How many groups were read at which grid (and interval kinds), or with no mean."""
    levels: Counter[str] = Counter()
    for cell in found:
        grids = {grid for released in cell.group.releases for grid in released.grids}
        if not grids:
            levels["no mean"] += 1
        elif len(grids) > 1:
            levels["grid unstated"] += 1
        else:
            (grid,) = grids
            levels[f"grid {grid.step:g} ({' or '.join(sorted(grid.kinds))})"] += 1
    return dict(sorted(levels.items()))


def assert_nothing_pinned(tallies: dict[str, Tally]) -> None:
    unsound = {name: t for name, t in tallies.items() if t.infeasible or t.excluded}
    assert not unsound, (
        "The model of the publication (feasibility.Released, the FIELD NAMES of "
        "feasibility_surfaces) excludes the true answers: an attacker whose model excludes "
        "the truth proves nothing; the model or the reading is wrong:\n"
        + "\n".join(f for t in unsound.values() for f in t.findings if "UNSOUND" in f)[:4000]
    )
    underived = {name: t for name, t in tallies.items() if t.underived}
    assert not underived, (
        "A derived figure is not the function of released figures it should be: a channel "
        "the per-question audit never saw:\n"
        + "\n".join(f for t in underived.values() for f in t.findings if "UNDERIVED" in f)[:4000]
    )
    leaking = {name: t for name, t in tallies.items() if t.pinned or t.skipped}
    if not leaking:
        return
    joined = [name for name in tallies if "[joined," in name]
    first_role = joined[0].split(" [")[0]
    surfaces = [
        name for name in tallies if name.startswith(f"{first_role} [") and name not in joined
    ]
    examples: list[str] = []
    for name in joined:
        found = [f for f in tallies[name].findings if "pinned" in f or "skipped" in f]
        trust = [f for f in found if "trust gap" in f]
        examples += found[:3] + trust[:1]
    pytest.fail(
        "Published figures pin counts of 1 to k − 1 people (integer feasibility):\n"
        + "\n".join(tallies[name].line(name) for name in joined)
        + f"\nSurface by surface, as {first_role}:\n"
        + "\n".join(tallies[name].line(name) for name in surfaces)
        + "\nFor example:\n"
        + "\n".join(examples),
        pytrace=False,
    )


def _record(
    request: pytest.FixtureRequest,
    name: str,
    tallies: dict[str, Tally],
    lines: list[str],
    seconds: float,
) -> None:
    figures: dict[str, Any] = {
        label: {
            "cells": t.cells,
            "pinned": t.pinned,
            "skipped": t.skipped,
            "inherent": t.inherent,
            "infeasible": t.infeasible,
            "excluded": t.excluded,
            "derived": t.derived,
            "underived": t.underived,
        }
        for label, t in tallies.items()
    }
    figures["seconds"] = round(seconds, 1)
    figures_record(request.config, name, figures, "\n".join(lines) + f"\n({seconds:.1f} s)")


def test_no_count_under_k_can_be_solved_for_in_a_generated_organisation(
    request: pytest.FixtureRequest,
) -> None:
    started = time.perf_counter()
    world, viewers = generated_world()
    tallies, lines = attack(world, viewers)
    _record(request, "feasibility-generated", tallies, lines, time.perf_counter() - started)
    assert any(t.cells for t in tallies.values())
    assert_nothing_pinned(tallies)


def test_the_attack_pins_counts_when_the_guard_is_removed(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    """The same attack on an organisation released with the guard removed: every group
    published at the finest level of the ladder (the mean to an eighth of a step, the exact
    t interval rounded outward to it), as if the audit found every class safe. The attack
    must then pin counts — else finding none on the real release would prove nothing —
    and still never exclude the truth."""
    started = time.perf_counter()

    class Finest(dict):
        def get(self, key: Any, default: Any = None) -> int:
            return len(disclosure.SCALE_LEVELS) - 1  # both ladders: the last level

    assert len(disclosure.SCALE_LEVELS) == len(disclosure.PERCENT_LEVELS)
    monkeypatch.setattr(disclosure, "_levels", lambda shape, facts, k: Finest())
    # The release keeps tables in this process: none from before may answer for the
    # guard, and none made without it may outlive this test.
    app_release._table.cache_clear()
    request.addfinalizer(app_release._table.cache_clear)
    world, viewers = generated_world(GUARD_TEAMS, runs=1)
    tallies, lines = attack(world, {"admin": viewers["admin"]}, per_surface=False)
    _record(request, "feasibility-unguarded", tallies, lines, time.perf_counter() - started)
    outsider, respondent = (
        tallies[f"admin [joined, {scope}]"] for scope in ("outsider", "own answer known")
    )
    for found in (outsider, respondent):
        assert found.infeasible == 0
        assert found.excluded == 0
        assert found.underived == 0
    assert outsider.pinned >= outsider.cells // 4, outsider.line("unguarded")
    assert respondent.pinned >= outsider.pinned


PERCEIVED = (-50, -50, -20, -20, -20, -10)  # six answers to perceived speed, in %


# The roll-up's Laplace noise exceeds this many of its scales with probability e^−20.7,
# one in a billion: the attacker below treats anything beyond as impossible.
NOISE_SCALES = math.log(1e9)


def test_a_roll_up_of_one_run_pins_no_count_and_keeps_its_noise() -> None:
    """A parent whose only sub-team ran in a week: its roll-up (api-team-rollups, and the
    team-insights page) pools that run's six answers alone. Built from the answers' exact
    moments, its perceived speed's mean and t interval gave Σx and Σx² of the six, and
    with the published bins one vector: "1 at −10 %" was pinned beside a release showing
    only "−30 ± 10 %" and one bin of six. Released with noise, the attacker who knows the
    mechanism and treats any noise above a one-in-a-billion draw as impossible pins
    nothing, and the truth stays feasible. The draws are made once: a grandparent pooling
    the same run shows the same figures, and a refresh changes nothing."""
    world = AnsweredWorld()
    world.team("Top", 0)
    world.team("Parent", 0, parent="Top")
    world.team("Child", 6, parent="Parent")
    world.pulse("Child")
    random_answers = _profile_answers("random", random.Random(SEED))

    def answers(run: PulseRun, respondent: int) -> dict[str, Any]:
        return random_answers(run, respondent) | {"perceived_speed": PERCEIVED[respondent]}

    world.answers = answers
    world.run("Child w1", "Child", weeks_ago=1, answering=range(6))
    refresh_everything()
    run = world.runs["Child w1"]
    question = Question.objects.get(key="perceived_speed")
    aggregate = QuestionAggregate.objects.get(run=run, question=question)
    bins = bins_of(question, [(row["label"], row["count"]) for row in aggregate.distribution])
    client = Client()
    client.force_login(world.viewer("admin", "Top", Role.ADMIN))

    def read() -> list[dict[str, Any]]:
        return [
            client.get(f"/api/teams/{world.teams[name].slug}/rollups/").json()[0]
            for name in ("Parent", "Top")
        ]

    rollup, top = read()
    assert (rollup["shown"], rollup["teams"], rollup["respondents"]) == (True, 1, 6), rollup
    assert top == rollup  # one draw per pooled set of runs: nothing to average
    refresh_everything()
    assert read() == [rollup, top]  # drawn once, stored
    # Published again from scratch (every roll-up row gone, as when a root team is deleted
    # and recreated): the stored draw comes back, not a fresh one to average with.
    TeamRollup.objects.all().delete()
    refresh_everything()
    assert read() == [rollup, top]

    steps = steps_of(question)
    truth = [PERCEIVED.count(step) for step in steps]
    exact = sum(PERCEIVED) / len(PERCEIVED)
    assert rollup["perceived"] != pytest.approx(exact)  # the noise is there
    unit = (question.scale_max - question.scale_min) / noise.GRID
    scale = (noise.scales(1)[0] + 2) * unit / 6  # and the draw's discreteness and rounding
    group = Group(
        values=tuple(steps),
        k=run.k,
        sizes=(6,),
        bins=bins,
        categories=categories_of(question),
        estimates=(
            Estimate(
                mean=Interval.around(rollup["perceived"], NOISE_SCALES * scale),
                clip=(float(question.scale_min), float(question.scale_max)),
            ),
        ),
    )
    solution = solve(group)
    assert solution.admits(truth, group)
    labels = [f"{step} %" for step in steps]
    assert not solution.pinned, [f.describe(labels) for f in solution.pinned][:4]


@pytest.fixture
def demo(tmp_path: Any) -> World:
    with override_settings(DATA_DIR=tmp_path):
        call_command("seed_demo")
    organisation = Organisation.objects.get(slug="northwind")
    teams = Team.objects.filter(organisation=organisation)
    return World(
        organisation=organisation,
        teams={team.name: team for team in teams},
        runs={str(run.pk): run for run in PulseRun.objects.filter(team__in=teams)},
        sessions={str(s.pk): s for s in RetroSession.objects.filter(team__in=teams)},
    )


def test_no_count_under_k_can_be_solved_for_in_the_demo(
    demo: World, request: pytest.FixtureRequest
) -> None:
    started = time.perf_counter()
    from django.contrib.auth import get_user_model

    users = get_user_model().objects
    viewers = {
        "admin": users.get(username="admin"),
        "manager": users.get(username="omar"),
        "engineer": users.get(username="alex"),
        "facilitator": users.get(username="fran"),
    }
    assert RunSummary.objects.filter(run__team__organisation=demo.organisation).exists()
    tallies, lines = attack(demo, viewers)
    _record(request, "feasibility-demo", tallies, lines, time.perf_counter() - started)
    assert_nothing_pinned(tallies)


def test_every_route_is_read_or_classified() -> None:
    """A new page, API route or export is read for figures or classified with a reason."""
    assert unclassified() == []
    assert not PARSED.keys() & UNPARSED.keys()
