"""The board's model without Kivy: the contract's messages in, highlight, rows, bad input."""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime

import pytest

from display.model import HIGHLIGHT_S, BoardModel, clock_texts, initial_office
from motcua.config import OfficeConfig
from motcua.protocol import BadMessage, Board, CallEvent, OfficeInfo, read
from motcua.views import office_info
from tests.conftest import TZ

BOARD = {"v": 1, "office": "demo", "at": "2026-11-25T08:10:00+07:00", "day": "2026-11-25",
         "seq": 16, "closed": False,
         "serving": [{"counter": "3", "counter_name": "Quầy 3", "ticket": "A012",
                      "since": "2026-11-25T08:09:00+07:00"},
                     {"counter": "1", "counter_name": "Quầy 1", "ticket": "B004",
                      "since": "2026-11-25T08:05:00+07:00"}],
         "recent": [{"ticket": "A012", "counter": "3", "counter_name": "Quầy 3",
                     "at": "2026-11-25T08:09:00+07:00"},
                    {"ticket": "B004", "counter": "1", "counter_name": "Quầy 1",
                     "at": "2026-11-25T08:05:00+07:00"}],
         "waiting": {"A": {"count": 12, "est_wait_min": 25}, "B": {"count": 0,
                                                                   "est_wait_min": 0}}}


def payload(body: dict) -> bytes:
    return json.dumps(body).encode()


def call(ticket: str, counter: str, kind: str = "call") -> CallEvent:
    return read(CallEvent, payload({"v": 1, "ticket": ticket, "counter": counter,
                                    "counter_name": f"Quầy {counter}", "kind": kind,
                                    "at": "2026-11-25T08:11:00+07:00"}))


def model(office: OfficeConfig, rows: int = 6) -> BoardModel:
    m = BoardModel(initial_office(office), rows=rows)
    m.apply_board(read(Board, payload(BOARD)), now=0)
    return m


def test_the_first_board_is_shown_as_it_is(office: OfficeConfig) -> None:
    m = model(office)
    assert m.serving_rows(now=1) == [("B004", "Quầy 1", False), ("A012", "Quầy 3", False)]
    assert m.recent_rows(5) == [("A012", "Quầy 3"), ("B004", "Quầy 1")]
    assert m.waiting_rows() == [("Nộp hồ sơ", "12", "~25′"),
                                ("Nhận kết quả", "0", ""),
                                ("Phản ánh, kiến nghị", "–", "")]


def test_a_call_shows_at_once_and_stands_out_for_a_while(office: OfficeConfig) -> None:
    m = model(office)
    m.apply_call(call("A013", "1"), now=10)
    assert m.serving_rows(now=11) == [("A013", "Quầy 1", True), ("A012", "Quầy 3", False)]
    assert m.recent_rows(1) == [("A013", "Quầy 1")]
    assert m.serving_rows(now=10 + HIGHLIGHT_S + 0.1)[0] == ("A013", "Quầy 1", False)


def test_a_recall_stands_out_and_keeps_its_place_in_recent(office: OfficeConfig) -> None:
    m = model(office)
    m.apply_call(call("B004", "1", "recall"), now=5)
    assert m.recent_rows(5) == [("A012", "Quầy 3"), ("B004", "Quầy 1")]  # as the dispatcher
    assert m.serving_rows(now=6)[0] == ("B004", "Quầy 1", True)


def test_the_newest_call_comes_first_for_the_big_row(office: OfficeConfig) -> None:
    m = model(office)
    # nothing fresh: the latest called (A012 at 08:09), then the others by counter
    assert m.board_rows(now=1) == [("A012", "Quầy 3", False), ("B004", "Quầy 1", False)]
    m.apply_call(call("B004", "1", "recall"), now=5)
    assert m.board_rows(now=6) == [("B004", "Quầy 1", True), ("A012", "Quầy 3", False)]


def test_a_call_missed_as_an_event_still_stands_out(office: OfficeConfig) -> None:
    m = model(office)
    later = json.loads(json.dumps(BOARD))
    later["serving"][1].update(ticket="B005", since="2026-11-25T08:12:00+07:00")
    m.apply_board(read(Board, payload(later)), now=20)
    assert ("B005", "Quầy 1", True) in m.serving_rows(now=21)


def test_more_counters_than_rows_keeps_the_newest_calls(office: OfficeConfig) -> None:
    m = model(office, rows=1)
    assert m.serving_rows(now=1) == [("A012", "Quầy 3", False)]


def test_the_dispatcher_config_wins(office: OfficeConfig) -> None:
    theirs = office_info(office).model_dump(mode="json")
    theirs.update(name="BHXH quận 1", display={"notices": ["Xin chào"]},
                  services=[{"code": "A", "name": "Thu", "name_en": "X", "prefix": "A"}])
    m = model(office)
    m.office = read(OfficeInfo, payload(theirs))
    assert m.title == "BHXH quận 1" and m.notices == ("Xin chào",)
    assert [row[0] for row in m.waiting_rows()] == ["Thu"]


@pytest.mark.parametrize("payload", [
    b"\xff\xfe", b"not json", b"[1, 2]", b'{"v": 2}',
    b'{"v": 1, "serving": "A012"}',
    b'{"v": 1, "serving": [{"counter": "1"}]}',
    b'{"v": 1, "waiting": {"A": {"count": "many"}}}',
    b'{"v": 1, "waiting": [1]}',
])
def test_bad_boards_are_refused_with_a_reason(payload: bytes) -> None:
    with pytest.raises(BadMessage):
        read(Board, payload)


@pytest.mark.parametrize("body", [
    {"v": 1, "counter": "1"}, {"v": 1, "ticket": "A1"}, {"v": 1, "ticket": ["A1"], "counter": "1"},
    {"v": 1, "ticket": "A1", "counter": "1", "counter_name": "Q", "kind": "call", "at": "soon"},
    {"v": 1, "ticket": "A1", "counter": "1", "counter_name": "Q", "kind": "shout",
     "at": "2026-11-25T08:11:00+07:00"},
    {"v": 2, "ticket": "A1", "counter": "1", "counter_name": "Q", "kind": "call",
     "at": "2026-11-25T08:11:00+07:00"},
])
def test_bad_calls_are_refused(body: dict) -> None:
    with pytest.raises(BadMessage):
        read(CallEvent, payload(body))


def test_text_from_the_wire_is_composed(office: OfficeConfig) -> None:
    nfd = unicodedata.normalize("NFD", "Quầy Ưu tiên")
    c = read(CallEvent, payload({"v": 1, "ticket": "A1", "counter": "9", "counter_name": nfd,
                                 "kind": "call", "at": "2026-11-25T08:11:00+07:00"}))
    m = model(office)
    m.apply_call(c, now=1)
    name = m.recent_rows(1)[0][1]
    assert name == "Quầy Ưu tiên" and unicodedata.is_normalized("NFC", name)


def test_clock_texts_in_vietnamese() -> None:
    assert clock_texts(datetime(2026, 11, 25, 8, 42, tzinfo=TZ)) == ("08:42", "Thứ Tư, 25/11/2026")
    assert clock_texts(datetime(2026, 11, 29, 17, 5, tzinfo=TZ))[1] == "Chủ Nhật, 29/11/2026"


def test_a_closed_counter_is_shown_closed_never_as_serving(office: OfficeConfig) -> None:
    m = BoardModel(initial_office(office))
    body = {**BOARD, "counters": {"1": "open", "2": "closed", "3": "closed"}}
    m.apply_board(read(Board, payload(body)), 0.0)
    # Quầy 3 has a ticket in `serving` (a stale board) but is closed: not shown serving it.
    assert [r[:2] for r in m.serving_rows(0.0)] == [("B004", "Quầy 1")]
    assert m.closed_rows() == ["Quầy 2: tạm đóng", "Quầy 3: tạm đóng"]
    # A call from a counter is someone there: shown at once, before the next board.
    m.apply_call(call("A013", "3"), 1.0)
    assert m.closed_rows() == ["Quầy 2: tạm đóng"]
    assert ("A013", "Quầy 3", True) in m.serving_rows(1.0)
    # The day closed: the banner says so, not every counter.
    m.apply_board(read(Board, payload({**body, "closed": True})), 2.0)
    assert m.closed_rows() == []
    # A board from before officers (no `counters`): nothing is closed.
    m.apply_board(read(Board, payload(BOARD)), 3.0)
    assert m.closed_rows() == [] and len(m.serving_rows(3.0)) == 2
