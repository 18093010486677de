"""An integer-feasibility reconstruction attack on what is published about one group (no
Django here: numbers in, findings out).

A question answered by n people on a scale of a few steps is published as n, bins of
adjacent steps that each hold 0 or at least k people (`surveys.anonymity.ordered_bins`),
and — through the release layer (`surveys.disclosure`) — a mean and a 95 % interval on a
grid g, with its precision g/2, or no mean at all. With n of 5–10 on 5 or 7 steps, Σx and
Σx² admit very few count vectors, and an exact mean and interval (which gives the SD back)
pin counts; the release coarsens them until nothing does. This module is the attacker who
knows the release's algorithm and checks that claim. Whatever count — of one step or of any
run of adjacent steps, or all but such a run — is the same in every vector that fits is
known exactly: a count of 1 to k − 1 people is then shown, whatever the bins say.

The released figures, modelled (`Released`), re-derived from the documented algorithm and
not imported from it (the attacker reads the method, not the code; a test checks the two
agree):
- the mean is the midpoint of the cell [j·g, (j + 1)·g) that holds the exact mean
  (j = ⌊mean/g + 10⁻⁹⌋);
- the interval is EITHER ("t") the score interval — the exact Student-t interval (sample SD
  with n − 1, t at 0.975 with n − 1 degrees of freedom) joined with the same interval of
  the answers plus a quarter answer at each end of the scale — cut to the scale and
  rounded outward to the grid,
  never ending inside the mean's cell — ⌊low/g + 10⁻⁹⌋ and ⌈high/g − 10⁻⁹⌉ — OR
  ("bound") one computed from the cell alone: the t interval at the largest SD the scale
  allows at a mean in the cell (Bhatia–Davis), rounded outward, which says nothing of the
  SD. Which kinds a grid can carry is the published ladder (SCALE_LADDER, PERCENT_LADDER);
  where both can, a vector fits if either does;
- the grid is twice the stated precision (a printed precision: the ladder's grids it can
  round from; none stated: any grid of the ladder).
Every other figure (construct scores, team-period and heatmap figures) is computed from the
released item figures alone, so it is no constraint on the answers beyond theirs; the reader
(tests/security/feasibility_surfaces.py) checks that it is, and uses a construct of a single
item as that item's release on another unit. An exact figure (`Estimate`: mean, SD and
t interval as `analytics.insights.stats` computes them) is still modelled, for a surface
that would publish one.

`solve` enumerates every count vector that fits what was published, as intervals (a figure
printed with d decimals stands for ±0.5·10⁻ᵈ, a JSON float for itself), and reports which
counts are pinned. It walks the steps one by one with the state (people so far, Σx, Σx²,
people at the last category's end), a level of states at a time as numpy arrays: the
published bins fix the people at bin ends, the bin rule bounds them inside a bin, and the
means prune what can no longer reach a published cell (Σx² is not tracked when no spread
can be read off a figure, nor Σx when nothing was published). A forward pass, a backward
pass from the states that fit, and then for every run of adjacent steps the set of its
possible counts, each state carrying as bits the people it had where the run starts. A
level past STATE_CAP states is reported as `skipped`, with why, never dropped.

A respondent knows one answer, their own: `solve(group, own=step)` keeps the vectors with
someone at that step and reports the counts of the others (n − 1 people). "A published
bin minus me" is a count under k whenever a bin holds exactly k — inherent to any k
threshold — and is reported apart as `inherent`.

`solve_trust` does the same for the 2 × 2 table behind the trust gap (weekly AI users
against those who trust its output). The gap is the difference of the two shares, its
interval from their 97.5 % Wilson intervals (`analytics.insights.release`,
`trust_gap_release`): a function of the two margins, so it says nothing of how they pair
— the solver checks that no cell is pinned beyond what the shares themselves fix.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
STATE_CAP = 1_000_000  # states in one level of the walk before a group is reported as skipped
EXACT_REL = 1e-9  # a JSON float stands for itself, up to float noise

# --- what was published ------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """The values a published figure is consistent with, ends included."""

    lo: float
    hi: float

    @classmethod
    def exact(cls, value: float, rel: float = EXACT_REL, absolute: float = EXACT_REL) -> Interval:
        tolerance = max(absolute, rel * abs(value))
        return cls(value - tolerance, value + tolerance)

    @classmethod
    def printed(cls, value: float, decimals: int) -> Interval:
        """A number printed with `decimals` decimals: rounded either way at the half."""
        half = 0.5 * 10.0**-decimals
        tolerance = EXACT_REL * max(1.0, abs(value))
        return cls(value - half - tolerance, value + half + tolerance)

    @classmethod
    def around(cls, value: float, half: float) -> Interval:
        tolerance = EXACT_REL * max(1.0, abs(value))
        return cls(value - half - tolerance, value + half + tolerance)

    def __and__(self, other: Interval) -> Interval:
        return Interval(max(self.lo, other.lo), min(self.hi, other.hi))

    def __contains__(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def __str__(self) -> str:
        return f"[{self.lo:.6g}, {self.hi:.6g}]"


def joined(first: Interval | None, second: Interval | None) -> Interval | None:
    """Two surfaces' intervals for one figure, intersected (None: unknown)."""
    if first is None:
        return second
    if second is None:
        return first
    return first & second


@dataclass(frozen=True)
class Estimate:
    """A published mean, SD and interval of the group, on the surface's own unit: a unit
    value is a·x + b of the step value x (a question's scale: a = 1, b = 0; a construct's
    0–100 index: a = 100/(max − min), negative when reverse-scored). The interval is cut
    to `clip` on that unit, as `stats.estimates` cuts it to the scale. Any figure may be
    unknown (None)."""

    mean: Interval | None = None
    sd: Interval | None = None
    ci_low: Interval | None = None
    ci_high: Interval | None = None
    a: float = 1.0
    b: float = 0.0
    clip: tuple[float, float] = (-math.inf, math.inf)

    def known(self) -> bool:
        return any(f is not None for f in (self.mean, self.sd, self.ci_low, self.ci_high))


# The release's ladder (surveys.disclosure, documented there): (grid, interval kind), coarse
# to fine. "bound": an interval from the mean's cell alone; "t": the exact t interval
# rounded outward to the grid.
SCALE_LADDER: tuple[tuple[float, str], ...] = (
    (2.0, "bound"),
    (1.0, "bound"),
    (1.0, "t"),
    (0.5, "t"),
    (0.25, "t"),
    (0.125, "t"),
)
PERCENT_LADDER: tuple[tuple[float, str], ...] = (
    (40.0, "bound"),
    (20.0, "bound"),
    (20.0, "t"),
    (10.0, "t"),
    (5.0, "t"),
    (2.5, "t"),
)
GRID_SLACK = 1e-9  # the release's slack at a grid point (a value on it is not put astride)
KINDS = frozenset({"t", "bound"})


@dataclass(frozen=True)
class Grid:
    """One hypothesis about a released figure's grid: its step g and the interval kinds the
    ladder publishes at it."""

    step: float
    kinds: frozenset[str] = KINDS


def grids_for(precision: Interval | None, ladder: Sequence[tuple[float, str]]) -> tuple[Grid, ...]:
    """The grids a stated precision (g/2, as read) can stand for on this ladder, each with
    the interval kinds published at it; every grid of the ladder when none was stated. A
    precision off the ladder is taken as stated, with either kind of interval."""
    kinds: dict[float, set[str]] = {}
    for step, kind in ladder:
        kinds.setdefault(step, set()).add(kind)
    found = tuple(
        Grid(step, frozenset(names))
        for step, names in kinds.items()
        if precision is None or step / 2 in precision
    )
    if found or precision is None:
        return found
    return (Grid(precision.lo + precision.hi, KINDS),)


@dataclass(frozen=True)
class Released:
    """A question's released mean and interval, on the question's own scale: `mean` is the
    published midpoint of the mean's cell as read (and `ci_low`, `ci_high` the published
    interval ends, None: not shown), `grids` what its grid may be, `low` and `high` the
    scale's ends (an interval is cut to them)."""

    mean: Interval
    grids: tuple[Grid, ...]
    low: float
    high: float
    ci_low: Interval | None = None
    ci_high: Interval | None = None

    def spread(self) -> bool:
        """Whether some hypothesis reads the SD off the interval (a "t" interval)."""
        shown = self.ci_low is not None or self.ci_high is not None
        return shown and any("t" in grid.kinds for grid in self.grids)


@dataclass(frozen=True)
class Bin:
    """A published bin: categories first..last (inclusive) merged, and its count."""

    first: int
    last: int
    count: int


@dataclass(frozen=True)
class RangeFact:
    """What is known of the people at steps first..last (a prefix or a suffix of the scale):
    their share of n in % (a published share), or the counts they may number."""

    first: int
    last: int
    share: Interval | None = None
    counts: frozenset[int] | None = None


@dataclass(frozen=True)
class Group:
    """Everything published about one group's answers to one question.

    `values` are the steps' values in order (what the moments sum); `categories` group the
    steps into what the distribution is published over (a percentage bucket holds several
    form steps; None: each step is its own category), and `bins` are the published bins
    over those categories (None: no distribution published). `sizes` are the group sizes
    consistent with what was published (one when n is shown). `releases` are the released
    means and intervals (each surface's reading of one release, or one item's release read
    back from a construct of that item alone), `estimates` any exact figure."""

    values: tuple[int, ...]
    k: int
    sizes: tuple[int, ...]
    bins: tuple[Bin, ...] | None = None
    categories: tuple[tuple[int, ...], ...] | None = None
    estimates: tuple[Estimate, ...] = ()
    ranges: tuple[RangeFact, ...] = ()
    releases: tuple[Released, ...] = ()

    def category_steps(self) -> tuple[tuple[int, ...], ...]:
        if self.categories is None:
            return tuple((i,) for i in range(len(self.values)))
        return self.categories


# --- the published formulas, re-derived --------------------------------------------------------


@lru_cache(maxsize=4096)
def t_quantile(probability: float, df: float) -> float:
    return float(stats.t.ppf(probability, df))


def figures(n: int, total_x: float, squares_x: float, estimate: Estimate) -> tuple[float, ...]:
    """(mean, sd, ci_low, ci_high) on the estimate's unit from n, Σx and Σx², as
    `stats.estimates` computes them (the unit's sums as `batch.construct_sums` maps them);
    sd and the interval NaN below two people."""
    a, b = estimate.a, estimate.b
    count = float(n)
    total = a * total_x + b * count
    squares = a * a * squares_x + 2 * a * b * total_x + b * b * count
    mean = total / count
    if n < 2:
        return mean, math.nan, math.nan, math.nan
    df = count - 1
    variance = max(0.0, (squares / count - mean * mean) * count / df)
    sd = math.sqrt(variance)
    half = t_quantile((1 + CONFIDENCE) / 2, df) * sd / math.sqrt(count)
    low, high = estimate.clip
    return mean, sd, max(low, mean - half), min(high, mean + half)


def fits(n: int, total_x: int, squares_x: int, estimates: Sequence[Estimate]) -> bool:
    """Whether (n, Σx, Σx²) gives every published figure."""
    for estimate in estimates:
        predicted = figures(n, total_x, squares_x, estimate)
        published = (estimate.mean, estimate.sd, estimate.ci_low, estimate.ci_high)
        for value, interval in zip(predicted, published, strict=True):
            if interval is None:
                continue
            if math.isnan(value) or value not in interval:
                return False
    return True


def release_keys(
    n: int, totals: Any, squares: Any, grid: float, low: float, high: float
) -> tuple[Any, Any, Any]:
    """What (Σx, Σx²) (int64 arrays) publish with a "t" interval on `grid`, in grid units:
    the mean's cell j = ⌊mean/g + 10⁻⁹⌋, and the score interval — the union of the exact
    Student-t interval (sample SD, n − 1 degrees of freedom) and the same with a quarter
    answer added at each scale end — cut to [low, high] and rounded outward, its ends never
    inside the mean's cell."""
    mean = totals / n
    cell = np.floor(mean / grid + GRID_SLACK)
    quantile = t_quantile((1 + CONFIDENCE) / 2, n - 1)
    variance = np.maximum(0.0, (squares - totals * totals / n) / (n - 1))
    half = quantile * np.sqrt(variance / n)
    # The score interval's second part: the same answers with a quarter of an answer added
    # at each end of the scale; the published interval is the union of the two.
    weight = 0.25
    padded = n + 2 * weight
    padded_mean = (totals + weight * (low + high)) / padded
    padded_variance = np.maximum(
        0.0,
        (squares + weight * (low * low + high * high) - padded * padded_mean**2) / (padded - 1),
    )
    padded_half = quantile * np.sqrt(padded_variance / padded)
    lowest = np.maximum(low, np.minimum(mean - half, padded_mean - padded_half))
    highest = np.minimum(high, np.maximum(mean + half, padded_mean + padded_half))
    low_key = np.minimum(np.floor(lowest / grid + GRID_SLACK), cell)
    high_key = np.maximum(np.ceil(highest / grid - GRID_SLACK), cell + 1)
    return cell, low_key, high_key


def bound_interval(n: int, cell: int, grid: float, low: float, high: float) -> tuple[float, float]:
    """The "bound" interval of a mean known to lie in cell j, [j·g, (j + 1)·g): the t interval
    at the largest SD answers in [low, high] can have at a mean in the cell (Bhatia–Davis:
    variance ≤ (high − μ)(μ − low), widest at the scale's middle), rounded outward to the
    grid and cut to the scale. A function of the cell alone."""
    lowest = float(cell) * grid
    highest = lowest + grid
    widest = min(max((low + high) / 2, lowest), highest)
    variance = (high - widest) * (widest - low) * n / (n - 1)
    half = t_quantile((1 + CONFIDENCE) / 2, n - 1) * math.sqrt(max(0.0, variance) / n)
    return (
        max(low, math.floor((lowest - half) / grid + GRID_SLACK) * grid),
        min(high, math.ceil((highest + half) / grid - GRID_SLACK) * grid),
    )


def _within(values: Any, interval: Interval | None) -> Any:
    if interval is None:
        return np.ones(len(values), dtype=bool)
    return (values >= interval.lo) & (values <= interval.hi)


def released_fits(n: int, totals: Any, squares: Any, released: Released) -> Any:
    """Per (Σx, Σx²) (int64 arrays), whether it publishes the released figures under some
    hypothesis: a grid it may be on, and at that grid a "t" interval or a "bound" one."""
    totals, squares = np.asarray(totals, dtype=np.int64), np.asarray(squares, dtype=np.int64)
    found = np.zeros(len(totals), dtype=bool)
    shown = released.ci_low is not None or released.ci_high is not None
    for grid in released.grids:
        step = grid.step
        cell = np.floor(totals / n / step + GRID_SLACK)
        centre = _within(np.round((cell + 0.5) * step, 6), released.mean)
        if not shown:
            found |= centre
            continue
        if n < 2:
            continue
        interval = np.zeros(len(totals), dtype=bool)
        if "t" in grid.kinds:
            _, low_key, high_key = release_keys(
                n, totals, squares, step, released.low, released.high
            )
            interval |= _within(np.round(low_key * step, 6), released.ci_low) & _within(
                np.round(high_key * step, 6), released.ci_high
            )
        if "bound" in grid.kinds:
            cells, back = np.unique(cell[centre], return_inverse=True)
            hits = np.zeros(len(cells), dtype=bool)
            for index, j in enumerate(cells.tolist()):
                low, high = bound_interval(n, int(j), step, released.low, released.high)
                low_ok = released.ci_low is None or round(low, 6) in released.ci_low
                high_ok = released.ci_high is None or round(high, 6) in released.ci_high
                hits[index] = low_ok and high_ok
            bound = np.zeros(len(totals), dtype=bool)
            bound[np.flatnonzero(centre)] = hits[back.reshape(-1)]
            interval |= bound
        found |= centre & interval
    return found


def wilson(yes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson's score interval for yes of n, in %."""
    z = float(stats.norm.ppf((1 + confidence) / 2))
    p = yes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return 100 * max(0.0, centre - half), 100 * min(1.0, centre + half)


def trust_figures(
    weekly: int, weekly_n: int, trusting: int, trusting_n: int
) -> tuple[float, float, float]:
    """(gap, low, high) in points: the weekly users' share minus the trusting share, with
    Newcombe's paired interval at the lowest correlation the two shares allow (as few
    people as possible saying yes to both) — a function of the two margins alone, as
    `release.trust_gap_release` documents it (97.5 % Wilson intervals combined when the
    two n differ)."""
    p1, p2 = 100 * weekly / weekly_n, 100 * trusting / trusting_n
    if weekly_n != trusting_n:
        (l1, u1), (l2, u2) = wilson(weekly, weekly_n, 0.975), wilson(trusting, trusting_n, 0.975)
        return p1 - p2, l1 - u2, u1 - l2
    n = weekly_n
    both = max(0, weekly + trusting - n)  # the fewest who can say yes to both
    spread = math.sqrt(weekly * (n - weekly) * trusting * (n - trusting))
    phi = (both * n - weekly * trusting) / spread if spread else 0.0
    (l1, u1), (l2, u2) = wilson(weekly, n), wilson(trusting, n)
    below = math.hypot(p1 - l1, u2 - p2) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2)
    above = math.hypot(u1 - p1, p2 - l2) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2)
    return p1 - p2, p1 - p2 - math.sqrt(max(0.0, below)), p1 - p2 + math.sqrt(max(0.0, above))


# --- findings ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """A count known exactly: of the people at steps first..last, or (complement) of all
    the others; of the whole group, or of the others than the respondent."""

    first: int
    last: int
    count: int
    complement: bool = False

    def describe(self, labels: Sequence[str] | None = None) -> str:
        def name(step: int) -> str:
            return labels[step] if labels else f"step {step}"

        where = (
            name(self.first)
            if self.first == self.last
            else (f"{name(self.first)} … {name(self.last)}")
        )
        return f"{self.count} {'outside' if self.complement else 'at'} {where}"


@dataclass
class Solution:
    """What the published figures pin of one group."""

    sizes: tuple[int, ...]
    feasible: bool = True
    skipped: str | None = None
    vectors: int = 0  # count vectors that fit
    states: int = 0  # states the walk kept, all levels
    values: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)
    pinned: list[Finding] = field(default_factory=list)
    inherent: list[Finding] = field(default_factory=list)
    fits: dict[int, _Fit] = field(default_factory=dict)
    own: int | None = None

    def admits(self, vector: Sequence[int], group: Group) -> bool:
        """Whether a count vector (of the whole group, own answer included) is among those
        that fit: the check that the attack never excludes the truth."""
        fit = self.fits.get(sum(vector))
        if fit is None:
            return False
        for state, keys in zip(_path(vector, group), fit.keys, strict=True):
            key = fit.codec.key(*state)
            at = int(np.searchsorted(keys, key))
            if at >= len(keys) or int(keys[at]) != key:
                return False
        return True


# --- the walk over the steps -------------------------------------------------------------------


@dataclass(frozen=True)
class _BinPlace:
    """Where a category lies in the published bins."""

    before: int  # people in the bins before its bin
    total: int  # people in its bin
    last_category: int  # the bin's last category
    last_bin: bool
    first_bin: bool


def _places(group: Group) -> list[_BinPlace] | None:
    if group.bins is None:
        return None
    places: list[_BinPlace] = []
    before = 0
    for index, published in enumerate(group.bins):
        for _ in range(published.first, published.last + 1):
            places.append(
                _BinPlace(
                    before=before,
                    total=published.count,
                    last_category=published.last,
                    last_bin=index == len(group.bins) - 1,
                    first_bin=index == 0,
                )
            )
        before += published.count
    if len(places) != len(group.category_steps()):
        raise ValueError("the bins must cover every category once, in order")
    return places


def _category_ok(place: _BinPlace, category: int, t: int, p: int, k: int) -> bool:
    """Whether people t at the end of `category` (p at the end of the one before) agree
    with the published bins under the bin rule: from the lowest category up, a bin closes
    once it holds k; what is left at the top (1 to k − 1) joins the last bin, and an empty
    rest is a bin of its own."""
    held, before_held, total = t - place.before, p - place.before, place.total
    if held < 0 or held > total:
        return False
    if category == place.last_category:
        if held != total:
            return False
        if not place.last_bin:
            return total >= k
        return total >= k or total == 0 or place.first_bin
    if not place.last_bin:
        return held < k
    if before_held < k <= held:  # the bin closes here: the rest must be 1 to k − 1
        return total - k + 1 <= held <= total - 1
    return True


def _ends(group: Group) -> tuple[list[int], list[list[int]]]:
    """For each step, the categories that end right after it (empty ones following
    included), and the empty categories before the first step."""
    categories = group.category_steps()
    ends: list[list[int]] = [[] for _ in group.values]
    leading: list[int] = []
    last_step = -1
    for index, steps in enumerate(categories):
        if steps:
            if list(steps) != list(range(last_step + 1, last_step + 1 + len(steps))):
                raise ValueError("categories must hold adjacent steps, in order")
            last_step = steps[-1]
        (ends[last_step] if last_step >= 0 else leading).append(index)
    if last_step != len(group.values) - 1:
        raise ValueError("every step must lie in a category")
    return leading, [list(e) for e in ends]


def _level_counts(group: Group, n: int) -> list[frozenset[int] | None]:
    """Per level (people after steps 0..i−1), the values the published range facts allow."""
    m = len(group.values)
    allowed: list[frozenset[int] | None] = [None] * (m + 1)
    for fact in group.ranges:
        counts = set(range(n + 1))
        if fact.counts is not None:
            counts &= set(fact.counts)
        if fact.share is not None:
            counts = {c for c in counts if 100 * c / n in fact.share}
        if fact.first == 0:
            level, people = fact.last + 1, frozenset(counts)
        elif fact.last == m - 1:
            level, people = fact.first, frozenset(n - c for c in counts)
        else:
            raise ValueError("a range fact must be a prefix or a suffix of the scale")
        current = allowed[level]
        allowed[level] = people if current is None else current & people
    return allowed


def _bounds(group: Group, n: int) -> tuple[float, float, float, float]:
    """Σx and Σx² ranges that the published figures leave (for pruning only: the exact
    check is `fits`)."""
    values = group.values
    s_lo, s_hi = n * min(values), n * max(values)
    squares = [v * v for v in values]
    q_lo, q_hi = float(n * min(squares)), float(n * max(squares))
    sd_hi = math.inf
    for estimate in group.estimates:
        scale = abs(estimate.a)
        if estimate.mean is not None:
            ends = sorted(
                (
                    (estimate.mean.lo - estimate.b) / estimate.a,
                    (estimate.mean.hi - estimate.b) / estimate.a,
                )
            )
            s_lo, s_hi = max(s_lo, n * ends[0] - 1e-6), min(s_hi, n * ends[1] + 1e-6)
        if estimate.sd is not None:
            sd_hi = min(sd_hi, estimate.sd.hi / scale)
    for released in group.releases:
        # The exact mean lies within half a grid of the published midpoint (and a hair).
        half = max(grid.step for grid in released.grids) / 2 if released.grids else math.inf
        s_lo = max(s_lo, n * (released.mean.lo - half) - 1e-6 * max(1, n))
        s_hi = min(s_hi, n * (released.mean.hi + half) + 1e-6 * max(1, n))
    if sd_hi < math.inf and n > 1:
        # Σx² = (n − 1)·sd² + (Σx)²/n
        extreme = max(s_lo * s_lo, s_hi * s_hi)
        q_hi = min(q_hi, (n - 1) * sd_hi * sd_hi + extreme / n + 1e-6)
    return s_lo, s_hi, q_lo, q_hi


def _tracked(group: Group) -> tuple[bool, bool]:
    """Whether the walk needs Σx (a figure was published) and Σx² (a spread or an
    interval was): without them, states that differ only there are one."""
    known = [e for e in group.estimates if e.known()]
    spread = any(e.sd is not None or e.ci_low is not None or e.ci_high is not None for e in known)
    spread |= any(released.spread() for released in group.releases)
    return bool(known) or bool(group.releases), spread


@dataclass(frozen=True)
class _Codec:
    """A state (people so far, people at the last category end, Σx, Σx²) as one integer,
    so that a level of the walk is one sorted numpy array."""

    n: int
    s_low: int
    s_span: int
    q_low: int
    q_span: int

    @classmethod
    def of(cls, group: Group, n: int) -> _Codec:
        values = group.values
        squares = [v * v for v in values]
        codec = cls(
            n=n,
            s_low=n * min(0, *values),
            s_span=n * (max(0, *values) - min(0, *values)) + 1,
            q_low=0,
            q_span=n * max(squares) + 1,
        )
        if (n + 1) ** 2 * codec.s_span * codec.q_span >= 2**62:
            raise _TooBigError(f"Σx and Σx² of {n} people on {values} overflow a 64-bit key")
        return codec

    def key(self, t: Any, p: Any, s: Any, q: Any) -> Any:
        return ((t * (self.n + 1) + p) * self.s_span + (s - self.s_low)) * self.q_span + (
            q - self.q_low
        )


def _path(vector: Sequence[int], group: Group) -> list[tuple[int, int, int, int]]:
    """The states a count vector passes through (level by level)."""
    _, ends = _ends(group)
    track_s, track_q = _tracked(group)
    t, p, s, q = 0, 0, 0, 0
    path = [(t, p, s, q)]
    for step, count in enumerate(vector):
        value = group.values[step]
        t = t + count
        s = s + count * value if track_s else 0
        q = q + count * value * value if track_q else 0
        if ends[step] and group.bins is not None:
            p = t
        path.append((t, p, s, q))
    return path


def _category_mask(place: _BinPlace, category: int, t: Any, p: Any, k: int) -> Any:
    """_category_ok over arrays of people t (and p at the category before)."""
    held, before_held, total = t - place.before, p - place.before, place.total
    ok = (held >= 0) & (held <= total)
    if category == place.last_category:
        ok &= held == total
        if not place.last_bin:
            return ok & (total >= k)
        return ok & (total >= k or total == 0 or place.first_bin)
    if not place.last_bin:
        return ok & (held < k)
    closing = (before_held < k) & (held >= k)
    return ok & (~closing | ((held >= total - k + 1) & (held <= total - 1)))


@dataclass
class _Level:
    """One level of the walk: its states (sorted by key) and the edges that reach them."""

    keys: Any
    t: Any
    p: Any
    s: Any
    q: Any
    before: Any = None  # per edge: index of the state in the level before
    after: Any = None  # per edge: index of the state in this level


def _walk(group: Group, n: int, own: int | None, codec: _Codec) -> list[_Level]:
    """Forward over the steps: each level's states and the edges into it. Raises
    _TooBigError past STATE_CAP states in a level."""
    values, k, m = group.values, group.k, len(group.values)
    places = _places(group)
    leading, ends = _ends(group)
    allowed = _level_counts(group, n)
    s_lo, s_hi, q_lo, q_hi = _bounds(group, n)
    track_s, track_q = _tracked(group)
    categories = group.category_steps()
    squares = [v * v for v in values]
    zero = np.zeros(1, dtype=np.int64)
    start = _Level(codec.key(zero, zero, zero, zero), zero, zero, zero, zero)
    if places is not None and not all(_category_ok(places[c], c, 0, 0, k) for c in leading):
        start = _Level(*(np.zeros(0, dtype=np.int64) for _ in range(5)))
    levels = [start]
    for step in range(m):
        level = levels[-1]
        value = values[step] if track_s else 0
        square = squares[step] if track_q else 0
        rest = values[step + 1 :]
        rest_squares = squares[step + 1 :]
        ceiling = n
        if places is not None:
            category = next(c for c, steps in enumerate(categories) if step in steps)
            ceiling = min(n, places[category].before + places[category].total)
        limit = allowed[step + 1]
        parts = []
        lowest = int(level.t.min()) if len(level.t) else ceiling
        for count in range(1 if own == step else 0, ceiling - lowest + 1):
            t2 = level.t + count
            s2, q2 = level.s + count * value, level.q + count * square
            left = n - t2
            ok = t2 <= ceiling
            if not rest:
                ok &= left == 0
            if track_s and rest:
                ok &= (s2 + left * min(rest) <= s_hi) & (s2 + left * max(rest) >= s_lo)
            elif track_s:
                ok &= (s2 <= s_hi) & (s2 >= s_lo)
            if track_q and rest:
                ok &= q2 + left * min(rest_squares) <= q_hi
                ok &= q2 + left * max(rest_squares) >= q_lo
            elif track_q:
                ok &= (q2 <= q_hi) & (q2 >= q_lo)
            if limit is not None:
                ok &= np.isin(t2, np.fromiter(limit, dtype=np.int64))
            p2 = level.p
            if places is not None:
                for category in ends[step]:
                    ok &= _category_mask(places[category], category, t2, p2, k)
                    p2 = t2
            chosen = np.flatnonzero(ok)
            if len(chosen):
                parts.append((chosen, t2[chosen], p2[chosen], s2[chosen], q2[chosen]))
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            levels.append(_Level(empty, empty, empty, empty, empty, empty, empty))
            continue
        before, t, p, s, q = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
        keys = codec.key(t, p, s, q)
        unique, first, after = np.unique(keys, return_index=True, return_inverse=True)
        if len(unique) > STATE_CAP:
            raise _TooBigError(f"{len(unique)} states at step {step} (cap {STATE_CAP}), n = {n}")
        levels.append(_Level(unique, t[first], p[first], s[first], q[first], before, after))
    return levels


class _TooBigError(Exception):
    pass


def _fitting(n: int, s: Any, q: Any, estimates: Sequence[Estimate]) -> Any:
    """`fits` over arrays of Σx and Σx² (the same float operations, element by element)."""
    ok = np.ones(len(s), dtype=bool)
    count = float(n)
    for estimate in estimates:
        a, b = estimate.a, estimate.b
        total = a * s.astype(np.float64) + b * count
        squares = a * a * q.astype(np.float64) + 2 * a * b * s.astype(np.float64) + b * b * count
        mean = total / count
        if n < 2:
            predicted = [mean, None, None, None]
        else:
            df = count - 1
            variance = np.maximum(0.0, (squares / count - mean * mean) * count / df)
            sd = np.sqrt(variance)
            half = t_quantile((1 + CONFIDENCE) / 2, df) * sd / math.sqrt(count)
            low, high = estimate.clip
            predicted = [mean, sd, np.maximum(low, mean - half), np.minimum(high, mean + half)]
        published = (estimate.mean, estimate.sd, estimate.ci_low, estimate.ci_high)
        for value, interval in zip(predicted, published, strict=True):
            if interval is None:
                continue
            if value is None:
                return np.zeros(len(s), dtype=bool)
            ok &= (value >= interval.lo) & (value <= interval.hi)
    return ok


def _words(n: int) -> int:
    return n // 64 + 1


def _range_values(
    levels: list[_Level], viable: list[Any], n: int
) -> dict[tuple[int, int], set[int]]:
    """For every run of adjacent steps first..last, the counts it takes over the vectors
    that fit: people at level last + 1 minus people at level first, jointly (each state
    carries the set of people it had at `first`, as bits)."""
    m = len(levels) - 1
    words = _words(n)
    people = [set(level.t[mask].tolist()) for level, mask in zip(levels, viable, strict=True)]
    values: dict[tuple[int, int], set[int]] = {}
    for first in range(m):
        carried = None
        for last in range(first, m):
            if len(people[first]) == 1 or len(people[last + 1]) == 1:
                values[(first, last)] = {b - a for a in people[first] for b in people[last + 1]}
                carried = None
                continue
            if carried is None:
                carried = _bits_of(levels[first].t, viable[first], words)
                for step in range(first, last + 1):
                    carried = _carry(carried, levels[step + 1], viable[step + 1], words)
            else:
                carried = _carry(carried, levels[last + 1], viable[last + 1], words)
            values[(first, last)] = _differences(levels[last + 1].t, carried, n)
    return values


def _bits_of(t: Any, mask: Any, words: int) -> Any:
    """Per state, the bit of its people count (zero for states that do not fit)."""
    bits = np.zeros((len(t), words), dtype=np.uint64)
    rows = np.flatnonzero(mask)
    counts = t[rows]
    bits[rows, counts // 64] = np.left_shift(np.uint64(1), (counts % 64).astype(np.uint64))
    return bits


def _carry(carried: Any, level: _Level, mask: Any, words: int) -> Any:
    following = np.zeros((len(level.keys), words), dtype=np.uint64)
    edges = mask[level.after]
    np.bitwise_or.at(following, level.after[edges], carried[level.before[edges]])
    return following


def _differences(t: Any, carried: Any, n: int) -> set[int]:
    by_people = np.zeros((n + 1, carried.shape[1]), dtype=np.uint64)
    np.bitwise_or.at(by_people, t, carried)
    found = set()
    for people in np.flatnonzero(by_people.any(axis=1)).tolist():
        for word, bits in enumerate(by_people[people].tolist()):
            index = 0
            while bits:
                if bits & 1:
                    found.add(people - (64 * word + index))
                bits >>= 1
                index += 1
    return found


@dataclass
class _Fit:
    """One group size's vectors that fit: the walk's viable states per level."""

    codec: _Codec
    keys: list[Any]  # per level, sorted keys of the states on a vector that fits


def _solve_size(
    group: Group, n: int, own: int | None
) -> tuple[_Fit, dict[tuple[int, int], set[int]], int, int]:
    codec = _Codec.of(group, n)
    levels = _walk(group, n, own, codec)
    m = len(group.values)
    last = levels[m]
    viable = [np.zeros(len(level.keys), dtype=bool) for level in levels]
    final = last.t == n
    if final.any():
        final &= _fitting(n, last.s, last.q, group.estimates)
        for released in group.releases:
            final &= released_fits(n, last.s, last.q, released)
    viable[m] = final
    paths = final.astype(np.float64)
    for step in range(m, 0, -1):
        level = levels[step]
        edges = viable[step][level.after]
        viable[step - 1][level.before[edges]] = True
        counted = np.zeros(len(levels[step - 1].keys), dtype=np.float64)
        np.add.at(counted, level.before[edges], paths[level.after[edges]])
        paths = counted
    vectors = round(float(paths.sum()))
    kept = sum(len(level.keys) for level in levels)
    fit = _Fit(codec, [level.keys[mask] for level, mask in zip(levels, viable, strict=True)])
    return fit, _range_values(levels, viable, n) if vectors else {}, vectors, kept


def _solve(group: Group, own: int | None) -> tuple[Solution, set[int]]:
    """The vectors that fit, and the counts of every run of steps over them; with the
    sizes of the others (n − 1 with `own`, else n)."""
    solution = Solution(sizes=group.sizes, own=own)
    merged: dict[tuple[int, int], set[int]] = {}
    others: set[int] = set()
    for n in group.sizes:
        try:
            fit, values, vectors, kept = _solve_size(group, n, own)
        except _TooBigError as error:
            solution.skipped = str(error)
            return solution, others
        solution.states += kept
        if not vectors:
            continue
        solution.vectors += vectors
        solution.fits[n] = fit
        others.add(n - (own is not None))
        for key, counts in values.items():
            shift = 1 if own is not None and key[0] <= own <= key[1] else 0
            merged.setdefault(key, set()).update(c - shift for c in counts)
    solution.feasible = solution.vectors > 0
    solution.values = {key: frozenset(counts) for key, counts in merged.items()}
    return solution, others


@lru_cache(maxsize=4096)
def _baseline(bare: Group, own: int) -> Solution:
    """What the bins and shares alone give a respondent (many groups share them)."""
    return _solve(bare, own)[0]


def solve(group: Group, own: int | None = None) -> Solution:
    """Every count vector over the steps that fits what was published about the group,
    and which counts they pin (of the others, with `own` the respondent's step).

    With `own`, a count the published bins and shares pin by themselves (a bin of exactly
    k, minus the respondent) is `inherent`, not pinned: the published means do not add it."""
    m, k = len(group.values), group.k
    solution, others = _solve(group, own)
    if solution.skipped or not solution.feasible:
        return solution
    baseline: dict[tuple[int, int], frozenset[int]] = {}
    if own is not None:
        bare = _baseline(replace(group, estimates=(), releases=()), own)
        if bare.skipped:
            solution.skipped = f"the bins-only baseline: {bare.skipped}"
            return solution
        baseline = bare.values
    for (first, last), counts in sorted(solution.values.items()):
        if len(counts) != 1:
            continue
        (count,) = counts
        # A count of the whole group (or of all the others) is published (n), and so
        # is a count of 0 (an empty bin): neither is pinned, only what lies between.
        whole = next(iter(others)) if len(others) == 1 else None
        found: list[Finding] = []
        if 0 < count < k and count != whole:
            found.append(Finding(first, last, count))
        # All but a run in the middle of the scale is no run of steps itself.
        if first > 0 and last < m - 1 and whole is not None:
            rest = whole - count
            if 0 < rest < k and rest != whole:
                found.append(Finding(first, last, rest, complement=True))
        inherent = baseline.get((first, last)) == counts
        for finding in found:
            (solution.inherent if inherent else solution.pinned).append(finding)
    return solution


# --- the trust gap's 2 × 2 table ---------------------------------------------------------------

# Cells of the table: weekly & trusting, weekly only, trusting only, neither.
TRUST_CELLS = ("weekly & trusting", "weekly, not trusting", "trusting, not weekly", "neither")
WEEKLY = frozenset({0, 1})
TRUSTING = frozenset({0, 2})


@dataclass(frozen=True)
class TrustTable:
    """What is published about the trust gap of one run: n pairs (answered both), the gap
    (weekly users' share minus the trusting share, in points) and its interval, the two
    shares in % (each of its own question's n: `weekly_n`, `trusting_n`, the pairs' n when
    None), and the counts of weekly users / trusting people other cells allow (from the
    two questions' own distributions)."""

    k: int
    n: int
    gap: Interval | None = None
    gap_low: Interval | None = None
    gap_high: Interval | None = None
    weekly_share: Interval | None = None
    trusting_share: Interval | None = None
    weekly_counts: frozenset[int] | None = None
    trusting_counts: frozenset[int] | None = None
    weekly_n: int | None = None
    trusting_n: int | None = None

    def margins_fit(self, weekly: int, trusting: int, *, gap: bool = True) -> bool:
        """Whether w weekly users and t trusting people give what was published (without
        the gap's figures when `gap` is False)."""
        weekly_n, trusting_n = self.weekly_n or self.n, self.trusting_n or self.n
        if self.weekly_share is not None and 100 * weekly / weekly_n not in self.weekly_share:
            return False
        if self.trusting_share is not None and (
            100 * trusting / trusting_n not in self.trusting_share
        ):
            return False
        if self.weekly_counts is not None and weekly not in self.weekly_counts:
            return False
        if self.trusting_counts is not None and trusting not in self.trusting_counts:
            return False
        if not gap:
            return True
        published = (self.gap, self.gap_low, self.gap_high)
        if all(figure is None for figure in published):
            return True
        predicted = trust_figures(weekly, weekly_n, trusting, trusting_n)
        return all(i is None or v in i for v, i in zip(predicted, published, strict=True))


@dataclass
class TrustSolution:
    tables: int = 0
    feasible: bool = True
    values: dict[frozenset[int], frozenset[int]] = field(default_factory=dict)
    pinned: list[tuple[str, int]] = field(default_factory=list)
    inherent: list[tuple[str, int]] = field(default_factory=list)
    own: int | None = None
    tables_fit: set[tuple[int, int, int, int]] = field(default_factory=set)


def subset_name(cells: Iterable[int]) -> str:
    chosen = frozenset(cells)
    names = {
        WEEKLY: "weekly users",
        TRUSTING: "trusting",
        frozenset({2, 3}): "not weekly",
        frozenset({1, 3}): "not trusting",
        frozenset({1, 2}): "weekly xor trusting",
        frozenset({0, 3}): "both or neither",
    }
    if chosen in names:
        return names[chosen]
    if len(chosen) == 1:
        return TRUST_CELLS[next(iter(chosen))]
    return "all but " + TRUST_CELLS[next(iter({0, 1, 2, 3} - chosen))]


def _tables(table: TrustTable, own: int | None, gap: bool) -> set[tuple[int, int, int, int]]:
    """Every 2 × 2 table (both, weekly only, trusting only, neither) of n pairs that fits,
    with someone in the respondent's cell."""
    n = table.n
    found = set()
    for weekly in range(n + 1):
        for trusting in range(n + 1):
            if not table.margins_fit(weekly, trusting, gap=gap):
                continue
            for both in range(max(0, weekly + trusting - n), min(weekly, trusting) + 1):
                cells = (both, weekly - both, trusting - both, n - weekly - trusting + both)
                if own is None or cells[own] > 0:
                    found.add(cells)
    return found


def _subset_counts(
    tables: set[tuple[int, int, int, int]], own: int | None
) -> dict[frozenset[int], frozenset[int]]:
    values = {}
    for size in (1, 2, 3):
        for chosen in combinations(range(4), size):
            subset = frozenset(chosen)
            values[subset] = frozenset(
                sum(cells[c] for c in subset) - (own in subset if own is not None else 0)
                for cells in tables
            )
    return values


def solve_trust(table: TrustTable, own: int | None = None) -> TrustSolution:
    """Every 2 × 2 table of n pairs that fits what was published; a count of 1 to k − 1
    of any cell or union of cells that is the same in all of them is pinned. With `own`,
    a count the shares and the questions' counts fix by themselves is `inherent`."""
    n, k = table.n, table.k
    solution = TrustSolution(own=own)
    solution.tables_fit = _tables(table, own, gap=True)
    solution.tables = len(solution.tables_fit)
    if not solution.tables:
        solution.feasible = False
        return solution
    solution.values = _subset_counts(solution.tables_fit, own)
    baseline = _subset_counts(_tables(table, own, gap=False), own) if own is not None else {}
    whole = n - (own is not None)
    for subset, counts in solution.values.items():
        if len(counts) == 1 and 0 < next(iter(counts)) < k and next(iter(counts)) != whole:
            finding = (subset_name(subset), next(iter(counts)))
            if baseline.get(subset) == counts:
                solution.inherent.append(finding)
            else:
                solution.pinned.append(finding)
    return solution
