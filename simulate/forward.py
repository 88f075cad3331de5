"""The forward wait estimate: the hall played forward to when a ticket is called."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from motcua import estimate
from motcua.config import OfficeConfig
from motcua.model import Arrival, CounterStatus, Hall, Kind, Ticket, Tier
from motcua.policy import booking_key, calls_among, general_key, tier, window_opens

# A heap of (order key, ticket number, ticket, time): in a booking queue the time its window
# opens, in a general queue the time it leaves for the booking tier (`never` for most).
Queue = list[tuple[tuple, str, Ticket, datetime]]


@dataclass
class _Queues:
    """The queues the policy reads from, so that a counter looks at a few heads, not the
    hall: per counter the transfers addressed to it; per service whoever is or will be in
    the booking tier (by booking_key) and whoever is in the general tier now (by
    general_key). A ticket leaves them when called, and the general queue when its booking
    window opens: a ticket's tier changes with time only then, so tier() is asked once."""

    targeted: dict[str, Queue] = field(default_factory=lambda: defaultdict(list))
    booked: dict[str, Queue] = field(default_factory=lambda: defaultdict(list))
    general: dict[str, Queue] = field(default_factory=lambda: defaultdict(list))
    minutes: dict[str, float] = field(default_factory=dict)  # each one's service
    taken: set[str] = field(default_factory=set)  # called already

    def heads(self, office: OfficeConfig, cid: str, at: datetime
              ) -> tuple[list[Ticket], list[datetime], bool]:
        """(first of each queue counter `cid` may call from at `at`, the times booking
        windows open later, whether a booking is due)."""
        heads: list[Ticket] = []
        later: list[datetime] = []
        due = False
        if q := self._trimmed(self.targeted[cid]):
            heads.append(q[0][2])
        for s in office.counters[cid].services:
            if q := self._trimmed(self.booked[s]):  # an early booking called as general
                if q[0][3] <= at:
                    heads.append(q[0][2])
                    due = True
                else:
                    later.append(q[0][3])
            if q := self._trimmed(self.general[s], promoted_by=at):
                heads.append(q[0][2])
        return heads, later, due

    def _trimmed(self, q: Queue, promoted_by: datetime | None = None) -> Queue:
        """`q` without the called at its head (nor, for a general queue, those whose
        booking window has opened by `promoted_by`)."""
        while q and (q[0][1] in self.taken or (promoted_by is not None
                                                and q[0][3] <= promoted_by)):
            heapq.heappop(q)
        return q


def _queues(hall: Hall, office: OfficeConfig, now: datetime, means: dict[str, float],
            show: float) -> _Queues:
    rules = office.booking
    never = datetime.max.replace(tzinfo=now.tzinfo)
    qs = _Queues()
    for t in hall.waiting():
        qs.minutes[t.number] = means.get(t.service, rules.mean_service_minutes)
        if t.target_counter is not None:
            qs.targeted[t.target_counter].append((general_key(t), t.number, t, never))
            continue
        opens = never
        if t.booking is not None and tier(
                t, max(now, window_opens(t.booking, rules)), rules) is Tier.BOOKING:
            opens = window_opens(t.booking, rules)
            qs.booked[t.service].append((booking_key(t), t.number, t, opens))
        if tier(t, now, rules) is Tier.GENERAL:  # early bookings too, until their window opens
            qs.general[t.service].append((general_key(t), t.number, t, opens))
    # A booking still to come waits as an on-time ticket checked in at its slot, a placeholder
    # that takes a mean service times the show rate (never part of the caller's hall).
    grace = timedelta(minutes=rules.grace_minutes)
    coming = sorted((b for b in hall.bookings.values()
                     if b.id not in hall.checked_in and b.id not in hall.cancelled
                     and b.start + grace >= now and b.service in office.services),
                    key=lambda b: (b.start, b.id))
    for i, b in enumerate(coming):
        t = Ticket(f"~{b.id}", hall.seq + 1 + i, b.service, Kind.BOOKING, now, b.start,
                   booking=b, arrival=Arrival.ON_TIME)
        qs.minutes[t.number] = means[b.service] * show
        qs.booked[b.service].append((booking_key(t), t.number, t, window_opens(b, rules)))
    for q in (*qs.targeted.values(), *qs.booked.values(), *qs.general.values()):
        heapq.heapify(q)
    return qs


def _show_rate(hall: Hall, office: OfficeConfig, now: datetime) -> float:
    """The share of today's bookings past their grace that came, pulled towards 90% until
    the day tells."""
    grace = timedelta(minutes=office.booking.grace_minutes)
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [t.booking for t in hall.tickets.values() if t.booking and t.booking.start + grace < now]
    shown = sum(1 for b in past if b.id in hall.checked_in)
    return (shown + 4.5) / (len(past) + 5)


def _counters(hall: Hall, office: OfficeConfig, now: datetime, means: dict[str, float]
              ) -> tuple[set[str], list[tuple[datetime, int, str]]]:
    """(the open counters idle now, a heap of (when each is free, push order, counter)).
    Busy counters free up one after another, the longest-serving first, spread over one
    mean service: the core's "half a service for the first in line", counter by counter.
    (Using each counter's elapsed time did worse: the first of several random finishes
    comes sooner than the earliest expected one.)"""
    open_ = {cid: c for cid, c in hall.counters.items()
             if c.status is CounterStatus.OPEN and cid in office.counters}
    idle = {cid for cid, c in open_.items() if c.current is None}
    free = [(now, i, cid) for i, cid in enumerate(sorted(idle))]
    busy = sorted((c.since, cid) for cid, c in open_.items()
                  if c.current is not None and c.since is not None)
    for i, (_, cid) in enumerate(busy):
        current = hall.tickets[open_[cid].current or ""]
        m = means.get(current.service, office.booking.mean_service_minutes)
        free.append((now + timedelta(minutes=(i + 0.5) * m / len(busy)), len(free), cid))
    heapq.heapify(free)
    return idle, free


def forward_estimate(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """Minutes until ticket `number` is called, the hall played forward with every service
    taking the recent mean and the bookings not yet checked in taking their place at the show
    rate seen so far today. Whom each counter calls as it frees up is the ordering's own
    answer (policy.calls_among, the heart of callable_at: transfers to that counter, due
    bookings with the spill-over, then the general tier). A proposed replacement for
    estimate.wait_minutes; the simulator measures both. The hall is only read."""
    means = {s: estimate.mean_service_minutes(hall, office, s) for s in office.services}
    qs = _queues(hall, office, now, means, _show_rate(hall, office, now))
    idle, free = _counters(hall, office, now, means)
    pushed = len(free)
    while free:
        at, _, cid = heapq.heappop(free)
        idle.discard(cid)
        heads, later, due = qs.heads(office, cid, at)
        first = calls_among(office, cid, heads, at, idle.__contains__, first_only=True)
        if not first:
            # Nothing for this counter now. A due booking it may not take (the spill-over)
            # is for an idle booking counter looking at this same time: look again after it.
            # Otherwise wait for the next booking window, if any.
            idle.add(cid)
            wake = at if due and free and free[0][0] <= at else min(later, default=None)
            if wake is not None:
                heapq.heappush(free, (wake, pushed, cid))
                pushed += 1
            continue
        t = first[0]
        if t.number == number:
            return (at - now).total_seconds() / 60
        qs.taken.add(t.number)
        heapq.heappush(free, (at + timedelta(minutes=qs.minutes[t.number]), pushed, cid))
        pushed += 1
    return math.nan
