"""The dispatcher in process with a real SQLite file: every command, error and retry."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from motcua.clock import ManualClock
from tests.conftest import at
from tests.dispatcher.local import LocalDispatcher


@pytest.fixture
def desk(office) -> LocalDispatcher:  # type: ignore[no-untyped-def]
    return LocalDispatcher(office, ManualClock(at("08:00")))


def test_walk_in_call_and_close(desk: LocalDispatcher) -> None:
    t = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]
    assert t["number"] == "A001" and t["kind"] == "walk_in" and t["booking"] is None
    assert t["issued_at"] == "2026-11-25T08:00:00+07:00"
    desk.ok("kiosk", "k1", "walk_in", service="A", priority=True)
    called = desk.ok("counter", "1", "next")["ticket"]
    assert called["number"] == "A002" and called["status"] == "serving"
    assert desk.events("call")[-1] == {"v": 1, "ticket": "A002", "counter": "1",
                                       "counter_name": "Quầy 1", "kind": "call",
                                       "at": "2026-11-25T08:00:00+07:00"}
    desk.ok("counter", "1", "recall")
    assert desk.events("call")[-1]["kind"] == "recall"
    desk.clock.advance(minutes=12)
    assert desk.ok("counter", "1", "next")["ticket"]["number"] == "A001"
    assert desk.ok("counter", "1", "no_show")["ticket"]["status"] == "no_show"
    assert desk.ok("counter", "1", "next")["ticket"] is None
    changes = [e["change"] for e in desk.events("ticket")]
    assert changes == ["issued", "issued", "called", "done", "called", "no_show"]


def test_booking_check_in_and_errors(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    token = make_token("BK-2026-000123", at("08:30"))
    t = desk.ok("kiosk", "k1", "check_in", token=token)["ticket"]
    assert t["number"] == "H001" and t["kind"] == "booking"
    assert t["booking"] == {"id": "BK-2026-000123", "service": "A",
                            "start": "2026-11-25T08:30:00+07:00",
                            "end": "2026-11-25T09:00:00+07:00", "arrival": "early"}
    again = desk.reply("kiosk", "k2", "check_in", token=token)
    assert again["error"]["code"] == "already_checked_in" and again["ticket"]["number"] == "H001"
    assert desk.error("kiosk", "k1", "check_in", token="garbage") == "invalid_token"
    assert desk.error("kiosk", "k1", "check_in",
                      token=make_token("BK-9", at("08:30"), office="hcm-q1")) == "wrong_office"
    other_day = desk.reply("kiosk", "k1", "check_in",
                          token=make_token("BK-8", at("08:30").replace(day=26)))
    assert other_day["error"]["code"] == "wrong_date"
    assert other_day["booking_date"] == "2026-11-26"
    assert desk.error("kiosk", "k1", "check_in",
                      token=make_token("BK-7", at("08:30"), service="Z")) == "unknown_service"
    desk.d.hall.cancelled.add("BK-6")  # what issue 4's admin commands will record
    assert desk.error("kiosk", "k1", "check_in",
                      token=make_token("BK-6", at("08:30"))) == "booking_cancelled"
    assert len(desk.d.hall.tickets) == 1


def test_office_closed(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    desk.clock.now = at("12:00")
    reply = desk.reply("kiosk", "k1", "walk_in", service="A")
    assert reply["error"]["code"] == "office_closed" and reply["opens_at"].endswith("13:00+07:00")
    assert desk.error("kiosk", "k1", "check_in",
                      token=make_token("BK-1", at("13:00"))) == "office_closed"
    desk.clock.now = at("13:00")
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("admin", "cli", "close_day")
    assert desk.error("kiosk", "k1", "walk_in", service="A") == "office_closed"


def test_the_board_says_whether_tickets_are_issued_and_when_next(office) -> None:  # type: ignore[no-untyped-def]
    desk = LocalDispatcher(office, ManualClock(at("07:00")))

    def board() -> dict:
        return next(json.loads(o.payload) for o in desk.d.state(force=True)
                    if o.topic.endswith("/state/board"))

    try:
        _board_opening(desk, board)
    finally:
        desk.close()


def _board_opening(desk: LocalDispatcher, board: Callable[[], dict]) -> None:
    assert board()["open"] is False and board()["opens_at"] == "2026-11-25T07:30:00+07:00"
    desk.clock.now = at("09:00")
    assert board()["open"] is True and "opens_at" not in board()
    desk.clock.now = at("11:45")  # lunch: the board goes out again, once
    changed = [json.loads(o.payload) for o in desk.d.state() if o.topic.endswith("/board")]
    assert [b["opens_at"] for b in changed] == ["2026-11-25T13:00:00+07:00"]
    assert not [o for o in desk.d.state() if o.topic.endswith("/board")]
    desk.clock.now = at("13:05")
    desk.ok("admin", "cli", "close_day")  # in opening hours, but the day is over
    closed = board()
    assert closed["closed"] and not closed["open"]
    assert closed["opens_at"] == "2026-11-26T07:30:00+07:00"
    desk.clock.now = at("17:00").replace(day=27)  # a Friday evening: Monday next
    assert board()["opens_at"] == "2026-11-30T07:30:00+07:00"


def test_counter_errors(desk: LocalDispatcher) -> None:
    for ctype in ("recall", "done", "no_show"):
        assert desk.error("counter", "1", ctype) == "no_current_ticket"
    assert desk.error("counter", "1", "refuse", reason="x") == "no_current_ticket"
    assert desk.error("counter", "1", "transfer", service="B") == "no_current_ticket"
    assert desk.error("counter", "9", "next") == "unknown_counter"
    assert desk.error("counter", "1", "call", ticket="A999") == "unknown_ticket"
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("counter", "1", "next")
    assert desk.error("counter", "1", "refuse", reason="   ") == "bad_request"
    assert desk.error("counter", "1", "transfer", service="Z") == "unknown_service"
    assert desk.error("counter", "1", "transfer", counter="9") == "unknown_counter"
    assert desk.error("counter", "1", "transfer", counter="1") == "bad_request"
    assert desk.error("counter", "1", "transfer", service="B", counter="2") == "bad_request"
    assert desk.error("counter", "1", "transfer") == "bad_request"
    desk.ok("counter", "1", "pause")
    assert desk.error("counter", "1", "next") == "counter_paused"
    assert desk.error("counter", "1", "call", ticket="A001") == "counter_paused"
    refused = desk.ok("counter", "1", "refuse", reason="Ngoài thẩm quyền",
                      guidance="Liên hệ UBND phường")["ticket"]
    assert refused["status"] == "refused" and refused["reason"] == "Ngoài thẩm quyền"
    desk.ok("counter", "1", "resume")
    assert desk.error("kiosk", "k1", "walk_in", service="Z") == "unknown_service"


def test_bad_input_gets_bad_request_and_changes_nothing(desk: LocalDispatcher) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    before = desk.d.store.db.execute("SELECT count(*) FROM tickets").fetchone()
    cases: list[dict[str, Any]] = [
        {"v": 1, "id": "abcdefgh01", "type": "launch"},
        {"v": 1, "id": "abcdefgh02"},
        {"v": 2, "id": "abcdefgh03", "type": "walk_in", "service": "A"},
        {"v": 1, "id": "abcdefgh04", "type": "walk_in"},
        {"v": 1, "id": "abcdefgh05", "type": "walk_in", "service": 7},
        {"v": 1, "id": "abcdefgh06", "type": "walk_in", "service": "A", "priority": "yes"},
        {"v": 1, "id": "abcdefgh07", "type": "check_in", "token": ["x"]},
        {"v": 1, "id": "abcdefgh08", "type": "next"},  # a counter command from a kiosk
        {"v": 1, "id": "abcdefgh09", "type": "call"},
    ]
    for body in cases:
        role = "counter" if body["type" if "type" in body else "id"] == "call" else "kiosk"
        out = desk.raw(role, "1" if role == "counter" else "k1", json.dumps(body).encode())
        reply = json.loads(out[0].payload)
        assert reply["error"]["code"] == "bad_request", body
        assert reply["id"] == body["id"]
    # Unreadable: no id to answer to, so dropped (and logged), never a crash.
    for junk in (b"\xff\xfe", b"[]", b"null", b'"x"', b"{", b'{"id": 5}',
                 b'{"id": "short"}', json.dumps({"v": 1, "id": "a" * 10, "type": "walk_in",
                                                 "service": "A", "pad": "x" * 17000}).encode()):
        assert desk.raw("kiosk", "k1", junk) == []
    assert desk.raw("display", "d1", b'{"v":1,"id":"abcdefgh10","type":"next"}') == []
    assert desk.d.store.db.execute("SELECT count(*) FROM tickets").fetchone() == before


def test_same_id_same_reply_one_effect(desk: LocalDispatcher) -> None:
    first = desk.send("kiosk", "k1", "walk_in", cmd_id="tap-0001", service="A")
    second = desk.send("kiosk", "k1", "walk_in", cmd_id="tap-0001", service="A")
    assert first == second and len(desk.d.hall.tickets) == 1
    # The same id from another device is another command.
    assert desk.reply("kiosk", "k2", "walk_in", cmd_id="tap-0001", service="A")["ticket"][
        "number"] == "A002"
    desk.restart()
    assert desk.send("kiosk", "k1", "walk_in", cmd_id="tap-0001", service="A") == first
    n1 = desk.send("counter", "1", "next", cmd_id="press-001")
    assert desk.send("counter", "1", "next", cmd_id="press-001") == n1
    assert desk.d.hall.counters["1"].current == "A001"
    assert desk.d.hall.tickets["A002"].status.value == "waiting"


def test_restart_rebuilds_and_numbering_continues(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("kiosk", "k1", "check_in", token=make_token("BK-1", at("08:00")))
    desk.ok("counter", "1", "next")
    desk.ok("counter", "2", "pause")
    before = {o.topic: json.loads(o.payload) for o in desk.d.state(force=True)}
    desk.restart()
    after = {o.topic: json.loads(o.payload) for o in desk.d.state(force=True)}
    assert after == before
    assert desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"] == "A004"
    assert desk.error("kiosk", "k1", "check_in",
                      token=make_token("BK-1", at("08:00"))) == "already_checked_in"


def test_a_new_day_closes_the_old_one_and_numbers_start_again(desk: LocalDispatcher) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("counter", "1", "next")
    desk.clock.now = at("08:00").replace(day=26)
    assert desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"] == "A001"
    rows = dict(desk.d.store.db.execute(
        "SELECT number, status FROM tickets WHERE day='2026-11-25'").fetchall())
    assert rows == {"A001": "done", "A002": "unserved"}


def test_a_store_that_cannot_write_changes_nothing(desk: LocalDispatcher, tmp_path: Path) -> None:
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.d.store.db.execute("PRAGMA query_only = ON")  # as a read-only or full disk would
    reply = desk.send("kiosk", "k1", "walk_in", cmd_id="retry-me-1", service="A")
    assert reply and reply["error"]["code"] == "storage_unavailable"  # said, not silent
    assert set(desk.d.hall.tickets) == {"A001"}
    desk.d.store.db.execute("PRAGMA query_only = OFF")
    assert desk.reply("kiosk", "k1", "walk_in", cmd_id="retry-me-1",
                     service="A")["ticket"]["number"] == "A002"


def test_close_day_marks_unserved_and_cancels_bookings(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    desk.d.store.db.execute(
        "INSERT INTO bookings (id, day, service, start, \"end\") VALUES (?,?,?,?,?)",
        ("BK-NEVER", "2026-11-25", "A", at("09:00").isoformat(), at("09:30").isoformat()))
    desk.restart()
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.ok("kiosk", "k1", "walk_in", service="B")
    desk.ok("counter", "1", "next")
    desk.clock.advance(hours=8)
    reply = desk.ok("admin", "cli", "close_day")
    assert reply["day"] == "2026-11-25"
    changes = [(e["change"], (e["ticket"] or {}).get("number"), e.get("booking", {}).get("id"))
               for e in desk.events("ticket")][-2:]
    assert changes == [("unserved", "B001", None), ("cancelled", None, "BK-NEVER")]
    status = desk.d.store.db.execute("SELECT status FROM bookings").fetchone()[0]
    assert status == "cancelled"
    # The citizen at counter 1 was served as the day ended (issue 14: left "serving").
    assert desk.d.hall.counters["1"].current is None
    assert desk.d.hall.tickets["A001"].status.value == "done"


def test_state_messages_follow_the_protocol(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    for _ in range(55):
        desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.clock.now = at("08:25")
    desk.ok("kiosk", "k1", "check_in", token=make_token("BK-1", at("08:30")))
    desk.ok("counter", "3", "next")
    state = {o.topic.split("/", 3)[3]: json.loads(o.payload) for o in desk.d.state(force=True)}
    board, order = state["board"], state["order"]
    assert board["serving"] == [{"counter": "3", "counter_name": "Quầy 3", "ticket": "A001",
                                 "since": "2026-11-25T08:25:00+07:00"}]
    assert board["waiting"]["A"]["count"] == 55 and board["waiting"]["A"]["est_wait_min"] > 100
    assert order["queues"]["A"][0] == {"ticket": "H001", "tier": "booking"}
    assert len(order["queues"]["A"]) == 51 and order["queues"]["A"][-1] == {"more": 5}
    assert order["counters"]["1"] == {"status": "open", "current": None,
                                      "next": ["H001", "A002", "A003", "A004", "A005"]}
    assert order["counters"]["3"]["next"][0] == "A002"   # booking counters are idle
    assert state["counter/3"]["current"]["number"] == "A001"
    assert state["config"]["counters"][0] == {"id": "1", "name": "Quầy 1",
                                              "services": ["A", "B"], "bookings": True}
    assert len(desk.d.store.db.execute("SELECT * FROM events").fetchall()) == 58
    # Another reader of the file sees every ticket: 55 walk-ins and the booking.
    with closing(sqlite3.connect(desk.office.storage)) as db:
        assert len(db.execute("SELECT * FROM tickets").fetchall()) == 56


def test_a_batch_commits_once_and_a_failed_batch_leaves_nothing(desk: LocalDispatcher) -> None:
    def cmd(cmd_id: str, ctype: str, **fields: Any) -> bytes:
        return json.dumps({"v": 1, "id": cmd_id, "type": ctype, **fields}).encode()

    kiosk, counter = "motcua/demo/cmd/kiosk/k1", "motcua/demo/cmd/counter/1"
    out = desk.d.handle_batch([(kiosk, cmd("batch-0001", "walk_in", service="A")),
                               (kiosk, cmd("batch-0001", "walk_in", service="A")),
                               (counter, cmd("batch-0002", "next"))])
    replies = [json.loads(o.payload) for o in out if "/reply/" in o.topic]
    assert [r["ticket"]["number"] for r in replies] == ["A001", "A001", "A001"]
    assert replies[0] == replies[1] and replies[2]["ticket"]["status"] == "serving"
    desk.d.store.db.execute("PRAGMA query_only = ON")
    out = desk.d.handle_batch([(kiosk, cmd("batch-0003", "walk_in", service="A")),
                               (counter, cmd("batch-0004", "next"))])
    assert [json.loads(o.payload)["error"]["code"] for o in out] == ["storage_unavailable"] * 2
    desk.d.store.db.execute("PRAGMA query_only = OFF")
    assert set(desk.d.hall.tickets) == {"A001"}
    assert desk.d.hall.counters["1"].current == "A001"
    assert desk.d.store.stored_reply("kiosk", "k1", "batch-0003") is None


def test_a_clock_set_back_never_reorders_entries(desk: LocalDispatcher) -> None:
    desk.clock.now = at("09:00")
    desk.ok("kiosk", "k1", "walk_in", service="A")
    desk.clock.now = at("08:30")   # someone sets the PC clock back half an hour
    second = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]
    assert second["issued_at"] == "2026-11-25T09:00:00+07:00"
    assert desk.ok("counter", "1", "next")["ticket"]["number"] == "A001"
    desk.clock.now = at("09:05")
    assert desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["issued_at"].endswith(
        "09:05:00+07:00")


def test_close_day_closes_every_ticket_and_every_counter(office) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: the board said the day had ended yet listed numbers being served, and the
    report counted them open. Closing the day closes the served ones as done."""
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        for service in "AAB":
            desk.ok("kiosk", "k1", "walk_in", service=service)
        desk.ok("counter", "1", "next")
        desk.ok("counter", "3", "next")
        desk.ok("admin", "cli", "close_day")
        statuses = {t.number: t.status.value for t in desk.d.hall.tickets.values()}
        assert statuses == {"A001": "done", "A002": "done", "B001": "unserved"}
        board = json.loads(desk.d.state(force=True)[1].payload)
        assert board["closed"] and board["serving"] == []
        counters = [json.loads(o.payload) for o in desk.d.state(force=True)
                    if "/state/counter/" in o.topic]
        assert all(c["current"] is None for c in counters)
        desk.restart()  # and so they stay
        assert all(t.status.value != "serving" for t in desk.d.hall.tickets.values())
    finally:
        desk.close()


def test_the_ordering_marks_priority_and_late_tickets(office, make_token) -> None:  # type: ignore[no-untyped-def]
    """Issue 14: a counter's "next here" list could not tell them apart."""
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        desk.ok("kiosk", "k1", "walk_in", service="A", priority=True)
        desk.ok("kiosk", "k1", "walk_in", service="A")
        desk.ok("kiosk", "k1", "check_in", token=make_token("BK-LATE", at("08:00")))
        order = json.loads(desk.d.state(force=True)[2].payload)
        entries = {q["ticket"]: q for q in order["queues"]["A"]}
        assert entries["A001"] == {"ticket": "A001", "tier": "general", "priority": True}
        assert entries["A002"] == {"ticket": "A002", "tier": "general"}
        assert entries["H001"] == {"ticket": "H001", "tier": "general", "late": True}
    finally:
        desk.close()
