"""Bookings through the dispatcher's admin commands: add, cancel, move, check in, close day."""

from __future__ import annotations

from datetime import datetime

import jwt
import pytest

from motcua.clock import ManualClock
from tests.conftest import TZ, at
from tests.dispatcher.local import LocalDispatcher


def when(day: int, hhmm: str) -> datetime:
    h, m = map(int, hhmm.split(":"))
    return datetime(2026, 11, day, h, m, tzinfo=TZ)


@pytest.fixture
def desk(office) -> LocalDispatcher:  # type: ignore[no-untyped-def]
    return LocalDispatcher(office, ManualClock(at("08:00")))   # Wednesday 25 Nov 2026


def add(desk: LocalDispatcher, start: datetime, **booking) -> dict:  # type: ignore[no-untyped-def]
    return desk.reply("admin", "portal", "booking_add",
                     booking={"service": "A", "start": start.isoformat(), **booking})


def test_add_follows_every_rule(desk: LocalDispatcher) -> None:
    ok = add(desk, when(27, "08:00"), name="Nguyễn V. A")
    assert ok["ok"] and ok["booking"]["id"] == "BK-2026-000001"
    assert ok["booking"]["end"] == "2026-11-27T08:30:00+07:00"
    too_soon = add(desk, when(26, "08:00"))
    assert too_soon["error"]["code"] == "invalid_booking" and too_soon["reason"] == "too_soon"
    assert "2026-11-27" in too_soon["error"]["message"]
    assert add(desk, when(28, "08:00"))["reason"] == "not_working_day"
    assert add(desk, when(27, "12:00"))["reason"] == "outside_hours"
    assert add(desk, when(27, "08:15"))["reason"] == "bad_slot"
    assert add(desk, when(27, "08:00"), service="Z")["error"]["code"] == "unknown_service"
    assert add(desk, when(27, "08:00"), id="BK-2026-000001")["error"]["code"] == "booking_exists"
    for _ in range(3):
        assert add(desk, when(27, "08:00"))["ok"]
    full = add(desk, when(27, "08:00"))
    assert full["error"]["code"] == "slot_full"
    assert full["free_slots"] == ["2026-11-27T08:30+07:00", "2026-11-27T09:00+07:00",
                                  "2026-11-27T09:30+07:00"]
    feedback = add(desk, when(27, "09:00"), service="Phản ánh, kiến nghị hoặc khác")
    assert feedback["booking"]["service"] == "C"
    booked = [e for e in desk.events("ticket") if e["change"] == "booked"]
    assert len(booked) == 5 and booked[0]["ticket"] is None


def test_a_cancelled_booking_is_refused_at_the_kiosk(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    b = add(desk, when(27, "08:00"))["booking"]
    token = make_token(b["id"], when(27, "08:00"))
    cancel = desk.reply("admin", "portal", "booking_cancel", booking=b["id"])
    assert cancel["ok"]
    assert [e["reason"] for e in desk.events("ticket") if e["change"] == "cancelled"] == [
        "cancelled"]
    assert desk.error("admin", "portal", "booking_cancel", booking=b["id"]) == "unknown_booking"
    desk.clock.now = when(27, "07:50")
    desk.restart()
    assert desk.error("kiosk", "k1", "check_in", token=token) == "booking_cancelled"


def test_cancel_and_move_only_until_the_day_before(desk: LocalDispatcher) -> None:
    b = add(desk, when(27, "08:00"))["booking"]
    desk.clock.now = when(27, "07:00")
    desk.restart()
    late = desk.reply("admin", "portal", "booking_cancel", booking=b["id"])
    assert late["error"]["code"] == "invalid_booking" and late["reason"] == "too_late"
    moved = desk.reply("admin", "portal", "booking_move", booking=b["id"],
                      start=when(30, "09:00").isoformat())
    assert moved["reason"] == "too_late"


def test_a_moved_booking_checks_in_on_its_new_day_only(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    b = add(desk, when(27, "08:00"))["booking"]
    old_token = make_token(b["id"], when(27, "08:00"))
    moved = desk.reply("admin", "portal", "booking_move", booking=b["id"],
                      start=when(30, "13:00").isoformat())
    assert moved["ok"] and moved["booking"]["start"] == "2026-11-30T13:00:00+07:00"
    assert desk.events("ticket")[-1]["change"] == "moved"
    desk.clock.now = when(27, "07:55")
    old_day = desk.reply("kiosk", "k1", "check_in", token=old_token)
    assert old_day["error"]["code"] == "wrong_date" and old_day["booking_date"] == "2026-11-30"
    desk.clock.now = when(30, "13:05")
    ticket = desk.ok("kiosk", "k1", "check_in", token=old_token)["ticket"]   # the old QR
    assert ticket["booking"]["start"] == "2026-11-30T13:00:00+07:00"
    assert ticket["booking"]["arrival"] == "on_time"


def test_end_of_day_cancels_only_at_close_day(desk: LocalDispatcher, make_token) -> None:  # type: ignore[no-untyped-def]
    came = add(desk, when(27, "08:00"))["booking"]
    never = add(desk, when(27, "08:30"))["booking"]
    desk.clock.now = when(27, "07:55")
    desk.ok("kiosk", "k1", "check_in", token=make_token(came["id"], when(27, "08:00")))
    desk.ok("kiosk", "k1", "walk_in", service="B")
    desk.clock.now = when(27, "16:29")   # the slot long gone: still not cancelled
    desk.ok("kiosk", "k1", "walk_in", service="A")
    assert not [e for e in desk.events("ticket") if e["change"] == "cancelled"]
    assert never["id"] in desk.d.hall.bookings
    desk.clock.now = when(27, "16:35")
    desk.ok("admin", "cli", "close_day")
    cancelled = [e for e in desk.events("ticket") if e["change"] == "cancelled"]
    assert [(e["booking"]["id"], e["reason"]) for e in cancelled] == [(never["id"], "no_show")]
    unserved = {e["ticket"]["number"] for e in desk.events("ticket") if e["change"] == "unserved"}
    assert unserved == {"H001", "B001", "A001"}
    rows = dict(desk.d.store.db.execute("SELECT id, status FROM bookings").fetchall())
    assert rows == {came["id"]: "booked", never["id"]: "cancelled"}


def test_tokens_from_the_tool_verify_with_pyjwt(office, portal_key) -> None:  # type: ignore[no-untyped-def]
    from cli.booking import sign_booking
    from motcua.protocol import BookingInfo

    booking = BookingInfo(id="BK-1", service="A", start="2026-11-27T08:00:00+07:00",
                          end="2026-11-27T08:30:00+07:00", name="Trần T. B")
    token = sign_booking(office, booking, portal_key, "demo-portal")
    claims = jwt.decode(token, portal_key.public_key(), algorithms=["EdDSA"], audience="demo")
    assert claims["jti"] == "BK-1" and claims["name"] == "Trần T. B"
    assert jwt.get_unverified_header(token) == {"alg": "EdDSA", "typ": "JWT",
                                                "kid": "demo-portal"}


def test_a_booking_id_once_used_stays_taken(desk: LocalDispatcher) -> None:
    """Found by attacking the dispatcher: a cancelled or past booking's id, and a default id
    an admin gave by hand, are answered `booking_exists` or skipped, never a failure."""
    assert add(desk, when(27, "08:00"), id="X1")["ok"]
    assert desk.ok("admin", "portal", "booking_cancel", booking="X1")
    again = add(desk, when(30, "08:00"), id="X1")
    assert again["error"]["code"] == "booking_exists"
    year = when(27, "08:00").year
    given = f"BK-{year}-000003"  # after it, the default id-less add would take this one
    assert add(desk, when(27, "08:30"), id=given)["ok"]
    ids = [add(desk, when(30, "09:00"))["booking"]["id"] for _ in range(2)]
    assert ids == [f"BK-{year}-000004", f"BK-{year}-000005"]
    desk.restart()  # the same after a restart: every id ever recorded is taken
    assert add(desk, when(30, "10:00"), id="X1")["error"]["code"] == "booking_exists"
    assert add(desk, when(30, "10:00"))["booking"]["id"] == f"BK-{year}-000006"
