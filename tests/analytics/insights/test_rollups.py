"""Roll-ups weigh nothing by a hidden sub-team's size, and release pooled scores with
noise whose intervals stay honest."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats as scipy_stats

from analytics.insights import release, rollups
from analytics.insights.models import TeamPeriod, TeamRollup
from surveys.pulses.models import PulseRun


def _period(measured: float) -> TeamPeriod:
    # An interval of ±10 % on the log scale around the change.
    return TeamPeriod(measured=measured, measured_low=measured - 10, measured_high=measured + 10)


def test_a_roll_ups_measured_change_does_not_give_back_how_many_answered() -> None:
    # Two teams' measured changes are shown on their own pages whatever their surveys; a
    # pooled figure weighted by respondents would let anyone solve for the weights, and so
    # for the number who answered in a sub-team whose survey figures are hidden. The
    # roll-up's inputs hold no response counts at all; its figure is the plain mean.
    runs = [PulseRun(pk=1), PulseRun(pk=2)]
    periods = {1: _period(10.0), 2: _period(-20.0)}

    figures = rollups.git_figures(TeamRollup(), runs, periods)

    assert figures["measured"] == pytest.approx(-5.0)
    assert "counts" not in rollups._Inputs.__dataclass_fields__


def _released(answers: np.ndarray, bounds: tuple[float, float], draws: Any) -> release.Noised:
    figure = release.noisy_release(
        len(answers), float(answers.sum()), float((answers**2).sum()), bounds, draws
    )
    assert figure is not None
    return figure


def test_the_noise_is_scaled_to_the_range_and_n() -> None:
    answers = np.array([20.0, 40, 60, 80, 100] * 4)
    exact = _released(answers, (0, 100), (0.0, 0.0))
    moved = _released(answers, (0, 100), (1.0, 0.0))
    assert exact.mean == pytest.approx(answers.mean())
    # One unit of the standard Laplace draw moves Σ x by Δ/ε = 100, the mean by 100/n.
    assert moved.mean - exact.mean == pytest.approx(100 / release.ROLLUP_EPSILON / 20)
    # Without noise the interval still holds the exact t interval (it is wider: it
    # allows for the noise the draws could have had).
    half = scipy_stats.t.isf(0.025, 19) * answers.std(ddof=1) / math.sqrt(20)
    assert exact.low < answers.mean() - half
    assert exact.high > answers.mean() + half


@pytest.mark.parametrize(
    ("n", "bounds", "mean", "sd"),
    [
        (8, (0.0, 100.0), 70.0, 15.0),
        (40, (0.0, 100.0), 55.0, 25.0),
        (30, (-50.0, 100.0), 20.0, 30.0),
    ],
)
def test_the_interval_holds_at_95_percent_over_sampling_and_noise(
    n: int, bounds: tuple[float, float], mean: float, sd: float
) -> None:
    """Draw people from a population with a known mean, release them with fresh noise,
    and count how often the interval misses the population mean."""
    rng = np.random.default_rng(20261205)
    grid = np.arange(bounds[0], bounds[1] + 1, 10.0)
    weights = np.exp(-((grid - mean) ** 2) / (2 * sd * sd))
    weights /= weights.sum()
    truth = float((grid * weights).sum())
    trials, missed = 4000, 0
    for _ in range(trials):
        answers = rng.choice(grid, size=n, p=weights)
        figure = _released(answers, bounds, tuple(rng.laplace(size=2).tolist()))
        missed += not figure.low <= truth <= figure.high
    # 95 % nominal; 4 000 trials put a true 5 % miss rate below 6 % with room to spare.
    assert missed / trials < 0.06
