"""Working days and opening hours."""

from __future__ import annotations

from datetime import date, datetime

from motcua.calendar import add_working_days, is_open, is_working_day, next_opening
from tests.conftest import TZ


def test_weekends_holidays_and_closures(office) -> None:  # type: ignore[no-untyped-def]
    assert is_working_day(office, date(2026, 11, 25))          # Wednesday
    assert not is_working_day(office, date(2026, 11, 28))      # Saturday
    assert not is_working_day(office, date(2026, 9, 2))        # National Day
    assert not is_working_day(office, date(2027, 2, 8))        # Tết 2027
    assert not is_working_day(office, date(2026, 12, 31))      # the office's own closure


def test_the_pilot_example_and_tet(office) -> None:  # type: ignore[no-untyped-def]
    assert add_working_days(office, date(2022, 11, 8), 2) == date(2022, 11, 10)
    assert add_working_days(office, date(2026, 11, 27), 2) == date(2026, 12, 1)  # Fri -> Tue
    # Booked the Thursday before Tết 2027: the holiday week is skipped entirely.
    assert add_working_days(office, date(2027, 2, 4), 2) > date(2027, 2, 10)


def test_opening_hours(office) -> None:  # type: ignore[no-untyped-def]
    def t(h: int, m: int) -> datetime:
        return datetime(2026, 11, 25, h, m, tzinfo=TZ)
    assert not is_open(office, t(7, 29))
    assert is_open(office, t(7, 30))
    assert not is_open(office, t(11, 30))      # lunch
    assert is_open(office, t(13, 0))
    assert not is_open(office, t(16, 30))
    assert next_opening(office, t(12, 0)) == t(13, 0)
    assert next_opening(office, t(17, 0)) == datetime(2026, 11, 26, 7, 30, tzinfo=TZ)
    assert next_opening(office, t(9, 0)) == t(9, 0)
