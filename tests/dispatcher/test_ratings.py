"""Ratings (đánh giá mức độ hài lòng): the dispatcher with a real SQLite file, as the rating
screen at a counter sends them.

What a hall meets: a citizen tapping twice, rating at the wrong screen, coming back an hour
later, a screen for a counter the office does not have, a restart in between."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from motcua import config, officers
from motcua.clock import ManualClock
from tests.conftest import at, write_office
from tests.dispatcher.local import LocalDispatcher


@pytest.fixture
def desk(tmp_path: Path):  # type: ignore[no-untyped-def]
    d = LocalDispatcher(config.load(write_office(tmp_path)), ManualClock(at("09:00")))
    yield d
    d.close()


def serve(desk: LocalDispatcher, counter: str, service: str = "A") -> str:
    """One citizen served to the end at `counter`: their number."""
    number = desk.ok("kiosk", "k1", "walk_in", service=service)["ticket"]["number"]
    assert desk.ok("counter", counter, "call", ticket=number)["ticket"]["number"] == number
    desk.clock.now += timedelta(minutes=4)
    desk.ok("counter", counter, "done")
    return str(number)


def rows(desk: LocalDispatcher) -> list[tuple]:
    return desk.d.store.db.execute(
        "SELECT ticket, counter, officer, service, level FROM ratings ORDER BY at").fetchall()


def test_the_citizen_just_served_rates_once_and_it_is_stored(desk) -> None:  # type: ignore[no-untyped-def]
    number = serve(desk, "1")
    reply = desk.ok("rating", "1", "rate", ticket=number, level="very_satisfied")
    assert reply["ticket"]["number"] == number and reply["ticket"]["status"] == "done"
    again = desk.reply("rating", "1", "rate", ticket=number, level="unsatisfied")
    assert again["error"]["code"] == "already_rated"
    assert "đã được đánh giá" in again["error"]["message"]
    assert "already been rated" in again["error"]["message_en"]
    assert rows(desk) == [(number, "1", None, "A", "very_satisfied")]
    desk.restart()  # the one-rating rule holds across a restart
    assert desk.error("rating", "1", "rate", ticket=number, level="neutral") == "already_rated"
    log = desk.d.store.db.execute(
        "SELECT ticket, counter, json_extract(body, '$.level') FROM events "
        "WHERE change='rated'").fetchall()
    assert log == [(number, "1", "very_satisfied")]


def test_another_counters_ticket_and_an_older_one_are_refused(desk) -> None:  # type: ignore[no-untyped-def]
    first = serve(desk, "1")
    at_two = serve(desk, "2")
    refused = desk.reply("rating", "1", "rate", ticket=at_two, level="satisfied")
    assert refused["error"]["code"] == "not_rateable"
    assert "vừa phục vụ xong" in refused["error"]["message"]
    assert "just finished here" in refused["error"]["message_en"]
    second = serve(desk, "1")
    # The citizen of `first` has gone; whoever stands there now had `second`.
    assert desk.error("rating", "1", "rate", ticket=first, level="satisfied") == "not_rateable"
    assert desk.error("rating", "1", "rate", ticket="A999", level="satisfied") == "not_rateable"
    desk.ok("rating", "1", "rate", ticket=second, level="satisfied")
    desk.ok("rating", "2", "rate", ticket=at_two, level="neutral")
    assert [r[0] for r in rows(desk)] == [second, at_two]


def test_next_closes_one_and_calls_another_the_one_who_just_left_still_rates(desk) -> None:  # type: ignore[no-untyped-def]
    first = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
    second = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
    desk.ok("counter", "1", "next")
    assert desk.ok("counter", "1", "next")["ticket"]["number"] == second  # first: done
    desk.ok("rating", "1", "rate", ticket=first, level="satisfied")
    assert desk.error("rating", "1", "rate", ticket=second, level="neutral") == "not_rateable"


def test_a_service_still_going_on_or_not_done_is_not_rated(desk) -> None:  # type: ignore[no-untyped-def]
    number = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
    desk.ok("counter", "3", "call", ticket=number)
    assert desk.error("rating", "3", "rate", ticket=number, level="satisfied") == "not_rateable"
    desk.ok("counter", "3", "no_show")
    assert desk.error("rating", "3", "rate", ticket=number, level="satisfied") == "not_rateable"
    other = desk.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
    desk.ok("counter", "3", "call", ticket=other)
    desk.ok("counter", "3", "refuse", reason="Ngoài thẩm quyền", guidance="UBND phường")
    assert desk.error("rating", "3", "rate", ticket=other, level="unsatisfied") == "not_rateable"
    assert rows(desk) == []


def test_too_late_is_refused_and_the_window_is_the_office_files(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + "\n[rating]\nwindow_minutes = 2\n",
                    encoding="utf-8")
    desk = LocalDispatcher(config.load(path), ManualClock(at("09:00")))
    try:
        number = serve(desk, "1")
        desk.clock.now += timedelta(minutes=2, seconds=1)
        late = desk.reply("rating", "1", "rate", ticket=number, level="satisfied")
        assert late["error"]["code"] == "rating_closed"
        assert "hết thời gian" in late["error"]["message"]
        assert "over" in late["error"]["message_en"]
        on_time = serve(desk, "1")
        desk.clock.now += timedelta(minutes=1, seconds=59)
        desk.ok("rating", "1", "rate", ticket=on_time, level="satisfied")
    finally:
        desk.close()


def test_the_default_window_is_five_minutes(desk) -> None:  # type: ignore[no-untyped-def]
    assert desk.office.rating.window_minutes == 5
    number = serve(desk, "2")
    desk.clock.now += timedelta(minutes=5, seconds=1)
    assert desk.error("rating", "2", "rate", ticket=number, level="satisfied") == "rating_closed"


def test_bad_levels_and_fields_are_bad_requests_naming_the_field(desk) -> None:  # type: ignore[no-untyped-def]
    number = serve(desk, "1")
    for bad, field in (({"level": "happy"}, "'level'"), ({"level": "Satisfied"}, "'level'"),
                       ({"level": 4}, "'level'"), ({}, "'level'"),
                       ({"level": "satisfied", "ticket": " A001"}, "'ticket'")):
        fields = {"ticket": number, **bad}
        reply = desk.reply("rating", "1", "rate", **fields)
        assert reply["error"]["code"] == "bad_request", bad
        assert field in reply["error"]["detail"], reply
    # A rating screen sends only `rate`; a counter does not rate its own service.
    assert desk.error("rating", "1", "next") == "bad_request"
    assert desk.error("counter", "1", "rate", ticket=number, level="satisfied") == "bad_request"
    assert rows(desk) == []


def test_a_rating_screen_of_a_counter_that_does_not_exist_is_refused(desk) -> None:  # type: ignore[no-untyped-def]
    number = serve(desk, "1")
    reply = desk.reply("rating", "9", "rate", ticket=number, level="satisfied")
    assert reply["error"]["code"] == "unknown_counter"
    assert reply["error"]["message"] == "Không có quầy này."


def test_with_officers_the_rating_records_who_served(tmp_path: Path) -> None:
    path = write_office(tmp_path)
    pin = officers.hash_pin("4321", iterations=1000)
    path.write_text(path.read_text(encoding="utf-8") + f"""
[[officers]]
code = "cb01"
name = "Nguyễn Thị Lan"
pin = "{pin}"
""", encoding="utf-8")
    desk = LocalDispatcher(config.load(path), ManualClock(at("09:00")))
    try:
        # A counter nobody signed in to has served nobody: nothing to rate there.
        assert desk.error("rating", "2", "rate", ticket="A001",
                          level="satisfied") == "not_rateable"
        desk.ok("counter", "1", "sign_in", officer="cb01", pin="4321")
        number = serve(desk, "1")
        desk.ok("counter", "1", "sign_out")  # the officer left; the citizen still rates
        desk.ok("rating", "1", "rate", ticket=number, level="neutral")
        assert rows(desk) == [(number, "1", "cb01", "A", "neutral")]
    finally:
        desk.close()


def test_migration_4_adds_the_ratings_table_to_an_older_database(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    desk.close()
    with sqlite3.connect(office.storage) as c:  # as schema 3 left it
        c.execute("DROP TABLE ratings")
        c.execute("PRAGMA user_version = 3")
    desk = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        number = serve(desk, "1")
        desk.ok("rating", "1", "rate", ticket=number, level="satisfied")
        assert rows(desk) == [(number, "1", None, "A", "satisfied")]
        assert desk.d.store.db.execute("PRAGMA user_version").fetchone()[0] >= 4
    finally:
        desk.close()
