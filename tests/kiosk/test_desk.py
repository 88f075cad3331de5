"""The kiosk without its screen, against a real Mosquitto and dispatcher: tickets, retries,
printing and its failures, presence."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatcher.run import serve
from kiosk.desk import Action, Desk, Outcome
from motcua.clock import ShiftedClock
from motcua.config import OfficeConfig
from motcua.protocol import CheckIn, TicketInfo, WalkIn
from printer import open_printer
from tests.conftest import at
from tests.integration.devices import Device, Watcher
from tests.waiting import wait_until


class Outcomes:
    def __init__(self) -> None:
        self.items: list[Outcome] = []
        self.lock = threading.Lock()

    def __call__(self, o: Outcome) -> None:
        with self.lock:
            self.items.append(o)


def ticket(o: Outcome) -> TicketInfo:
    """The outcome's ticket, which there must be."""
    assert o.ticket is not None, o
    return o.ticket


@pytest.fixture
def hall(office: OfficeConfig, broker) -> Iterator[OfficeConfig]:  # type: ignore[no-untyped-def]
    service = serve(office, broker.url, ShiftedClock(at("08:00")))
    yield office
    service.stop()


def make_desk(office: OfficeConfig, url: str, **kw) -> tuple[Desk, Outcomes]:  # type: ignore[no-untyped-def]
    outcomes = Outcomes()
    desk = Desk(office, url, "k1", open_printer(office.printer), on_outcome=outcomes,
                **{"reply_timeout": 5.0, **kw})
    desk.start()
    wait_until(lambda: desk.board is not None, timeout=10,
               what="the dispatcher's state/board")
    return desk, outcomes


def test_walk_in_and_check_in_print_tickets(hall, broker, make_token) -> None:  # type: ignore[no-untyped-def]
    desk, outcomes = make_desk(hall, broker.url)
    try:
        walk = desk.run(Action(WalkIn("A", False)))
        assert walk.ok and walk.printed and ticket(walk).number == "A001"
        booked = desk.run(Action(CheckIn(make_token("BK-1", at("08:10")))))
        assert booked.ok and booked.printed and ticket(booked).number == "H001"
        tickets = sorted(p.name for p in hall.printer.file.iterdir())
        assert tickets == ["2026-11-25_A001.bin", "2026-11-25_A001.png",
                           "2026-11-25_H001.bin", "2026-11-25_H001.png"]
        # Told twice each: the number at once, then the paper.
        assert [o.printed for o in outcomes.items] == [None, True, None, True]
        assert [s.code for s in desk.services()] == ["A", "B", "C"]
        assert desk.waiting("A") is not None
    finally:
        desk.stop()


def test_a_booking_moved_to_today_checks_in_with_its_old_code(hall, broker, make_token) -> None:  # type: ignore[no-untyped-def]
    """Issue 16: the kiosk refused the old QR code of a booking moved to today by itself;
    the dispatcher, which knows it moved, takes it."""
    admin = Device(broker.url, "admin", "portal")
    desk, _ = make_desk(hall, broker.url)
    try:
        moved = admin.send("booking_add", booking={
            "id": "BK-MOVED", "service": "A", "start": at("10:00").isoformat(),
            "made_on": "2026-11-20"})
        assert moved["ok"], moved
        old_code = make_token("BK-MOVED", at("09:00").replace(day=27))  # as first booked
        outcome = desk.run(Action(CheckIn(old_code)))
        assert outcome.ok and not outcome.local, outcome
        booking = ticket(outcome).booking
        assert booking is not None and booking.start.startswith("2026-11-25T10:00")
    finally:
        desk.stop()
        admin.close()


def test_one_action_retried_is_one_ticket(hall, broker) -> None:  # type: ignore[no-untyped-def]
    desk, _ = make_desk(hall, broker.url)
    try:
        action = Action(WalkIn("B", True))
        first, again = desk.run(action), desk.run(action)
        assert first.ticket == again.ticket and ticket(first).number == "B001"
        assert ticket(desk.run(Action(WalkIn("B")))).number == "B002"
        assert desk.submit(Action(WalkIn("B")))
        assert not desk.submit(Action(WalkIn("B")))  # a double tap
    finally:
        desk.stop()


def test_errors_come_back_with_what_the_screen_needs(hall, broker, make_token) -> None:  # type: ignore[no-untyped-def]
    desk, _ = make_desk(hall, broker.url)
    try:
        token = make_token("BK-7", at("08:30"))
        assert desk.run(Action(CheckIn(token))).ok
        again = desk.run(Action(CheckIn(token)))
        assert again.code == "already_checked_in" and ticket(again).number == "H001"
        assert not again.local and again.printed is None  # not printed until asked
        late = desk.run(Action(CheckIn(make_token("BK-8", at("09:00").replace(
            day=27)))))
        # Another day is the dispatcher's to say (it may know the booking moved).
        assert not late.local and late.code == "wrong_date"
        assert str(late.booking_date) == "2026-11-27"
        unknown = desk.run(Action(WalkIn("Z")))
        assert unknown.code == "unknown_service"
    finally:
        desk.stop()


def test_no_dispatcher_is_no_reply_not_a_hang(office, broker) -> None:  # type: ignore[no-untyped-def]
    desk = Desk(office, broker.url, "k1", open_printer(office.printer), reply_timeout=1.0)
    desk.start()
    try:
        t0 = time.monotonic()
        outcome = desk.run(Action(WalkIn("A")))
        assert outcome.code == "no_reply" and time.monotonic() - t0 < 5
    finally:
        desk.stop()


def test_a_ticket_that_does_not_print_is_still_shown(hall, broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the ticket folder should be")
    office = dataclasses.replace(hall, printer=dataclasses.replace(hall.printer,
                                                                   file=blocked / "tickets"))
    desk, _ = make_desk(office, broker.url)
    try:
        outcome = desk.run(Action(WalkIn("A")))
        assert outcome.ok and outcome.printed is False and outcome.print_error is not None \
            and outcome.print_error[0] == "io"
        assert ticket(outcome).number == "A001"
    finally:
        desk.stop()


def test_presence_tells_the_printer_state(hall, broker) -> None:  # type: ignore[no-untyped-def]
    watch = Watcher(broker.url, "motcua/demo/presence/kiosk/+")
    none = dataclasses.replace(hall, printer=dataclasses.replace(hall.printer, kind="none"))
    desk, _ = make_desk(none, broker.url, presence_extra=lambda: {"decoder": "zxing"})
    try:
        m = watch.wait_for("/presence/kiosk/k1", lambda m: m["status"] == "online"
                           and m["detail"]["tickets"] == "ok")
        assert m["detail"] == {"printer": "offline", "tickets": "ok", "decoder": "zxing"}
        shown = desk.run(Action(WalkIn("C")))
        assert shown.ok and shown.printed is False and shown.print_error is None
    finally:
        desk.stop()
        watch.close()
    last = watch.last("/presence/kiosk/k1")
    assert last is not None and last["status"] == "offline", json.dumps(last)


def test_a_kiosk_over_its_limit_says_so_plainly(broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from kiosk.texts import notice
    from motcua import config
    from tests.conftest import DEFAULT_LIMITS, write_office

    office = config.load(write_office(tmp_path, limits=DEFAULT_LIMITS))
    service = serve(office, broker.url, ShiftedClock(at("08:00")))
    desk, _ = make_desk(office, broker.url)
    try:
        outcomes = [desk.run(Action(WalkIn("A"))) for _ in range(12)]
        assert [o.ok for o in outcomes[:10]] == [True] * 10
        assert outcomes[-1].code == "rate_limited" and not outcomes[-1].printed
        title, body, todo = notice("rate_limited", "vi")
        assert title == "Vui lòng chờ một chút" and "hỏi cán bộ" in todo
        assert notice("rate_limited", "en")[0] == "Please wait a moment"
        assert "No number was issued" in notice("storage_unavailable", "en")[1]
    finally:
        desk.stop()
        service.stop()


def test_state_that_is_not_the_contract_is_logged_and_ignored(office: OfficeConfig,
                                                              caplog: pytest.LogCaptureFixture
                                                              ) -> None:
    from motcua import protocol
    from motcua.views import office_info

    desk = Desk(office, "mqtt://127.0.0.1:1", "k1", open_printer(office.printer))  # not started
    config = desk.config
    renamed = office_info(office).model_copy(update={"name": "Văn phòng mới"})
    for bad in (b"not json", b"[]", b'{"v": 99, "office": "demo"}', b'{"v": 1}'):
        desk._on_config("state/config", bad)
        desk._on_board("state/board", bad)
        assert desk.config is config and desk.board is None
    assert sum("ignored state/" in r.message for r in caplog.records) == 8
    desk._on_config("state/config", protocol.encode(renamed))
    assert desk.office_name() == "Văn phòng mới"
    assert [s.code for s in desk.services()] == ["A", "B", "C"]
