"""Roll-ups weigh nothing by a hidden sub-team's size, and release pooled scores with
noise whose intervals stay honest."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as scipy_stats

from analytics.insights import gaps, noise, rollups
from analytics.insights.models import TeamPeriod, TeamRollup
from surveys.pulses.models import PulseRun


def _period(measured: float) -> TeamPeriod:
    change = gaps.RateRatio.of(math.log1p(measured / 100), 0.1, 9)
    return TeamPeriod(
        measured=change.value,
        measured_low=change.low,
        measured_high=change.high,
        measured_log_se=change.log_se,
        measured_df=change.df,
    )


def test_a_roll_ups_measured_change_does_not_give_back_how_many_answered() -> None:
    # Two teams' measured changes are shown on their own pages whatever their surveys; a
    # pooled figure weighted by respondents would let anyone solve for the weights, and so
    # for the number who answered in a sub-team whose survey figures are hidden. The
    # roll-up's inputs hold no response counts at all; its figure is the plain geometric
    # mean of the teams' rate ratios, with the interval of that mean.
    runs = [PulseRun(pk=1), PulseRun(pk=2)]
    periods = {1: _period(10.0), 2: _period(-20.0)}

    figures = rollups.git_figures(TeamRollup(), runs, periods)

    assert figures["measured"] == pytest.approx((math.sqrt(1.1 * 0.8) - 1) * 100)
    half = scipy_stats.t.ppf(0.975, 18) * 0.1 / math.sqrt(2)
    assert figures["measured_high"] == pytest.approx(
        (math.sqrt(1.1 * 0.8) * math.exp(half) - 1) * 100
    )
    assert "counts" not in rollups._Inputs.__dataclass_fields__


def _identity(value: int, scale: float) -> int:
    return value


def _released(
    answers: np.ndarray,
    bounds: tuple[float, float],
    sample: noise.Sampler = _identity,
    *,
    people: int | None = None,
    multiplicity: int = 1,
) -> noise.Noised:
    sums = noise.noisy_sums(
        len(answers),
        float(answers.sum()),
        float((answers**2).sum()),
        bounds,
        multiplicity,
        sample,
    )
    shown = len(answers) if people is None else people
    figure = noise.noisy_release(sums, shown, (min(shown, len(answers)), len(answers)))
    assert figure is not None
    return figure


def test_the_noise_is_scaled_to_the_range_and_n() -> None:
    answers = np.array([20.0, 40, 60, 80, 100] * 4)
    exact = _released(answers, (0, 100))
    moved = _released(answers, (0, 100), lambda value, scale: value + round(scale))
    assert exact.mean == pytest.approx(answers.mean())
    # One unit of the standard draw moves Σ (x − c) by (Δ / 2) / ε = 25 points, the mean by
    # that over n; a person answering two of the pooled runs doubles it.
    unit = 100 / noise.GRID
    assert moved.mean - exact.mean == pytest.approx(round(noise.scales(1)[0]) * unit / 20)
    assert round(noise.scales(1)[0]) * unit == pytest.approx(100 / 2 / noise.EPSILON["total"], 0.01)
    assert noise.scales(2)[0] == pytest.approx(2 * noise.scales(1)[0], 0.01)
    # Without noise the interval still holds the exact t interval (it is wider: it
    # allows for the noise the draws could have had).
    half = scipy_stats.t.isf(0.025, 19) * answers.std(ddof=1) / math.sqrt(20)
    assert exact.low < answers.mean() - half
    assert exact.high > answers.mean() + half


def test_each_sums_noise_is_epsilon_private_for_its_sensitivity() -> None:
    """OpenDP's own privacy map, fed the sensitivity worked out here independently (one
    person's answers in or out, up to m of them, each moving Σ (x − c) by at most half the
    range and Σ (x − c)² by a quarter of its square, plus one unit for rounding)."""
    for m in (1, 2, 3):
        total_scale, squares_scale = noise.scales(m)
        total = noise._mechanism(total_scale).map(m * noise.GRID // 2 + 1)
        squares = noise._mechanism(squares_scale).map(m * noise.GRID**2 // 4 + 1)
        assert total <= noise.EPSILON["total"] + 1e-9
        assert squares <= noise.EPSILON["squares"] + 1e-9


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(-50, 100), min_size=2, max_size=30),
    st.lists(st.integers(-50, 100), min_size=0, max_size=3),
)
def test_one_persons_answers_move_the_rounded_sums_by_at_most_the_sensitivity(
    others: list[int], theirs: list[int]
) -> None:
    """Whatever the others answered, adding one person's up to three answers (a person on
    three pooled teams) moves the integer sums the noise is added to by no more than the
    sensitivity the noise is scaled to."""
    seen: list[tuple[int, int]] = []

    def record(value: int, scale: float) -> int:
        assert isinstance(value, int)  # integers in, integers out: no float to attack
        seen.append((value, 0))
        return value

    bounds = (-50.0, 100.0)
    without, with_them = np.array(others, float), np.array(others + theirs, float)
    for answers in (without, with_them):
        noise.noisy_sums(
            len(answers), float(answers.sum()), float((answers**2).sum()), bounds, 3, record
        )
    (total_a, _), (squares_a, _), (total_b, _), (squares_b, _) = seen
    assert abs(total_a - total_b) <= len(theirs) * noise.GRID / 2 + 1
    assert abs(squares_a - squares_b) <= len(theirs) * noise.GRID**2 / 4 + 1


def test_the_answer_count_comes_from_the_invitations_not_from_who_answered() -> None:
    # A coach invited to both teams' runs: n is 11 or 12 whoever answered; the roll-up
    # divides by its 11 people and its interval allows for the twelfth answer.
    first, second = frozenset(range(6)), frozenset({0, *range(6, 11)})
    elsewhere: frozenset[int] = frozenset()
    assert noise.answer_bounds([first, second], [elsewhere], 11) == (11, 12)
    # Someone invited only to a run that did not ask the construct may be among the people.
    assert noise.answer_bounds([first], [frozenset({20})], 7) == (6, 7)


@pytest.mark.parametrize(
    ("n", "bounds", "mean", "sd", "people"),
    [
        (8, (0.0, 100.0), 70.0, 15.0, 8),
        (12, (0.0, 100.0), 70.0, 15.0, 11),  # one person answered two pooled runs
        (40, (0.0, 100.0), 55.0, 25.0, 40),
        (30, (-50.0, 100.0), 20.0, 30.0, 30),
    ],
)
def test_the_interval_holds_at_95_percent_over_sampling_and_noise(
    n: int, bounds: tuple[float, float], mean: float, sd: float, people: int
) -> None:
    """Draw people from a population with a known mean, release them with fresh OpenDP
    noise, and count how often the interval misses the population mean."""
    rng = np.random.default_rng(20261205)
    grid = np.arange(bounds[0], bounds[1] + 1, 10.0)
    weights = np.exp(-((grid - mean) ** 2) / (2 * sd * sd))
    weights /= weights.sum()
    truth = float((grid * weights).sum())
    trials, missed = 3000, 0
    for _ in range(trials):
        answers = rng.choice(grid, size=n, p=weights)
        figure = _released(answers, bounds, noise.discrete_laplace, people=people)
        missed += not figure.low <= truth <= figure.high
    # 95 % nominal; 3 000 trials put a true 5 % miss rate below 6 % with room to spare.
    assert missed / trials < 0.06


def test_an_interval_that_ignored_the_noise_would_miss() -> None:
    """The coverage test above can fail: the noisy mean with the exact t interval of the
    answers (what a release ignoring its noise would show) misses far more than 5 %."""
    rng = np.random.default_rng(7)
    truth, missed, trials = 70.0, 0, 2000
    for _ in range(trials):
        answers = np.clip(rng.normal(truth, 15, size=8).round(), 0, 100)
        figure = _released(answers, (0.0, 100.0), noise.discrete_laplace)
        half = scipy_stats.t.isf(0.025, 7) * answers.std(ddof=1) / math.sqrt(8)
        missed += not figure.mean - half <= truth <= figure.mean + half
    assert missed / trials > 0.08  # measured 11 %
