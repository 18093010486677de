"""Roll-ups' differential privacy: the noisy sufficient statistics of a pooled construct
score, and the figure and honest interval computed from them alone.

A roll-up pools every answer of a subtree, small teams' included (that is what it is for),
so it cannot be built from released figures. Its construct score is released by the
Laplace mechanism on two sums over the pool — Σ (x − c) and Σ (x − c)², c the middle of
the score's range [low, high]. One person may answer several of the pooled runs (a coach on
two teams), so whether and what they answered moves Σ (x − c) by up to m · span / 2 and
Σ (x − c)² by up to m · (span / 2)², m the most pooled runs anyone was invited to; the
noise is scaled to that. m, the range and the bounds on the number of answers used below
come from the invitations and the runs' forms — who was asked what —, never from who
answered, so the width of an interval says nothing the noisy sums do not.

The number of answers n is not released: every question of a form must be answered, so n
lies between the roll-up's published people count less those invited only to runs that
did not ask the construct, and that count plus the extra runs of people invited to
several (`answer_bounds`); the mean divides by the people count and the interval allows
for the difference.

The sums are put on an integer grid (a score range is `GRID` units; rounding a sum moves
it by at most one unit more, which the sensitivities include) and the noise is OpenDP's
exact discrete Laplace, drawn from the operating system's randomness: a floating-point
Laplace published at full precision rules out candidate sums by the values it cannot
produce (Mironov 2012); integers plus integer noise have every integer as a possible
outcome. Each sum is ε-DP at the `EPSILON` below, a cell `sum(EPSILON.values())`.

The draws are made once per (construct, set of runs that answered it) and stored
(`analytics.insights.models.RollupRelease`): re-reading, another roll-up pooling the same
answers, a second refresh or a re-publication all get the same noisy sums, so nothing can
average them away.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from scipy import stats
from scipy.optimize import brentq
from scipy.special import log_ndtr

GRID = 1000  # integer units per score range
EPSILON = {"total": 2.0, "squares": 2.0}  # per sum; 4 per cell
CONFIDENCE = 0.95
# How the 5 % the interval may miss is spent (union bound): the total's noise beyond its
# bound (which bounds the mean's distance from c), the noisy squares too low for the SD
# bound; the rest on sampling error plus the total's noise, by the exact tail of their sum.
TOTAL_MISS = 0.005
SD_MISS = 0.01


class Sampler(Protocol):
    def __call__(self, value: int, scale: float) -> int: ...


@lru_cache(maxsize=64)
def _mechanism(scale: float) -> object:
    import opendp.prelude as dp

    dp.enable_features("contrib")  # OpenDP marks its integer Laplace as contributed code
    return dp.m.make_laplace(dp.atom_domain(T=int), dp.absolute_distance(T=int), scale=scale)


def discrete_laplace(value: int, scale: float) -> int:
    """value plus exact discrete Laplace noise of this scale (OpenDP, OS randomness)."""
    measurement = _mechanism(float(scale))
    return int(measurement(int(value)))  # type: ignore[operator]


@dataclass(frozen=True)
class NoisySums:
    """What is stored for one construct over one set of runs: the noisy Σ (x − c) and
    Σ (x − c)² in grid units, the score range, and the noise scales used."""

    total: int
    squares: int
    low: float
    high: float
    total_scale: float
    squares_scale: float

    @property
    def unit(self) -> float:
        return (self.high - self.low) / GRID

    @property
    def centre(self) -> float:
        return (self.low + self.high) / 2


def scales(multiplicity: int) -> tuple[float, float]:
    """The noise scales (total, squares) when one person gives up to `multiplicity`
    answers to the pool: sensitivity / ε, each sum's rounding included."""
    m = max(1, multiplicity)
    return (
        (m * GRID / 2 + 1) / EPSILON["total"],
        (m * GRID * GRID / 4 + 1) / EPSILON["squares"],
    )


def noisy_sums(
    n: int,
    total: float,
    squares: float,
    bounds: tuple[float, float],
    multiplicity: int,
    sample: Sampler | None = None,
) -> NoisySums:
    """The pool's n answers (Σ x = total, Σ x² = squares, each x within `bounds`) as
    noisy integers, ready to store (`sample` adds the noise: `discrete_laplace`)."""
    sample = sample or discrete_laplace
    low, high = bounds
    unit = (high - low) / GRID
    centre = (low + high) / 2
    centred = total - n * centre
    centred_squares = squares - 2 * centre * total + n * centre * centre
    total_scale, squares_scale = scales(multiplicity)
    return NoisySums(
        total=sample(round(centred / unit), total_scale),
        squares=sample(round(centred_squares / unit / unit), squares_scale),
        low=low,
        high=high,
        total_scale=total_scale,
        squares_scale=squares_scale,
    )


def runs_per_person(invited: Iterable[frozenset[int]]) -> dict[int, int]:
    """How many of these runs (each given by who was invited to it) each person was
    invited to."""
    runs_of: dict[int, int] = {}
    for users in invited:
        for user in users:
            runs_of[user] = runs_of.get(user, 0) + 1
    return runs_of


def answer_bounds(
    asking: Iterable[frozenset[int]], others: Iterable[frozenset[int]], people: int
) -> tuple[int, int]:
    """The fewest and most answers a construct can have in a pool whose published people
    count is `people`, from who was invited to each pooled run that asked it (`asking`)
    and to each that did not (`others`). Every question of a form must be answered, so
    each person who answered gave one answer per asking run they answered: n is at least
    `people` less anyone who could have answered only runs not asking it, at most `people`
    plus everyone's asking runs beyond their first."""
    elsewhere = set().union(*others)
    extra = sum(count - 1 for count in runs_per_person(asking).values())
    return max(0, people - len(elsewhere)), people + extra


@dataclass(frozen=True)
class Noised:
    """A pooled score released with noise: the noisy mean, an interval that holds at 95 %
    over sampling and noise together, and the standard error of both (for gaps)."""

    mean: float
    low: float
    high: float
    se: float


def _miss(half: float, sd: float, scale: float) -> float:
    """P(|N(0, sd) + Laplace(scale)| > half), by the closed form of the sum's tail."""
    if scale <= 0:
        return float(2 * stats.norm.sf(half / sd))
    if sd <= 0:
        return math.exp(-half / scale)
    ratio = sd / scale
    # P(N + L > h) = Φ̄(h/σ) + ½ e^{σ²/2b² − h/b} Φ(h/σ − σ/b) − ½ e^{σ²/2b² + h/b} Φ(−h/σ − σ/b)
    base = ratio * ratio / 2
    above = (
        stats.norm.sf(half / sd)
        + 0.5 * math.exp(base - half / scale + float(log_ndtr(half / sd - ratio)))
        - 0.5 * math.exp(base + half / scale + float(log_ndtr(-half / sd - ratio)))
    )
    return float(min(1.0, max(0.0, 2 * above)))


def _half_width(sd: float, scale: float, miss: float) -> float:
    """The h with P(|N(0, sd) + Laplace(scale)| > h) = miss."""
    high = stats.norm.isf(miss / 4) * sd + math.log(2 / miss) * scale + 1e-12
    return float(brentq(lambda h: _miss(h, sd, scale) - miss, 0.0, high, xtol=1e-9))


def noisy_release(sums: NoisySums, people: int, answers: tuple[int, int]) -> Noised | None:
    """The pooled score from its noisy sums, the published people count and the bounds
    of the number of answers (`answer_bounds`): the mean c + Σ̃ (x − c) / people cut to the
    range, and a 95 % interval over sampling and noise; None below two answers."""
    fewest, most = answers
    if fewest < 2 or people < 2:
        return None
    unit, span = sums.unit, sums.high - sums.low
    raw = sums.centre + sums.total * unit / people
    # With T the true Σ (x − c) and n the true count, the released mean's error is exactly
    # (ρ + η u) / people + (x̄ − c)(n − people) / people, ρ the rounding (≤ u/2) and η the
    # discrete noise: a discrete Laplace draw is a continuous one moved by at most one
    # unit, so sampling plus the continuous noise take the exact tail of their sum, 1.5
    # units cover the rest, and D (n − people) / people the count, D ≥ |x̄ − c|.
    q_total = math.ceil(sums.total_scale * math.log(1 / TOTAL_MISS))  # P(|η| > q) ≤ e^{−q/b}
    distance_high = min(span / 2, (abs(sums.total) + q_total + 1) * unit / fewest)
    distance_low = max(0.0, (abs(sums.total) - q_total - 1) * unit / most)
    # (n − 1) s² = Σ (x − c)² − n (x̄ − c)²: the noisy squares at their upper bound (one
    # side, SD_MISS; a discrete draw beyond x + 1 is as rare as a continuous one beyond x,
    # and +1 for the rounding), less the smallest n (x̄ − c)² the bounds allow; never
    # above the largest variance the range allows.
    squares_high = (sums.squares + sums.squares_scale * math.log(1 / (2 * SD_MISS)) + 2) * unit**2
    spread = max(0.0, squares_high - fewest * distance_low**2)
    variance = min(spread / (fewest - 1), (span / 2) ** 2 * fewest / (fewest - 1))
    miss = 1 - CONFIDENCE - TOTAL_MISS - SD_MISS
    # Student's t for the sampling part: its SD scaled so a normal has the t's quantile.
    t_ratio = float(stats.t.isf(miss / 2, fewest - 1) / stats.norm.isf(miss / 2))
    sampling = t_ratio * math.sqrt(variance / fewest)
    noise = sums.total_scale * unit / people
    count_error = distance_high * max(people - fewest, most - people) / people
    half = _half_width(sampling, noise, miss) + 1.5 * unit / people + count_error
    mean = min(sums.high, max(sums.low, raw))
    return Noised(
        mean=mean,
        low=max(sums.low, min(mean, raw - half)),
        high=min(sums.high, max(mean, raw + half)),
        se=math.sqrt(variance / fewest + 2 * noise**2) + count_error / 2,
    )
