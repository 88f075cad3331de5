"""The forward wait estimate: the hall played forward to when a ticket is called."""

from __future__ import annotations

import heapq
import math
from datetime import datetime, timedelta
from typing import Any

from motcua import estimate
from motcua.config import OfficeConfig
from motcua.model import Arrival, CounterStatus, Hall
from motcua.policy import booking_key, general_key, window_opens


def forward_estimate(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """Minutes until ticket `number` is called, the hall played forward under the ordering
    rules with every service taking the recent mean: due bookings go first at whichever
    counter frees up (the spill-over), early ones also wait as general tickets, and bookings
    not yet checked in take their place at the show rate seen so far today. A proposed
    replacement for estimate.wait_minutes; the simulator measures both."""
    rules = office.booking
    means = {s: estimate.mean_service_minutes(hall, office, s) for s in office.services}
    grace = timedelta(minutes=rules.grace_minutes)
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [t.booking for t in hall.tickets.values() if t.booking and t.booking.start + grace < now]
    shown = sum(1 for b in past if b.id in hall.checked_in)
    show = (shown + 4.5) / (len(past) + 5)  # pulled towards 90% until the day tells
    # Per service, two heaps of (order key, due, minutes, ticket number, service).
    booked: dict[str, list[tuple[Any, ...]]] = {s: [] for s in office.services}
    general: dict[str, list[tuple[Any, ...]]] = {s: [] for s in office.services}
    for t in hall.waiting():
        m = means.get(t.service, rules.mean_service_minutes)
        if (t.booking is not None and not t.transferred
                and t.arrival in (Arrival.ON_TIME, Arrival.EARLY)):
            opens = max(now, window_opens(t.booking, rules))
            booked[t.service].append((booking_key(t), opens, m, t.number, t.service))
            if opens > now:  # early: a general ticket until its window opens
                general[t.service].append((general_key(t), now, m, t.number, t.service))
        else:
            general[t.service].append((general_key(t), now, m, t.number, t.service))
    for b in hall.bookings.values():
        if (b.id not in hall.checked_in and b.id not in hall.cancelled
                and b.start + grace >= now and b.service in booked):
            key = (b.start, b.start, math.inf, b.id)
            opens = max(now, window_opens(b, rules))
            booked[b.service].append((key, opens, means[b.service] * show, "", b.service))
    for q in (*booked.values(), *general.values()):
        heapq.heapify(q)
    # Busy counters free up one after another, the longest-serving first, spread over one mean
    # service: the core's "half a service for the first in line", counter by counter. (Using
    # each counter's elapsed time did worse: the first of several random finishes comes sooner
    # than the earliest expected one.)
    busy = sorted((c.since, cid) for cid, c in hall.counters.items()
                  if c.status is CounterStatus.OPEN and cid in office.counters
                  and c.current is not None and c.since is not None)
    free = [(now, cid) for cid, c in hall.counters.items()
            if c.status is CounterStatus.OPEN and cid in office.counters and c.current is None]
    for i, (_, cid) in enumerate(busy):
        current = hall.tickets[hall.counters[cid].current or ""]
        m = means.get(current.service, rules.mean_service_minutes)
        free.append((now + timedelta(minutes=(i + 0.5) * m / len(busy)), cid))
    heapq.heapify(free)
    taken: set[str] = set()
    while free:
        at, cid = heapq.heappop(free)
        services = [s for s in office.counters[cid].services if s in booked]
        for q in (*(booked[s] for s in services), *(general[s] for s in services)):
            while q and q[0][3] in taken:  # an early booking already called from the other heap
                heapq.heappop(q)
        due = [booked[s][0] for s in services if booked[s] and booked[s][0][1] <= at]
        ready = [general[s][0] for s in services if general[s]]
        if not due and not ready:  # nothing now: wait for the next booking window, if any
            later = [booked[s][0][1] for s in services if booked[s]]
            if later:
                heapq.heappush(free, (min(later), cid))
            continue
        pick = min(due) if due else min(ready)
        heapq.heappop(booked[pick[4]] if due else general[pick[4]])
        if pick[3] == number:
            return (at - now).total_seconds() / 60
        if pick[3]:
            taken.add(pick[3])
        heapq.heappush(free, (at + timedelta(minutes=pick[2]), cid))
    return math.nan
