from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.ingest import DateStatus, parse_date

TODAY = dt.date(2026, 11, 23)


@pytest.mark.parametrize(
    ("value", "expected", "status"),
    [
        ("2016-09-20", dt.datetime(2016, 9, 20), DateStatus.OK),
        ("2020-10-28T10:00:00Z", dt.datetime(2020, 10, 28, 10), DateStatus.OK),
        ("2020-10-28T12:00:00+02:00", dt.datetime(2020, 10, 28, 10), DateStatus.OK),
        ("2020-10-28 10:00:00", dt.datetime(2020, 10, 28, 10), DateStatus.OK),
        ("Tue, 1 Sep 2020 10:00:00 +0200", dt.datetime(2020, 9, 1, 8), DateStatus.OK),
        ("9/6/17", dt.datetime(2017, 9, 6), DateStatus.OK),
        ("12/25/19", dt.datetime(2019, 12, 25), DateStatus.OK),
        ("25/12/2019", dt.datetime(2019, 12, 25), DateStatus.OK),
        ("9/6/98", dt.datetime(1998, 9, 6), DateStatus.OK),
        ("September 6, 2017", dt.datetime(2017, 9, 6), DateStatus.OK),
        ("6 Sep 2017", dt.datetime(2017, 9, 6), DateStatus.OK),
        (1600000000, dt.datetime(2020, 9, 13, 12, 26, 40), DateStatus.OK),
        (1600000000000, dt.datetime(2020, 9, 13, 12, 26, 40), DateStatus.OK),
        (dt.date(2019, 1, 2), dt.datetime(2019, 1, 2), DateStatus.OK),
        ("0001-11-30", None, DateStatus.IMPOSSIBLE),
        ("2/30/19", None, DateStatus.IMPOSSIBLE),
        ("2999-01-01", None, DateStatus.IMPOSSIBLE),
        ("not a date", None, DateStatus.UNPARSEABLE),
        ("", None, DateStatus.MISSING),
        (None, None, DateStatus.MISSING),
        (True, None, DateStatus.UNPARSEABLE),
        (1e30, None, DateStatus.IMPOSSIBLE),
    ],
)
def test_date_table(value: object, expected: dt.datetime | None, status: DateStatus) -> None:
    parsed = parse_date(value, today=TODAY)
    assert (parsed.value, parsed.status) == (expected, status)


@given(
    st.one_of(
        st.text(max_size=40),
        st.integers(),
        st.floats(allow_nan=True),
        st.none(),
        st.datetimes(timezones=st.none() | st.timezones()),
    )
)
def test_never_raises_and_values_are_plausible(value: object) -> None:
    parsed = parse_date(value, today=TODAY)
    if parsed.value is not None:
        assert parsed.status is DateStatus.OK
        assert parsed.value.tzinfo is None
        assert 1800 <= parsed.value.year <= TODAY.year + 1
    else:
        assert parsed.status is not DateStatus.OK
