"""Anonymity attack 5: solving for the counts (docs/DESIGN.md §2.2, "nor by solving for it").

A question's bins hold 0 or at least k people, but its n, mean, SD and interval are
published too; with n of 5–10 on a 5- or 7-step scale, Σx and Σx² admit very few count
vectors, and the bin rule prunes the rest. The trust gap and its paired interval give both
discordant cells of the weekly-use × trust table. A respondent also knows their own answer.

The solver (tests/security/feasibility.py) is checked first on its own, against brute
force and on hand-made groups. Then every surface is read as each role
(tests/security/feasibility_surfaces.py), on a generated organisation (teams of 5 to 10,
random and adversarial answers) and on the demo, and every (run, question) group and
every trust table is solved from the outside and as each of its respondents could. The
test passes when no count of 1 to k − 1 people is pinned and no group was too big to solve.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from analytics.insights import stats as app_stats
from analytics.insights.aggregation.queries import AI_TRUST_A_LOT, AI_USAGE_WEEKLY
from surveys.anonymity import ordered_bins
from surveys.pulses.models import PulseRun, Question, RunQuestion, RunStatus
from tests.security import feasibility
from tests.security.access_world import figures_record
from tests.security.anon_surfaces import urls
from tests.security.anon_world import (
    World,
    anonymity_tally,  # noqa: F401
    tally,
)
from tests.security.feasibility import (
    Bin,
    Estimate,
    Finding,
    Group,
    Interval,
    TrustTable,
    solve,
    solve_trust,
    trust_figures,
)
from tests.security.feasibility_surfaces import (
    PARSED,
    UNPARSED,
    Pages,
    Reading,
    Tally,
    Truth,
    attack_cells,
    cells,
    read,
    read_json,
    unclassified,
)
from tests.security.feasibility_world import true_counts, true_pairs

pytestmark = [pytest.mark.dates, pytest.mark.django_db, pytest.mark.usefixtures("anonymity_tally")]

SEVEN = tuple(range(1, 8))
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


def _trust_table(a: int, b: int, both: int, n: int, *, interval: bool) -> TrustTable:
    gap, low, high = trust_figures(n, a, b)
    return TrustTable(
        k=5,
        n=n,
        gap=Interval.exact(gap),
        gap_low=Interval.exact(low) if interval else None,
        gap_high=Interval.exact(high) if interval else None,
    )


def test_the_trust_gap_and_its_interval_give_both_discordant_cells() -> None:
    # Seven answered both: one uses AI weekly without trusting it, two the reverse.
    table = _trust_table(1, 2, 2, 7, interval=True)
    solution = solve_trust(table)
    assert ("weekly, not trusting", 1) in solution.pinned
    assert ("trusting, not weekly", 2) in solution.pinned
    assert (2, 1, 2, 2) in solution.tables_fit


def test_the_trust_gap_alone_pins_nothing_here() -> None:
    # A gap of 0 over ten: a = b, anything from 0 to 5 each.
    solution = solve_trust(_trust_table(3, 3, 2, 10, interval=False))
    assert solution.pinned == []
    assert len(solution.tables_fit) > 5


# --- the reader, on what a release layer may publish ------------------------------------------


def _near(interval: Interval | None, low: float, high: float) -> bool:
    return interval is not None and abs(interval.lo - low) < 1e-5 and abs(interval.hi - high) < 1e-5


def test_the_reader_takes_a_stated_precision_and_treats_missing_figures_as_unknown() -> None:
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
                "precision": 0.25,  # for every figure of the object
                "sd": None,  # withheld
                "ci_low": {"value": 2.0, "half_width": 0.5},  # the figure with its own
                "ci_high": 5.0,
                "ci_high_precision": 0.5,  # a field next to the figure
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
    (estimate,) = flow.group.estimates
    assert _near(estimate.mean, 3.25, 3.75)
    assert estimate.sd is None
    assert _near(estimate.ci_low, 1.5, 2.5)
    assert _near(estimate.ci_high, 4.5, 5.5)
    assert flow.group.bins == (Bin(0, 4, 6),)
    assert loops.group.sizes == (6,)  # n from the bins
    assert loops.group.estimates == ()
    assert solve(loops.group).pinned == []


def test_the_reader_takes_a_page_as_printed() -> None:
    bank = {q.key: q for q in Question.objects.all()}
    text = bank["devex_flow"].text
    body = (
        '<p class="muted">Closed · answers from 1 Jan to 4 Jan · k = 5</p><p>n = 6</p>'
        f'<section class="card question-result"><h3>{text}</h3>'
        "<p>Mean <strong>3.50 ± 0.25</strong> (95 % CI 2.1 to 4.9) · n = 6</p>"
        '<tr><th scope="row">Strongly disagree – Strongly agree</th><td class="bar-cell">'
        '</td><td class="count">6</td></tr></section>'
    )
    reading = Reading()
    Pages("run-results", reading, bank).run_results(body, 1)
    found, _, _ = cells(reading, bank, {1: ["devex_flow"]})
    (estimate,) = found[0].group.estimates
    assert _near(estimate.mean, 3.245 - 1e-9 * 3.5, 3.755 + 1e-9 * 3.5)
    assert _near(estimate.ci_low, 2.05 - 1e-9 * 2.1, 2.15 + 1e-9 * 2.1)
    assert found[0].group.k == 5


# --- the app, read as each role ----------------------------------------------------------------


def _truth(run_ids: list[int]) -> Truth:
    return Truth(
        counts=true_counts(run_ids),
        pairs=true_pairs(run_ids, AI_USAGE_WEEKLY, AI_TRUST_A_LOT),
    )


def _asked(run_ids: list[int]) -> dict[int, list[str]]:
    asked: dict[int, list[str]] = {}
    rows = RunQuestion.objects.filter(run_id__in=run_ids).order_by("position")
    for run_id, key in rows.values_list("run_id", "question__key"):
        asked.setdefault(run_id, []).append(key)
    return asked


def attack(world: World, viewers: dict[str, Any]) -> tuple[dict[str, Tally], list[str]]:
    """Every role's tallies (joined across surfaces and per surface, from the outside and
    as a respondent), and their lines."""
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
        scopes += [(surface, [surface]) for surface in sorted(reading.surfaces)]
        for scope, surfaces in scopes:
            found, trust_cells, _ = cells(reading, bank, asked, surfaces)
            if not found and not trust_cells:
                continue
            for own in (False, True):
                name = f"{role} [{scope}, {'own answer known' if own else 'outsider'}]"
                found_tally = attack_cells(name, reading, found, trust_cells, truth, own)
                tallies[name] = found_tally
                lines.append(found_tally.line(name))
                if scope == "joined":
                    tally("attack 5: groups solved for their counts", found_tally.cells)
        _, _, notes = cells(reading, bank, asked)
        read_count = sum(reading.surfaces.values())
        lines.append(
            f"feasibility {role}: read {read_count} bodies of {len(reading.surfaces)} routes; "
            f"not solved: {dict(notes) or 'none'}; not tied to a run: "
            f"{dict(reading.unmapped) or 'none'}"
        )
    return tallies, lines


def assert_nothing_pinned(tallies: dict[str, Tally]) -> None:
    unsound = {name: t for name, t in tallies.items() if t.infeasible or t.excluded}
    assert not unsound, (
        "The published figures, read as intervals (feasibility_surfaces FIELD NAMES), exclude "
        "the true answers — a misreading; if the release layer adds noise, publish its bound "
        "as a precision field:\n"
        + "\n".join(f for t in unsound.values() for f in t.findings if "UNSOUND" in f)[:4000]
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
        }
        for label, t in tallies.items()
    }
    figures["seconds"] = round(seconds, 1)
    figures_record(request.config, name, figures, "\n".join(lines) + f"\n({seconds:.1f} s)")


def test_every_route_is_read_or_classified() -> None:
    """A new page, API route or export is read for figures or classified with a reason."""
    assert unclassified() == []
    assert not PARSED.keys() & UNPARSED.keys()
