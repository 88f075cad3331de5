"""Expected waits: the hall played forward to each call while the queue is short, the queue
formula (position, counters open, recent service times) when it is long.

Why both: on peak days, simulated and replayed from a dispatcher's database (`motcua simulate
--replay`), the forward play errs less, but it plays the whole hall for every ticket issued,
O(waiting log waiting): a walk-in's p99 cost goes from 16 to 47 ms with 500 waiting and from
28 to 393 ms with 3,000 (bench/bench_dispatcher.py --estimate, a loaded 2-core machine).
Past FORWARD_MAX_WAITING the formula, which costs nothing, answers.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter as Tally
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from motcua.config import OfficeConfig
from motcua.model import Arrival, CounterStatus, Hall, Kind, Ticket, Tier
from motcua.policy import ahead_of, booking_key, calls_among, general_key, tier, window_opens

PRIOR_WEIGHT = 5  # the configured mean counts as this many observed services
# Up to this many waiting in the hall the forward play answers, past it the formula. A
# simulated peak day peaks at 27 waiting on 8 counters and 48 on 6 (overloaded, 110%): it
# is played forward all day; a flooded hall costs what it did before.
FORWARD_MAX_WAITING = 60


def mean_service_minutes(hall: Hall, office: OfficeConfig, service: str) -> float:
    """A moving mean of the last services, pulled towards the configured prior."""
    recent = hall.service_minutes.get(service, ())
    prior = office.booking.mean_service_minutes
    return (prior * PRIOR_WEIGHT + sum(recent)) / (PRIOR_WEIGHT + len(recent))


def waiting_counts(hall: Hall) -> Tally[str]:
    return Tally(hall.waiting_by_service)


def _share(services: tuple[str, ...], service: str, counts: Tally[str]) -> float:
    """The part of a shared counter's time that goes to `service`: in proportion to what
    waits for each of its services, counting one more for the citizen being estimated."""
    total = sum(counts[s] for s in services) + 1
    return (counts[service] + 1) / total


def wait_minutes(hall: Hall, office: OfficeConfig, service: str, ahead: int,
                 counts: Tally[str] | None = None) -> int:
    """The queue formula: minutes until a citizen with `ahead` people before them is called,
    rounded."""
    counts = waiting_counts(hall) if counts is None else counts
    serving = [c for c in office.counters.values() if service in c.services]
    open_ = [c for c in serving if hall.counters[c.id].status is CounterStatus.OPEN]
    capacity = sum(_share(c.services, service, counts) for c in (open_ or serving))
    busy = all(hall.counters[c.id].current is not None for c in open_)
    mean = mean_service_minutes(hall, office, service)
    # With every counter busy, the first in line still waits about half a service.
    return round((ahead + (0.5 if busy else 0.0)) * mean / capacity)


def queue_minutes(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """The queue formula for waiting ticket `number` (the estimator tickets printed before
    the forward play; the simulator and the replay measure it beside the others)."""
    t = hall.tickets[number]
    return wait_minutes(hall, office, t.service, ahead_of(hall, t, now, office.booking))


def ticket_minutes(hall: Hall, office: OfficeConfig, now: datetime, t: Ticket, ahead: int,
                   counts: Tally[str] | None = None) -> int:
    """What a waiting ticket shows: the forward play while the hall is short, else (and
    when no counter would ever call it, e.g. a transfer to a paused counter) the formula."""
    if len(hall.queue) <= FORWARD_MAX_WAITING:
        minutes = forward_minutes(hall, office, now, t.number)
        if not math.isnan(minutes):
            return round(minutes)
    return wait_minutes(hall, office, t.service, ahead, counts)


def printed_minutes(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """ticket_minutes as an estimator of the simulator (hall, office, now, number)."""
    t = hall.tickets[number]
    return ticket_minutes(hall, office, now, t, ahead_of(hall, t, now, office.booking))


def board_minutes(hall: Hall, office: OfficeConfig, now: datetime,
                  counts: Tally[str] | None = None) -> dict[str, int]:
    """Per service, the wait of a citizen taking a number now (the board's figure)."""
    counts = waiting_counts(hall) if counts is None else counts
    forward = forward_new(hall, office, now) if len(hall.queue) <= FORWARD_MAX_WAITING else {}
    out = {}
    for code in office.services:
        minutes = forward.get(code, math.nan)
        out[code] = (wait_minutes(hall, office, code, counts[code], counts)
                     if math.isnan(minutes) else round(minutes))
    return out


# -- the forward play --------------------------------------------------------------------
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
        windows open later, whether the heads hold more than the general tier: a due
        booking or a transfer to `cid`)."""
        heads: list[Ticket] = []
        later: list[datetime] = []
        due = False
        if q := self._trimmed(self.targeted[cid]):
            heads.append(q[0][2])
            due = True
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
            show: float, newcomers: list[Ticket]) -> _Queues:
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
    for t in newcomers:  # citizens who would take a number now: called, they take no time
        qs.minutes[t.number] = 0.0
        qs.general[t.service].append((general_key(t), t.number, t, never))
    # A booking still to come waits as an on-time ticket checked in at its slot, a placeholder
    # that takes a mean service times the show rate (never part of the caller's hall).
    grace = timedelta(minutes=rules.grace_minutes)
    coming = sorted((b for b in hall.bookings.values()
                     if b.id not in hall.checked_in and b.id not in hall.cancelled
                     and b.start + grace >= now and b.service in office.services),
                    key=lambda b: (b.start, b.id))
    first = hall.seq + 1 + len(newcomers)
    for i, b in enumerate(coming):
        t = Ticket(f"~{b.id}", first + i, b.service, Kind.BOOKING, now, b.start,
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
    # The checked-in bookings through checked_in, not the day's tickets: a late hall holds
    # thousands of tickets, and this runs for every ticket issued.
    came = (hall.tickets[n].booking for n in hall.checked_in.values() if n in hall.tickets)
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [b for b in came if b is not None and b.start + grace < now]
    shown = sum(1 for b in past if b.id in hall.checked_in)
    return (shown + 4.5) / (len(past) + 5)


def _counters(hall: Hall, office: OfficeConfig, now: datetime, means: dict[str, float]
              ) -> tuple[set[str], list[tuple[datetime, int, str]]]:
    """(the open counters idle now, a heap of (when each is free, push order, counter)).
    Busy counters free up one after another, the longest-serving first, spread over one
    mean service: the formula's "half a service for the first in line", counter by counter.
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


def _play(hall: Hall, office: OfficeConfig, now: datetime, targets: set[str],
          newcomers: list[Ticket]) -> dict[str, float]:
    """Minutes until each of `targets` is called, the hall played forward with every service
    taking the recent mean and the bookings not yet checked in taking their place at the show
    rate seen so far today. Whom each counter calls as it frees up is the ordering's own
    answer (policy.calls_among, the heart of callable_at: transfers to that counter, due
    bookings with the spill-over, then the general tier). A target never called is missing.
    The hall is only read."""
    means = {s: mean_service_minutes(hall, office, s) for s in office.services}
    qs = _queues(hall, office, now, means, _show_rate(hall, office, now), newcomers)
    idle, free = _counters(hall, office, now, means)
    pushed = len(free)
    found: dict[str, float] = {}
    while free and len(found) < len(targets):
        at, _, cid = heapq.heappop(free)
        idle.discard(cid)
        heads, later, special = qs.heads(office, cid, at)
        if special:
            first = calls_among(office, cid, heads, at, idle.__contains__, first_only=True)
        else:  # general heads only (the promoted are trimmed): calls_among's own min
            first = [min(heads, key=general_key)] if heads else []
        if not first:
            # Nothing for this counter now. A due booking it may not take (the spill-over)
            # is for an idle booking counter looking at this same time: look again after it.
            # Otherwise wait for the next booking window, if any.
            idle.add(cid)
            wake = at if special and free and free[0][0] <= at else min(later, default=None)
            if wake is not None:
                heapq.heappush(free, (wake, pushed, cid))
                pushed += 1
            continue
        t = first[0]
        if t.number in targets:
            found[t.number] = (at - now).total_seconds() / 60
        qs.taken.add(t.number)
        heapq.heappush(free, (at + timedelta(minutes=qs.minutes[t.number]), pushed, cid))
        pushed += 1
    return found


def forward_minutes(hall: Hall, office: OfficeConfig, now: datetime, number: str) -> float:
    """Minutes until waiting ticket `number` is called in the forward play (NaN: no counter
    would call it)."""
    return _play(hall, office, now, {number}, []).get(number, math.nan)


def forward_new(hall: Hall, office: OfficeConfig, now: datetime) -> dict[str, float]:
    """Per service, minutes until a walk-in taking a number now would be called, in one
    play: each such newcomer, once called, takes no time, so none delays another."""
    newcomers = [Ticket(f"?{code}", hall.seq + 1 + i, code, Kind.WALK_IN, now, now)
                 for i, code in enumerate(office.services)]
    found = _play(hall, office, now, {t.number for t in newcomers}, newcomers)
    return {t.service: found[t.number] for t in newcomers if t.number in found}
