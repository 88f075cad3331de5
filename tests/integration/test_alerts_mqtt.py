"""Overdue waits and the identity check over a real Mosquitto, the dispatcher's own loop
driven by the manual clock: nobody sends a command for a wait to go overdue."""

from __future__ import annotations

from pathlib import Path

from broker_config.dev import DevBroker
from dispatcher.run import serve
from motcua import config
from motcua.clock import ManualClock
from tests.conftest import at, write_office
from tests.dispatcher.test_alerts import REQUIRES_A
from tests.integration.devices import Device, Watcher


def overdue_events(watch: Watcher) -> list[str]:
    with watch.lock:
        return [m["ticket"]["number"] for t, m, _ in watch.messages
                if t.endswith("/event/ticket") and m["change"] == "overdue"]


def test_overdue_goes_out_by_the_clock_alone_once_across_a_restart(
        broker: DevBroker, tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path, **REQUIRES_A))
    clock = ManualClock(at("08:00"))
    watch = Watcher(broker.url)
    kiosk, c1 = Device(broker.url, "kiosk", "k1"), Device(broker.url, "counter", "1")
    service = serve(office, broker.url, clock)
    try:
        assert kiosk.send("walk_in", service="A")["ticket"]["number"] == "A001"
        clock.now = at("08:05")
        assert kiosk.send("walk_in", service="B")["ticket"]["number"] == "B001"
        clock.now = at("08:16")  # no command from here on
        event = watch.wait_for("/event/ticket", lambda m: m["change"] == "overdue")
        assert event["ticket"]["number"] == "A001" and event["at"].endswith("08:15:00+07:00")
        board = watch.wait_for("/state/board", lambda m: m.get("overdue"))
        assert [(o["ticket"], o["waited_min"]) for o in board["overdue"]] == [("A001", 16)]
        counter = watch.wait_for("/state/counter/1", lambda m: m.get("overdue"))
        assert counter["overdue"][0]["ticket"] == "A001"
        clock.now = at("08:25")
        watch.wait_for("/state/board", lambda m: [o["ticket"] for o in m["overdue"]]
                       == ["A001", "B001"])
        service.stop()
        service.dispatcher.store.close()
        service = serve(office, broker.url, clock)
        clock.now = at("08:30")
        watch.wait_for("/state/board", lambda m: m["overdue"] and
                       m["overdue"][0]["waited_min"] == 30)
        assert overdue_events(watch) == ["A001", "B001"]  # not again after the restart
        # The check of the ticket being served, over MQTT.
        assert c1.send("next")["ticket"]["number"] == "A001"
        assert c1.send("verify", ticket="B001", verified=True)["error"]["code"] == \
            "not_serving_ticket"
        assert c1.send("verify", ticket="A001", verified=False)["error"]["code"] == \
            "bad_request"
        done = c1.send("verify", ticket="A001", verified=False, reason="Chíp không đọc được")
        assert done["ok"] and done["ticket"]["check"]["verified"] is False
        watch.wait_for("/event/ticket", lambda m: m["change"] == "not_verified")
        state = watch.wait_for("/state/counter/1", lambda m: (m.get("current") or {}).get(
            "check") is not None)
        assert state["current"]["requires"] == ["chip_id", "fingerprint"]
        assert c1.send("verify", ticket="A001", verified=True)["error"]["code"] == \
            "already_checked"
        watch.wait_for("/state/board", lambda m: [o["ticket"] for o in m["overdue"]]
                       == ["B001"])
    finally:
        service.stop()
        service.dispatcher.store.close()
        for d in (kiosk, c1):
            d.close()
        watch.close()
