"""Chinese working-day arithmetic for statutory deadlines.

Objection and deletion deadlines (see LAW.md, sections C and E) are counted in
Chinese working days: Saturdays, Sundays and public holidays are off, while the
make-up working days (调休) that the State Council schedules around long holidays
are on, even when they fall on a weekend.

Where a day's status comes from, first match wins:

1. ``overrides``: regulator-entered corrections (True = working day, False = day
   off). They beat everything else, so a late-published schedule or an ad hoc
   local closure can be entered without a package upgrade.
2. The ``source`` (by default the ``chinese_calendar`` package), for the years it
   knows. A source signals "year not known" by raising ``NotImplementedError``.
3. For a year from ``HOLIDAY_RULES_IN_FORCE_FROM`` on that the source does not
   know, the holidays computed from the national holiday rules
   (``statutory_days_off``): the dates fixed by statute, the lunar festivals and
   the Qingming solar term, and each holiday falling on a Saturday or Sunday made
   up on the next working day (Art. 6).
4. A plain Monday-Friday fallback for every other year in 1..9999.

A year whose schedule comes from step 3 or 4 is "computed, not published": the
State Council publishes the real arrangement (days off joined to weekends, make-up
working days) late in the year before, and the regulator enters it as overrides.
``published_years`` names the years whose arrangement the regulator has entered;
``unpublished_years`` lists the others in a range, so every deadline in them can
say that it was computed.

Counting convention: ``add_working_days(start, n)`` returns the n-th working day
*after* the start day. The day of filing itself never counts, whether or not it
is a working day, as is usual for statutory deadlines. ``working_days_between``
is its inverse and counts the working days in the half-open interval
``(start, end]``.

Aware datetimes are converted to Asia/Shanghai before their calendar date is
taken; naive datetimes are rejected, because their date would be ambiguous.

Instances are immutable: the overrides are copied when the calendar is built, so
build a new calendar when the regulator edits them. Per-year tables are cached
(the source part is shared by every calendar using the default source), which
makes ``add_working_days`` for short deadlines a few microseconds. Sharing an
instance between threads is safe: concurrent cache fills compute identical
values.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Mapping
from datetime import MAXYEAR, MINYEAR, date, datetime
from types import MappingProxyType

import chinese_calendar
from lunar_python import Lunar, Solar

from compliance.law import DISPLAY_ZONE

__all__ = [
    "HOLIDAY_RULES_IN_FORCE_FROM",
    "SHANGHAI",
    "WorkdayCalendar",
    "statutory_days_off",
    "statutory_holidays",
    "to_local_date",
]

SHANGHAI = DISPLAY_ZONE  # the law's time zone, re-exported for the calendar's callers

# A year table is a bytes object with one entry per day of the year:
# 1 for a working day, 0 for a day off.
_WORK = b"\x01"
_OFF = b"\x00"
# Monday..Sunday under the fallback rule.
_WEEK = _WORK * 5 + _OFF * 2

DateLike = date | datetime
WorkdaySource = Callable[[date], bool]


def to_local_date(value: DateLike) -> date:
    """Return the calendar date of ``value`` in Asia/Shanghai.

    Plain dates are returned unchanged. Aware datetimes are converted to
    Asia/Shanghai first. Naive datetimes raise ``ValueError``.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                "naive datetime given; pass an aware datetime or a date so the "
                "calendar day in Asia/Shanghai is unambiguous"
            )
        return value.astimezone(SHANGHAI).date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date or an aware datetime, got {type(value).__name__}")


def _default_source(day: date) -> bool:
    return bool(chinese_calendar.is_workday(day))


# 全国年节及纪念日放假办法, as amended by State Council Decree No. 795 (2024), in force
# 1 January 2025: 13 days of statutory holidays for all citizens (Art. 2).
HOLIDAY_RULES_IN_FORCE_FROM = 2025
QINGMING = "清明"


def statutory_holidays(year: int) -> dict[date, str]:
    """The 13 statutory holidays of ``year`` (Art. 2 of the 2024 rules), by date.

    New Year 1 Jan; Spring Festival, lunar New Year's Eve and lunar 1/1-1/3;
    Qingming, the day of the solar term; Labour Day 1-2 May; Dragon Boat, lunar
    5/5; Mid-Autumn, lunar 8/15; National Day 1-3 Oct. Two holidays on one date
    (Mid-Autumn on 1-3 October) keep both names, comma-separated.
    """
    spring_festival = _lunar_to_date(year, 1, 1)
    days: list[tuple[date, str]] = [
        (date(year, 1, 1), "new_year"),
        (date.fromordinal(spring_festival.toordinal() - 1), "spring_festival"),
        *((date.fromordinal(spring_festival.toordinal() + i), "spring_festival") for i in range(3)),
        (_qingming(year), "qingming"),
        (date(year, 5, 1), "labour_day"),
        (date(year, 5, 2), "labour_day"),
        (_lunar_to_date(year, 5, 5), "dragon_boat"),
        (_lunar_to_date(year, 8, 15), "mid_autumn"),
        *((date(year, 10, day), "national_day") for day in (1, 2, 3)),
    ]
    holidays: dict[date, str] = {}
    for day, name in days:
        holidays[day] = f"{holidays[day]},{name}" if day in holidays else name
    return holidays


def statutory_days_off(year: int) -> frozenset[date]:
    """Every day off of ``year`` under the rules: weekends, holidays and make-up days.

    Art. 6: a holiday for all citizens that falls on a Saturday or Sunday is made
    up on a working day; in practice the next one after the holiday, which is the
    rule applied here. A date carrying two holidays is made up the same way (as
    for National Day and Mid-Autumn on 1 October 2020). No holiday falls late in
    December, so a make-up day never crosses into the next year.
    """
    holidays = statutory_holidays(year)
    jan1 = date(year, 1, 1).toordinal()
    length = 366 if calendar.isleap(year) else 365
    off = {day for i in range(length) if (day := date.fromordinal(jan1 + i)).weekday() >= 5}
    off |= holidays.keys()
    for day in sorted(holidays):
        owed = holidays[day].count(",") + (1 if day.weekday() >= 5 else 0)
        candidate = day
        for _ in range(owed):
            candidate = date.fromordinal(candidate.toordinal() + 1)
            while candidate in off:
                candidate = date.fromordinal(candidate.toordinal() + 1)
            off.add(candidate)
    return frozenset(off)


def _lunar_to_date(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    # The lunar year that contains April holds this year's Qingming in its table.
    term = Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()[QINGMING]
    return date(term.getYear(), term.getMonth(), term.getDay())


class WorkdayCalendar:
    """Working-day calendar: regulator overrides, then the official schedule,
    then the holidays computed from the rules, then Monday-Friday.

    ``source`` is a callable ``date -> bool`` (True = working day) that raises
    ``NotImplementedError`` for years it has no schedule for. It defaults to the
    ``chinese_calendar`` package and exists mainly so tests can substitute one.
    """

    def __init__(
        self,
        overrides: Mapping[date, bool] | None = None,
        *,
        source: WorkdaySource | None = None,
        published_years: frozenset[int] | set[int] = frozenset(),
    ) -> None:
        cleaned: dict[date, bool] = {}
        by_year: dict[int, list[tuple[date, bool]]] = {}
        for day, working in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise TypeError(f"override keys must be dates, got {day!r}")
            cleaned[day] = bool(working)
            by_year.setdefault(day.year, []).append((day, bool(working)))
        self._overrides = cleaned
        self._overrides_by_year = by_year
        self._published_years = frozenset(published_years)
        self._schedule = _DEFAULT_SCHEDULE if source is None else _Schedule(source)
        self._tables: dict[int, bytes] = {}
        self._counts: dict[int, int] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}(overrides={len(self._overrides)} days)"

    @property
    def overrides(self) -> Mapping[date, bool]:
        """Read-only view of the overrides this calendar was built with."""
        return MappingProxyType(self._overrides)

    # ------------------------------------------------------------------ knowledge

    def year_is_known(self, year: int) -> bool:
        """True if the source has the official schedule for ``year``.

        Overrides are not taken into account: a year counts as unknown even if
        the regulator has entered some of its days by hand.
        """
        return self._schedule.year_is_known(year)

    def year_is_published(self, year: int) -> bool:
        """True if ``year`` follows the State Council's published arrangement: the
        source knows it, or the regulator has entered it as overrides."""
        return year in self._published_years or self.year_is_known(year)

    def unpublished_years(self, start: DateLike, end: DateLike) -> list[int]:
        """Years touched by the range (inclusive, either order) whose schedule is
        only computed: a deadline in them must say so."""
        first, last = sorted((to_local_date(start).year, to_local_date(end).year))
        return [year for year in range(first, last + 1) if not self.year_is_published(year)]

    def unknown_years(self, start: DateLike, end: DateLike) -> list[int]:
        """Years touched by the range from ``start`` to ``end`` (inclusive, in
        either order) that the source does not know.
        """
        first, last = sorted((to_local_date(start).year, to_local_date(end).year))
        return [year for year in range(first, last + 1) if not self.year_is_known(year)]

    # ------------------------------------------------------------------ per day

    def is_workday(self, d: DateLike) -> bool:
        """True if ``d`` is a working day."""
        day = to_local_date(d)
        return self._table(day.year)[day.timetuple().tm_yday - 1] == 1

    def next_workday(self, d: DateLike) -> date:
        """The first working day strictly after ``d`` (same as
        ``add_working_days(d, 1)``)."""
        return self.add_working_days(d, 1)

    # ------------------------------------------------------------------ arithmetic

    def add_working_days(self, start: DateLike, n: int) -> date:
        """The date of the n-th working day after the start day.

        The start day itself is never counted, even if it is a working day: a
        filing on a Wednesday with a 1-working-day deadline is due on the next
        working day. ``n == 0`` returns the start date unchanged. Raises
        ``OverflowError`` if the result would be after 9999-12-31 and
        ``ValueError`` for a negative ``n`` or if a whole year has no working
        day at all (a broken source or overrides), so the search always ends.
        """
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {type(n).__name__}")
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        day = to_local_date(start)
        if n == 0:
            return day

        year = day.year
        after = day.timetuple().tm_yday  # index of the day after ``start``
        remaining = n
        while True:
            table = self._table(year)
            available = table.count(_WORK, after)
            if available >= remaining:
                pos = after - 1
                for _ in range(remaining):
                    pos = table.find(_WORK, pos + 1)
                return date.fromordinal(date(year, 1, 1).toordinal() + pos)
            if available == 0 and after == 0:
                raise ValueError(f"no working day at all in {year}; check the overrides")
            remaining -= available
            year += 1
            after = 0
            if year > MAXYEAR:
                raise OverflowError("deadline falls after 9999-12-31")

    def working_days_between(self, start: DateLike, end: DateLike) -> int:
        """Number of working days in ``(start, end]``; 0 if ``end <= start``.

        ``working_days_between(d, add_working_days(d, n)) == n`` for any n.
        """
        first = to_local_date(start)
        last = to_local_date(end)
        if last <= first:
            return 0
        first_idx = first.timetuple().tm_yday  # exclusive of ``start``
        last_idx = last.timetuple().tm_yday  # inclusive of ``end``
        if first.year == last.year:
            return self._table(first.year).count(_WORK, first_idx, last_idx)
        total = self._table(first.year).count(_WORK, first_idx)
        for year in range(first.year + 1, last.year):
            total += self._year_count(year)
        total += self._table(last.year).count(_WORK, 0, last_idx)
        return total

    # ------------------------------------------------------------------ caches

    def _year_count(self, year: int) -> int:
        count = self._counts.get(year)
        if count is None:
            count = self._table(year).count(_WORK)
            self._counts[year] = count
        return count

    def _table(self, year: int) -> bytes:
        table = self._tables.get(year)
        if table is None:
            table = self._build_table(year)
            self._tables[year] = table
        return table

    def _build_table(self, year: int) -> bytes:
        base = self._schedule.table(year)
        changes = self._overrides_by_year.get(year)
        if not changes:
            return base
        days = bytearray(base)
        for day, working in changes:
            days[day.timetuple().tm_yday - 1] = 1 if working else 0
        return bytes(days)


class _Schedule:
    """Source schedule plus the computed and Monday-Friday fallbacks, without overrides.

    Kept apart from ``WorkdayCalendar`` so that calendars using the default
    source share one cache: building a year from ``chinese_calendar`` takes
    milliseconds, and a new calendar is built whenever the overrides change.
    """

    def __init__(self, source: WorkdaySource) -> None:
        self._source = source
        self._known: dict[int, bool] = {}
        self._tables: dict[int, bytes] = {}

    def year_is_known(self, year: int) -> bool:
        known = self._known.get(year)
        if known is None:
            if not MINYEAR <= year <= MAXYEAR:
                return False
            try:
                self._source(date(year, 1, 1))
            except NotImplementedError:
                known = False
            else:
                known = True
            self._known[year] = known
        return known

    def table(self, year: int) -> bytes:
        table = self._tables.get(year)
        if table is None:
            table = self._build(year)
            self._tables[year] = table
        return table

    def _build(self, year: int) -> bytes:
        length = 366 if calendar.isleap(year) else 365
        jan1 = date(year, 1, 1)
        shift = jan1.weekday()
        fallback = (_WEEK * 54)[shift : shift + length]
        if not self.year_is_known(year):
            return _computed_table(year, fallback)
        days = bytearray(length)
        ordinal = jan1.toordinal()
        for i in range(length):
            try:
                days[i] = 1 if self._source(date.fromordinal(ordinal + i)) else 0
            except NotImplementedError:
                days[i] = fallback[i]
        return bytes(days)


def _computed_table(year: int, fallback: bytes) -> bytes:
    if year < HOLIDAY_RULES_IN_FORCE_FROM:
        return fallback
    try:
        off = statutory_days_off(year)
    except Exception:  # the lunar library's range ends somewhere near 9999
        return fallback
    jan1 = date(year, 1, 1).toordinal()
    return bytes(0 if date.fromordinal(jan1 + i) in off else 1 for i in range(len(fallback)))


_DEFAULT_SCHEDULE = _Schedule(_default_source)
