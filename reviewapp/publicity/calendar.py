"""The Chinese official working-day calendar: weekends and public holidays off, make-up working days (调休) on.

Built on the `holidays` package (holidays.China knows the State Council's arrangement, including weekend
working days). A province can correct any day with an override (e.g. a year the package does not know yet).
Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _official(year: int) -> tuple[frozenset[date], frozenset[date]]:
    cn = holidays.China(years=year)
    days_off = frozenset(d for d in cn if d.year == year)
    workdays = frozenset(d for d in getattr(cn, "weekend_workdays", set()) if d.year == year)
    return days_off, workdays


def is_working_day(day: date, overrides: Mapping[date, bool] | None = None) -> bool:
    """True on a working day. `overrides` maps a date to True (working) or False (day off)."""
    if overrides and day in overrides:
        return overrides[day]
    days_off, workdays = _official(day.year)
    if day in workdays:
        return True
    if day in days_off:
        return False
    return day.weekday() < 5


def period_end(start: date, working_days: int, overrides: Mapping[date, bool] | None = None) -> date:
    """Last day of a period of `working_days` working days beginning on `start` (counted if it is one)."""
    if working_days < 1:
        raise ValueError("a period has at least one working day")
    day = start
    counted = 0
    while True:
        if is_working_day(day, overrides):
            counted += 1
            if counted == working_days:
                return day
        day += timedelta(days=1)


def add_working_days(day: date, n: int, overrides: Mapping[date, bool] | None = None) -> date:
    """The n-th working day after `day` (a reply deadline of "N working days")."""
    if n < 1:
        raise ValueError("n must be at least 1")
    counted = 0
    while True:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            counted += 1
            if counted == n:
                return day


def within(day: date, start: date, end: date) -> bool:
    return start <= day <= end
