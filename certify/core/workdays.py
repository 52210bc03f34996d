"""Working days in China, as people in Wenzhou count them.

A working day is Monday to Friday unless it is a public holiday, plus the weekend days
worked in place of a holiday (调休, e.g. Saturday 2026-10-10 after 国庆). The days come
from the `holidays` library (python-holidays), whose China calendar follows the State
Council General Office's yearly notice on the holiday schedule (国务院办公厅关于…部分节假日
安排的通知): holidays 0.109 has the published schedules from 2001 up to 2026.

The notice for a year comes out around November of the year before. For a later year the
library still knows the statutory holidays (元旦, 春节 with 除夕, 清明, 劳动节, 端午, 中秋,
国庆; lunar dates computed) and moves one falling on a weekend to the next weekday, but it
cannot know the make-up working weekends: the result is an estimate, close to the real
schedule but not the same. Such a year is logged once as a warning; upgrade `holidays`
when the notice is out.

Days are local days (Asia/Shanghai, see certify.core.clock); a moment is counted on the
day it falls on in Wenzhou.
"""

from __future__ import annotations

import calendar
import logging
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from holidays.countries.china import ChinaStaticHolidays

from certify.core import clock

log = logging.getLogger(__name__)

# The last year whose 调休 schedule the installed `holidays` carries.
LAST_PUBLISHED_YEAR = max(ChinaStaticHolidays.special_public_holidays)


@lru_cache(maxsize=64)
def _calendar(year: int) -> holidays.HolidayBase:
    """One year's public holidays and make-up working days, built once (never expanded
    later, so sharing it between threads only reads it)."""
    if year > LAST_PUBLISHED_YEAR:
        log.warning(
            "No published holiday schedule for %d in holidays %s (last: %d): working "
            "days that year count statutory holidays only, without make-up working days",
            year,
            holidays.__version__,
            LAST_PUBLISHED_YEAR,
        )
    return holidays.country_holidays("CN", years=year, expand=False)


def is_working_day(day: date) -> bool:
    """Whether people work on this (local) day: Mon–Fri except public holidays, and the
    weekend days worked in place of a holiday."""
    if isinstance(day, datetime):
        day = clock.local(day).date()
    return _calendar(day.year).is_working_day(day)


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment `days` working days after start, at the same local time of day; 0 (or
    less) is start itself. Start on a Friday evening before 国庆 and 1 is the first working
    day after the holiday."""
    if days <= 0:
        return start
    moment = clock.local(start)
    added = 0
    while added < days:
        moment += timedelta(days=1)
        if is_working_day(moment.date()):
            added += 1
    return moment.astimezone(start.tzinfo)


def working_days_between(start: date | datetime, end: date | datetime) -> int:
    """Working days after start's local day, up to and including end's; negative when end
    comes first. Friday to Monday is 1; Saturday to Sunday is 0."""
    first, last = _local_day(start), _local_day(end)
    if last < first:
        return -working_days_between(last, first)
    whole_years = sum(_running_count(year)[-1] for year in range(first.year, last.year))
    return whole_years + _count_to(last) - _count_to(first)


@lru_cache(maxsize=64)
def _running_count(year: int) -> tuple[int, ...]:
    """Working days from 1 January up to and including each day of the year, so that a
    count over years of deadlines is a few look-ups, not a walk day by day."""
    first = date(year, 1, 1).toordinal()
    counts, n = [], 0
    for ordinal in range(first, first + (366 if calendar.isleap(year) else 365)):
        n += is_working_day(date.fromordinal(ordinal))
        counts.append(n)
    return tuple(counts)


def _count_to(day: date) -> int:
    return _running_count(day.year)[day.timetuple().tm_yday - 1]


def _local_day(moment: date | datetime) -> date:
    return clock.local(moment).date() if isinstance(moment, datetime) else moment
