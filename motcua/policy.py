"""The ordering policy of DESIGN.md: who waits in which tier, and whom each counter calls next.

Everything here is a pure function of the hall and the clock: same state, same answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from motcua.config import BookingRules, OfficeConfig
from motcua.model import Arrival, Booking, Hall, Status, Ticket, Tier


def arrival_for(booking: Booking, checked_in_at: datetime, rules: BookingRules) -> Arrival:
    if checked_in_at > booking.start + timedelta(minutes=rules.grace_minutes):
        return Arrival.LATE
    if checked_in_at < window_opens(booking, rules):
        return Arrival.EARLY
    return Arrival.ON_TIME


def window_opens(booking: Booking, rules: BookingRules) -> datetime:
    return booking.start - timedelta(minutes=rules.call_ahead_minutes)


def tier(ticket: Ticket, now: datetime, rules: BookingRules) -> Tier:
    if ticket.status is Status.SERVING:
        return Tier.SERVING
    if (ticket.booking is not None and not ticket.transferred
            and ticket.arrival in (Arrival.ON_TIME, Arrival.EARLY)
            and now >= window_opens(ticket.booking, rules)):
        # An early booking is promoted the moment its window opens.
        return Tier.BOOKING
    return Tier.GENERAL


def general_key(t: Ticket) -> tuple:
    return (not t.transferred, not t.priority, t.entry_at, t.seq)


def booking_key(t: Ticket) -> tuple:
    assert t.booking is not None
    return (t.booking.start, t.entry_at, t.seq)


def service_queue(waiting: list[Ticket], now: datetime, rules: BookingRules) -> list[
        tuple[Ticket, Tier]]:
    """One service's waiting tickets in priority order, each with its tier."""
    tiers = [(t, tier(t, now, rules)) for t in waiting]
    booked = sorted((t for t, k in tiers if k is Tier.BOOKING), key=booking_key)
    general = sorted((t for t, k in tiers if k is Tier.GENERAL), key=general_key)
    return [(t, Tier.BOOKING) for t in booked] + [(t, Tier.GENERAL) for t in general]


def callable_at(hall: Hall, office: OfficeConfig, counter_id: str, now: datetime,
                first_only: bool = False) -> list[Ticket]:
    """Whom counter `counter_id` would call, in order, if it pressed next now.

    Transfers addressed to this counter come first; then due bookings, if this counter takes
    bookings for that service or none of that service's booking counters is idle (the
    spill-over); then the general tier of its services.
    """
    return calls_among(office, counter_id, hall.waiting(), now,
                       lambda cid: hall.counters[cid].idle(), first_only)


def calls_among(office: OfficeConfig, counter_id: str, waiting: Sequence[Ticket],
                now: datetime, idle: Callable[[str], bool],
                first_only: bool = False) -> list[Ticket]:
    """callable_at without the hall: whom counter `counter_id` would call out of the waiting
    tickets `waiting`, `idle(counter id)` telling which counters are idle (for the spill-over).

    With `first_only` the answer is a least one, so any part of `waiting` that holds the
    first transfer to this counter and, for each service, the first due booking and the first
    general ticket gives the same answer: simulate.forward passes only the heads of its queues.
    """
    counter = office.counters[counter_id]
    rules = office.booking
    targeted = sorted((t for t in waiting if t.target_counter == counter_id), key=general_key)
    mine = [t for t in waiting if t.target_counter is None and t.service in counter.services]
    spill: dict[str, bool] = {}

    def may_take_booking(service: str) -> bool:
        if counter.bookings:
            return True
        if service not in spill:
            spill[service] = not any(
                idle(c.id) for c in office.booking_counters(service) if c.id != counter_id)
        return spill[service]

    if first_only and targeted:
        return targeted[:1]
    tiers = [(t, tier(t, now, rules)) for t in mine]
    booked = [t for t, k in tiers if k is Tier.BOOKING and may_take_booking(t.service)]
    general = [t for t, k in tiers if k is Tier.GENERAL]
    if first_only:  # `next` needs one ticket: min() instead of sorting the whole hall
        if booked:
            return [min(booked, key=booking_key)]
        return [min(general, key=general_key)] if general else []
    return targeted + sorted(booked, key=booking_key) + sorted(general, key=general_key)


def ahead_of(hall: Hall, ticket: Ticket, now: datetime, rules: BookingRules) -> int:
    """How many wait before `ticket` in its service's queue (its place in `order`)."""
    mine = tier(ticket, now, rules)
    if (mine is Tier.GENERAL and not ticket.transferred and not ticket.priority
            and ticket.seq == hall.seq):
        # The newest plain ticket is last in its queue: no need to rank anyone.
        return hall.waiting_by_service[ticket.service] - 1

    def key(t: Ticket, k: Tier) -> tuple:
        return (0, booking_key(t)) if k is Tier.BOOKING else (1, general_key(t))

    own = key(ticket, mine)
    return sum(1 for t in hall.waiting() if t.service == ticket.service
               and t.number != ticket.number and key(t, tier(t, now, rules)) < own)


@dataclass(frozen=True)
class Ordering:
    queues: dict[str, list[tuple[Ticket, Tier]]]  # service code -> waiting tickets in order
    next_at: dict[str, list[Ticket]]  # counter id -> whom it would call, in order


def order(hall: Hall, office: OfficeConfig, now: datetime) -> Ordering:
    by_service: dict[str, list[Ticket]] = {code: [] for code in office.services}
    for t in hall.waiting():
        by_service.setdefault(t.service, []).append(t)
    queues = {code: service_queue(ts, now, office.booking) for code, ts in by_service.items()}
    next_at = {cid: callable_at(hall, office, cid, now) for cid in office.counters}
    return Ordering(queues, next_at)
