"""Publication dates from the many forms they come in.

ISO 8601, RFC 2822, US-style ``9/6/17``, ``September 6, 2017``, Unix epochs, and datetime
objects all parse; aware times are converted to UTC and stored naive. A date before 1800 or
more than a year ahead is impossible (``0001-11-30`` in the news corpus) and becomes NULL.

What is not a date is unparseable, never guessed: a string with no digit ("Monday"), a bare
number of up to eight digits that is not an ISO date ("5", "01"), a time-zone offset of a
day or more, NaN and infinities.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from dateutil import parser as dateutil_parser


class DateStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"
    IMPOSSIBLE = "impossible"
    UNPARSEABLE = "unparseable"


@dataclass(frozen=True)
class ParsedDate:
    value: dt.datetime | None
    status: DateStatus


_UNPARSEABLE = ParsedDate(None, DateStatus.UNPARSEABLE)
MIN_YEAR = 1800
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\s*$")


def _plausible(value: dt.datetime, today: dt.date) -> ParsedDate:
    if value.tzinfo is not None:
        try:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        except (ValueError, OverflowError):
            # An offset of a day or more (``+25:00``, RFC 2822 ``+9900``) is no time zone.
            return ParsedDate(None, DateStatus.UNPARSEABLE)
    if value.year < MIN_YEAR or value.date() > today.replace(year=today.year + 1):
        return ParsedDate(None, DateStatus.IMPOSSIBLE)
    return ParsedDate(value, DateStatus.OK)


def _two_digit_year(yy: int, today: dt.date) -> int:
    pivot = today.year % 100 + 1
    return 2000 + yy if yy <= pivot else 1900 + yy


def _parse_slashed(m: re.Match[str], today: dt.date) -> dt.datetime | None:
    a, b, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    year = _two_digit_year(y, today) if len(m.group(3)) == 2 else y
    # Month first (US usage) unless the first number cannot be a month.
    month, day = (b, a) if a > 12 >= b else (a, b)
    try:
        return dt.datetime(year, month, day)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def _parse_string(text: str, today: dt.date) -> ParsedDate:
    s = text.strip()
    if not s:
        return ParsedDate(None, DateStatus.MISSING)
    try:
        return _plausible(dt.datetime.fromisoformat(s.replace(" UTC", "+00:00")), today)
    except ValueError:
        pass
    if not any(c.isdigit() for c in s):
        # "Monday", "yesterday": a word is not a date, whatever dateutil would fill in.
        return ParsedDate(None, DateStatus.UNPARSEABLE)
    if s.isdigit():
        # A bare number: an epoch in seconds or milliseconds when long enough, else nothing.
        return parse_date(int(s), today=today) if len(s) >= 9 else _UNPARSEABLE
    m = _SLASHED.match(s)
    if m:
        parsed = _parse_slashed(m, today)
        if parsed is None:
            return ParsedDate(None, DateStatus.IMPOSSIBLE)
        return _plausible(parsed, today)
    if "," in s or s[:3].isalpha():
        try:
            rfc = email.utils.parsedate_to_datetime(s)
            if rfc is not None:
                return _plausible(rfc, today)
        except (TypeError, ValueError, IndexError):
            pass
    try:
        parsed_du = dateutil_parser.parse(s, default=dt.datetime(today.year, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return _UNPARSEABLE
    return _plausible(parsed_du, today)


def parse_date(value: object, *, today: dt.date | None = None) -> ParsedDate:
    """Parse a date field of any common form. Never raises."""
    today = today or dt.date.today()
    if value is None:
        return ParsedDate(None, DateStatus.MISSING)
    if isinstance(value, dt.datetime):
        return _plausible(value, today)
    if isinstance(value, dt.date):
        return _plausible(dt.datetime(value.year, value.month, value.day), today)
    if isinstance(value, bool):
        return ParsedDate(None, DateStatus.UNPARSEABLE)
    if isinstance(value, int | float):
        if not math.isfinite(value):
            return _UNPARSEABLE
        seconds = float(value)
        if abs(seconds) > 1e11:  # milliseconds since the epoch
            seconds /= 1000.0
        try:
            moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
        except (OverflowError, OSError, ValueError):
            return ParsedDate(None, DateStatus.IMPOSSIBLE)
        return _plausible(moment, today)
    if isinstance(value, str):
        return _parse_string(value, today)
    return ParsedDate(None, DateStatus.UNPARSEABLE)
