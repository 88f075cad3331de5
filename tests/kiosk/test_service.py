"""The kiosk knows, before anyone acts, whether tickets can be issued: a real broker stopped
and started, a real dispatcher stopped and started, outside its opening hours."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from dispatcher.run import serve
from kiosk.desk import Desk, Service
from kiosk.texts import opens_line
from motcua import protocol, topics
from motcua.clock import ShiftedClock
from motcua.config import OfficeConfig, load
from motcua.protocol import DispatcherDetail, Presence
from printer import open_printer
from tests.conftest import TZ, at
from tests.integration.devices import DispatcherProcess, Watcher
from tests.waiting import wait_until


def says(desk: Desk, state: str, timeout: float = 10.0) -> Service:
    return wait_until(lambda: desk.service if desk.service.state == state else None,
                      timeout=timeout, what=f"the kiosk to say tickets: {state}")


def test_a_dispatcher_or_broker_that_goes_is_noticed_and_its_return_too(  # type: ignore[no-untyped-def]
        office_file: Path, broker, tmp_path: Path) -> None:
    office = load(office_file)
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    desk = Desk(office, broker.url, "k1", open_printer(office.printer)).start()
    watch = Watcher(broker.url, "motcua/demo/presence/kiosk/+")
    try:
        says(desk, "ok", timeout=30)  # the dispatcher process may still be starting
        watch.wait_for("/presence/kiosk/k1", lambda m: m["detail"]["tickets"] == "ok")
        dispatcher.stop()  # its last word: offline
        says(desk, "unavailable")
        watch.wait_for("/presence/kiosk/k1", lambda m: m["detail"]["tickets"] == "unavailable")
        dispatcher.start()
        says(desk, "ok", timeout=30)
        broker.stop()  # nothing is said when a broker goes: the kiosk sees it at once
        says(desk, "unavailable", timeout=3)
        broker.start()
        says(desk, "ok", timeout=30)
    finally:
        watch.close()
        desk.stop()
        dispatcher.stop()


def test_outside_opening_hours_the_kiosk_knows_when_it_opens(office: OfficeConfig,  # type: ignore[no-untyped-def]
                                                             broker) -> None:
    dispatcher = serve(office, broker.url, ShiftedClock(at("12:00")))
    desk = Desk(office, broker.url, "k1", open_printer(office.printer)).start()
    try:
        closed = says(desk, "closed")
        assert closed.opens_at == datetime(2026, 11, 25, 13, 0, tzinfo=TZ)
        assert closed.day == date(2026, 11, 25)
    finally:
        desk.stop()
        dispatcher.stop()


def test_a_dispatcher_that_cannot_record_or_never_came_is_unavailable(  # type: ignore[no-untyped-def]
        office: OfficeConfig, broker) -> None:
    # a 3 s silence (the office's 7 s, shortened for the test; heartbeats come every 2 s)
    desk = Desk(office, broker.url, "k1", open_printer(office.printer), stale_s=3.0).start()
    try:
        assert desk.service.state == "connecting"  # a moment to hear from the dispatcher
        says(desk, "unavailable")  # nobody ever answered
        topic = topics.presence(office.id, "dispatcher", "main")
        detail = DispatcherDetail(instance="x", pid=1, host="h", since="2026-11-25T08:00:00+07:00",
                                  day="2026-11-25", seq=0, storage="ok")
        alive = Presence(status="online", at="2026-11-25T08:00:00+07:00",
                         detail=detail.model_dump(mode="json"))
        desk._on_dispatcher(topic, protocol.encode(alive))
        says(desk, "ok")
        full = detail.model_copy(update={"storage": "unavailable", "problem": "disk full"})
        desk._on_dispatcher(topic, protocol.encode(alive.model_copy(
            update={"detail": full.model_dump(mode="json")})))
        says(desk, "unavailable")
        desk._on_dispatcher(topic, b"not json")  # ignored, logged: nothing changes
        assert desk.service.state == "unavailable"
        desk._on_dispatcher(topic, protocol.encode(alive))
        says(desk, "ok")
        says(desk, "unavailable", timeout=8)  # and then no heartbeat for 3 s
    finally:
        desk.stop()


def test_the_next_opening_is_said_as_people_say_it() -> None:
    today = date(2026, 12, 2)  # a Wednesday

    def line(when: datetime, lang: str) -> str:
        return opens_line(when, today, lang).replace("\u00a0", " ")

    monday = datetime(2026, 12, 7, 7, 30, tzinfo=TZ)
    assert line(monday, "vi") == "Mở cửa lại lúc 07:30 thứ Hai 07/12"
    assert line(monday, "en") == "Opens again at 07:30 on Monday 7 December"
    assert line(datetime(2026, 12, 2, 13, 0, tzinfo=TZ), "vi") == "Mở cửa lại lúc 13:00 hôm nay"
    assert line(datetime(2026, 12, 6, 7, 30, tzinfo=TZ), "vi").endswith("Chủ nhật 06/12")
    after_tet = datetime(2027, 2, 15, 7, 30, tzinfo=TZ)
    assert line(after_tet, "vi") == "Mở cửa lại lúc 07:30 thứ Hai 15/02/2027"
    assert line(after_tet, "en").endswith("on Monday 15 February 2027")
    assert opens_line(None, today, "vi") == ""
    assert "thứ\u00a0Hai\u00a007/12" in opens_line(monday, today, "vi")  # never broken apart
