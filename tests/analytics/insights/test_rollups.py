"""Roll-ups weigh nothing by a hidden sub-team's size."""

from __future__ import annotations

import pytest

from analytics.insights import rollups
from analytics.insights.models import TeamPeriod
from surveys.pulses.models import PulseRun


def _period(measured: float) -> TeamPeriod:
    # An interval of ±10 % on the log scale around the change.
    return TeamPeriod(measured=measured, measured_low=measured - 10, measured_high=measured + 10)


def test_a_roll_ups_measured_change_does_not_give_back_how_many_answered() -> None:
    # Two teams' measured changes are shown on their own pages whatever their surveys; a
    # pooled figure weighted by respondents would let anyone solve for the weights, and so
    # for the number who answered in a sub-team whose survey figures are hidden.
    runs = [PulseRun(pk=1), PulseRun(pk=2)]
    periods = {1: _period(10.0), 2: _period(-20.0)}

    with_three = rollups._figures(runs, periods, {1: 6, 2: 3}, {})
    with_four = rollups._figures(runs, periods, {1: 6, 2: 4}, {})

    assert with_three["measured"] == with_four["measured"] == pytest.approx(-5.0)
