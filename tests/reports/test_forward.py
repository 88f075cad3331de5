"""The forward wait estimate asks the ordering policy whom each counter calls: the spill-over,
transfers to one counter. (The hall played forward in time is its own; the choice is not.)"""

from __future__ import annotations

import copy
import dataclasses
import heapq
import math
from datetime import datetime, timedelta

import pytest

import simulate as sim
from motcua import estimate, protocol
from motcua.config import OfficeConfig
from motcua.facts import Called, Closed, apply
from motcua.model import Arrival, Counter, CounterStatus, Hall, Kind, Status, Ticket, Tier
from motcua.policy import callable_at, tier, window_opens
from tests.conftest import at
from tests.core.harness import Hallway


def _called_first(hw: Hallway, counter: str) -> list[str]:
    return [t.number for t in callable_at(hw.hall, hw.office, counter, hw.clock(), True)]


def _estimate(hw: Hallway, number: str) -> float:
    before = copy.deepcopy(hw.hall)
    minutes = sim.forward_estimate(hw.hall, hw.office, hw.clock(), number)
    assert hw.hall == before                             # the caller's hall is only read
    return minutes


@pytest.fixture
def spill_office(office: OfficeConfig) -> OfficeConfig:
    """Counter 1 takes no bookings; counter 2 takes bookings for A only, counter 3 for A, B."""
    return dataclasses.replace(office, counters={
        "1": Counter("1", "Quầy 1", ("A", "B", "C"), False),
        "2": Counter("2", "Quầy 2", ("A",), True),
        "3": Counter("3", "Quầy 3", ("A", "B"), True)})


def test_forward_estimate_leaves_a_due_booking_to_an_idle_booking_counter(
        spill_office: OfficeConfig, make_token) -> None:  # type: ignore[no-untyped-def]
    hw = Hallway(spill_office, at("08:00"))
    hw.walk_in("B")
    assert hw.next("3") == "B001"                        # counter 3 busy since 08:00
    booking = hw.check_in(make_token("BK-1", at("08:05")))   # H001, due: window opened 07:55
    mine = hw.walk_in("B")                               # B002; counters 1 and 2 idle
    # Counter 1 takes no bookings and counter 2, which does, is idle: no spill-over, so
    # counter 1 calls B002 now and counter 2 the booking. (The old loop gave H001 to
    # counter 1, the first to look, and had B002 wait for counter 3: 7.5 minutes.)
    assert _called_first(hw, "1") == ["B002"]
    assert _called_first(hw, "2") == ["H001"]
    assert _estimate(hw, mine.number) == 0
    assert _estimate(hw, booking.number) == 0


def test_forward_estimate_spills_a_due_booking_when_no_booking_counter_is_idle(
        spill_office: OfficeConfig, make_token) -> None:  # type: ignore[no-untyped-def]
    hw = Hallway(spill_office, at("08:00"))
    hw.walk_in("B")
    hw.next("3")
    hw.send("counter", "2", protocol.Pause())           # paused: not idle
    hw.check_in(make_token("BK-1", at("08:05")))
    mine = hw.walk_in("B")
    assert _called_first(hw, "1") == ["H001"]           # the spill-over
    # B002 waits for counter 3: half a mean service (15 min) over the one busy counter.
    assert _estimate(hw, mine.number) == pytest.approx(7.5)


def test_forward_estimate_keeps_a_transfer_for_its_counter(office: OfficeConfig) -> None:
    hw = Hallway(office, at("08:00"))
    for cid in ("1", "2", "3"):
        hw.walk_in("A")
        hw.next(cid)                                     # A001 A002 A003, busy since 08:00
    transferred = hw.send("counter", "1", protocol.Transfer(counter="3")).ticket
    assert transferred == "A001"
    hw.walk_in("A")
    assert hw.next("1") == "A004"                        # A001 is for counter 3 only
    mine = hw.walk_in("A")                               # A005
    assert _called_first(hw, "1") == ["A005"] and _called_first(hw, "3") == ["A001"]
    # The counters free up at 2.5, 7.5 and 12.5 minutes (half a service spread over three):
    # counter 1 first, with A005; counter 3 last, with A001. (The old loop gave A001 to the
    # first counter to free up, as the first general ticket: A001 2.5 min, A005 7.5 min.)
    assert _estimate(hw, mine.number) == pytest.approx(2.5)
    assert _estimate(hw, transferred) == pytest.approx(12.5)


def test_forward_estimate_of_a_transfer_to_a_paused_counter_is_unknown(
        office: OfficeConfig) -> None:
    hw = Hallway(office, at("08:00"))
    hw.walk_in("A")
    hw.next("1")
    hw.send("counter", "1", protocol.Transfer(counter="3"))
    hw.send("counter", "3", protocol.Pause())
    assert _called_first(hw, "2") == []
    assert math.isnan(_estimate(hw, "A001"))            # no counter will call it


def _played_with_callable_at(hall: Hall, office: OfficeConfig, now: datetime,
                             number: str) -> float:
    """The same forward play, slowly: a copied hall that counters call from with the real
    callable_at and facts.apply, bookings still to come checking in as their window opens."""
    h = copy.deepcopy(hall)
    rules = office.booking
    grace = timedelta(minutes=rules.grace_minutes)
    means = {s: estimate.mean_service_minutes(hall, office, s) for s in office.services}
    past = [b for b in hall.bookings.values() if b.start + grace < now] + \
        [t.booking for t in hall.tickets.values() if t.booking and t.booking.start + grace < now]
    show = (sum(b.id in hall.checked_in for b in past) + 4.5) / (len(past) + 5)
    coming = sorted((b for b in hall.bookings.values()
                     if b.id not in hall.checked_in and b.id not in hall.cancelled
                     and b.start + grace >= now), key=lambda b: (b.start, b.id))
    placeholders = [Ticket(f"~{b.id}", hall.seq + 1 + i, b.service, Kind.BOOKING, now, b.start,
                           booking=b, arrival=Arrival.ON_TIME) for i, b in enumerate(coming)]
    minutes = {t.number: means[t.service] for t in h.waiting()}
    minutes |= {t.number: means[t.service] * show for t in placeholders}
    opens = {t.number: window_opens(b, rules) for t, b in zip(placeholders, coming, strict=True)}
    open_ = [cid for cid, c in h.counters.items() if c.status is CounterStatus.OPEN]
    free = [(now, i, cid) for i, cid in enumerate(sorted(c for c in open_
                                                         if h.counters[c].current is None))]
    busy = sorted((h.counters[c].since, c) for c in open_ if h.counters[c].current is not None)
    for i, (_, cid) in enumerate(busy):
        m = means[h.tickets[h.counters[cid].current or ""].service]
        free.append((now + timedelta(minutes=(i + 0.5) * m / len(busy)), len(free), cid))
    pushed = len(free)
    heapq.heapify(free)
    while free:
        at, _, cid = heapq.heappop(free)
        while placeholders and opens[placeholders[0].number] <= at:
            p = placeholders.pop(0)
            h.tickets[p.number] = p
            h.track(p)
        if h.counters[cid].current is not None:
            apply(h, Closed(h.counters[cid].current or "", Status.DONE, at))
        first = callable_at(h, office, cid, at, first_only=True)
        if first:
            if first[0].number == number:
                return (at - now).total_seconds() / 60
            apply(h, Called(first[0].number, cid, at))
            heapq.heappush(free, (at + timedelta(minutes=minutes[first[0].number]), pushed, cid))
            pushed += 1
            continue
        services = office.counters[cid].services
        due = any(t.booking and t.service in services and t.target_counter is None
                  and tier(t, at, rules) is Tier.BOOKING for t in h.waiting())
        later = [w for t in [*h.waiting(), *placeholders]
                 if t.booking and t.service in services and t.target_counter is None
                 and (w := window_opens(t.booking, rules)) > at
                 and tier(t, w, rules) is Tier.BOOKING]
        wake = at if due and free and free[0][0] <= at else min(later, default=None)
        if wake is not None:
            heapq.heappush(free, (wake, pushed, cid))
            pushed += 1
    return math.nan


@pytest.mark.parametrize("counters", [3, 10])
def test_forward_estimate_calls_whom_callable_at_calls(office: OfficeConfig,
                                                       counters: int) -> None:
    """On halls of a simulated peak day (with 10 counters, counter 10, which takes no
    bookings, looks before counter 2, which does), with some tickets transferred to a
    counter: the forward estimate of every waiting ticket is what the slow play gives."""
    o = sim.sim_office(office, counters, 2)
    day = sim.working_days(o, sim.START["peak"], 1)[0]
    profile = dataclasses.replace(sim.load_profile("peak"), visits=30 * counters)
    halls: list[tuple[Hall, datetime]] = []

    def grab(hall: Hall, _: OfficeConfig, now: datetime, number: str) -> float:
        if hall.seq % (counters + 3) == 0:
            halls.append((copy.deepcopy(hall), now))
        return 0.0

    sim.DaySim(o, day, sim.citizens(o, profile, day, 0, 3), "motcua", grab).run()
    assert len(halls) > 10
    checked = 0
    for k, (hall, now) in enumerate(halls):
        for t in hall.waiting()[k % 3::5]:              # some transfers to one counter
            t.transferred, t.target_counter = True, str(1 + t.seq % counters)
            checked += 1
        for t in hall.waiting():
            fast = sim.forward_estimate(hall, o, now, t.number)
            slow = _played_with_callable_at(hall, o, now, t.number)
            assert fast == pytest.approx(slow, nan_ok=True), (now, t.number)
    assert checked > 10
