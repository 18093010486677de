from __future__ import annotations

from datetime import date

import pytest

from surveys.pulses.schedule import period_bounds, period_sequence_on

START = date(2026, 1, 5)  # a Monday


@pytest.mark.parametrize(
    ("cadence", "sequence", "expected"),
    [
        ("weekly", 0, (date(2026, 1, 5), date(2026, 1, 12))),
        ("weekly", 3, (date(2026, 1, 26), date(2026, 2, 2))),
        ("biweekly", 1, (date(2026, 1, 19), date(2026, 2, 2))),
        ("monthly", 1, (date(2026, 2, 5), date(2026, 3, 5))),
        ("monthly", 12, (date(2027, 1, 5), date(2027, 2, 5))),
    ],
)
def test_period_bounds_follow_the_cadence(cadence: str, sequence: int, expected: tuple) -> None:
    assert period_bounds(cadence=cadence, start_date=START, sequence=sequence) == expected


def test_sprint_periods_use_the_sprint_length() -> None:
    bounds = period_bounds(cadence="sprint", start_date=START, sequence=2, sprint_length_days=10)
    assert bounds == (date(2026, 1, 25), date(2026, 2, 4))


def test_monthly_periods_clamp_to_short_months() -> None:
    start, end = period_bounds(cadence="monthly", start_date=date(2026, 1, 31), sequence=1)
    assert (start, end) == (date(2026, 2, 28), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("cadence", "day", "expected"),
    [
        ("weekly", date(2026, 1, 4), None),
        ("weekly", date(2026, 1, 5), 0),
        ("weekly", date(2026, 1, 11), 0),
        ("weekly", date(2026, 1, 12), 1),
        ("biweekly", date(2026, 1, 19), 1),
        ("monthly", date(2026, 2, 4), 0),
        ("monthly", date(2026, 2, 5), 1),
    ],
)
def test_period_sequence_on_a_day(cadence: str, day: date, expected: int | None) -> None:
    assert period_sequence_on(cadence=cadence, start_date=START, day=day) == expected


@pytest.mark.parametrize("cadence", ["weekly", "biweekly", "monthly", "sprint"])
def test_every_day_falls_in_the_period_it_is_numbered(cadence: str) -> None:
    for offset in range(0, 400, 3):
        day = date.fromordinal(START.toordinal() + offset)
        sequence = period_sequence_on(
            cadence=cadence, start_date=START, day=day, sprint_length_days=9
        )
        assert sequence is not None
        start, end = period_bounds(
            cadence=cadence, start_date=START, sequence=sequence, sprint_length_days=9
        )
        assert start <= day < end
