"""The span of dates the gateway accepts anywhere, and the one parser of calendar dates.

Django-free: the department API's validation (gateway.validation), the management
commands and the admin's rule lifecycle action bar all read dates through here.
"""

from __future__ import annotations

import datetime as dt
import re

# The span of dates a record may carry: the People's Republic's founding year to a year
# no legal document in force today can reach. Outside it a value is a typo or an attack,
# and the databases disagree about (or overflow on) far-off years.
EARLIEST_YEAR = 1949
LATEST_YEAR = 2100

# ISO 8601 calendar date, extended format: no week dates (2026-W47-5), no ordinal dates.
_CALENDAR_DATE = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")


class OutOfRange(ValueError):
    """A well-formed date or instant outside EARLIEST_YEAR..LATEST_YEAR."""


def parse_calendar_date(text: str) -> dt.date:
    """An ISO 8601 calendar date YYYY-MM-DD within EARLIEST_YEAR..LATEST_YEAR.

    Raises ValueError (OutOfRange for a well-formed date outside the span).
    """
    match = _CALENDAR_DATE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValueError("not a calendar date")
    day = dt.date(int(match["year"]), int(match["month"]), int(match["day"]))
    if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
        raise OutOfRange("outside the accepted years")
    return day
