"""Tests for compliance.workdays (no Django needed)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compliance.workdays import (
    WorkdayCalendar,
    statutory_days_off,
    statutory_holidays,
    to_local_date,
)

D = date
CAL = WorkdayCalendar({})

# LAW.md section E.
DISPUTED_FLAG_DAYS = 1
DECISION_DAYS = 5
EXTENDED_DECISION_DAYS = 20
DELETION_DAYS = 3


def days(start: date, end: date) -> list[date]:
    return [start + timedelta(i) for i in range((end - start).days + 1)]


# --------------------------------------------------------------------------- 2026 data


def test_package_data_for_national_day_2026():
    """Pin the published 2026 schedule the deadline tests below rely on."""
    holiday = days(D(2026, 10, 1), D(2026, 10, 7))
    mid_autumn = days(D(2026, 9, 25), D(2026, 9, 27))
    makeup = [D(2026, 9, 20), D(2026, 10, 10)]  # Sunday and Saturday
    assert [d.weekday() for d in makeup] == [6, 5]
    for d in holiday + mid_autumn:
        assert not chinese_calendar.is_workday(d), d
        assert not CAL.is_workday(d), d
    for d in makeup:
        assert chinese_calendar.is_workday(d), d
        assert CAL.is_workday(d), d
    assert not CAL.is_workday(D(2026, 10, 11))  # the Sunday after stays off


def test_package_data_for_spring_festival_2026():
    holiday = days(D(2026, 2, 15), D(2026, 2, 23))
    makeup = [D(2026, 2, 14), D(2026, 2, 28)]  # both Saturdays
    assert [d.weekday() for d in makeup] == [5, 5]
    for d in holiday:
        assert not CAL.is_workday(d), d
    for d in makeup:
        assert CAL.is_workday(d), d


def test_matches_chinese_calendar_for_every_known_day():
    d = D(2004, 1, 1)
    while d <= D(2026, 12, 31):
        assert CAL.is_workday(d) is chinese_calendar.is_workday(d), d
        d += timedelta(1)


# --------------------------------------------------------------------------- deadlines


def test_filing_on_30_september_2026_decision_deadline():
    # Working days after Wed 30 Sep: Thu 8 Oct, Fri 9 Oct, Sat 10 Oct (make-up),
    # Mon 12 Oct, Tue 13 Oct.
    start = D(2026, 9, 30)
    assert CAL.add_working_days(start, DISPUTED_FLAG_DAYS) == D(2026, 10, 8)
    assert CAL.add_working_days(start, DELETION_DAYS) == D(2026, 10, 10)
    assert CAL.add_working_days(start, DECISION_DAYS) == D(2026, 10, 13)
    assert CAL.working_days_between(start, D(2026, 10, 13)) == 5


def test_extension_to_20_working_days_across_national_day():
    start = D(2026, 9, 30)
    expected = [
        D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10), D(2026, 10, 12),
        D(2026, 10, 13), D(2026, 10, 14), D(2026, 10, 15), D(2026, 10, 16),
        D(2026, 10, 19), D(2026, 10, 20), D(2026, 10, 21), D(2026, 10, 22),
        D(2026, 10, 23), D(2026, 10, 26), D(2026, 10, 27), D(2026, 10, 28),
        D(2026, 10, 29), D(2026, 10, 30), D(2026, 11, 2), D(2026, 11, 3),
    ]  # fmt: skip
    assert [CAL.add_working_days(start, n) for n in range(1, 21)] == expected
    assert CAL.add_working_days(start, EXTENDED_DECISION_DAYS) == D(2026, 11, 3)


def test_filing_just_before_make_up_saturday_counts_it():
    # Fri 9 Oct 2026: the next day, Saturday 10 Oct, is a make-up working day.
    assert CAL.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)
    assert CAL.add_working_days(D(2026, 10, 9), 2) == D(2026, 10, 12)
    # Sat 19 Sep 2026: Sunday 20 Sep is a make-up working day.
    assert CAL.add_working_days(D(2026, 9, 19), 1) == D(2026, 9, 20)


def test_filing_on_a_holiday():
    assert CAL.add_working_days(D(2026, 10, 1), 1) == D(2026, 10, 8)
    assert CAL.add_working_days(D(2026, 10, 7), 3) == D(2026, 10, 10)


def test_spring_festival_2026():
    # Fri 13 Feb; Sat 14 Feb is a make-up day, then 15..23 Feb are off.
    start = D(2026, 2, 13)
    assert CAL.add_working_days(start, 1) == D(2026, 2, 14)
    assert CAL.add_working_days(start, 2) == D(2026, 2, 24)
    assert CAL.add_working_days(start, 5) == D(2026, 2, 27)
    # Filing on the make-up Saturday: the next make-up Saturday is day 5.
    assert CAL.add_working_days(D(2026, 2, 14), 5) == D(2026, 2, 28)
    assert CAL.add_working_days(D(2026, 2, 15), 1) == D(2026, 2, 24)


def test_ordinary_week():
    monday = D(2026, 3, 9)
    assert [CAL.add_working_days(monday, n) for n in range(1, 6)] == [
        D(2026, 3, 10),
        D(2026, 3, 11),
        D(2026, 3, 12),
        D(2026, 3, 13),
        D(2026, 3, 16),
    ]
    assert CAL.working_days_between(monday, D(2026, 3, 16)) == 5


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        (D(2026, 3, 13), D(2026, 3, 20)),  # Friday
        (D(2026, 3, 14), D(2026, 3, 20)),  # Saturday
        (D(2026, 3, 15), D(2026, 3, 20)),  # Sunday
    ],
)
def test_filing_on_friday_or_weekend(filed, due):
    assert CAL.add_working_days(filed, 5) == due


def test_zero_days_returns_start_even_on_a_day_off():
    assert CAL.add_working_days(D(2026, 10, 3), 0) == D(2026, 10, 3)
    assert CAL.add_working_days(D(2026, 3, 11), 0) == D(2026, 3, 11)


def test_next_workday():
    assert CAL.next_workday(D(2026, 9, 30)) == D(2026, 10, 8)
    assert CAL.next_workday(D(2026, 10, 9)) == D(2026, 10, 10)
    assert CAL.next_workday(D(2026, 3, 11)) == D(2026, 3, 12)


def test_working_days_between_edges():
    assert CAL.working_days_between(D(2026, 3, 11), D(2026, 3, 11)) == 0
    assert CAL.working_days_between(D(2026, 3, 12), D(2026, 3, 11)) == 0
    assert CAL.working_days_between(D(2026, 10, 1), D(2026, 10, 7)) == 0
    # The start day is excluded, the end day included.
    assert CAL.working_days_between(D(2026, 3, 10), D(2026, 3, 11)) == 1
    # Across years: 2026-12-31 (Thu) -> 2031-01-01, five years apart.
    total = CAL.working_days_between(D(2026, 12, 31), D(2031, 1, 1))
    assert total == sum(CAL.is_workday(d) for d in days(D(2027, 1, 1), D(2031, 1, 1)))


def test_year_boundary():
    # Thu 31 Dec 2026 -> Fri 1 Jan 2027: falls into whatever 2027 data exists,
    # but is always a later date and a working day.
    due = CAL.add_working_days(D(2026, 12, 31), 1)
    assert due.year == 2027
    assert CAL.is_workday(due)


# --------------------------------------------------------------------------- overrides


def test_override_turns_a_holiday_into_a_working_day():
    cal = WorkdayCalendar({D(2026, 10, 3): True})
    assert cal.is_workday(D(2026, 10, 3))
    assert cal.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 3)
    assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 12)
    # The shared default calendar is not affected.
    assert not CAL.is_workday(D(2026, 10, 3))


def test_override_turns_a_working_day_into_a_day_off():
    # E.g. a local closure on the make-up Saturday and on Monday 12 Oct.
    cal = WorkdayCalendar({D(2026, 10, 10): False, D(2026, 10, 12): False})
    assert not cal.is_workday(D(2026, 10, 10))
    assert cal.add_working_days(D(2026, 9, 30), 5) == D(2026, 10, 15)
    assert cal.working_days_between(D(2026, 9, 30), D(2026, 10, 15)) == 5


def test_overrides_in_an_unknown_year_and_snapshot():
    source = {D(2030, 1, 1): False, D(2030, 1, 5): True}  # Tue off, Sat on
    cal = WorkdayCalendar(source)
    source[D(2030, 1, 2)] = False  # edits after construction are not seen
    assert not cal.is_workday(D(2030, 1, 1))
    assert cal.is_workday(D(2030, 1, 2))
    assert cal.is_workday(D(2030, 1, 5))
    assert cal.add_working_days(D(2029, 12, 31), 1) == D(2030, 1, 2)
    assert not cal.year_is_known(2030)  # overrides do not make a year known
    assert dict(cal.overrides) == {D(2030, 1, 1): False, D(2030, 1, 5): True}
    with pytest.raises(TypeError):
        cal.overrides[D(2030, 1, 6)] = True  # type: ignore[index]


def test_override_keys_must_be_dates():
    with pytest.raises(TypeError):
        WorkdayCalendar({datetime(2026, 10, 3, tzinfo=UTC): True})
    with pytest.raises(TypeError):
        WorkdayCalendar({"2026-10-03": True})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- unknown years


def test_a_year_before_the_2024_rules_and_unknown_falls_back_to_monday_to_friday():
    assert not CAL.year_is_known(2003)
    # 1 Jan and 1 Oct 2003 (Wednesdays) count: no rules are computed before 2025.
    assert CAL.is_workday(D(2003, 1, 1))
    assert CAL.is_workday(D(2003, 10, 1))
    assert not CAL.is_workday(D(2003, 10, 4))  # Saturday
    assert CAL.add_working_days(D(2003, 1, 3), 5) == D(2003, 1, 10)


def test_an_unknown_year_after_2025_counts_the_computed_holidays():
    assert not CAL.year_is_known(2030)
    # 1 Jan and 1 Oct 2030 are a Tuesday: statutory holidays.
    assert not CAL.is_workday(D(2030, 1, 1))
    assert not CAL.is_workday(D(2030, 10, 1))
    assert CAL.is_workday(D(2030, 1, 2))
    # Fri 4 Jan 2030 + 5 working days -> Fri 11 Jan 2030.
    assert CAL.add_working_days(D(2030, 1, 4), 5) == D(2030, 1, 11)
    assert CAL.working_days_between(D(2030, 1, 4), D(2030, 1, 11)) == 5


def test_unknown_years_reports_fallback_years():
    years = CAL.unknown_years(D(2026, 12, 1), D(2030, 1, 5))
    assert 2030 in years
    assert 2026 not in years
    assert years == sorted(years)
    assert set(years) <= {2027, 2028, 2029, 2030}
    assert CAL.unknown_years(D(2030, 1, 5), D(2026, 12, 1)) == years  # either order
    assert CAL.unknown_years(D(2026, 1, 1), D(2026, 12, 31)) == []
    assert CAL.unknown_years(D(2003, 6, 1), D(2004, 6, 1)) == [2003]
    assert not CAL.year_is_known(0)
    assert not CAL.year_is_known(10000)


def test_extreme_years_do_not_crash():
    for d in (D(1, 1, 1), D(1, 12, 31), D(2003, 12, 31), D(9999, 1, 1), D(9999, 12, 31)):
        CAL.is_workday(d)
    assert CAL.add_working_days(D(1, 1, 1), 5) == D(1, 1, 8)  # 1 Jan 0001 was a Monday
    assert CAL.add_working_days(D(9999, 12, 30), 0) == D(9999, 12, 30)
    with pytest.raises(OverflowError):
        CAL.add_working_days(D(9999, 12, 30), 5)
    # Before the package's first year: Monday to Friday, 5 days in every 7.
    assert CAL.working_days_between(D(1, 1, 1), D(2003, 12, 31)) > 520_000
    # The last years: computed from the rules, about 250 working days a year.
    assert 480 < CAL.working_days_between(D(9998, 1, 1), D(9999, 12, 31)) < 510


def test_source_that_never_works_cannot_loop_forever():
    cal = WorkdayCalendar({}, source=lambda d: False)
    assert cal.year_is_known(2026)
    with pytest.raises(ValueError, match="no working day"):
        cal.add_working_days(D(2026, 5, 1), 1)


def test_custom_source_and_partial_knowledge():
    def source(d: date) -> bool:
        if d.year != 2040:
            raise NotImplementedError
        return d.month != 3  # every day in March off, every other day on

    cal = WorkdayCalendar({}, source=source)
    assert cal.unknown_years(D(2039, 1, 1), D(2041, 1, 1)) == [2039, 2041]
    assert cal.is_workday(D(2040, 1, 7))  # a Saturday
    assert cal.add_working_days(D(2040, 2, 29), 1) == D(2040, 4, 1)


# --------------------------------------------------------------------------- time zones


def test_aware_datetime_is_converted_to_shanghai():
    # 17:00 UTC on 30 Sep is 01:00 on 1 Oct in Shanghai: a holiday.
    dt = datetime(2026, 9, 30, 17, 0, tzinfo=UTC)
    assert to_local_date(dt) == D(2026, 10, 1)
    assert CAL.add_working_days(dt, 0) == D(2026, 10, 1)
    assert not CAL.is_workday(dt)
    # One second before midnight in Shanghai it is still 30 Sep.
    assert to_local_date(datetime(2026, 9, 30, 15, 59, 59, tzinfo=UTC)) == D(2026, 9, 30)


def test_aware_datetime_across_midnight_changes_the_deadline():
    # 9 Oct 23:30 Shanghai vs 10 Oct 00:30 Shanghai (the make-up Saturday).
    before = datetime(2026, 10, 9, 15, 30, tzinfo=UTC)
    after = datetime(2026, 10, 9, 16, 30, tzinfo=UTC)
    assert CAL.add_working_days(before, 1) == D(2026, 10, 10)
    assert CAL.add_working_days(after, 1) == D(2026, 10, 12)
    new_york = datetime(2026, 10, 9, 12, 30, tzinfo=ZoneInfo("America/New_York"))
    assert to_local_date(new_york) == D(2026, 10, 10)
    assert CAL.working_days_between(before, after) == 1


def test_naive_datetime_is_rejected():
    naive = datetime(2026, 9, 30, 12, 0)
    with pytest.raises(ValueError, match="naive"):
        CAL.add_working_days(naive, 5)
    with pytest.raises(ValueError, match="naive"):
        CAL.is_workday(naive)
    with pytest.raises(ValueError, match="naive"):
        CAL.working_days_between(D(2026, 9, 1), naive)
    with pytest.raises(ValueError, match="naive"):
        CAL.unknown_years(naive, D(2026, 9, 1))


def test_bad_arguments():
    with pytest.raises(ValueError):
        CAL.add_working_days(D(2026, 9, 30), -1)
    with pytest.raises(TypeError):
        CAL.add_working_days(D(2026, 9, 30), 1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        CAL.add_working_days(D(2026, 9, 30), True)
    with pytest.raises(TypeError):
        CAL.add_working_days("2026-09-30", 1)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- speed


def test_short_deadlines_are_fast():
    cal = WorkdayCalendar({D(2026, 10, 12): False})
    cal.add_working_days(D(2026, 9, 30), 20)  # warm the cache
    calls = 10_000
    began = time.perf_counter()
    for _ in range(calls):
        cal.add_working_days(D(2026, 9, 30), 20)
    per_call = (time.perf_counter() - began) / calls
    assert per_call < 200e-6  # microseconds in practice; generous for slow CI


# --------------------------------------------------------------------------- properties

around_known = st.dates(min_value=D(2002, 1, 1), max_value=D(2031, 12, 31))
anywhere = st.dates(min_value=D(1, 1, 1), max_value=D(9999, 10, 31))
overrides = st.dictionaries(around_known, st.booleans(), max_size=30)


def brute_force_add(cal: WorkdayCalendar, start: date, n: int) -> date:
    d = start
    while n:
        d += timedelta(1)
        n -= cal.is_workday(d)
    return d


@settings(max_examples=300, deadline=None)
@given(start=around_known, n=st.integers(min_value=0, max_value=60), ov=overrides)
def test_properties_near_known_years(start, n, ov):
    cal = WorkdayCalendar(ov)
    due = cal.add_working_days(start, n)
    assert due == brute_force_add(cal, start, n)
    assert cal.working_days_between(start, due) == n
    if n >= 1:
        assert due > start
        assert cal.is_workday(due)
        assert cal.add_working_days(start, n - 1) < due
    for day, working in ov.items():
        assert cal.is_workday(day) is working


@settings(max_examples=200, deadline=None)
@given(start=anywhere, n=st.integers(min_value=0, max_value=40))
def test_properties_for_any_year(start, n):
    due = CAL.add_working_days(start, n)
    nxt = CAL.add_working_days(start, n + 1)
    assert nxt > due >= start
    assert CAL.is_workday(nxt)
    assert CAL.working_days_between(start, due) == n
    assert CAL.working_days_between(start, nxt) == n + 1
    if not CAL.year_is_known(start.year) and start.year < 2025:
        assert CAL.is_workday(start) is (start.weekday() < 5)
    elif not CAL.year_is_known(start.year):
        assert CAL.is_workday(start) is (start not in statutory_days_off(start.year))


@settings(max_examples=200, deadline=None)
@given(a=around_known, b=around_known, c=around_known)
def test_between_is_additive(a, b, c):
    a, b, c = sorted((a, b, c))
    assert CAL.working_days_between(a, c) == (
        CAL.working_days_between(a, b) + CAL.working_days_between(b, c)
    )


# --------------------------------------------------------------------------- the 2024 rules

# The State Council's 2026 arrangement (国办, 2025-11-04), LAW.md section F.
NOTICE_2026_OFF = [
    *days(D(2026, 1, 1), D(2026, 1, 3)),
    *days(D(2026, 2, 15), D(2026, 2, 23)),
    *days(D(2026, 4, 4), D(2026, 4, 6)),
    *days(D(2026, 5, 1), D(2026, 5, 5)),
    *days(D(2026, 6, 19), D(2026, 6, 21)),
    *days(D(2026, 9, 25), D(2026, 9, 27)),
    *days(D(2026, 10, 1), D(2026, 10, 7)),
]
NOTICE_2026_MAKE_UP = [
    D(2026, 1, 4), D(2026, 2, 14), D(2026, 2, 28), D(2026, 5, 9), D(2026, 9, 20), D(2026, 10, 10)
]  # fmt: skip


def test_every_day_of_2026_follows_the_state_councils_notice():
    for day in days(D(2026, 1, 1), D(2026, 12, 31)):
        if day in NOTICE_2026_OFF:
            expected = False
        elif day in NOTICE_2026_MAKE_UP:
            expected = True
        else:
            expected = day.weekday() < 5
        assert CAL.is_workday(day) is expected, day
    assert CAL.year_is_published(2026)


def test_the_rules_computed_for_2026_fall_within_the_notices_days_off():
    """The notice joins days to the statutory ones; it never moves one of them."""
    holidays = statutory_holidays(2026)
    assert len(holidays) == 13
    assert set(holidays) <= set(NOTICE_2026_OFF)


def test_the_2027_holidays_computed_from_the_rules():
    assert statutory_holidays(2027) == {
        D(2027, 1, 1): "new_year",
        D(2027, 2, 5): "spring_festival",  # lunar New Year's Eve
        D(2027, 2, 6): "spring_festival",
        D(2027, 2, 7): "spring_festival",
        D(2027, 2, 8): "spring_festival",
        D(2027, 4, 5): "qingming",
        D(2027, 5, 1): "labour_day",
        D(2027, 5, 2): "labour_day",
        D(2027, 6, 9): "dragon_boat",
        D(2027, 9, 15): "mid_autumn",
        D(2027, 10, 1): "national_day",
        D(2027, 10, 2): "national_day",
        D(2027, 10, 3): "national_day",
    }
    # Art. 6: the six falling on a weekend are made up on the next working days.
    off = statutory_days_off(2027)
    weekday_off = sorted(d for d in off if d.weekday() < 5 and d not in statutory_holidays(2027))
    assert weekday_off == [
        D(2027, 2, 9), D(2027, 2, 10), D(2027, 5, 3), D(2027, 5, 4), D(2027, 10, 4), D(2027, 10, 5)
    ]  # fmt: skip
    for day in [*statutory_holidays(2027), *weekday_off]:
        assert not CAL.is_workday(day), day
    assert CAL.is_workday(D(2027, 2, 11))
    assert not CAL.year_is_published(2027)


def test_two_holidays_on_one_day_are_made_up_twice():
    # 3 October 2028 is both Mid-Autumn and National Day; 1 October is a Sunday.
    assert statutory_holidays(2028)[D(2028, 10, 3)] == "mid_autumn,national_day"
    off = statutory_days_off(2028)
    assert {D(2028, 10, 4), D(2028, 10, 5)} <= off
    assert D(2028, 10, 6) not in off
    assert D(2028, 1, 3) in off  # New Year on a Saturday, made up on Monday


@pytest.mark.parametrize(
    ("filed", "due"),
    [
        # Issue's cases: 1 January 2027 is a holiday fixed by statute.
        (D(2026, 12, 25), D(2027, 1, 4)),
        (D(2026, 12, 28), D(2027, 1, 5)),
    ],
)
def test_decision_deadlines_across_new_year_2027(filed, due):
    assert CAL.add_working_days(filed, DECISION_DAYS) == due
    assert CAL.unpublished_years(filed, due) == [2027]


def test_the_regulators_arrangement_wins_and_publishes_the_year():
    # Say the State Council joins 31 Dec 2026 .. 3 Jan 2027 and makes Sunday 3 Jan work.
    cal = WorkdayCalendar({D(2027, 1, 4): False, D(2027, 1, 3): True}, published_years={2027})
    assert cal.add_working_days(D(2026, 12, 28), DECISION_DAYS) == D(2027, 1, 5)
    assert cal.is_workday(D(2027, 1, 3)) and not cal.is_workday(D(2027, 1, 4))
    assert cal.unpublished_years(D(2026, 12, 28), D(2027, 1, 5)) == []
    assert cal.year_is_published(2027) and not cal.year_is_known(2027)


def test_leap_day_in_a_computed_year():
    assert CAL.is_workday(D(2028, 2, 29))  # a Tuesday, no holiday
    assert CAL.add_working_days(D(2028, 2, 28), 1) == D(2028, 2, 29)
