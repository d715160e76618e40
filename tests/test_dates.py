"""Dates for people (marketplace/core/dates.py): windows inclusive of their last day in
Asia/Shanghai, whole-day voucher expiry, weekdays with the times members plan around."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, strategies as st

from marketplace.core import dates
from marketplace.core.web import i18n

pytestmark = pytest.mark.unit

SHANGHAI = ZoneInfo("Asia/Shanghai")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def test_an_owners_valid_until_reads_as_that_day_not_the_next_midnight():
    # The offer form stores "valid until 2027-02-28" as the moment it stops: 03-01 00:00 in Shanghai.
    end = shanghai(2027, 3, 1)
    assert dates.last_day(end) == date(2027, 2, 28)
    assert dates.last_day_text(end) == "2027-02-28"
    assert dates.last_day_text(end.astimezone(UTC)) == "2027-02-28"  # as the database returns it
    assert dates.end_of_last_day(end) == end


def test_an_odd_end_moment_still_gives_whole_days():
    # An API client's "2027-02-28T18:00:00Z" is 03-01 02:00 in Shanghai: the offer is still
    # open on 03-01, and a voucher of it lasts to the end of that day, never to 02:00.
    end = datetime(2027, 2, 28, 18, 0, tzinfo=UTC)
    assert dates.last_day_text(end) == "2027-03-01"
    assert dates.end_of_last_day(end) == shanghai(2027, 3, 2)
    # A seeded "now + 30 days" such as 08:13 the same.
    assert dates.end_of_last_day(shanghai(2027, 1, 2, 8, 13)) == shanghai(2027, 1, 3)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 30), timezones=st.just(UTC)))
def test_a_voucher_never_ends_before_its_offer_nor_at_an_odd_time(end):
    expiry = dates.end_of_last_day(end)
    local = expiry.astimezone(SHANGHAI)
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    assert end <= expiry < end + timedelta(days=1)
    assert dates.last_day(expiry) == dates.last_day(end)


def test_booked_times_carry_their_weekday_in_the_readers_language():
    start, end = shanghai(2026, 12, 3, 19), shanghai(2026, 12, 3, 20)
    now = shanghai(2026, 11, 30, 9)
    assert dates.time_range(start, end, now) == "周四 12-03 19:00–20:00"
    token = i18n.current_locale.set("en")
    try:
        assert dates.time_range(start, end, now) == "Thu 12-03 19:00–20:00"
    finally:
        i18n.current_locale.reset(token)
    # Next year's dates say the year; a slot past midnight says both days.
    assert dates.time_range(shanghai(2027, 1, 5, 9), shanghai(2027, 1, 5, 10), now) == "周二 2027-01-05 09:00–10:00"
    assert dates.time_range(shanghai(2026, 12, 31, 23), shanghai(2027, 1, 1, 1), now) == (
        "周四 12-31 23:00 – 周五 2027-01-01 01:00"
    )
