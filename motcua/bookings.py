"""The booking rules of the BHXH pilot: lead working days, slots inside opening hours,
slot capacity, and cancel or move until the day before."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from motcua import calendar
from motcua.config import OfficeConfig
from motcua.model import Booking

FEEDBACK_NAMES = {"feedback", "phản ánh, kiến nghị hoặc khác", "phan anh, kien nghi hoac khac",
                  "phản ánh, kiến nghị", "khác"}

# reason -> (Vietnamese, English)
REASONS: dict[str, tuple[str, str]] = {
    "too_soon": ("Chỉ đặt được lịch từ ngày làm việc thứ {lead} sau ngày đặt "
                 "(sớm nhất {earliest}).",
                 "Bookings start {lead} working days after the day they are made "
                 "(earliest {earliest})."),
    "not_working_day": ("Ngày {day} không phải ngày làm việc.", "{day} is not a working day."),
    "outside_hours": ("Khung giờ {time} nằm ngoài giờ làm việc.",
                      "The slot at {time} is outside opening hours."),
    "bad_slot": ("Khung giờ phải bắt đầu theo lịch {slot} phút (ví dụ {example}).",
                 "Slots start every {slot} minutes (for example {example})."),
    "too_late": ("Chỉ hủy hoặc đổi lịch được đến hết ngày trước ngày hẹn.",
                 "A booking can be cancelled or moved until the day before."),
    "slot_full": ("Khung giờ {time} đã đủ người.", "The {time} slot is full."),
    "in_the_past": ("Thời điểm đặt lịch đã qua.", "That time has passed."),
}


class BookingRefused(Exception):
    """A booking rule is broken; `reason` is a key of REASONS."""

    def __init__(self, reason: str, free_slots: list[datetime] | None = None, **info: str):
        vi, en = REASONS[reason]
        super().__init__(en.format(**info))
        self.reason = reason
        self.message, self.message_en = vi.format(**info), en.format(**info)
        self.free_slots = free_slots or []


def resolve_service(office: OfficeConfig, service_or_content: str) -> str | None:
    """A service code, or the feedback content routed to its configured service."""
    if service_or_content in office.services:
        return service_or_content
    if service_or_content.strip().lower() in FEEDBACK_NAMES:
        return office.booking.feedback_service
    return None


def capacity(office: OfficeConfig) -> int:
    """Bookings one slot can hold: booking counters x slot length / mean service time."""
    counters = sum(c.bookings for c in office.counters.values())
    return max(1, int(counters * office.booking.slot_minutes
                      // office.booking.mean_service_minutes))


def earliest_day(office: OfficeConfig, made_on: date) -> date:
    return calendar.add_working_days(office, made_on, office.booking.lead_working_days)


def slot_starts(office: OfficeConfig, day: date) -> list[datetime]:
    """Every slot start of a day, whole slots inside each opening span."""
    slot = timedelta(minutes=office.booking.slot_minutes)
    starts = []
    for open_t, close_t in office.hours:
        start = datetime.combine(day, open_t, office.tz)
        close = datetime.combine(day, close_t, office.tz)
        while start + slot <= close:
            starts.append(start)
            start += slot
    return starts


def check_slot(office: OfficeConfig, start: datetime) -> None:
    """The slot is a whole slot of a working day's opening hours."""
    local = start.astimezone(office.tz)
    day = local.date()
    if not calendar.is_working_day(office, day):
        raise BookingRefused("not_working_day", day=day.isoformat())
    starts = slot_starts(office, day)
    if local not in starts:
        slot = timedelta(minutes=office.booking.slot_minutes)
        inside = any(datetime.combine(day, o, office.tz) <= local
                     and local + slot <= datetime.combine(day, c, office.tz)
                     for o, c in office.hours)
        if not inside:
            raise BookingRefused("outside_hours", time=f"{local:%H:%M}")
        raise BookingRefused("bad_slot", slot=str(office.booking.slot_minutes),
                             example=f"{starts[0]:%H:%M}" if starts else "07:30")


def check_new(office: OfficeConfig, start: datetime, made_on: date,
              taken: Iterable[Booking]) -> None:
    """Every rule for a booking made on `made_on` for the slot at `start`."""
    check_slot(office, start)
    earliest = earliest_day(office, made_on)
    if start.astimezone(office.tz).date() < earliest:
        raise BookingRefused("too_soon", lead=str(office.booking.lead_working_days),
                             earliest=earliest.isoformat())
    used = sum(1 for b in taken if b.start == start)
    if used >= capacity(office):
        local = start.astimezone(office.tz)
        raise BookingRefused("slot_full", free_slots(office, taken, start), time=f"{local:%H:%M}")


def check_change(office: OfficeConfig, booking: Booking, today: date) -> None:
    """Cancel or move: until the day before the booked day."""
    if booking.start.astimezone(office.tz).date() <= today:
        raise BookingRefused("too_late")


def free_slots(office: OfficeConfig, taken: Iterable[Booking], after: datetime,
               n: int = 3) -> list[datetime]:
    """The next `n` slots with room, from `after` on, over the coming working days."""
    counts: dict[datetime, int] = {}
    for b in taken:
        counts[b.start] = counts.get(b.start, 0) + 1
    found: list[datetime] = []
    day = after.astimezone(office.tz).date()
    for _ in range(60):
        if calendar.is_working_day(office, day):
            for start in slot_starts(office, day):
                if start > after and counts.get(start, 0) < capacity(office):
                    found.append(start)
                    if len(found) == n:
                        return found
        day += timedelta(days=1)
    return found
