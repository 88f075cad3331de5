"""Waits past the target (overdue, with no command) and the chip ID / fingerprint check,
in process with a real SQLite file and the manual clock."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from motcua import config
from motcua.clock import ManualClock
from tests.conftest import at, write_office
from tests.dispatcher.local import LocalDispatcher

REQUIRES_A = {'prefix = "A"\n': 'prefix = "A"\nrequires = ["chip_id", "fingerprint"]\n'}


@pytest.fixture
def desk(office) -> LocalDispatcher:  # type: ignore[no-untyped-def]
    return LocalDispatcher(office, ManualClock(at("08:00")))


def tick(desk: LocalDispatcher) -> list[dict]:
    out = desk.d.tick()
    desk.published += [(o.topic, json.loads(o.payload)) for o in out]
    return [json.loads(o.payload) for o in out if o.topic.endswith("/event/ticket")]


def state(desk: LocalDispatcher, suffix: str) -> dict:
    return next(json.loads(o.payload) for o in desk.d.state(force=True)
                if o.topic.endswith(suffix))


def test_a_wait_past_the_target_is_said_once_with_no_command(desk: LocalDispatcher) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.clock.advance(minutes=2)
    desk.ok("kiosk", "k1", "walk_in", service="B")
    desk.clock.advance(minutes=12, seconds=59)  # 08:14:59
    assert tick(desk) == []
    assert state(desk, "/state/board")["overdue"] == []
    desk.clock.now = at("08:15")
    events = tick(desk)
    assert [(e["change"], e["ticket"]["number"], e["at"]) for e in events] == [
        ("overdue", "A001", "2026-11-25T08:15:00+07:00")]
    assert events[0]["ticket"]["overdue_at"] == "2026-11-25T08:15:00+07:00"
    assert tick(desk) == []  # once
    desk.clock.now = at("08:40")
    assert [e["ticket"]["number"] for e in tick(desk)] == ["B001"]
    board = state(desk, "/state/board")
    assert board["overdue"] == [
        {"ticket": "A001", "service": "A", "since": "2026-11-25T08:00:00+07:00",
         "waited_min": 40},
        {"ticket": "B001", "service": "B", "since": "2026-11-25T08:02:00+07:00",
         "waited_min": 38}]
    assert [o["ticket"] for o in state(desk, "/state/counter/1")["overdue"]] == ["A001", "B001"]
    queued = state(desk, "/state/order")["queues"]["A"]
    assert queued == [{"ticket": "A001", "tier": "general", "overdue": True}]
    # Called: off the lists, and never said again.
    assert desk.ok("counter", "1", "next")["ticket"]["number"] == "A001"
    assert [o["ticket"] for o in state(desk, "/state/board")["overdue"]] == ["B001"]
    desk.clock.advance(minutes=30)
    assert tick(desk) == []


def test_a_restarted_dispatcher_does_not_say_it_again(desk: LocalDispatcher) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.clock.now = at("08:16")
    assert len(tick(desk)) == 1
    desk.restart()
    desk.clock.now = at("08:30")
    assert tick(desk) == []
    assert state(desk, "/state/board")["overdue"][0]["ticket"] == "A001"
    # Down while a wait passed the target: said at the next start, dated when it passed.
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.close()
    desk.clock.now = at("09:00")
    desk.restart()
    events = tick(desk)
    assert [(e["ticket"]["number"], e["at"]) for e in events] == [
        ("A002", "2026-11-25T08:45:00+07:00")]
    desk.restart()
    assert tick(desk) == []
    with closing(sqlite3.connect(desk.office.storage)) as db:
        rows = db.execute("SELECT ticket FROM events WHERE change='overdue' ORDER BY n").fetchall()
    assert rows == [("A001",), ("A002",)]
    desk.close()


def test_on_time_bookings_count_from_their_slot_and_transfers_are_not_unseen(
        desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    desk.ok("kiosk", "k1", "check_in", token=make_token("BK-1", at("08:30")))  # early
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("counter", "3", "call", ticket="A001")
    desk.ok("counter", "3", "transfer", service="B")  # seen, now waiting again
    desk.clock.now = at("08:44")
    assert tick(desk) == []
    desk.clock.now = at("08:45")
    assert [e["ticket"]["number"] for e in tick(desk)] == ["H001"]


def test_the_target_comes_from_the_office_file(tmp_path: Path) -> None:
    office = config.load(write_office(
        tmp_path, **{"[booking]\n": "[waits]\ntarget_minutes = 5\n\n[booking]\n"}))
    assert office.wait_target_min == 5
    desk = LocalDispatcher(office, ManualClock(at("08:00")))
    try:
        desk.ok("kiosk", "k1", "walk_in", service="A")
        desk.clock.now = at("08:05")
        assert [e["ticket"]["number"] for e in tick(desk)] == ["A001"]
        assert state(desk, "/state/config")["wait_target_min"] == 5
        desk.ok("admin", "cli", "close_day")
        assert tick(desk) == []  # a closed day has nobody waiting
    finally:
        desk.close()


@pytest.fixture
def checked(tmp_path: Path) -> LocalDispatcher:
    office = config.load(write_office(tmp_path, **REQUIRES_A))
    return LocalDispatcher(office, ManualClock(at("08:00")))


def test_verify_the_ticket_being_served_once(checked: LocalDispatcher) -> None:
    desk = checked
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("kiosk", "k1", "walk_in", service="B")
    desk.ok("kiosk", "k1", "walk_in", service="A")
    assert desk.error("counter", "1", "verify", ticket="A001", verified=True) == \
        "no_current_ticket"
    served = desk.ok("counter", "1", "next")["ticket"]
    assert served["number"] == "A001" and served["requires"] == ["chip_id", "fingerprint"]
    assert "check" not in served
    assert desk.error("counter", "1", "verify", ticket="A002", verified=True) == \
        "not_serving_ticket"
    for bad in ({"ticket": "A001"}, {"ticket": "A001", "verified": 1},
                {"ticket": "A001", "verified": False},
                {"ticket": "A001", "verified": False, "reason": "   "},
                {"ticket": "A001", "verified": True, "reason": "ok"},
                {"ticket": " A001", "verified": True},
                {"ticket": "A001", "verified": False, "reason": "x" * 501}):
        reply = desk.reply("counter", "1", "verify", **bad)
        assert reply["error"]["code"] == "bad_request", bad
        assert reply["error"]["message"] == "Yêu cầu không hợp lệ."
        assert "'" in reply["error"]["message_en"], reply  # names the field
    first = desk.reply("counter", "1", "verify", cmd_id="verify-once-1", ticket="A001",
                       verified=True)
    assert first["ok"] and first["ticket"]["check"] == {
        "verified": True, "at": "2026-11-25T08:00:00+07:00", "counter": "1"}
    again = desk.reply("counter", "1", "verify", cmd_id="verify-once-1", ticket="A001",
                       verified=True)
    assert again == first  # a resent id: the same reply, recorded once
    assert desk.error("counter", "1", "verify", ticket="A001", verified=False,
                      reason="đổi ý") == "already_checked"
    changes = [e["change"] for e in desk.events("ticket")]
    assert changes.count("verified") == 1
    # Not required for B; the counter's own state shows the check for A.
    desk.ok("counter", "1", "done")
    desk.ok("counter", "2", "next")
    assert desk.error("counter", "2", "verify", ticket="B001", verified=True) == \
        "check_not_required"
    third = desk.ok("counter", "1", "next")["ticket"]
    assert third["number"] == "A002"
    reply = desk.ok("counter", "1", "verify", ticket="A002", verified=False,
                    reason="Thẻ không đọc được chíp")
    assert reply["ticket"]["check"]["reason"] == "Thẻ không đọc được chíp"
    event = desk.events("ticket")[-1]
    assert event["change"] == "not_verified" and event["ticket"]["check"]["verified"] is False
    assert state(desk, "/state/counter/1")["current"]["check"]["verified"] is False
    desk.restart()  # kept in the ticket
    assert state(desk, "/state/counter/1")["current"]["check"]["reason"] == \
        "Thẻ không đọc được chíp"
    moved = desk.ok("counter", "1", "transfer", counter="3")["ticket"]
    assert moved["check"]["counter"] == "1"  # checked at counter 1, whoever calls it next
    assert desk.ok("counter", "3", "next")["ticket"]["check"]["counter"] == "1"
    config_state = state(desk, "/state/config")
    assert config_state["services"][0]["requires"] == ["chip_id", "fingerprint"]
    assert "requires" not in config_state["services"][1]
    assert [r["reason"] for r in config_state["refusals"]][0] == "Ngoài thẩm quyền giải quyết"
    desk.close()


def test_many_waits_at_once_go_out_a_few_hundred_a_tick(desk: LocalDispatcher) -> None:
    from dispatcher.service import OVERDUE_PER_TICK
    from motcua.views import Snapshot

    n = OVERDUE_PER_TICK + 30
    for i in range(n):
        desk.ok("kiosk", "k1", "walk_in", service="AB"[i % 2], priority=i % 7 == 0)
    desk.clock.now = at("09:00")
    first = tick(desk)
    assert len(first) == OVERDUE_PER_TICK
    # Their places come from one ordering; each is what the ticket alone would show.
    snap = Snapshot(desk.d.hall, desk.office, desk.d.now())
    for event in first[:40] + first[-40:]:
        alone = snap.ticket(desk.d.hall.tickets[event["ticket"]["number"]])
        assert event["ticket"]["ahead"] == alone.ahead, event["ticket"]["number"]
        assert event["ticket"]["est_wait_min"] == alone.est_wait_min
    second = tick(desk)
    assert len(second) == 30 and tick(desk) == []
    said = [e["ticket"]["number"] for e in first + second]
    assert len(set(said)) == n
    assert said[:3] == ["A001", "B001", "A002"]  # the longest waits first
