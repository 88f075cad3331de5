"""The wait estimate tickets and the board show: the forward play while the hall is short, the
queue formula past FORWARD_MAX_WAITING, and the formula wherever the play has no answer."""

from __future__ import annotations

import copy
import math
from datetime import timedelta

import pytest

from motcua import estimate, protocol
from motcua.config import OfficeConfig
from motcua.model import Booking
from motcua.policy import ahead_of
from motcua.views import Snapshot
from tests.conftest import at
from tests.core.harness import Hallway


def _busy_hall(office: OfficeConfig, waiting: int) -> Hallway:
    hw = Hallway(office, at("08:00"))
    for cid in ("1", "2", "3"):
        hw.walk_in("A")
        hw.next(cid)                                     # every counter busy since 08:00
    for i in range(waiting):
        hw.walk_in("AB"[i % 2])
    return hw


def _formula(hw: Hallway, number: str) -> int:
    t = hw.hall.tickets[number]
    return estimate.wait_minutes(hw.hall, hw.office, t.service,
                                 ahead_of(hw.hall, t, hw.clock(), hw.office.booking))


def test_a_short_hall_prints_the_forward_play(office: OfficeConfig) -> None:
    hw = _busy_hall(office, 4)
    mine = hw.walk_in("A")                               # A006, behind A004 and A005... of A
    before = copy.deepcopy(hw.hall)
    view = Snapshot(hw.hall, office, hw.clock()).ticket(mine)
    assert hw.hall == before                             # estimating changes nothing
    forward = estimate.forward_minutes(hw.hall, office, hw.clock(), mine.number)
    assert view.est_wait_min == round(forward)
    # Counters 1-3 take A, B (3: A, B, C): the five ahead go first, one a counter as each
    # frees up; the formula counts only A's own queue over A's share of each counter.
    assert view.est_wait_min != _formula(hw, mine.number)


def test_a_long_hall_prints_the_formula(office: OfficeConfig,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    hw = _busy_hall(office, 6)
    mine = hw.walk_in("B")
    monkeypatch.setattr(estimate, "FORWARD_MAX_WAITING", len(hw.hall.queue) - 1)
    assert Snapshot(hw.hall, office, hw.clock()).ticket(mine).est_wait_min == _formula(
        hw, mine.number)
    monkeypatch.setattr(estimate, "FORWARD_MAX_WAITING", len(hw.hall.queue))
    assert Snapshot(hw.hall, office, hw.clock()).ticket(mine).est_wait_min == round(
        estimate.forward_minutes(hw.hall, office, hw.clock(), mine.number))


def test_no_counter_to_call_it_prints_the_formula_not_nothing(office: OfficeConfig) -> None:
    hw = _busy_hall(office, 0)
    hw.send("counter", "1", protocol.Transfer(counter="3"))   # A001 for counter 3 only
    hw.send("counter", "3", protocol.Pause())
    assert math.isnan(estimate.forward_minutes(hw.hall, office, hw.clock(), "A001"))
    view = Snapshot(hw.hall, office, hw.clock()).ticket(hw.hall.tickets["A001"])
    assert view.est_wait_min == _formula(hw, "A001") >= 0


def test_the_board_shows_what_the_next_walk_in_is_printed(office: OfficeConfig,
                                                          make_token) -> None:  # type: ignore[no-untyped-def]
    hw = _busy_hall(office, 3)
    hw.check_in(make_token("BK-1", at("08:30")))         # early: waits for its window
    slot = at("08:30")
    hw.hall.bookings["BK-2"] = Booking("BK-2", "A", slot, slot + timedelta(minutes=30))
    hw.at(at("08:04"))
    board = Snapshot(hw.hall, office, hw.clock()).board()
    for code in ("A", "B", "C"):
        trial = Hallway(office, hw.clock())
        trial.hall = copy.deepcopy(hw.hall)
        t = trial.walk_in(code)
        printed = Snapshot(trial.hall, office, trial.clock()).ticket(t).est_wait_min
        assert board.waiting[code].est_wait_min == printed, code
    # Nobody waits for C and every counter is busy: still a wait, the first counter to free.
    assert board.waiting["C"].est_wait_min > 0 and board.waiting["C"].count == 0


def test_the_board_of_a_long_hall_shows_the_formula(office: OfficeConfig,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    hw = _busy_hall(office, 8)
    monkeypatch.setattr(estimate, "FORWARD_MAX_WAITING", 5)
    snap = Snapshot(hw.hall, office, hw.clock())
    counts = snap.counts
    board = snap.board()
    for code in office.services:
        assert board.waiting[code].est_wait_min == estimate.wait_minutes(
            hw.hall, office, code, counts[code], counts)


def test_bookings_still_to_come_lengthen_the_board(office: OfficeConfig) -> None:
    hw = _busy_hall(office, 2)
    plain = estimate.board_minutes(hw.hall, office, hw.clock())
    slot = at("08:10")
    for i in range(3):
        hw.hall.bookings[f"BK-{i}"] = Booking(f"BK-{i}", "A", slot, slot + timedelta(minutes=30))
    booked = estimate.board_minutes(hw.hall, office, hw.clock())
    assert booked["A"] > plain["A"]                      # due bookings go first
    assert booked["B"] >= plain["B"]                     # and hold counters B shares


def test_an_idle_hall_waits_nothing(office: OfficeConfig) -> None:
    hw = Hallway(office, at("08:00"))
    assert estimate.board_minutes(hw.hall, office, hw.clock()) == dict.fromkeys(
        office.services, 0)
    t = hw.walk_in("C")
    assert Snapshot(hw.hall, office, hw.clock()).ticket(t).est_wait_min == 0


def test_a_paused_office_is_not_divided_by_zero(office: OfficeConfig) -> None:
    hw = Hallway(office, at("08:00"))
    for cid in office.counters:
        hw.send("counter", cid, protocol.Pause())
    t = hw.walk_in("A")
    view = Snapshot(hw.hall, office, hw.clock()).ticket(t)   # nobody would call it
    assert view.est_wait_min == _formula(hw, t.number)
    board = Snapshot(hw.hall, office, hw.clock()).board()
    assert all(w.est_wait_min >= 0 for w in board.waiting.values())
