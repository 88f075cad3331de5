"""The ordering policy of DESIGN.md, scenario by scenario."""

from __future__ import annotations

import pytest

from motcua import protocol
from motcua.model import Arrival, Status, Tier
from motcua.policy import callable_at, order, tier
from motcua.protocol import Rejected
from tests.conftest import at
from tests.core.harness import Hallway


@pytest.fixture
def hw(office) -> Hallway:  # type: ignore[no-untyped-def]
    return Hallway(office, at("08:00"))


def test_seed_scenario(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    """Booking counters busy with walk-ins; an on-time booking, a late one, more walk-ins."""
    for _ in range(3):
        hw.walk_in("A")                                  # A001 A002 A003 at 08:00
    assert [hw.next(c) for c in ("1", "2", "3")] == ["A001", "A002", "A003"]
    hw.at(at("08:05"))
    hw.walk_in("A")                                      # A004
    hw.at(at("08:20"))
    on_time = hw.check_in(make_token("BK-1", at("08:30")))   # window opens 08:20
    assert (on_time.number, on_time.arrival) == ("H001", Arrival.ON_TIME)
    hw.at(at("08:25"))
    late = hw.check_in(make_token("BK-2", at("08:00")))      # grace ended 08:10
    assert (late.number, late.arrival) == ("H002", Arrival.LATE)
    hw.at(at("08:26"))
    hw.walk_in("A")                                      # A005
    now = hw.clock()
    assert tier(on_time, now, hw.office.booking) is Tier.BOOKING
    assert tier(late, now, hw.office.booking) is Tier.GENERAL
    queue = order(hw.hall, hw.office, now).queues["A"]
    assert [(t.number, str(k)) for t, k in queue] == [
        ("H001", "booking"), ("A004", "general"), ("H002", "general"), ("A005", "general")]

    # Both booking counters serve walk-ins and are never pre-empted: counter 3, which does
    # not take bookings, frees up first and takes the due booking (the spill-over).
    hw.at(at("08:30"))
    assert hw.hall.counters["1"].current == "A001"
    assert hw.next("3") == "H001"
    assert hw.next("1") == "A004"
    assert hw.next("2") == "H002"   # the late booking waits in entry order, like a walk-in
    assert hw.next("3") == "A005"
    assert hw.next("1") is None
    assert [c for _, c in hw.calls] == ["1", "2", "3", "3", "1", "2", "3"]
    assert {t.number: t.status for t in hw.hall.tickets.values()}["A001"] is Status.DONE


def test_booking_waits_for_an_idle_booking_counter(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.walk_in("A")
    hw.walk_in("A")
    hw.next("1")                                         # counter 2 stays idle
    hw.at(at("08:25"))
    hw.check_in(make_token("BK-1", at("08:30")))
    assert hw.next("3") == "A002"                        # counter 2 is idle: no spill-over
    assert hw.next("2") == "H001"


def test_booking_counter_takes_its_booking_first(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.walk_in("A")
    hw.at(at("08:21"))
    hw.check_in(make_token("BK-1", at("08:30")))
    assert hw.next("1") == "H001"
    assert hw.next("2") == "A001"


def test_paused_booking_counter_counts_as_not_idle(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.walk_in("A")
    hw.send("counter", "1", protocol.Pause())
    hw.send("counter", "2", protocol.Pause())
    hw.at(at("08:21"))
    hw.check_in(make_token("BK-1", at("08:30")))
    assert hw.next("3") == "H001"
    with pytest.raises(Rejected) as err:
        hw.next("1")
    assert err.value.code == "counter_paused"


def test_early_booking_is_promoted_when_its_window_opens(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.at(at("08:00"))
    early = hw.check_in(make_token("BK-9", at("09:00")))     # window opens 08:50
    assert early.arrival is Arrival.EARLY
    hw.at(at("08:10"))
    hw.walk_in("A")                                          # A001, after the booking
    hw.walk_in("A")                                          # A002
    hw.at(at("08:49"))
    assert tier(early, hw.clock(), hw.office.booking) is Tier.GENERAL
    assert [t.number for t in callable_at(hw.hall, hw.office, "3", hw.clock())] == [
        "H001", "A001", "A002"]                              # general: entry order
    hw.walk_in("A")                                          # A003
    hw.next("1")                                             # counter 1 takes H001 now
    assert hw.calls[-1] == ("H001", "1")
    hw.at(at("08:50"))
    hw.check_in(make_token("BK-10", at("09:00")))            # H002 on time, window open
    assert hw.next("3") == "A001"                            # counter 2 is idle: no spill
    assert hw.next("2") == "H002"


def test_general_tier_order_transferred_priority_entry_sequence(hw: Hallway) -> None:
    a1 = hw.walk_in("A")
    a2 = hw.walk_in("A")                                     # same second as A001
    p = hw.walk_in("A", priority=True)                       # A003, an elderly citizen
    hw.walk_in("B")                                          # B001
    assert a1.issued_at == a2.issued_at and a1.seq < a2.seq
    hw.at(at("08:01"))
    assert hw.next("3") == p.number                          # priority first
    hw.send("counter", "3", protocol.Transfer(service="B"))  # A003 goes first in B
    assert [t.number for t in callable_at(hw.hall, hw.office, "1", hw.clock())] == [
        "A003", "A001", "A002", "B001"]
    assert hw.next("1") == "A003"
    assert hw.next("2") == "A001"


def test_transfer_to_a_counter_goes_first_there_and_nowhere_else(hw: Hallway) -> None:
    hw.walk_in("A")
    hw.walk_in("A")
    hw.walk_in("C")
    assert hw.next("1") == "A001"
    hw.send("counter", "1", protocol.Transfer(counter="3"))
    assert hw.hall.counters["1"].current is None
    assert hw.next("2") == "A002"                            # A001 is not for counter 2
    assert hw.next("1") is None
    assert hw.next("3") == "A001"
    assert hw.next("3") == "C001"


def test_call_by_number_and_a_no_show_called_again(hw: Hallway) -> None:
    for _ in range(3):
        hw.walk_in("A")
    assert hw.send("counter", "2", protocol.Call("A003")).ticket == "A003"
    hw.send("counter", "2", protocol.NoShow())
    assert hw.hall.tickets["A003"].status is Status.NO_SHOW
    assert hw.next("2") == "A001"
    assert hw.send("counter", "2", protocol.Call("A003")).ticket == "A003"
    assert hw.hall.tickets["A001"].status is Status.DONE
    with pytest.raises(Rejected) as err:
        hw.send("counter", "1", protocol.Call("A003"))       # serving at counter 2
    assert err.value.code == "unknown_ticket"


def test_serving_is_never_preempted(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.walk_in("A")
    hw.next("1")
    hw.at(at("08:25"))
    hw.check_in(make_token("BK-1", at("08:30")))
    for cid in ("2", "3"):
        hw.send("counter", cid, protocol.Pause())
    assert hw.hall.counters["1"].current == "A001"
    assert order(hw.hall, hw.office, hw.clock()).next_at["1"][0].number == "H001"
    assert hw.hall.tickets["A001"].status is Status.SERVING


def test_bookings_go_by_slot_start_not_by_check_in(hw: Hallway, make_token) -> None:  # type: ignore[no-untyped-def]
    hw.at(at("08:25"))
    later_slot = hw.check_in(make_token("BK-2", at("08:30")))    # H001, first to arrive
    hw.at(at("08:26"))
    earlier_slot = hw.check_in(make_token("BK-1", at("08:00")))  # H002, late: general
    hw.check_in(make_token("BK-3", at("08:20")))                 # H003 on time, slot 08:20
    assert earlier_slot.arrival is not None and earlier_slot.arrival.value == "late"
    assert [t.number for t in callable_at(hw.hall, hw.office, "1", hw.clock())] == [
        "H003", later_slot.number, "H002"]


def test_a_transferred_ticket_goes_before_earlier_walk_ins(hw: Hallway) -> None:
    hw.walk_in("B")                                              # B001 at 08:00
    hw.walk_in("B")                                              # B002 at 08:00
    hw.at(at("08:10"))
    hw.walk_in("A")                                              # A001 at 08:10
    assert hw.next("1") == "B001"
    assert hw.send("counter", "2", protocol.Call("A001")).ticket == "A001"
    hw.send("counter", "2", protocol.Transfer(service="B"))
    assert hw.next("3") == "A001"                                # before B002 of 08:00
