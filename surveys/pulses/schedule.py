"""Pure date arithmetic for pulse schedules: which period a day falls in, and its bounds."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

CADENCE_DAYS = {"weekly": 7, "biweekly": 14}


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_bounds(
    *, cadence: str, start_date: date, sequence: int, sprint_length_days: int = 14
) -> tuple[date, date]:
    """The [start, end) dates of period number `sequence` (0-based) of a schedule."""
    if cadence == "monthly":
        return _add_months(start_date, sequence), _add_months(start_date, sequence + 1)
    length = sprint_length_days if cadence == "sprint" else CADENCE_DAYS[cadence]
    start = start_date + timedelta(days=length * sequence)
    return start, start + timedelta(days=length)


def period_length_days(*, cadence: str, sprint_length_days: int = 14) -> int:
    """The shortest length a period of this cadence can have (28 for monthly)."""
    if cadence == "monthly":
        return 28
    return sprint_length_days if cadence == "sprint" else CADENCE_DAYS[cadence]


def period_sequence_on(
    *, cadence: str, start_date: date, day: date, sprint_length_days: int = 14
) -> int | None:
    """The number of the period containing `day`, or None before the schedule starts."""
    if day < start_date:
        return None
    if cadence == "monthly":
        months = (day.year - start_date.year) * 12 + day.month - start_date.month
        return months if _add_months(start_date, months) <= day else months - 1
    length = sprint_length_days if cadence == "sprint" else CADENCE_DAYS[cadence]
    return (day - start_date).days // length


def week_of(day: date) -> date:
    """The Monday of the ISO week a day falls in."""
    return day - timedelta(days=day.weekday())
