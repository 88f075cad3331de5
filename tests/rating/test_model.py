"""The rating screen's model without Kivy: when it asks, what a tap sends, what it says."""

from __future__ import annotations

import json

from motcua.protocol import CounterState, Reply, TicketEvent, read
from rating.model import ASK_S, THANKS_S, RatingScreen

TICKET = {"number": "A012", "service": "A", "kind": "walk_in", "status": "done",
          "issued_at": "2026-11-25T08:00:00+07:00", "priority": False, "ahead": 0,
          "est_wait_min": 0, "counter": "3", "called_at": "2026-11-25T08:05:00+07:00",
          "booking": None, "closed_at": "2026-11-25T08:15:00+07:00"}


def event(change: str = "done", **ticket: object) -> TicketEvent:
    return read(TicketEvent, json.dumps({"v": 1, "change": change, "at": TICKET["closed_at"],
                                         "ticket": {**TICKET, **ticket}}).encode())


def reply(ok: bool, code: str = "", message: str = "", en: str = "") -> Reply:
    body: dict = {"v": 1, "id": "r-12345678", "ok": ok}
    if not ok:
        body["error"] = {"code": code, "message": message, "message_en": en}
    return read(Reply, json.dumps(body).encode())


def screen() -> RatingScreen:
    s = RatingScreen("3", "Quầy 3", window_minutes=5)
    s.connected = True
    return s


def test_it_asks_after_a_service_done_here_and_sends_one_tap() -> None:
    s = screen()
    s.ticket_event(event(counter="2"), 0.0)  # another counter's
    s.ticket_event(event(change="no_show"), 0.0)
    assert s.mode == "idle"
    s.ticket_event(event(), 0.0)
    assert s.mode == "ask" and s.question[0] == "Ông/bà có hài lòng với dịch vụ số A012?"
    assert s.tap("great", 1.0) is None  # not a level
    assert s.tap("satisfied", 1.0) == ("A012", "satisfied")
    assert s.tap("very_satisfied", 1.1) is None and s.mode == "sending"  # a second tap
    s.replied(reply(True), 2.0)
    assert s.mode == "thanks" and s.message[0] == "Cảm ơn ông/bà đã đánh giá!"
    s.tick(2.0 + THANKS_S)
    assert s.mode == "idle"
    s.ticket_event(event(), 10.0)  # the same event again (a reconnect): not asked twice
    assert s.mode == "idle"


def test_a_refusal_is_said_and_nobody_tapping_goes_back_to_idle() -> None:
    s = screen()
    s.ticket_event(event(), 0.0)
    s.tap("neutral", 1.0)
    s.replied(reply(False, "rating_closed", "Đã hết thời gian đánh giá cho số này.",
                    "The time to rate this ticket is over."), 2.0)
    assert s.mode == "refused" and s.message == ("Đã hết thời gian đánh giá cho số này.",
                                                 "The time to rate this ticket is over.")
    s.tick(2.0 + THANKS_S)
    s.ticket_event(event(number="A013"), 20.0)
    s.tick(20.0 + ASK_S)
    assert s.mode == "idle" and s.ticket == ""
    s.ticket_event(event(number="A014"), 100.0)
    s.tap("satisfied", 101.0)
    s.replied(None, 131.0)  # never answered
    assert s.mode == "refused" and "could not be sent" in s.message[1]


def test_idle_says_closed_serving_or_welcome_and_a_lost_link() -> None:
    s = screen()
    state = {"v": 1, "counter": "3", "status": "closed", "current": None, "since": None,
             "waiting": 0, "next": [], "officer": None}
    s.counter_state(read(CounterState, json.dumps(state).encode()))
    assert s.idle_text == ("Quầy 3 tạm đóng", "Quầy 3 is closed")
    s.counter_state(read(CounterState, json.dumps(
        {**state, "status": "open", "current": {**TICKET, "status": "serving"}}).encode()))
    assert s.idle_text[0] == "Đang phục vụ số A012"
    s.counter_state(read(CounterState, json.dumps({**state, "status": "open"}).encode()))
    assert s.idle_text == ("Quầy 3 xin kính chào", "Welcome")
    s.connected = False
    assert s.banner[0].startswith("Mất kết nối")
    s.ticket_event(event(), 0.0)
    assert s.tap("satisfied", 1.0) is None  # nothing sent into a lost link


def test_a_short_window_asks_no_longer_than_it() -> None:
    s = RatingScreen("3", "Quầy 3", window_minutes=1)
    s.ticket_event(event(), 0.0)
    assert s.until == min(ASK_S, 60.0)
