"""The release layer: every survey figure a surface can show is made here, from the
disclosure control of one question's answers (`surveys.disclosure`), and stored released —
the summary tables hold nothing finer, so no page, API, export, chart, email or CLI can
read around it.

What is released per group (a run, n ≥ k):
- per question: n, the distribution in bins of 0 or ≥ k people, and the mean with its 95 %
  interval at the finest precision that pins no count of 1..k − 1 people (with or
  without one's own answer) — or no mean at all; never the SD;
- the AI-usage and trust shares: counts of whole steps, shown only when they and the rest
  are 0 or ≥ k (`surveys.anonymity.count_shown`); they are part of the facts the
  question's mean is audited against;
- everything else is computed from those released figures alone: a construct's score is
  the mean of its items' released means (mapped to 0–100, reversed where marked), its
  interval the mean of their intervals (wider than the interval of the mean, since an
  SD of a mean of items is at most the mean of their SDs); the trust gap is the
  difference of the two shown shares, with Newcombe's paired interval at the least
  favourable pairing the two shares allow (it holds whatever the pairing, and says
  nothing about how many people use AI weekly but do not trust it).

A figure computed from released figures reveals nothing they do not, so the guarantee of
`surveys.disclosure` (per question) carries over to every figure built here.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np
from scipy import stats

from analytics.insights.aggregation.queries import (
    AI_TRUST_A_LOT,
    AI_TRUST_KEY,
    AI_USAGE_KEY,
    AI_USAGE_WEEKLY,
)
from analytics.insights.models import ReleaseTable
from analytics.insights.stats import PERCENT_BUCKETS
from surveys.disclosure import (
    PERCENT_LEVELS,
    WITHHELD,
    Published,
    Release,
    Shape,
    Table,
    levels_table,
    published_facts,
    release,
    table_key,
)
from surveys.pulses.models import PERCENT_STEPS, QuestionKind

# A share counts its item's answers at or above the threshold ("weekly", "a lot").
SHARE_THRESHOLDS = {AI_USAGE_KEY: AI_USAGE_WEEKLY, AI_TRUST_KEY: AI_TRUST_A_LOT}
SHARE_CONFIDENCE = 0.95


class QuestionLike(Protocol):
    """What the release reads of a question (a surveys.pulses Question)."""

    key: str
    kind: str
    scale_min: int
    scale_max: int
    reverse_scored: bool


@lru_cache(maxsize=1024)
def _percent_shape(low: int, high: int) -> Shape:
    values = tuple(step for step in PERCENT_STEPS if low <= step <= high)
    groups = tuple(
        tuple(i for i, value in enumerate(values) if first <= value <= last)
        for _, first, last in PERCENT_BUCKETS
    )
    return Shape(values, groups, float(low), float(high), PERCENT_LEVELS)


@lru_cache(maxsize=1024)
def _scale_shape(low: int, high: int) -> Shape:
    return Shape.scale(low, high)


def shape_of(question: QuestionLike) -> Shape:
    """The values a question's answers take and the groups its distribution shows. A
    percentage is answered in the steps the form offers (PERCENT_STEPS); an answer off
    them makes the group's sums fall outside the audited universe, and its mean is then
    withheld."""
    if question.kind == QuestionKind.PERCENT:
        return _percent_shape(question.scale_min, question.scale_max)
    return _scale_shape(question.scale_min, question.scale_max)


def share_range(question: QuestionLike) -> tuple[int, int] | None:
    """The value indices a share of this question counts (the usage and trust items)."""
    threshold = SHARE_THRESHOLDS.get(question.key)
    if threshold is None or question.kind != QuestionKind.SCALE:
        return None
    return threshold - question.scale_min, question.scale_max - question.scale_min + 1


def _decoded(capped: bool, rows: bytes) -> Table | None:
    if capped:
        return None
    return Table.from_triples(np.frombuffer(bytes(rows), dtype="<i8").reshape(-1, 3))


def _store(key: str, table: Table | None) -> None:
    rows = b""
    if isinstance(table, Table):
        rows = table.triples().astype("<i8").tobytes()
    ReleaseTable.objects.bulk_create(
        [ReleaseTable(key=key, capped=table is None, rows=rows)], ignore_conflicts=True
    )


Universe = tuple[Shape, Published, int]  # (shape, facts, k)


class _Tables:
    """The audit tables this process holds, least recently used dropped past `size`: from
    here, else from the database (`prefetch` reads a batch's in one query), else
    computed and stored (concurrent workers may compute one twice; the first stored wins,
    and both are the same)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._held: OrderedDict[Universe, Table | None] = OrderedDict()

    def __call__(self, shape: Shape, facts: Published, k: int) -> Table | None:
        universe = (shape, facts, k)
        if universe in self._held:
            self._held.move_to_end(universe)
            return self._held[universe]
        self.prefetch([universe])
        if universe in self._held:
            return self._held[universe]
        table = levels_table(shape, facts, k)
        _store(table_key(*universe), table)
        self._hold(universe, table)
        return table

    def prefetch(self, universes: Iterable[Universe]) -> None:
        """Read the stored tables of these universes not held yet, in one query per 500
        (on PostgreSQL a query per table was a third of a one-period refresh)."""
        wanted = {table_key(*u): u for u in set(universes) if u not in self._held}
        keys = list(wanted)
        for start in range(0, len(keys), 500):
            for key, capped, rows in ReleaseTable.objects.filter(
                key__in=keys[start : start + 500]
            ).values_list("key", "capped", "rows"):
                self._hold(wanted[key], _decoded(capped, rows))

    def _hold(self, universe: Universe, table: Table | None) -> None:
        self._held[universe] = table
        self._held.move_to_end(universe)
        while len(self._held) > self.size:
            self._held.popitem(last=False)

    def cache_clear(self) -> None:
        self._held.clear()


_table = _Tables(size=4096)


def _universe(question: QuestionLike, k: int, counts: list[int]) -> Universe:
    """The universe a group's answers are audited in: the question's shape, the facts
    published beside the mean (n, bins, a share) and k."""
    shape = shape_of(question)
    counts = counts[: len(shape.groups)]
    shares = []
    if (span := share_range(question)) is not None:
        shares.append((*span, sum(counts[span[0] : span[1]])))
    return shape, published_facts(counts, k, shares), k


def prefetch(groups: Iterable[tuple[QuestionLike, int, Sequence[int]]]) -> None:
    """Load the stored tables that question_release will need for these groups, each
    (question, k, counts), in few queries."""
    _table.prefetch(
        _universe(question, k, [int(c) for c in counts])
        for question, k, counts in groups
        if question.kind in (QuestionKind.SCALE, QuestionKind.PERCENT)
    )


@dataclass(frozen=True)
class QuestionRelease:
    """What is released of one question in one group: n, the mean and interval, and the
    count of its share (usage and trust items) when shown."""

    n: int
    figures: Release
    share: int | None = None


def question_release(
    question: QuestionLike, k: int, group_counts: Sequence[int], total: float, squares: float
) -> QuestionRelease:
    """A question's released figures in one group: `group_counts` per scale step (or
    percentage bucket), Σ x and Σ x² of its answers."""
    counts = [int(count) for count in group_counts]
    n = sum(counts)
    if question.kind not in (QuestionKind.SCALE, QuestionKind.PERCENT):
        return QuestionRelease(n, WITHHELD)
    shape, facts, _ = _universe(question, k, counts)
    figures = release(shape, facts, round(total), round(squares), k, table=_table(shape, facts, k))
    return QuestionRelease(n, figures, facts.shares[0][2] if facts.shares else None)


@dataclass(frozen=True)
class Derived:
    """A figure computed from released figures: mean, interval and the precision they
    carry (the items' grids, mapped)."""

    n: int
    mean: float
    low: float
    high: float
    precision: float


def score_map(question: QuestionLike) -> tuple[float, float]:
    """(a, b) with a construct score = a × value + b: reverse-scored where marked and
    mapped to 0–100 for scales (stats.construct_scores); as is for percentages."""
    if question.kind != QuestionKind.SCALE:
        return 1.0, 0.0
    low, high = question.scale_min, question.scale_max
    step = 100.0 / (high - low)
    return (-step, high * step) if question.reverse_scored else (step, -low * step)


def construct_release(items: Sequence[tuple[QuestionLike, int, Release]]) -> Derived | None:
    """A construct's score from its items' released figures (question, n, release): the
    mean of the mapped means and of the mapped interval ends, over the items with a mean.
    None when no item has one."""
    mapped = []
    for question, n, released in items:
        if released.mean is None or released.low is None or released.high is None:
            continue
        a, b = score_map(question)
        ends = sorted((a * released.low + b, a * released.high + b))
        mapped.append((n, a * released.mean + b, *ends, abs(a) * (released.precision or 0.0)))
    if not mapped:
        return None
    count = len(mapped)
    return Derived(
        n=int(max(item[0] for item in mapped)),
        mean=math.fsum(item[1] for item in mapped) / count,
        low=math.fsum(item[2] for item in mapped) / count,
        high=math.fsum(item[3] for item in mapped) / count,
        precision=math.fsum(item[4] for item in mapped) / count,
    )


@lru_cache(maxsize=8)
def _z(confidence: float) -> float:
    return float(stats.norm.ppf((1 + confidence) / 2))


def wilson(yes: int, n: int, confidence: float = SHARE_CONFIDENCE) -> tuple[float, float]:
    """Wilson's score interval for a share, in %."""
    z = _z(confidence)
    p = yes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def least_favourable_phi(first: float, second: float) -> float:
    """The lowest correlation two yes/no answers with these shares (0–1) can have: the
    Fréchet bound, where as few people as possible say yes to both."""
    if first in (0.0, 1.0) or second in (0.0, 1.0):
        return 0.0
    odds = first * second / ((1 - first) * (1 - second))
    return max(-math.sqrt(odds), -math.sqrt(1 / odds))


def newcombe_paired(
    first: tuple[int, int], second: tuple[int, int], phi: float
) -> tuple[float, float]:
    """Newcombe's (1998) method 10 for the difference of two shares (yes, n) answered by
    the same n people, in points: the shares' 95 % Wilson intervals combined with the
    correlation phi of the two answers."""
    (yes_1, n), (yes_2, _) = first, second
    p1, p2 = 100 * yes_1 / n, 100 * yes_2 / n
    (l1, u1), (l2, u2) = wilson(yes_1, n), wilson(yes_2, n)
    d1, e1, d2, e2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    below = math.sqrt(max(0.0, d1 * d1 - 2 * phi * d1 * e2 + e2 * e2))
    above = math.sqrt(max(0.0, e1 * e1 - 2 * phi * e1 * d2 + d2 * d2))
    return p1 - p2 - below, p1 - p2 + above


def trust_gap_release(weekly: tuple[int, int], trusting: tuple[int, int]) -> Derived:
    """The trust gap from the two shown shares, each (people, of n): their difference in
    points, and Newcombe's paired interval at the least favourable pairing the two shares
    allow. Newcombe's interval widens as the answers' correlation falls, and the true
    table's (corrected) correlation is never below the Fréchet bound, so this interval
    holds every pairing's: it is a function of the two shares alone and says nothing of
    how many people use AI weekly but do not trust it (the true pairing would count them).
    Every question must be answered, so both shares have the same people; were the two n
    ever to differ, the shares' 97.5 % Wilson intervals are combined instead (Bonferroni)."""
    (weekly_yes, weekly_n), (trust_yes, trust_n) = weekly, trusting
    gap = 100 * weekly_yes / weekly_n - 100 * trust_yes / trust_n
    if weekly_n == trust_n:
        phi = least_favourable_phi(weekly_yes / weekly_n, trust_yes / trust_n)
        low, high = newcombe_paired(weekly, trusting, phi)
    else:
        weekly_low, weekly_high = wilson(weekly_yes, weekly_n, 0.975)
        trust_low, trust_high = wilson(trust_yes, trust_n, 0.975)
        low, high = weekly_low - trust_high, weekly_high - trust_low
    return Derived(
        n=min(weekly_n, trust_n),
        mean=gap,
        low=max(-100.0, low),
        high=min(100.0, high),
        precision=0.0,
    )
