"""The hall as plain values: services, counters, bookings, tickets and their states."""

from __future__ import annotations

from collections import Counter as Tally
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Kind(StrEnum):
    WALK_IN = "walk_in"
    BOOKING = "booking"


class Status(StrEnum):
    WAITING = "waiting"
    SERVING = "serving"
    DONE = "done"
    NO_SHOW = "no_show"
    REFUSED = "refused"
    UNSERVED = "unserved"

    @property
    def closed(self) -> bool:
        return self not in (Status.WAITING, Status.SERVING)


class Arrival(StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    EARLY = "early"  # on time, but checked in before its window opened


class Tier(StrEnum):
    SERVING = "serving"
    BOOKING = "booking"
    GENERAL = "general"


class CounterStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"


CHECKS = ("chip_id", "fingerprint")  # what a service may require the officer to check


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    name_en: str
    prefix: str
    requires: tuple[str, ...] = ()  # of CHECKS: the chip ID card, the fingerprint


@dataclass(frozen=True)
class Counter:
    id: str
    name: str
    services: tuple[str, ...]
    bookings: bool


@dataclass(frozen=True)
class Booking:
    id: str
    service: str
    start: datetime
    end: datetime
    name: str | None = None


@dataclass
class Ticket:
    number: str
    seq: int  # global issue order: exact even within one second
    service: str
    kind: Kind
    issued_at: datetime
    entry_at: datetime  # issue time for walk-ins, check-in time for bookings
    priority: bool = False
    booking: Booking | None = None
    arrival: Arrival | None = None
    status: Status = Status.WAITING
    transferred: bool = False
    target_counter: str | None = None  # a transfer to one counter: first there, nowhere else
    counter: str | None = None  # the counter that called it last
    called_at: datetime | None = None
    closed_at: datetime | None = None
    reason: str | None = None
    guidance: str | None = None
    overdue_at: datetime | None = None  # when its wait passed the target (said once)
    checked: bool | None = None  # the identity check: True verified, False not, None not yet
    check_reason: str | None = None  # why it could not be verified
    checked_at: datetime | None = None
    check_counter: str | None = None  # where it was checked (it may be transferred after)
    check_officer: str | None = None  # who checked it (offices with officers)
    officer: str | None = None  # the officer who called it last (None: no sign-in here)


@dataclass
class CounterState:
    id: str
    status: CounterStatus = CounterStatus.OPEN
    current: str | None = None  # ticket number being served
    since: datetime | None = None
    officer: str | None = None  # the officer signed in here, if the office has officers

    def idle(self) -> bool:
        return self.status is CounterStatus.OPEN and self.current is None


SERVICE_TIME_WINDOW = 20  # recent service times kept per service for the wait estimate


@dataclass
class Hall:
    """Everything the dispatcher knows about one working day."""

    day: date
    counters: dict[str, CounterState]
    tickets: dict[str, Ticket] = field(default_factory=dict)
    queue: dict[str, Ticket] = field(default_factory=dict)  # the waiting ones, kept by track()
    waiting_by_service: Tally[str] = field(default_factory=Tally)  # kept by track()
    seq: int = 0
    last_number: dict[str, int] = field(default_factory=dict)  # per ticket prefix
    checked_in: dict[str, str] = field(default_factory=dict)  # booking id -> ticket number
    # Bookings known from the portal or `motcua booking`, from this day on, not cancelled.
    bookings: dict[str, Booking] = field(default_factory=dict)
    cancelled: set[str] = field(default_factory=set)  # booking ids
    moved_away: dict[str, date] = field(default_factory=dict)  # booking id -> its new day
    booking_ids: set[str] = field(default_factory=set)  # every id ever recorded, any day
    closed: bool = False
    recent_calls: deque[tuple[str, str, datetime]] = field(
        default_factory=lambda: deque(maxlen=10)
    )
    service_minutes: dict[str, deque[float]] = field(default_factory=dict)
    # Wrong PINs today, by "officer:<code>" and "counter:<id>": what locks a sign-in.
    failed_sign_ins: dict[str, list[datetime]] = field(default_factory=dict)
    ratings: dict[str, str] = field(default_factory=dict)  # ticket number -> level, today

    def waiting(self) -> list[Ticket]:
        return list(self.queue.values())

    def track(self, t: Ticket) -> None:
        """Keep `queue` in step with a ticket whose status may have changed."""
        # A ticket's service changes only by transfer, which takes it from a counter (not
        # from the queue), so the count under its service stays right.
        if t.status is Status.WAITING:
            if t.number not in self.queue:
                self.queue[t.number] = t
                self.waiting_by_service[t.service] += 1
        elif self.queue.pop(t.number, None) is not None:
            self.waiting_by_service[t.service] -= 1

    def record_service_time(self, service: str, minutes: float) -> None:
        self.service_minutes.setdefault(service, deque(maxlen=SERVICE_TIME_WINDOW)).append(
            minutes
        )
