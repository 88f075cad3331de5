"""Working days and opening hours: weekends, Vietnamese public holidays, office closures."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays

from motcua.config import OfficeConfig


@lru_cache(maxsize=32)
def _vn_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def is_public_holiday(day: date) -> bool:
    return day in _vn_holidays(day.year)


def is_working_day(office: OfficeConfig, day: date) -> bool:
    return (day.weekday() in office.days and not is_public_holiday(day)
            and day not in office.closures)


def add_working_days(office: OfficeConfig, day: date, n: int) -> date:
    """The n-th working day after `day` (n = 0: `day` itself if it is a working day)."""
    if n == 0:
        while not is_working_day(office, day):
            day += timedelta(days=1)
        return day
    for _ in range(n):
        day += timedelta(days=1)
        while not is_working_day(office, day):
            day += timedelta(days=1)
    return day


def is_open(office: OfficeConfig, now: datetime) -> bool:
    """Whether kiosks may issue tickets at `now` (any aware datetime)."""
    local = now.astimezone(office.tz)
    if not is_working_day(office, local.date()):
        return False
    t = local.time()
    return any(start <= t < end for start, end in office.hours)


def next_opening(office: OfficeConfig, now: datetime) -> datetime:
    """The first moment at or after `now` when the hall is open."""
    local = now.astimezone(office.tz)
    day = local.date()
    for _ in range(400):
        if is_working_day(office, day):
            for start, end in office.hours:
                opening = datetime.combine(day, start, office.tz)
                if day == local.date() and local.time() < end and opening <= local:
                    return local
                if opening >= local:
                    return opening
        day += timedelta(days=1)
    raise ValueError("the office never opens in the coming year")
