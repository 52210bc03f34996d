"""China's working days: public holidays off, make-up weekend days (调休) on.

2026 follows the State Council General Office's notice (国办发明电〔2025〕7号): 中秋 Fri
09-25 (with the weekend), 国庆 Thu 10-01 to Wed 10-07, worked on Sun 09-20 and Sat 10-10.
"""

import logging
from datetime import UTC, date, datetime, timedelta

import pytest

from certify.core import clock, workdays
from certify.core.workdays import add_working_days, is_working_day, working_days_between


def wenzhou(year, month, day, hour=10):
    return datetime(year, month, day, hour, tzinfo=clock.LOCAL_TZ)


def test_2026_mid_autumn_and_national_day_are_off_and_the_make_up_days_on():
    assert not is_working_day(date(2026, 9, 25))  # 中秋, a Friday
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day)), f"2026-10-0{day} is 国庆"
    assert is_working_day(date(2026, 9, 20))  # Sunday worked for 国庆
    assert is_working_day(date(2026, 10, 8))  # back at work on Thursday
    assert is_working_day(date(2026, 10, 10))  # Saturday worked for 国庆
    assert not is_working_day(date(2026, 10, 11))  # an ordinary Sunday
    assert is_working_day(date(2026, 11, 27)) and not is_working_day(date(2026, 11, 28))


def test_a_publicity_period_across_national_day_counts_the_make_up_saturday():
    start = wenzhou(2026, 9, 30).astimezone(UTC)  # Wednesday, the last day before 国庆
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (worked), 10-12 Mon, 10-13 Tue.
    ends = add_working_days(start, 5)
    assert ends == wenzhou(2026, 10, 13) and ends.tzinfo is UTC
    assert add_working_days(start, 1) == wenzhou(2026, 10, 8)
    assert add_working_days(start, 3) == wenzhou(2026, 10, 10)
    assert add_working_days(start, 0) == start


def test_working_days_between_skip_the_holiday_and_count_the_make_up_day():
    wednesday, monday = date(2026, 9, 30), date(2026, 10, 12)
    assert working_days_between(wednesday, monday) == 4  # 10-08, 10-09, 10-10, 10-12
    assert working_days_between(monday, wednesday) == -4
    assert working_days_between(date(2026, 10, 1), date(2026, 10, 7)) == 0
    assert working_days_between(date(2026, 9, 24), date(2026, 9, 28)) == 1  # over 中秋
    # A moment counts on its Wenzhou day: 16:30 UTC on 10-07 is already Thursday 10-08.
    assert working_days_between(wednesday, datetime(2026, 10, 7, 16, 30, tzinfo=UTC)) == 1


def test_2027_spring_festival_is_off():
    # 春节 2027: 除夕 Fri 02-05, 初一 to 初三 Sat 02-06 to Mon 02-08, and the two that fall on
    # the weekend made up on Tue 02-09 and Wed 02-10 (the published schedule may add more).
    for day in range(5, 11):
        assert not is_working_day(date(2027, 2, day)), f"2027-02-{day:02} is 春节"
    assert working_days_between(date(2027, 2, 4), date(2027, 2, 10)) == 0
    start = wenzhou(2027, 2, 4)  # Thursday before the holiday
    ends = add_working_days(start, 3)
    assert clock.local(ends).date() > date(2027, 2, 12)
    assert is_working_day(clock.local(ends).date())
    assert ends - start > timedelta(days=10)


def test_a_year_without_a_published_schedule_is_estimated_and_says_so(monkeypatch, caplog):
    workdays._calendar.cache_clear()
    monkeypatch.setattr(workdays, "LAST_PUBLISHED_YEAR", 2026)
    try:
        with caplog.at_level(logging.WARNING, logger="certify.core.workdays"):
            assert is_working_day(date(2026, 12, 1))
            assert not caplog.records
            assert not is_working_day(date(2027, 10, 1))  # 国庆 is statutory
            assert is_working_day(date(2027, 10, 8))
            assert not is_working_day(date(2027, 10, 9))  # a Saturday, no make-up known
        assert [r.getMessage()[:40] for r in caplog.records] == [
            "No published holiday schedule for 2027 i"
        ]
    finally:
        workdays._calendar.cache_clear()


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_installed_data_has_the_published_schedule(year):
    assert workdays.LAST_PUBLISHED_YEAR >= 2026
    # Each year's notice moves some weekend day to a working day.
    saturdays_and_sundays = [
        date(year, 1, 1) + timedelta(days=n)
        for n in range(365)
        if (date(year, 1, 1) + timedelta(days=n)).weekday() >= 5
    ]
    assert any(is_working_day(day) for day in saturdays_and_sundays)


def test_over_new_year_the_make_up_sunday_counts():
    # 元旦 2026: Thu 01-01 to Sat 01-03 off, Sunday 01-04 worked.
    assert working_days_between(date(2025, 12, 31), date(2026, 1, 5)) == 2
    assert add_working_days(wenzhou(2025, 12, 31), 1) == wenzhou(2026, 1, 4)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 9, 18), date(2026, 10, 20)),
        (date(2025, 12, 20), date(2027, 2, 15)),
        (date(2024, 2, 29), date(2026, 12, 31)),
        (date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_counting_between_agrees_with_walking_day_by_day(start, end):
    walked = sum(
        is_working_day(start + timedelta(days=n)) for n in range(1, (end - start).days + 1)
    )
    assert working_days_between(start, end) == walked
    assert working_days_between(end, start) == -walked
