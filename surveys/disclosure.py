"""Statistical disclosure control for one question's figures in one group: at which
precision its mean and 95 % interval may be published beside n and the binned
distribution, so that nothing published determines a count of 1 to k − 1 people.

The attack this answers. n, the mean and the SD (or an interval, which gives the SD
back) are Σ x and Σ x²; with n of 5–10 on a 5- or 7-step scale they admit almost always
one count vector, and the bin rule (`surveys.anonymity.ordered_bins`, which an attacker
knows) prunes the rest. So a published mean is a statement about counts.

The release. For a group the published facts that are not the mean are fixed: n and the
bins (each 0 or ≥ k people; a share, for the AI-usage and trust items, only where its
range is a union of bins, so it adds nothing). The *universe* is every count vector over
the question's answer values that gives exactly those facts. A ladder of levels, coarse
to fine (the mean's cell on a grid of 2, 1, 0.5, 0.25, 0.125 scale points — 40 … 2.5 for
percentages — with an interval computed from the cell alone, then the data's score
interval rounded outward), partitions it: vectors publishing the same at a level are one *class*,
which is what an attacker who reads the figures, knows the rules and enumerates the
universe is left with. A class is *safe* when no count of a contiguous range of answer
values (one step, "1–3", …) is the same in all its vectors and singles out 1 to k − 1
people (neither none nor all, and it or the rest under k) — and the same holds for a
respondent who removes their own answer (the class's vectors with at least one answer at
their value). Classes are refined level by level only into safe parts, and what stays
behind at a level (or without a mean) is itself checked safe (`_levels`). Every output is
therefore one checked class, and seeing *which* level was used tells an attacker nothing
the class does not: the whole algorithm is public and the guarantee holds against someone
who runs it.

The guarantee, per question: the vectors that publish what was published form a safe
class — no count of 1..k − 1 people is determined, with or without one's own answer.
Counts that are unions of whole bins are ≥ k (or 0) by the bin rule; "my bin minus me"
is inherent to any threshold and is not counted as pinned.
Across questions: every other published figure (construct scores, gaps, team-periods)
is computed from these released figures alone, never from the raw sums, so the
questions' feasible sets multiply and the per-question guarantee carries over.

Honesty. The interval is the score interval of the exact data (`score_interval`: the
Student-t interval, widened where answers crowd an end of the scale) widened outward to
the grid, or one wider still (the cell's), so it contains the exact t interval and the
published mean; `precision` (half the grid step) is published beside the mean, which is
its cell's midpoint.

Pure (numpy and scipy; no Django), and cached per universe: groups of one size and bin
shape share one table, so a recompute of thousands of groups enumerates each shape once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations

import numpy as np
from scipy import stats

from surveys.anonymity import ordered_bins

# (grid, interval), coarse to fine. The mean is published as the grid cell it falls in
# [j·g, (j + 1)·g), shown as its midpoint ± g/2. An interval "t" is the exact data's
# Student-t interval rounded outward to the grid; "bound" is computed from the mean's cell
# alone, with the largest SD a scale allows there (Bhatia–Davis), so it adds nothing to
# what the mean says. Each grid divides the one before it, so a finer figure determines
# every coarser one: the levels form a tree (see `_levels`).
Level = tuple[float, str]
SCALE_LEVELS: tuple[Level, ...] = (
    (2.0, "bound"),
    (1.0, "bound"),
    (1.0, "t"),
    (0.5, "t"),
    (0.25, "t"),
    (0.125, "t"),
)
PERCENT_LEVELS: tuple[Level, ...] = (
    (40.0, "bound"),
    (20.0, "bound"),
    (20.0, "t"),
    (10.0, "t"),
    (5.0, "t"),
    (2.5, "t"),
)
CONFIDENCE = 0.95
# A universe larger than this is not enumerated: the mean is then withheld. Its size is a
# function of n and the bins, which are published, so the withholding says nothing more.
UNIVERSE_CAP = 250_000


@dataclass(frozen=True)
class Shape:
    """A question as the release sees it: the values an answer can take (ascending), how
    they group into the distribution's steps (a scale step is one value; a percentage
    bucket holds several), the range an interval is cut to, and the grids to try."""

    values: tuple[int, ...]
    groups: tuple[tuple[int, ...], ...]  # indices into `values`, in order
    low: float
    high: float
    levels: tuple[Level, ...]

    @classmethod
    def scale(cls, low: int, high: int) -> Shape:
        values = tuple(range(low, high + 1))
        return cls(values, tuple((i,) for i in range(len(values))), low, high, SCALE_LEVELS)


@dataclass(frozen=True)
class Release:
    """A question's published mean and interval, each a multiple of `precision`; all None
    when no grid was safe (then only n and the bins are published)."""

    mean: float | None
    low: float | None
    high: float | None
    precision: float | None


WITHHELD = Release(None, None, None, None)


@dataclass(frozen=True)
class Published:
    """The facts published beside the mean, which fix the universe: n, the bins over the
    shape's groups as (first group, last group + 1, people), and each shown-or-withheld
    share as (first value, last value + 1, its people if shown else None)."""

    n: int
    bins: tuple[tuple[int, int, int], ...]
    shares: tuple[tuple[int, int, int | None], ...] = ()


def published_facts(
    group_counts: Sequence[int],
    k: int,
    shares: Sequence[tuple[int, int, int]] = (),
) -> Published:
    """The bins of a group's counts and the shares' publication: `shares` gives each
    share's range (of groups) and the people in it. A share is shown only when its range
    is a union of whole bins: its count is then a sum of bins, 0 or ≥ k like each of them,
    and tells nothing the bins do not (a share cut inside a bin, beside the bins, can pin
    the counts in that bin — seen: "nobody above step 2" with one bin of six people)."""
    n = int(sum(group_counts))
    bins = tuple(
        (steps.start, steps.stop, int(sum(group_counts[i] for i in steps)))
        for steps in ordered_bins(list(group_counts), k)
    )
    starts = {start for start, _, _ in bins}
    stops = {stop for _, stop, _ in bins}
    shown = tuple(
        (start, stop, count if start in starts and stop in stops else None)
        for start, stop, count in shares
    )
    return Published(n=n, bins=bins, shares=shown)


WITHHELD_LEVEL = -1


class Table:
    """A universe's audit result: (Σ x, Σ x²) → level index (or WITHHELD_LEVEL), held as
    arrays sorted by (Σ x, Σ x²). Loading one from storage is a few array copies rather
    than a dict of thousands of tuples (that made a one-period refresh of 500 teams spend
    most of its time unpacking tables)."""

    __slots__ = ("levels", "squares", "totals")

    def __init__(self, totals: np.ndarray, squares: np.ndarray, levels: np.ndarray) -> None:
        order = np.lexsort((squares, totals))
        self.totals = np.asarray(totals, dtype=np.int64)[order]
        self.squares = np.asarray(squares, dtype=np.int64)[order]
        self.levels = np.asarray(levels, dtype=np.int64)[order]

    @classmethod
    def from_triples(cls, triples: np.ndarray) -> Table:
        """From rows of (Σ x, Σ x², level)."""
        return cls(triples[:, 0], triples[:, 1], triples[:, 2])

    def triples(self) -> np.ndarray:
        """Rows of (Σ x, Σ x², level), for storing."""
        return np.stack([self.totals, self.squares, self.levels], axis=1)

    def get(self, key: tuple[int, int], default: int = WITHHELD_LEVEL) -> int:
        total, squares = key
        first = int(np.searchsorted(self.totals, total, side="left"))
        last = int(np.searchsorted(self.totals, total, side="right"))
        at = first + int(np.searchsorted(self.squares[first:last], squares))
        if at < last and self.squares[at] == squares:
            return int(self.levels[at])
        return default

    def __len__(self) -> int:
        return len(self.levels)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return bool(np.array_equal(self.triples(), other.triples()))

    __hash__ = None  # type: ignore[assignment]


# Part of every stored table's key: a change to the audit must not reuse old tables.
ALGORITHM = "candor-disclosure-2"  # 2: the score interval (t ∪ t with padded ends)


def release(
    shape: Shape,
    facts: Published,
    total: int,
    squares: int,
    k: int,
    table: Table | None = None,
) -> Release:
    """The mean and interval of a group whose answers sum to `total` (Σ x) and `squares`
    (Σ x²), at the level the audit of its universe gives it (see the module docstring)."""
    if table is None:
        table = levels_table(shape, facts, k)
    level = table.get((total, squares), WITHHELD_LEVEL) if table is not None else WITHHELD_LEVEL
    if level == WITHHELD_LEVEL:
        return WITHHELD
    grid, interval = shape.levels[level]
    keys = _keys(shape, facts.n, np.array([total]), np.array([squares]), shape.levels[level])[0]
    mean = (float(keys[0]) + 0.5) * grid
    if interval == "t":
        low, high = float(keys[1]) * grid, float(keys[2]) * grid
    else:
        low, high = bound_interval(shape, facts.n, float(keys[0]) * grid, grid)
    return Release(mean=round(mean, 6), low=round(low, 6), high=round(high, 6), precision=grid / 2)


def bound_interval(shape: Shape, n: int, cell_low: float, grid: float) -> tuple[float, float]:
    """A 95 % interval for a mean known only to lie in [cell_low, cell_low + grid): the t
    interval with the largest sample SD any answers in the shape's range can have at such
    a mean (Bhatia–Davis: variance ≤ (high − μ)(μ − low)), rounded outward. It holds
    whatever the exact t interval holds, and is a function of the published cell."""
    lowest, highest = cell_low, cell_low + grid
    middle = (shape.low + shape.high) / 2
    widest = min(max(middle, lowest), highest)
    variance = (shape.high - widest) * (widest - shape.low) * n / (n - 1)
    half = _t(n - 1) * math.sqrt(max(0.0, variance) / n)
    low = max(shape.low, math.floor((lowest - half) / grid + 1e-9) * grid)
    high = min(shape.high, math.ceil((highest + half) / grid - 1e-9) * grid)
    return low, high


# --- the universe ----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _compositions(total: int, parts: int) -> np.ndarray:
    """Every way of putting `total` people into `parts` ordered places, one row each
    (read-only: cached)."""
    if parts == 0:
        found = np.zeros((1 if total == 0 else 0, 0), dtype=np.int64)
    else:
        rows = [
            np.diff((-1, *bars, total + parts - 1)) - 1
            for bars in combinations(range(total + parts - 1), parts - 1)
        ]
        found = np.array(rows, dtype=np.int64).reshape(-1, parts)
    found.flags.writeable = False
    return found


def _under_k(total_below: int, parts: int) -> np.ndarray:
    """Every way of putting fewer than `total_below` people into `parts` places."""
    return np.concatenate([_compositions(t, parts) for t in range(total_below)])


def _bin_splits(width: int, people: int, last: bool, k: int) -> np.ndarray:
    """The group counts the bin rule makes into one bin of `people` over `width` groups:
    the running count stays under k until the last group closes the bin; the last bin may
    instead close at an earlier group and take 1 to k − 1 people from the groups above
    (ordered_bins merges them in). A bin of 0 people is all zeros."""
    if people == 0:
        return np.zeros((1, width), dtype=np.int64)
    rows: list[np.ndarray] = []
    head = _under_k(min(k, people + 1), width - 1)
    rows.append(np.hstack([head, people - head.sum(axis=1, keepdims=True)]))
    if last:
        for close in range(width - 1):
            before = _under_k(k, close)
            after = np.concatenate([_compositions(r, width - 1 - close) for r in range(1, k)])
            both = _product(before, after)
            closing = people - both.sum(axis=1, keepdims=True)
            fits = (closing[:, 0] >= 0) & (closing[:, 0] + both[:, :close].sum(axis=1) >= k)
            rows.append(np.hstack([both[:, :close], closing, both[:, close:]])[fits])
    found = np.concatenate(rows)
    return found[(found >= 0).all(axis=1)]


@lru_cache(maxsize=4096)
def _bin_options(
    groups: tuple[tuple[int, ...], ...], people: int, last: bool, k: int
) -> np.ndarray:
    """The value-count vectors (over the bin's values) that the bin rule could have made
    into a bin of `people` over these groups (read-only: cached)."""
    split = _bin_splits(len(groups), people, last, k)
    if all(len(group) == 1 for group in groups):
        return split
    width = sum(len(group) for group in groups)
    blocks: list[np.ndarray] = []
    for row in split:
        block = np.zeros((1, 0), dtype=np.int64)
        for count, group in zip(row.tolist(), groups, strict=True):
            block = _product(block, _compositions(count, len(group)))
        blocks.append(block)
    found = np.concatenate(blocks) if blocks else np.zeros((0, width), dtype=np.int64)
    found.flags.writeable = False
    return found


def _product(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Every row of `left` next to every row of `right`."""
    return np.hstack([np.repeat(left, len(right), axis=0), np.tile(right, (len(left), 1))])


def universe(shape: Shape, facts: Published, k: int) -> np.ndarray | None:
    """Every count vector over the shape's values that publishes `facts`; None above
    UNIVERSE_CAP. (A share is shown only as a union of bins, so it adds no condition.)"""
    options = [
        _bin_options(shape.groups[start:stop], people, index == len(facts.bins) - 1, k)
        for index, (start, stop, people) in enumerate(facts.bins)
    ]
    if math.prod(len(option) for option in options) > UNIVERSE_CAP:
        return None
    vectors = options[0]
    for option in options[1:]:
        vectors = _product(vectors, option)
    return vectors


# --- classes and the audit -------------------------------------------------------------------


@lru_cache(maxsize=256)
def _t(df: int) -> float:
    return float(stats.t.ppf((1 + CONFIDENCE) / 2, df))


def _keys(
    shape: Shape, n: int, totals: np.ndarray, squares: np.ndarray, level: Level
) -> np.ndarray:
    """What each (Σ x, Σ x²) publishes at `level`, in grid units: the mean's cell and, for
    a t interval, the interval cut to the shape's range and rounded outward (never ending
    inside the mean's cell)."""
    grid, interval = level
    mean = totals / n
    # A hair of slack, so that a value on a grid point is not put in one cell by one
    # computation and in the next by another.
    cell = np.floor(mean / grid + 1e-9)
    if interval != "t":
        return cell.astype(np.int64).reshape(-1, 1)
    low, high = score_interval(shape, n, totals, squares)
    low_key = np.minimum(np.floor(low / grid + 1e-9), cell)
    high_key = np.maximum(np.ceil(high / grid - 1e-9), cell + 1)
    return np.stack([cell, low_key, high_key], axis=1).astype(np.int64)


# The weight of the pseudo-answer put at each end of the scale by `score_interval`.
END_WEIGHT = 0.25


def score_interval(
    shape: Shape, n: int, totals: np.ndarray, squares: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % interval of a mean from n answers summing to `totals` (Σ x) and `squares`
    (Σ x²): the union of the Student-t interval and the t interval of the same answers with
    a quarter of an answer added at each end of the scale, cut to the scale's range.

    The plain t interval covers badly near a ceiling, where most answers agree: at n = 8,
    with 85 % of a 1–5 scale's answers at 5, it covered the true mean 73 % of the time, and
    it has zero width when everyone agrees. The added ends keep the spread from vanishing
    there (coverage 99–100 % near ceilings, `tests/surveys/test_score_interval.py`) and
    barely move it in the middle of the scale (width +5 % at n = 15), where the union keeps
    the t interval's coverage. A function of (n, Σ x, Σ x²), as the audit requires."""
    mean = totals / n
    variance = np.maximum(0.0, (squares - totals * totals / n) / (n - 1))
    half = _t(n - 1) * np.sqrt(variance / n)
    weight = END_WEIGHT
    padded = n + 2 * weight
    padded_mean = (totals + weight * (shape.low + shape.high)) / padded
    padded_squares = squares + weight * (shape.low**2 + shape.high**2)
    padded_variance = np.maximum(
        0.0, (padded_squares - padded * padded_mean * padded_mean) / (padded - 1)
    )
    padded_half = _t(n - 1) * np.sqrt(padded_variance / padded)
    low = np.maximum(shape.low, np.minimum(mean - half, padded_mean - padded_half))
    high = np.minimum(shape.high, np.maximum(mean + half, padded_mean + padded_half))
    return low, high


def _spans(width: int) -> list[tuple[int, int]]:
    """Every contiguous range of `width` values but the whole, as (start, stop)."""
    return [(i, j) for i in range(width) for j in range(i + 1, width + 1) if (i, j) != (0, width)]


def _range_counts(vectors: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Each vector's count in every range of `_spans`, as `dtype` (which holds n)."""
    width = vectors.shape[1]
    zero = np.zeros((len(vectors), 1), dtype=dtype)
    prefix = np.concatenate([zero, vectors.cumsum(axis=1, dtype=dtype)], axis=1)
    spans = _spans(width)
    if not spans:
        return np.zeros((len(vectors), 0), dtype=dtype)
    starts = np.array([i for i, _ in spans])
    stops = np.array([j for _, j in spans])
    return prefix[:, stops] - prefix[:, starts]


def _count_type(n: int) -> type[np.signedinteger]:
    """The narrowest integer type that holds counts of n people and a sentinel above them:
    the audit's reductions are bound by memory traffic, so int8 halves them."""
    return np.int8 if n < np.iinfo(np.int8).max else np.int16


def _big(dtype: np.dtype) -> int:
    """The sentinel of "no vector": above every count (and its negative below)."""
    return int(np.iinfo(dtype).max)


@dataclass
class _Summary:
    """What the audit needs of each of m sets of vectors, per range of `_spans`: the least
    and greatest count over the set (`low`, `high`, m × ranges), and the same over the
    set's vectors with someone at each value (`own_low`, `own_high`, m × values × ranges;
    the type's largest value and its negative (`_big`) where no vector of the set has anyone
    there). Sets combine by taking the
    least of the least and the greatest of the greatest."""

    low: np.ndarray
    high: np.ndarray
    own_low: np.ndarray
    own_high: np.ndarray

    def take(self, index: np.ndarray) -> _Summary:
        return _Summary(
            self.low[index], self.high[index], self.own_low[index], self.own_high[index]
        )

    def combined(self, groups: np.ndarray, index: np.ndarray | None = None) -> _Summary:
        """One summary per group id (0..g − 1) of the sets (of the sets `index`, in that
        order, when given: one copy instead of two)."""
        order = np.argsort(groups, kind="stable")
        rows = order if index is None else index[order]
        ordered = groups[order]
        starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
        size = int(groups.max()) + 1
        parts = []
        big = _big(self.low.dtype)
        for field, combine, empty in (
            (self.low, np.minimum, big),
            (self.high, np.maximum, -big),
            (self.own_low, np.minimum, big),
            (self.own_high, np.maximum, -big),
        ):
            out = np.full((size, *field.shape[1:]), empty, dtype=field.dtype)
            out[ordered[starts]] = combine.reduceat(field[rows], starts, axis=0)
            parts.append(out)
        return _Summary(*parts)


class _Audit:
    """A universe's counts in every range, and the safety of sets of its vectors."""

    def __init__(self, vectors: np.ndarray, n: int, k: int) -> None:
        self.vectors, self.n, self.k = vectors, n, k
        self.dtype = np.dtype(_count_type(n))
        counts = _range_counts(vectors, self.dtype)
        # A range whose count the published facts fix for the whole universe (a union of
        # whole bins: 0 or ≥ k people) pins nothing new for a reader, and "my bin minus
        # me" is inherent for a respondent: only the ranges that vary are audited.
        free = counts.min(axis=0) != counts.max(axis=0)
        self.counts = counts[:, free]
        spans = [
            span for span, varies in zip(_spans(vectors.shape[1]), free, strict=True) if varies
        ]
        self.holds = np.array(
            [[start <= value < stop for start, stop in spans] for value in range(vectors.shape[1])],
            dtype=self.dtype,
        )

    def summary(self, ids: np.ndarray, rows: np.ndarray) -> _Summary:
        """One summary per class id (0..m − 1) of the universe's `rows`."""
        size = int(ids.max()) + 1 if len(ids) else 0
        width, ranges = self.vectors.shape[1], self.counts.shape[1]
        # Sorted by class once: every reduction below takes a subsequence, still sorted.
        order = np.argsort(ids, kind="stable")
        ids, rows = ids[order], rows[order]
        counts = self.counts[rows]
        low, high, _ = _reduce_sorted(ids, counts, size)
        big = _big(self.dtype)
        own_low = np.full((size, width, ranges), big, dtype=self.dtype)
        own_high = np.full((size, width, ranges), -big, dtype=self.dtype)
        for value in range(width):
            mine = self.vectors[rows, value] > 0
            if mine.any():
                low_v, high_v, present = _reduce_sorted(ids[mine], counts[mine], size)
                own_low[present, value] = low_v[present]
                own_high[present, value] = high_v[present]
        return _Summary(low, high, own_low, own_high)

    def unsafe(self, summary: _Summary) -> np.ndarray:
        """Per set: whether it pins a count for a reader or for a respondent."""
        pinned = ((summary.low == summary.high) & _small(summary.low, self.n, self.k)).any(axis=1)
        others = summary.own_low - self.holds[None, :, :]
        present = summary.own_low < _big(self.dtype)
        own = present & (summary.own_low == summary.own_high) & _small(others, self.n - 1, self.k)
        return pinned | own.any(axis=(1, 2))


def _reduce_sorted(ids: np.ndarray, rows: np.ndarray, size: int) -> tuple[np.ndarray, ...]:
    """Per id (0..size − 1) of `ids`, sorted: the least and greatest of `rows`, and which
    ids have any."""
    big = _big(rows.dtype)
    low = np.full((size, rows.shape[1]), big, dtype=rows.dtype)
    high = np.full((size, rows.shape[1]), -big, dtype=rows.dtype)
    present = np.zeros(size, dtype=bool)
    if len(ids):
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        where = ids[starts]
        low[where] = np.minimum.reduceat(rows, starts, axis=0)
        high[where] = np.maximum.reduceat(rows, starts, axis=0)
        present[where] = True
    return low, high, present


def _small(count: np.ndarray, people: int, k: int) -> np.ndarray:
    """Counts that single out 1..k − 1 people: neither none nor all, and it or the rest
    under k."""
    rest = people - count
    return (count > 0) & (rest > 0) & ((count < k) | (rest < k))


def _settle(audit: _Audit, parts: _Summary, sizes: np.ndarray, unsafe: np.ndarray) -> np.ndarray:
    """Which parts of one class keep its coarser figure: its unsafe parts, plus its
    smallest safe parts one by one until, together, they are safe — or all of them."""
    keep = unsafe.copy()
    held = parts.take(np.flatnonzero(keep)).combined(np.zeros(int(keep.sum()), dtype=np.int64))
    for part in np.flatnonzero(~unsafe)[np.argsort(sizes[~unsafe], kind="stable")].tolist():
        if not audit.unsafe(held)[0]:
            return keep
        keep[part] = True
        both = _Summary(
            np.concatenate([held.low, parts.low[[part]]]),
            np.concatenate([held.high, parts.high[[part]]]),
            np.concatenate([held.own_low, parts.own_low[[part]]]),
            np.concatenate([held.own_high, parts.own_high[[part]]]),
        )
        held = both.combined(np.zeros(2, dtype=np.int64))
    if not audit.unsafe(held)[0]:
        return keep
    return np.ones(len(keep), dtype=bool)


def _class_ids(*columns: np.ndarray) -> np.ndarray:
    """One id per distinct row of the stacked columns."""
    stacked = np.column_stack(columns)
    _, ids = np.unique(stacked, axis=0, return_inverse=True)
    return ids.reshape(-1)


def table_key(shape: Shape, facts: Published, k: int) -> str:
    """A stable name of a universe's table, for storing it outside this process."""
    return hashlib.sha256(repr((ALGORITHM, shape, facts, k)).encode()).hexdigest()


def levels_table(shape: Shape, facts: Published, k: int) -> Table | None:
    """The audit's table of a universe (see `_levels`), cached in this process."""
    return _levels(shape, facts, k)


@lru_cache(maxsize=4096)
def _levels(shape: Shape, facts: Published, k: int) -> Table | None:
    """For every (Σ x, Σ x²) of the universe, the index of the level it is published at
    (WITHHELD_LEVEL: no mean). None when the universe is too large to enumerate.

    A tree, coarse to fine. The universe is split by what the coarsest level publishes;
    safe classes are published there, the rest form the withheld class. A published
    class is split by what the next level publishes: if every part that is unsafe,
    taken together (the *residual*, which keeps the coarser figure), is safe, the safe
    parts move to the finer level and are split in turn; if not, the smallest safe parts
    join the residual until it is safe (`_settle`), or the class stays whole. So every
    set of vectors that publishes one output is a class that was checked safe — against
    someone who knows this algorithm. The withheld class is settled the same way: the
    smallest published classes join it until it is safe."""
    vectors = universe(shape, facts, k)
    if vectors is None:
        return None
    values = np.array(shape.values, dtype=np.int64)
    sums = np.stack([vectors @ values, vectors @ (values * values)], axis=1)
    # Vectors with the same sums publish the same at every level, so they move together:
    # the audit runs on these atoms, each summarised once.
    atoms, atom_of = np.unique(sums, axis=0, return_inverse=True)
    audit = _Audit(vectors, facts.n, k)
    summaries = audit.summary(atom_of.reshape(-1), np.arange(len(vectors)))
    totals, squares = atoms[:, 0], atoms[:, 1]
    level = np.full(len(atoms), WITHHELD_LEVEL, dtype=np.int64)
    frontier = np.arange(len(atoms))
    parents = np.zeros(len(atoms), dtype=np.int64)  # the universe is the first class
    for index, step in enumerate(shape.levels):
        if not len(frontier):
            break
        keys = _keys(shape, facts.n, totals[frontier], squares[frontier], step)
        children = _class_ids(parents, keys)
        parts = summaries.combined(children, index=frontier)
        unsafe = audit.unsafe(parts)
        sizes = np.bincount(children, minlength=len(unsafe))
        parent_of = np.zeros(len(unsafe), dtype=np.int64)
        parent_of[children] = parents
        stays = unsafe.copy()
        for parent in np.unique(parent_of[unsafe]).tolist():
            mine = np.flatnonzero(parent_of == parent)
            stays[mine] = _settle(audit, parts.take(mine), sizes[mine], unsafe[mine])
        moving = ~stays[children]
        level[frontier[moving]] = index
        frontier, parents = frontier[moving], children[moving]
    return Table(totals, squares, level)
