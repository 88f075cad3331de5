"""The forward wait estimate: the hall played forward to when a ticket is called."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from datetime import datetime, timedelta

from motcua import estimate
from motcua.config import OfficeConfig
from motcua.model import Arrival, CounterStatus, Hall, Kind, Ticket, Tier
from motcua.policy import booking_key, calls_among, general_key, tier, window_opens

# A heap of (order key, ticket number, ticket, time): in a booking queue the time its window
# opens, in a general queue the time it leaves for the booking tier (`never` for most).
Queue = list[tuple[tuple, str, Ticket, datetime]]


def forward_estimate(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """Minutes until ticket `number` is called, the hall played forward with every service
    taking the recent mean and the bookings not yet checked in taking their place at the show
    rate seen so far today. Whom each counter calls as it frees up is the ordering's own
    answer (policy.calls_among, the heart of callable_at: transfers to that counter, due
    bookings with the spill-over, then the general tier). A proposed replacement for
    estimate.wait_minutes; the simulator measures both. The hall is only read."""
    rules = office.booking
    means = {s: estimate.mean_service_minutes(hall, office, s) for s in office.services}
    grace = timedelta(minutes=rules.grace_minutes)
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [t.booking for t in hall.tickets.values() if t.booking and t.booking.start + grace < now]
    shown = sum(1 for b in past if b.id in hall.checked_in)
    show = (shown + 4.5) / (len(past) + 5)  # pulled towards 90% until the day tells
    minutes: dict[str, float] = {}
    never = datetime.max.replace(tzinfo=now.tzinfo)
    # The queues the policy reads from, so that a counter looks at a few heads, not the hall:
    # per counter the transfers addressed to it; per service whoever is or will be in the
    # booking tier (by booking_key) and whoever is in the general tier now (by general_key).
    # A ticket leaves them when called, and the general queue when its booking window opens:
    # a ticket's tier changes with time only then, so tier() is asked once, here.
    targeted: dict[str, Queue] = defaultdict(list)
    booked: dict[str, Queue] = defaultdict(list)
    general: dict[str, Queue] = defaultdict(list)
    for t in hall.waiting():
        minutes[t.number] = means.get(t.service, rules.mean_service_minutes)
        if t.target_counter is not None:
            targeted[t.target_counter].append((general_key(t), t.number, t, never))
            continue
        opens = never
        if t.booking is not None and tier(
                t, max(now, window_opens(t.booking, rules)), rules) is Tier.BOOKING:
            opens = window_opens(t.booking, rules)
            booked[t.service].append((booking_key(t), t.number, t, opens))
        if tier(t, now, rules) is Tier.GENERAL:  # early bookings too, until their window opens
            general[t.service].append((general_key(t), t.number, t, opens))
    # A booking still to come waits as an on-time ticket checked in at its slot, a placeholder
    # that takes a mean service times the show rate (never part of the caller's hall).
    coming = sorted((b for b in hall.bookings.values()
                     if b.id not in hall.checked_in and b.id not in hall.cancelled
                     and b.start + grace >= now and b.service in office.services),
                    key=lambda b: (b.start, b.id))
    for i, b in enumerate(coming):
        t = Ticket(f"~{b.id}", hall.seq + 1 + i, b.service, Kind.BOOKING, now, b.start,
                   booking=b, arrival=Arrival.ON_TIME)
        minutes[t.number] = means[b.service] * show
        booked[b.service].append((booking_key(t), t.number, t, window_opens(b, rules)))
    for q in (*targeted.values(), *booked.values(), *general.values()):
        heapq.heapify(q)
    # Busy counters free up one after another, the longest-serving first, spread over one mean
    # service: the core's "half a service for the first in line", counter by counter. (Using
    # each counter's elapsed time did worse: the first of several random finishes comes sooner
    # than the earliest expected one.) Heap entries are (time, push order, counter id).
    open_ = {cid: c for cid, c in hall.counters.items()
             if c.status is CounterStatus.OPEN and cid in office.counters}
    idle = {cid for cid, c in open_.items() if c.current is None}
    free = [(now, i, cid) for i, cid in enumerate(sorted(idle))]
    busy = sorted((c.since, cid) for cid, c in open_.items()
                  if c.current is not None and c.since is not None)
    for i, (_, cid) in enumerate(busy):
        current = hall.tickets[open_[cid].current or ""]
        m = means.get(current.service, rules.mean_service_minutes)
        free.append((now + timedelta(minutes=(i + 0.5) * m / len(busy)), len(free), cid))
    pushed = len(free)
    heapq.heapify(free)
    taken: set[str] = set()
    while free:
        at, _, cid = heapq.heappop(free)
        idle.discard(cid)
        heads, later, due = [], [], False
        q = targeted[cid]
        while q and q[0][1] in taken:
            heapq.heappop(q)
        if q:
            heads.append(q[0][2])
        for s in office.counters[cid].services:
            q = booked[s]
            while q and q[0][1] in taken:  # an early booking called from the general queue
                heapq.heappop(q)
            if q:
                if q[0][3] <= at:
                    heads.append(q[0][2])
                    due = True
                else:
                    later.append(q[0][3])
            q = general[s]
            while q and (q[0][1] in taken or q[0][3] <= at):
                heapq.heappop(q)  # called, or promoted to the booking tier
            if q:
                heads.append(q[0][2])
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
        taken.add(t.number)
        heapq.heappush(free, (at + timedelta(minutes=minutes[t.number]), pushed, cid))
        pushed += 1
    return math.nan
