"""The dispatcher as a process, on a real Mosquitto with the project's config."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from motcua.mqtt import NoReply
from tests.conftest import at, needs
from tests.integration.devices import Device, DispatcherProcess, Watcher


@pytest.fixture
def office_db(office_file: Path) -> Path:
    return office_file.parent / "office.sqlite3"


@pytest.fixture
@needs("process")  # the dispatcher
def hall(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[dict]:
    proc = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    watcher = Watcher(broker.url)
    watcher.wait_for("/state/config", timeout=20)
    devices: dict[tuple[str, str], Device] = {}

    def device(role: str, name: str) -> Device:
        if (role, name) not in devices:
            devices[(role, name)] = Device(broker.url, role, name)
        return devices[(role, name)]

    yield {"proc": proc, "watch": watcher, "device": device, "broker": broker}
    for d in devices.values():
        d.close()
    watcher.close()
    assert proc.stop() == 0, (tmp_path / "dispatcher.log").read_text()


def test_every_command_and_error_over_mqtt(hall, make_token) -> None:  # type: ignore[no-untyped-def]
    kiosk, c1, c3 = hall["device"]("kiosk", "k1"), hall["device"]("counter", "1"), \
        hall["device"]("counter", "3")
    admin, watch = hall["device"]("admin", "cli"), hall["watch"]

    assert kiosk.send("walk_in", service="A")["ticket"]["number"] == "A001"
    assert kiosk.send("walk_in", service="B", priority=True)["ticket"]["priority"] is True
    booking = kiosk.send("check_in", token=make_token("BK-1", at("08:10")))["ticket"]
    assert booking["number"] == "H001" and booking["booking"]["arrival"] == "on_time"
    assert c1.send("next")["ticket"]["number"] == "H001"
    call = watch.wait_for("/event/call", lambda m: m["ticket"] == "H001")
    assert call["counter_name"] == "Quầy 1" and call["kind"] == "call"
    c1.send("recall")
    watch.wait_for("/event/call", lambda m: m["kind"] == "recall")
    assert c1.send("transfer", service="C")["ticket"]["status"] == "waiting"
    assert c3.send("next")["ticket"]["number"] == "H001"   # transferred in, first
    assert c3.send("refuse", reason="Ngoài thẩm quyền", guidance="UBND phường")["ok"]
    assert c3.send("call", ticket="A001")["ticket"]["number"] == "A001"
    assert c3.send("no_show")["ok"]
    assert c3.send("next")["ticket"]["number"] == "B001"
    assert c3.send("done")["ok"]
    assert c3.send("pause")["ok"] and c3.send("next")["error"]["code"] == "counter_paused"
    assert c3.send("resume")["ok"]
    assert c1.send("transfer", counter="3")["error"]["code"] == "no_current_ticket"

    errors = {
        "bad_request": kiosk.send("fly"),
        "unknown_service": kiosk.send("walk_in", service="Q"),
        "unknown_counter": hall["device"]("counter", "99").send("next"),
        "unknown_ticket": c1.send("call", ticket="A404"),
        "invalid_token": kiosk.send("check_in", token="not-a-token"),
        "wrong_office": kiosk.send("check_in", token=make_token("BK-2", at("09:00"),
                                                                office="other")),
        "wrong_date": kiosk.send("check_in", token=make_token("BK-3", at("09:00").replace(
            day=27))),
        "already_checked_in": kiosk.send("check_in", token=make_token("BK-1", at("08:10"))),
        "no_current_ticket": c1.send("done"),
        "counter_paused": (c1.send("pause"), c1.send("next"))[1],
    }
    for code, reply in errors.items():
        assert reply["ok"] is False and reply["error"]["code"] == code, (code, reply)
    assert errors["wrong_date"]["booking_date"] == "2026-11-27"
    assert errors["already_checked_in"]["ticket"]["number"] == "H001"

    assert admin.send("close_day")["ok"]
    closed = kiosk.send("walk_in", service="A")
    assert closed["error"]["code"] == "office_closed"
    board = watch.wait_for("/state/board", lambda m: m["closed"])
    assert board["recent"][0]["ticket"] == "B001"
    changes = [m["change"] for t, m, _ in watch.messages if t.endswith("/event/ticket")]
    assert changes[:4] == ["issued", "issued", "checked_in", "called"]
    assert "refused" in changes and "no_show" in changes and "transferred" in changes


def test_retries_with_one_id_make_one_ticket(hall) -> None:  # type: ignore[no-untyped-def]
    kiosk = hall["device"]("kiosk", "k1")
    replies = [kiosk.send("walk_in", cmd_id="double-tap-01", service="A") for _ in range(3)]
    assert replies[0] == replies[1] == replies[2]
    assert kiosk.send("walk_in", service="A")["ticket"]["number"] == "A002"


def test_presence_and_last_will(hall, broker) -> None:  # type: ignore[no-untyped-def]
    watch = hall["watch"]
    online = watch.wait_for("/presence/dispatcher/main")
    assert online["status"] == "online" and online["detail"]["day"] == "2026-11-25"
    assert online["detail"]["storage"] == "ok" and online["detail"]["pid"] > 0
    watch.clear()
    hall["proc"].kill()
    # The broker sends the last-will once it notices the dead connection (keepalive 15 s).
    watch.wait_for("/presence/dispatcher/main", lambda m: m["status"] == "offline", timeout=40)
    watch.clear()
    hall["proc"].start()
    watch.wait_for("/presence/dispatcher/main", lambda m: m["status"] == "online", timeout=20)


def _stream(device: Device, n: int, replies: list, ctype: str, **fields) -> None:  # type: ignore[no-untyped-def]
    for i in range(n):
        try:
            cmd_id = f"{ctype}-{device.link.device}-{i:04d}"
            replies.append(device.send(ctype, timeout=60, cmd_id=cmd_id, **fields))
        except NoReply as exc:
            replies.append(exc)
        time.sleep(0.01)


def test_kill_9_mid_stream_loses_and_doubles_nothing(hall, office_db: Path) -> None:  # type: ignore[no-untyped-def]
    kiosks = [hall["device"]("kiosk", f"k{i}") for i in (1, 2)]
    counter = hall["device"]("counter", "3")
    replies: dict[str, list] = {"k1": [], "k2": [], "c": []}
    threads = [threading.Thread(target=_stream, args=(k, 60, replies[k.link.device], "walk_in"),
                                kwargs={"service": "A"}) for k in kiosks]
    threads.append(threading.Thread(target=_stream, args=(counter, 40, replies["c"], "next")))
    for t in threads:
        t.start()
    for _ in range(3):
        time.sleep(0.4)
        hall["proc"].kill()
        time.sleep(0.2)
        hall["proc"].start()
    for t in threads:
        t.join(120)
    numbers = [r["ticket"]["number"] for k in ("k1", "k2") for r in replies[k]]
    assert len(numbers) == 120 and len(set(numbers)) == 120
    assert sorted(numbers) == [f"A{i:03d}" for i in range(1, 121)]
    calls = [r["ticket"]["number"] for r in replies["c"] if r["ticket"]]
    assert len(calls) == len(set(calls))                    # nobody called twice
    db = sqlite3.connect(office_db)
    assert db.execute("SELECT count(*) FROM tickets").fetchone()[0] == 120
    called_events = db.execute("SELECT count(*) FROM events WHERE change='called'").fetchone()
    assert called_events[0] == len(calls)
    # The restarted dispatcher republished its state: the board matches the database.
    waiting = db.execute("SELECT count(*) FROM tickets WHERE status='waiting'").fetchone()[0]
    hall["watch"].wait_for("/state/board", lambda m: m["waiting"]["A"]["count"] == waiting)


def test_broker_killed_and_restarted(hall, broker: DevBroker) -> None:  # type: ignore[no-untyped-def]
    kiosk, watch = hall["device"]("kiosk", "k1"), hall["watch"]
    kiosk.send("walk_in", service="A")
    broker.kill()
    for f in broker.data_dir.glob("*.db"):
        f.unlink()  # retained state gone with the broker: only a republish brings it back
    got: list = []
    sender = threading.Thread(target=_stream, args=(kiosk, 1, got, "walk_in"),
                              kwargs={"service": "B"})
    sender.start()
    time.sleep(0.5)
    broker.start()
    t0 = time.monotonic()
    sender.join(30)
    assert got and got[0]["ticket"]["number"] == "B001"
    assert time.monotonic() - t0 < 5
    watch.wait_for("/state/board", lambda m: m["waiting"]["B"]["count"] == 1, timeout=10)
    later = Watcher(broker.url)  # a board that boots now sees the state at once
    try:
        assert later.wait_for("/state/board", timeout=5)["waiting"]["A"]["count"] == 1
        assert later.wait_for("/state/config", timeout=5)["office"] == "demo"
    finally:
        later.close()
