"""The office clock jumps (NTP, a flat CMOS battery, someone setting the date by hand): the
queue keeps its order, a day is rolled once and only forwards, and no state is half made."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from motcua import config
from motcua.clock import GuardedClock, ManualClock
from tests.conftest import at, write_office
from tests.faults.harness import LocalDispatcher, memory_matches_disk, rows


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[LocalDispatcher]:
    d = LocalDispatcher(config.load(write_office(tmp_path)), ManualClock(at("09:00")))
    yield d
    d.close()


def test_clock_set_back_keeps_first_come_first_served(desk: LocalDispatcher,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    first = desk.reply("kiosk", "k1", "walk_in", service="A")["ticket"]
    desk.clock.now = at("08:40")
    with caplog.at_level(logging.WARNING):
        second = desk.reply("kiosk", "k2", "walk_in", service="A")["ticket"]
    assert "clock went back" in caplog.text
    assert second["issued_at"] >= first["issued_at"]
    assert desk.reply("counter", "3", "next")["ticket"]["number"] == first["number"]
    memory_matches_disk(desk)


def test_clock_set_back_across_midnight_does_not_reopen_yesterday(desk: LocalDispatcher) -> None:
    desk.send("kiosk", "k1", "walk_in", service="A")
    desk.send("kiosk", "k1", "walk_in", service="A")
    desk.send("counter", "1", "next")
    desk.clock.now = at("10:00") - timedelta(days=2)  # Monday 23 Nov
    reply = desk.reply("kiosk", "k1", "walk_in", service="A")
    assert reply["ticket"]["number"] == "A003" and desk.d.hall.day.isoformat() == "2026-11-25"
    assert {t.number: str(t.status) for t in desk.d.hall.tickets.values()} == {
        "A001": "serving", "A002": "waiting", "A003": "waiting"}
    assert rows(desk.office.storage, "SELECT count(*) FROM tickets WHERE day != '2026-11-25'") \
        == [(0,)]
    memory_matches_disk(desk)


def test_clock_jumping_to_the_next_day_closes_the_old_one_once(desk: LocalDispatcher) -> None:
    old = desk.send("kiosk", "k1", "walk_in", "walk-in-before-midnight", service="A")
    desk.send("kiosk", "k1", "walk_in", service="A")
    desk.send("counter", "1", "next")
    desk.clock.now = at("08:00") + timedelta(days=1)  # Thursday 26 Nov
    new = desk.reply("kiosk", "k1", "walk_in", service="A")["ticket"]
    assert new["number"] == "A001" and new["issued_at"].startswith("2026-11-26")
    assert dict(rows(desk.office.storage, "SELECT number, status FROM tickets WHERE "
                     "day='2026-11-25'")) == {"A001": "done", "A002": "unserved"}
    # A device retrying yesterday's command gets yesterday's reply, not a new ticket.
    again = desk.send("kiosk", "k1", "walk_in", "walk-in-before-midnight", service="A")
    assert again == old and len(desk.d.hall.tickets) == 1
    memory_matches_disk(desk)
    desk.clock.advance(minutes=5)
    desk.send("kiosk", "k1", "walk_in", service="A")
    assert rows(desk.office.storage, "SELECT count(*) FROM events WHERE change='unserved'") \
        == [(1,)]


def test_clock_jumping_into_the_night_refuses_tickets_clearly(desk: LocalDispatcher) -> None:
    desk.send("kiosk", "k1", "walk_in", service="A")
    desk.clock.now = at("22:30")
    reply = desk.reply("kiosk", "k1", "walk_in", service="A")
    assert reply["error"]["code"] == "office_closed"
    assert reply["error"]["message"] and reply["error"]["message_en"]
    assert len(desk.d.hall.tickets) == 1
    memory_matches_disk(desk)


def test_a_clock_set_a_day_ahead_by_mistake_and_corrected_keeps_todays_queue(
        tmp_path: Path) -> None:
    """The dispatcher's real clock is guarded by the monotonic clock (GuardedClock)."""
    wall, mono = ManualClock(at("09:00")), [0.0]
    (tmp_path / "g").mkdir()
    desk = LocalDispatcher(config.load(write_office(tmp_path / "g")),
                GuardedClock(wall, monotonic=lambda: mono[0]))  # type: ignore[arg-type]
    desk.clock = wall  # type: ignore[assignment]
    try:
        desk.send("kiosk", "k1", "walk_in", service="A")
        desk.send("kiosk", "k1", "walk_in", service="A")
        desk.send("counter", "1", "next")
        mono[0], wall.now = 60, at("09:01") + timedelta(days=1)  # a wrong date, by hand
        desk.send("kiosk", "k2", "walk_in", service="A")
        mono[0], wall.now = 300, at("09:05")  # corrected four minutes later
        reply = desk.send("kiosk", "k1", "walk_in", service="A")
        assert reply and reply["ticket"]["issued_at"].startswith("2026-11-25")
        assert dict(rows(desk.office.storage, "SELECT number, status FROM tickets WHERE "
                         "day='2026-11-25'"))["A002"] == "waiting"
        assert rows(desk.office.storage, "SELECT count(*) FROM tickets WHERE day != "
                    "'2026-11-25'") == [(0,)]
        memory_matches_disk(desk)
    finally:
        desk.close()
