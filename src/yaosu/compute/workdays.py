"""Deadlines in China's working days (工作日), adjusted workdays (调休) included, from PyPI
``chinese-calendar``: the State Council's yearly holiday notice, as the package ships it.

A year the package has no data for yet (the notice comes out each autumn for the next year)
is counted Monday to Friday, and the deadline is marked *provisional*: the filing shows it as
an estimate until a newer ``chinese-calendar`` knows the year.

>>> from datetime import date
>>> add(date(2026, 9, 28), 10)  # National Day week: 1–7 October are holidays
Deadline(day=datetime.date(2026, 10, 16), provisional=False)
>>> add(date(2026, 12, 28), 10).provisional  # runs into 2027
True
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Deadline:
    day: date
    provisional: bool


def is_workday(day: date) -> tuple[bool, bool]:
    """Whether ``day`` is a working day, and whether that is only the Monday-to-Friday guess."""
    try:
        return chinese_calendar.is_workday(day), False
    except NotImplementedError:  # the package's data ends before this year
        return day.weekday() < 5, True


def add(start: date, working_days: int) -> Deadline:
    """The ``working_days``-th working day after ``start`` (``start`` itself not counted: the
    rules count "from the day of" the event, 自…之日起, as the next day's count in practice)."""
    day, left, provisional = start, working_days, False
    while left > 0:
        day += timedelta(days=1)
        working, guessed = is_workday(day)
        provisional = provisional or guessed
        if working:
            left -= 1
    return Deadline(day, provisional)


def between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` ≤ ``start``).

    >>> between(date(2026, 9, 30), date(2026, 10, 10))  # 8, 9 and the adjusted Saturday 10
    3
    """
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        if is_workday(day)[0]:
            count += 1
    return count
