"""Calls missed while the board was cut off, as plain values: what it says when it is back."""

from __future__ import annotations

import json
import logging
from typing import Literal

import pytest

from display.missed import MAX_CATCH_UP, Missed
from motcua.protocol import Board, CallEvent, read


def board(serving: list[tuple[str, str, str]], at: str = "08:30",
          day: str = "2026-11-25", recent: tuple[tuple[str, str], ...] = ()) -> Board:
    return read(Board, json.dumps({
        "v": 1, "office": "demo", "at": f"{day}T{at}:00+07:00", "day": day, "seq": 1,
        "closed": False, "waiting": {},
        "recent": [{"ticket": t, "counter": c, "counter_name": f"Quầy {c}",
                    "at": f"{day}T{at}:00+07:00"} for t, c in recent],
        "serving": [{"counter": c, "counter_name": f"Quầy {c}", "ticket": t,
                     "since": f"{day}T{since}:00+07:00"} for t, c, since in serving]}).encode())


def call(ticket: str, counter: str, at: str = "08:20", kind: Literal["call", "recall"] = "call",
         day: str = "2026-11-25") -> CallEvent:
    return CallEvent(ticket=ticket, counter=counter, counter_name=f"Quầy {counter}",
                     kind=kind, at=f"{day}T{at}:00+07:00")


def test_a_started_board_says_nothing_of_who_is_already_served() -> None:
    m = Missed()
    m.reconnected()  # the first connection is not a reconnection
    assert m.board(board([("A001", "1", "08:00"), ("A002", "2", "08:05")])) == []
    assert m.board(board([("A001", "1", "08:00"), ("A002", "2", "08:05")])) == []


def test_calls_missed_while_away_are_said_once_back() -> None:
    m = Missed()
    m.board(board([("A001", "1", "08:00")]))
    assert m.heard(call("A002", "2", "08:10"))
    m.board(board([("A001", "1", "08:00"), ("A002", "2", "08:10")]))
    m.reconnected()  # away: A003 called at 3, A004 at 1 (A001 done)
    said = m.board(board([("A004", "1", "08:21"), ("A002", "2", "08:10"),
                          ("A003", "3", "08:20")]))
    assert [(c.ticket, c.counter, c.kind) for c in said] == [("A003", "3", "call"),
                                                             ("A004", "1", "call")]
    assert not m.heard(call("A004", "1", "08:21"))  # its event, late: not said again
    assert m.heard(call("A004", "1", "08:22", kind="recall"))  # a recall is said
    assert m.board(board([("A004", "1", "08:21"), ("A003", "3", "08:20")])) == []


def test_never_more_than_a_few_and_the_rest_is_logged(caplog: pytest.LogCaptureFixture
                                                      ) -> None:
    caplog.set_level(logging.WARNING, logger="display.missed")
    m = Missed()
    m.board(board([]))
    m.reconnected()
    served = [(f"A{i:03d}", str(i), f"08:{10 + i}") for i in range(1, 7)]
    said = m.board(board(served, at="08:20"))
    assert [c.ticket for c in said] == ["A004", "A005", "A006"]  # the newest, in order
    assert len(said) == MAX_CATCH_UP and m.skipped == 3
    assert "A001→Quầy 1" in caplog.text and "lỡ gọi" in caplog.text


def test_calls_older_than_ten_minutes_are_not_said() -> None:
    m = Missed()
    m.board(board([]))
    m.reconnected()
    said = m.board(board([("A001", "1", "08:05"), ("A002", "2", "08:25")], at="08:30"))
    assert [c.ticket for c in said] == ["A002"] and m.skipped == 1


def test_the_same_number_tomorrow_is_a_new_call() -> None:
    m = Missed()
    m.board(board([("A001", "1", "08:00")]))
    assert not m.heard(call("A001", "1", "08:00"))  # was being served when the board came
    assert m.heard(call("A001", "1", "08:00", day="2026-11-26"))


def test_a_call_heard_before_the_board_is_known_is_not_said_again() -> None:
    m = Missed()
    m.board(board([]))
    assert m.heard(call("B001", "2", "08:29"))
    m.reconnected()  # the retained board after a reconnect includes it
    assert m.board(board([("B001", "2", "08:29")])) == []


def test_calls_in_the_same_second_keep_the_order_of_the_recent_list() -> None:
    m = Missed(limit=2)
    m.board(board([]))
    m.reconnected()
    served = [("A001", "1", "08:20"), ("A002", "2", "08:20"), ("A003", "3", "08:20")]
    said = m.board(board(served, recent=(("A001", "1"), ("A003", "3"), ("A002", "2"))))
    assert [c.ticket for c in said] == ["A003", "A001"]  # the two newest, oldest first
