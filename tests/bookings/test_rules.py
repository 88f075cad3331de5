"""The booking rules of the pilot, on plain values."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from motcua import calendar
from motcua.bookings import (
    BookingRefused,
    capacity,
    check_change,
    check_new,
    earliest_day,
    resolve_service,
    slot_starts,
)
from motcua.model import Booking
from tests.conftest import TZ


def slot(d: date, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(d.year, d.month, d.day, h, m, tzinfo=TZ)


def refused(office, start: datetime, made_on: date, taken=()) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(BookingRefused) as err:
        check_new(office, start, made_on, list(taken))
    return err.value.reason


def test_the_seed_example(office) -> None:  # type: ignore[no-untyped-def]
    assert earliest_day(office, date(2022, 11, 8)) == date(2022, 11, 10)  # Tue -> Thu
    assert refused(office, slot(date(2022, 11, 9), "08:00"), date(2022, 11, 8)) == "too_soon"
    check_new(office, slot(date(2022, 11, 10), "08:00"), date(2022, 11, 8), [])


@pytest.mark.parametrize("made_on, earliest", [
    (date(2026, 11, 30), date(2026, 12, 2)),    # Mon -> Wed
    (date(2026, 12, 1), date(2026, 12, 3)),     # Tue -> Thu
    (date(2026, 11, 23), date(2026, 11, 26)),   # Mon -> Thu: Tue 24 is Vietnam Cultural Day
    (date(2026, 11, 25), date(2026, 11, 27)),   # Wed -> Fri
    (date(2026, 11, 26), date(2026, 11, 30)),   # Thu -> Mon
    (date(2026, 11, 27), date(2026, 12, 1)),    # Fri -> Tue
    (date(2026, 11, 28), date(2026, 12, 1)),    # Sat -> Tue
    (date(2026, 11, 29), date(2026, 12, 1)),    # Sun -> Tue
    (date(2026, 11, 20), date(2026, 11, 25)),   # Fri -> Wed: Tue 24 is Vietnam Cultural Day
])
def test_the_lead_rule_on_every_weekday(office, made_on: date, earliest: date) -> None:  # type: ignore[no-untyped-def]
    assert earliest_day(office, made_on) == earliest
    check_new(office, slot(earliest, "07:30"), made_on, [])
    # The working day before the earliest one (it is after made_on: the earliest day is the
    # second working day after it) is too soon, whatever lies between.
    before = earliest - timedelta(days=1)
    while not calendar.is_working_day(office, before):
        before -= timedelta(days=1)
    assert made_on < before
    assert refused(office, slot(before, "07:30"), made_on) == "too_soon"


def test_weekends_tet_and_closures(office) -> None:  # type: ignore[no-untyped-def]
    made = date(2026, 11, 2)
    assert refused(office, slot(date(2026, 11, 28), "08:00"), made) == "not_working_day"
    assert refused(office, slot(date(2026, 12, 31), "08:00"), made) == "not_working_day"
    for d in (date(2027, 2, 5), date(2027, 2, 8), date(2027, 2, 9), date(2027, 2, 10)):
        assert not calendar.is_working_day(office, d), d  # weekdays of Tết 2027's holidays
        assert refused(office, slot(d, "08:00"), made) == "not_working_day"
    # Booked the day before Tết 2027's holidays: the earliest day falls after them.
    tet_eve = date(2027, 2, 4)
    earliest = earliest_day(office, tet_eve)
    assert earliest > date(2027, 2, 10) and calendar.is_working_day(office, earliest)


def test_slots_inside_opening_hours(office) -> None:  # type: ignore[no-untyped-def]
    d, made = date(2026, 11, 30), date(2026, 11, 25)
    starts = [f"{s:%H:%M}" for s in slot_starts(office, d)]
    assert starts[0] == "07:30" and starts[-1] == "16:00" and "11:30" not in starts
    assert len(starts) == 8 + 7
    assert refused(office, slot(d, "11:30"), made) == "outside_hours"
    assert refused(office, slot(d, "07:00"), made) == "outside_hours"
    assert refused(office, slot(d, "16:30"), made) == "outside_hours"
    assert refused(office, slot(d, "08:10"), made) == "bad_slot"


def test_capacity_and_the_next_free_slots(office) -> None:  # type: ignore[no-untyped-def]
    assert capacity(office) == 4   # 2 booking counters x 30 / 15
    d, made = date(2026, 11, 30), date(2026, 11, 25)
    taken = [Booking(f"B{i}", "A", slot(d, "08:00"), slot(d, "08:30")) for i in range(4)]
    taken += [Booking(f"C{i}", "A", slot(d, "08:30"), slot(d, "09:00")) for i in range(4)]
    check_new(office, slot(d, "09:00"), made, taken)
    with pytest.raises(BookingRefused) as err:
        check_new(office, slot(d, "08:00"), made, taken)
    assert err.value.reason == "slot_full"
    assert [f"{s:%H:%M}" for s in err.value.free_slots] == ["09:00", "09:30", "10:00"]
    assert "08:00" in err.value.message and "đủ người" in err.value.message


def test_cancel_or_move_until_the_day_before(office) -> None:  # type: ignore[no-untyped-def]
    b = Booking("B1", "A", slot(date(2026, 11, 30), "08:00"), slot(date(2026, 11, 30), "08:30"))
    check_change(office, b, date(2026, 11, 29))
    with pytest.raises(BookingRefused) as err:
        check_change(office, b, date(2026, 11, 30))
    assert err.value.reason == "too_late"


def test_feedback_bookings_route_to_their_service(office) -> None:  # type: ignore[no-untyped-def]
    assert resolve_service(office, "Phản ánh, kiến nghị hoặc khác") == "C"
    assert resolve_service(office, "feedback") == "C"
    assert resolve_service(office, "A") == "A"
    assert resolve_service(office, "Z") is None


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(made=st.dates(date(2026, 1, 1), date(2027, 12, 20)), ahead=st.integers(0, 20),
       minutes=st.integers(0, 24 * 60 - 1), taken=st.integers(0, 6))
def test_no_accepted_booking_breaks_a_rule(office, made: date, ahead: int, minutes: int,  # type: ignore[no-untyped-def]
                                           taken: int) -> None:
    day = made + timedelta(days=ahead)
    start = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(minutes=minutes)
    others = [Booking(f"X{i}", "A", start, start + timedelta(minutes=30)) for i in range(taken)]
    # Every rule, worked out here independently of motcua.bookings.
    working = day.weekday() < 5 and day not in office.closures \
        and not calendar.is_public_holiday(day)
    working_days_between = sum(
        1 for k in range(1, (day - made).days + 1)
        if calendar.is_working_day(office, made + timedelta(days=k)))
    inside = any(datetime.combine(day, o, TZ) <= start
                 and start + timedelta(minutes=30) <= datetime.combine(day, c, TZ)
                 for o, c in office.hours)  # datetimes: a slot from 23:30 ends after midnight
    broken = {"not_working_day": not working, "outside_hours": not inside,
              "bad_slot": minutes % 30 != 0, "too_soon": working_days_between < 2,
              "slot_full": taken >= 4}
    try:
        check_new(office, start, made, others)
    except BookingRefused as e:
        # Refused: for a rule the booking really breaks (a refusal is checked too).
        assert broken[e.reason], (e.reason, broken)
        return
    # Accepted: no rule is broken.
    assert not any(broken.values()), broken
