"""The forward wait estimate asks the ordering policy whom each counter calls: the spill-over,
transfers to one counter. (The hall played forward in time is its own; the choice is not.)"""

from __future__ import annotations

import copy
import dataclasses
import math

import pytest

import simulate as sim
from motcua import protocol
from motcua.config import OfficeConfig
from motcua.model import Counter
from motcua.policy import callable_at
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
