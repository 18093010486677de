"""The interval published beside an item's mean: it covers near a scale's ceiling, where
the plain t interval did not, and never has zero width."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from surveys.disclosure import Shape, published_facts, release, score_interval

SHAPE = Shape.scale(1, 5)
VALUES = np.arange(1, 6)
DRAWS = 4000
# Answer distributions on a 1–5 scale: three crowding the top, one mid-scale, one flat.
CEILINGS = {
    "60 % at 5": [0, 0, 0, 0.4, 0.6],
    "70 % at 5": [0, 0, 0.05, 0.25, 0.7],
    "85 % at 5": [0, 0, 0, 0.15, 0.85],
}
MIDDLE = {"mid-scale": [0.05, 0.15, 0.4, 0.3, 0.1], "flat": [0.2] * 5}


def _coverage(probabilities: list[float], n: int) -> tuple[float, float]:
    """How often the score interval and the plain t interval cover the true mean."""
    rng = np.random.default_rng(n)
    answers = rng.choice(VALUES, size=(DRAWS, n), p=probabilities)
    totals, squares = answers.sum(axis=1), (answers * answers).sum(axis=1)
    truth = float(np.dot(VALUES, probabilities))
    low, high = score_interval(SHAPE, n, totals, squares)
    mean = totals / n
    half = stats.t.ppf(0.975, n - 1) * answers.std(axis=1, ddof=1) / np.sqrt(n)
    score = float(np.mean((low <= truth) & (truth <= high)))
    plain = float(np.mean((mean - half <= truth) & (truth <= mean + half)))
    return score, plain


@pytest.mark.parametrize("n", [5, 8, 15])
@pytest.mark.parametrize("name", sorted(CEILINGS))
def test_it_covers_near_a_ceiling(name: str, n: int) -> None:
    score, plain = _coverage(CEILINGS[name], n)
    assert score >= 0.95
    if name == "85 % at 5" and n <= 8:
        assert plain < 0.8  # what the statistician saw


@pytest.mark.parametrize("n", [5, 8, 15])
@pytest.mark.parametrize("name", sorted(MIDDLE))
def test_in_the_middle_it_keeps_the_t_intervals_coverage(name: str, n: int) -> None:
    score, plain = _coverage(MIDDLE[name], n)
    assert score >= plain
    assert score >= 0.93


def test_it_never_has_zero_width_and_contains_the_t_interval() -> None:
    n = 8
    rng = np.random.default_rng(3)
    answers = rng.integers(1, 6, size=(500, n))
    answers[0] = 5  # everyone agrees at the top
    answers[1] = 3  # ... or in the middle
    totals, squares = answers.sum(axis=1), (answers * answers).sum(axis=1)
    low, high = score_interval(SHAPE, n, totals, squares)
    assert (high - low > 0.3).all()
    mean = totals / n
    half = stats.t.ppf(0.975, n - 1) * answers.std(axis=1, ddof=1) / np.sqrt(n)
    assert (low <= np.maximum(1, mean - half) + 1e-12).all()
    assert (high >= np.minimum(5, mean + half) - 1e-12).all()
    assert low[0] < 5 <= high[0]


@pytest.mark.parametrize("n", [8, 15])
def test_the_released_interval_covers_near_a_ceiling(n: int) -> None:
    """Through the release layer (the audit's level, the grid rounding): 85 % at the top."""
    probabilities = CEILINGS["85 % at 5"]
    truth = float(np.dot(VALUES, probabilities))
    rng = np.random.default_rng(n)
    covered = shown = 0
    for _ in range(600):
        answers = rng.choice(VALUES, n, p=probabilities)
        counts = np.bincount(answers, minlength=6)[1:]
        figure = release(
            SHAPE,
            published_facts([int(c) for c in counts], 5),
            int(answers.sum()),
            int((answers * answers).sum()),
            5,
        )
        if figure.mean is None:
            continue
        shown += 1
        covered += figure.low <= truth <= figure.high
    assert shown > 300
    assert covered / shown >= 0.95
