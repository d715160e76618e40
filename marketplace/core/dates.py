"""Dates and times for people, in the configured zone (Asia/Shanghai).

Windows are stored as [start, end) moments in UTC. An owner's "valid until 2027-02-28"
is stored as its end, 2027-03-01 00:00 in Shanghai: the moment it stops. People read
the last day they may still use it, so pages show `last_day(end)` ("2027-02-28"), never
the end moment ("2027-03-01 00:00"). The same rule serves offers, vouchers and campaigns.

A voucher lasts to the end of its offer's last day (`end_of_last_day`): an offer that
ends at an odd moment (an API client's "2027-02-28T18:00:00Z", 02:00 in Shanghai) still
gives whole days, and no voucher shows an expiry such as 02:00 or 08:13.

Weekdays come with the dates members plan around: "周四 12-04 19:00–20:00".

Input is bounded to the years 2000-2100 (marketplace/core/web/forms.py), but a page shows
whatever a row holds: a moment near the calendar's ends (year 1, year 9999, PostgreSQL's
infinity, which asyncpg reads as `datetime.max`) is clamped to the nearest one Python can
hold instead of overflowing (`local`, `shift`).
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from marketplace.core.settings import get_settings

_JUST_BEFORE = timedelta(microseconds=1)


def zone_name() -> str:
    """The configured zone (settings: APP timezone, Asia/Shanghai by default); the one
    place code asks for it, in Python or in SQL (`AT TIME ZONE $n`)."""
    return get_settings().app.timezone


def zone() -> ZoneInfo:
    return ZoneInfo(zone_name())


def _edge(moment: datetime, late: bool, tz=None) -> datetime:
    return (datetime.max if late else datetime.min).replace(tzinfo=tz)


def local(moment: datetime) -> datetime:
    """`moment` in the zone; at the calendar's ends, the last (first) moment Python can hold."""
    try:
        return aware(moment).astimezone(zone())
    except (OverflowError, ValueError):
        return _edge(moment, moment.year > 5000, zone())


def aware(moment: datetime) -> datetime:
    """`moment` with a zone: asyncpg reads PostgreSQL's -infinity/infinity as naive
    `datetime.min`/`max`, which cannot be compared with an aware moment."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def shift(moment: datetime, delta: timedelta) -> datetime:
    """`moment + delta`, stopping at the calendar's ends instead of overflowing."""
    try:
        return moment + delta
    except OverflowError:
        return _edge(moment, delta > timedelta(0), moment.tzinfo)


def last_day(end: datetime) -> date:
    """The last calendar day a window ending (exclusively) at `end` covers."""
    return local(shift(end, -_JUST_BEFORE)).date()


def end_of_last_day(end: datetime) -> datetime:
    """The midnight that closes the last day of a window ending at `end` (`end` itself
    when it already is a local midnight)."""
    day = last_day(end)
    if day == date.max:
        return _edge(end, True, zone())
    return datetime.combine(day + timedelta(days=1), time(), tzinfo=zone())


_FIRST_TS = datetime.min.replace(tzinfo=UTC).timestamp()
_LAST_TS = datetime.max.replace(tzinfo=UTC).timestamp()


def timestamp(moment: datetime) -> float:
    """Seconds since the epoch, at the calendar's ends too."""
    try:
        return moment.timestamp()
    except (OverflowError, ValueError):
        return _LAST_TS if moment.year > 5000 else _FIRST_TS


def day_text(moment: datetime | None) -> str:
    """A moment's local calendar day: 2027-02-28."""
    return local(moment).date().isoformat() if moment else ""


def last_day_text(end: datetime | None) -> str:
    """The last day of a window ending at `end`: "valid until 2027-02-28" reads this."""
    return last_day(end).isoformat() if end else ""


def _babel_locale() -> str:
    from marketplace.core.web import i18n  # the shell's request locale; imported late (web imports domains)

    return "en" if i18n.current_locale.get() == "en" else "zh_Hans"


def weekday(moment: datetime) -> str:
    """The local weekday in the reader's language: 周四 / Thu."""
    return format_date(local(moment).date(), "EEE", locale=_babel_locale())


def _month_day(moment: datetime, now: datetime | None) -> str:
    """12-04, or 2027-01-05 when it is not this year."""
    moment, now = local(moment), local(now or datetime.now(zone()))
    return moment.strftime("%m-%d") if moment.year == now.year else moment.strftime("%Y-%m-%d")


def day_with_weekday(moment: datetime | None, now: datetime | None = None) -> str:
    """周四 12-04."""
    return f"{weekday(moment)} {_month_day(moment, now)}" if moment else ""


def time_range(start: datetime | None, end: datetime | None, now: datetime | None = None) -> str:
    """A booked time as members plan around it: 周四 12-04 19:00–20:00 (the end's date too
    when it falls on another day)."""
    if start is None:
        return ""
    text = f"{day_with_weekday(start, now)} {local(start):%H:%M}"
    if end is None:
        return text
    if local(end).date() == local(start).date():
        return f"{text}–{local(end):%H:%M}"
    return f"{text} – {day_with_weekday(end, now)} {local(end):%H:%M}"
