"""Publication periods on the Asia/Shanghai calendar. Django-free.

A period of months counts from the day after the act ended and ends on the day of the
last month that corresponds to it, or on that month's last day when it has none
(Civil Code Arts. 201, 202): an act ending on 29 February with 12 months is published
through 28 February of the next year, and no longer from 1 March.
"""

from __future__ import annotations

import calendar
import datetime as dt

from compliance.workdays import to_local_date


def add_months(day: dt.date, months: int) -> dt.date:
    """The day ``months`` after ``day``; the month's last day when it has no such day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def publication_last_day(act_end: dt.datetime | dt.date, months: int) -> dt.date | None:
    """The last Shanghai day an item is published, counted from the end of the act; None
    when the period is 0 months (a minor item that is not published at all)."""
    if months <= 0:
        return None
    return add_months(to_local_date(act_end), months)


def is_published_on(act_end: dt.datetime | dt.date, months: int, day: dt.date) -> bool:
    last = publication_last_day(act_end, months)
    return last is not None and day <= last
