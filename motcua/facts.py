"""What happened: the facts handlers decide, and how each one changes the hall."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import assert_never

from motcua.model import Booking, CounterState, CounterStatus, Hall, Status, Ticket
from motcua.officers import MAX_TRIES


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    change: str = "issued"  # "checked_in" for a booking


@dataclass(frozen=True)
class Called:
    number: str
    counter: str
    at: datetime
    recall: bool = False


@dataclass(frozen=True)
class Closed:
    number: str
    status: Status
    at: datetime
    reason: str | None = None
    guidance: str | None = None


@dataclass(frozen=True)
class Transferred:
    number: str
    at: datetime
    service: str | None = None
    counter: str | None = None


@dataclass(frozen=True)
class CounterSet:
    counter: str
    status: CounterStatus
    at: datetime


@dataclass(frozen=True)
class SignedIn:
    counter: str
    officer: str
    at: datetime


@dataclass(frozen=True)
class SignedOut:
    counter: str
    officer: str
    at: datetime
    reason: str = "signed_out"  # or "moved" (signed in at another counter), "day_closed"


@dataclass(frozen=True)
class SignInFailed:
    counter: str
    officer: str  # the code given, known or not
    at: datetime


@dataclass(frozen=True)
class Rated:
    """A citizen rated a service that ended as done (motcua.ratings)."""
    ticket: str
    counter: str  # where it was served
    officer: str | None  # who served it (offices with officers)
    service: str
    level: str
    at: datetime


@dataclass(frozen=True)
class BookingCancelled:
    booking: Booking
    at: datetime
    reason: str = "no_show"  # or "cancelled": by the citizen, before the day


@dataclass(frozen=True)
class BookingAdded:
    booking: Booking
    at: datetime
    made_on: date


@dataclass(frozen=True)
class BookingMoved:
    booking: Booking  # with its new slot
    previous: Booking
    at: datetime


@dataclass(frozen=True)
class DayClosed:
    at: datetime


@dataclass(frozen=True)
class Overdue:
    """A waiting ticket's wait passed the office's target, at `at` (no command needed)."""

    number: str
    at: datetime


@dataclass(frozen=True)
class Checked:
    """The officer checked the chip ID card / fingerprint of the ticket being served."""

    number: str
    counter: str
    at: datetime
    verified: bool
    reason: str | None = None
    officer: str | None = None  # who checked (offices with officers)


Fact = (Issued | Called | Closed | Transferred | CounterSet | SignedIn | SignedOut
        | SignInFailed | Rated | BookingCancelled | BookingAdded | BookingMoved | DayClosed
        | Overdue | Checked)


def number_parts(number: str) -> tuple[str, int]:
    digits = len(number) - len(number.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    return number[:digits], int(number[digits:])


def apply(hall: Hall, fact: Fact) -> Ticket | None:
    """Change the hall by one fact; return the ticket it touched, if any."""
    match fact:
        case Issued(ticket=ticket):
            t = dataclasses.replace(ticket)
            hall.tickets[t.number] = t
            hall.seq = max(hall.seq, t.seq)
            prefix, n = number_parts(t.number)
            hall.last_number[prefix] = max(hall.last_number.get(prefix, 0), n)
            if t.booking is not None:
                hall.checked_in[t.booking.id] = t.number
            hall.track(t)
            return t
        case Called(number=number, counter=cid, at=at, recall=recall):
            t = hall.tickets[number]
            counter = hall.counters[cid]
            if not recall:
                t.status, t.counter, t.called_at, t.closed_at = Status.SERVING, cid, at, None
                t.target_counter, t.officer = None, counter.officer
                counter.current, counter.since = number, at
                hall.recent_calls.appendleft((number, cid, at))
                hall.track(t)
            return t
        case Closed(number=number, status=status, at=at, reason=reason, guidance=guidance):
            t = hall.tickets[number]
            if t.status is Status.SERVING and status is Status.DONE and t.called_at:
                hall.record_service_time(t.service, (at - t.called_at).total_seconds() / 60)
            t.status, t.closed_at, t.reason, t.guidance = status, at, reason, guidance
            _release(hall, t)
            hall.track(t)
            return t
        case Transferred(number=number, service=service, counter=target):
            t = hall.tickets[number]
            _release(hall, t)
            t.status, t.transferred = Status.WAITING, True
            if service is not None:
                t.service, t.target_counter = service, None
            else:
                t.target_counter = target
            hall.track(t)
            return t
        case CounterSet(counter=cid, status=status):
            hall.counters[cid].status = status
            return None
        case SignedIn() | SignedOut() | SignInFailed():
            _sign(hall, fact)
            return None
        case Rated(ticket=number, level=level):
            hall.ratings[number] = level
            return None
        case BookingCancelled() | BookingAdded() | BookingMoved():
            _book(hall, fact)
            return None
        case DayClosed():
            hall.closed = True
            return None
        case Overdue() | Checked():
            return _mark(hall, fact)
        case _:  # a new fact type fails the type check here, not in production
            assert_never(fact)


def _book(hall: Hall, fact: BookingCancelled | BookingAdded | BookingMoved) -> None:
    booking = fact.booking
    match fact:
        case BookingCancelled():
            hall.cancelled.add(booking.id)
            hall.bookings.pop(booking.id, None)
        case BookingAdded():
            hall.bookings[booking.id] = booking
            hall.booking_ids.add(booking.id)
        case BookingMoved(previous=previous):
            hall.bookings[booking.id] = booking
            if previous.start.date() == hall.day:
                hall.moved_away[booking.id] = booking.start.date()


def _mark(hall: Hall, fact: Overdue | Checked) -> Ticket:
    """Facts that note something on a ticket without moving it."""
    t = hall.tickets[fact.number]
    if isinstance(fact, Overdue):
        t.overdue_at = fact.at
    else:
        t.checked, t.check_reason, t.checked_at = fact.verified, fact.reason, fact.at
        t.check_counter, t.check_officer = fact.counter, fact.officer
    return t


def _sign(hall: Hall, fact: SignedIn | SignedOut | SignInFailed) -> None:
    counter = hall.counters[fact.counter]
    match fact:
        case SignedIn(officer=officer):
            counter.officer = officer
        case SignedOut(officer=officer):
            if counter.officer == officer:
                counter.officer = None
        case SignInFailed(officer=officer, at=at):
            for key in (f"officer:{officer}", f"counter:{fact.counter}"):
                tries = hall.failed_sign_ins.setdefault(key, [])
                tries.append(at)
                del tries[:-MAX_TRIES]  # only the last few can lock anything


def _release(hall: Hall, t: Ticket) -> None:
    if t.counter and hall.counters.get(t.counter, CounterState("")).current == t.number:
        hall.counters[t.counter].current = None
        hall.counters[t.counter].since = None
