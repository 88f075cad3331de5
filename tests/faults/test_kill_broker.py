"""kill -9 of Mosquitto (the production config: accounts, ACL, TLS) while kiosks and counters
keep sending: devices reconnect within 5 s, the dispatcher republishes its retained state
(the broker's own copy is deleted), and no command is lost or taken twice.

Default: MOTCUA_BROKER_KILLS=2 over MOTCUA_BROKER_KILL_STEPS=80 commands; the full run is
MOTCUA_BROKER_KILLS=5 MOTCUA_BROKER_KILL_STEPS=200."""

from __future__ import annotations

import json
import os
import random
import threading
import time
from pathlib import Path

import pytest

from motcua import config, topics
from motcua.clock import ManualClock
from tests.conftest import at, with_storage
from tests.faults.harness import LocalDispatcher
from tests.faults.stream import (
    COUNTERS,
    KIOSKS,
    Sender,
    kill_points,
    normalise,
    outcome,
    schedule,
)
from tests.integration.devices import DispatcherProcess
from tests.security.harness import Probe, SecureDevice, make_secured, start_broker
from tests.waiting import wait_until

KILLS = int(os.environ.get("MOTCUA_BROKER_KILLS", "2"))
STEPS = int(os.environ.get("MOTCUA_BROKER_KILL_STEPS", "80"))
RECONNECT_S = 5.0


def expected_replies(office_file: Path, steps: list, db: Path) -> list:
    """The same stream straight into a dispatcher in process: what nothing-went-wrong gives."""
    desk = LocalDispatcher(with_storage(config.load(office_file), db), ManualClock(at("08:00")))
    try:
        return [normalise(desk.send(s.role, s.device, s.ctype, s.cmd_id, **s.fields))
                for s in steps]
    finally:
        desk.close()


def board_and_presence(s, timeout: float = 10.0) -> tuple[dict, float]:  # type: ignore[no-untyped-def]
    """What a board that boots now sees: the retained board, and how long it took."""
    t0 = time.monotonic()
    p = Probe(s.tls_port, "admin-cli", s.password("admin-cli"), s.ca, client_id="late-board")
    try:
        assert p.connect() == 0
        p.subscribe(topics.state_board("demo"))
        p.subscribe(topics.presence("demo", "dispatcher", "main"))

        def board_when_online() -> dict | None:
            got = {t: json.loads(m) for t, m, _ in list(p.received)}
            online = got.get(topics.presence("demo", "dispatcher", "main"), {})
            return got.get(topics.state_board("demo")) if online.get("status") == "online" \
                else None
        board = wait_until(board_when_online, timeout=timeout - (time.monotonic() - t0),
                           what="the retained board and the dispatcher online")
        return board, time.monotonic() - t0
    finally:
        p.close()


@pytest.mark.slow
@pytest.mark.mqtt
@pytest.mark.process
def test_kill_9_broker_devices_reconnect_state_republished_nothing_lost(
        tmp_path: Path, make_token) -> None:  # type: ignore[no-untyped-def]
    s = make_secured(tmp_path / "office")
    steps = schedule(STEPS, 3, make_token)
    expected = expected_replies(s.device_office("dispatcher-main"), steps,
                                tmp_path / "baseline.sqlite3")
    db_file = tmp_path / "office" / "office.sqlite3"

    broker = start_broker(s)
    proc = DispatcherProcess(s.device_office("dispatcher-main"), f"mqtt://127.0.0.1:{s.port}",
                             tmp_path / "dispatcher.log").start()
    devices = {k: SecureDevice(s, "kiosk", k) for k in KIOSKS}
    devices |= {c: SecureDevice(s, "counter", c) for c in COUNTERS}
    board_and_presence(s, 30)
    sender = Sender(devices, steps)
    thread = threading.Thread(target=sender.run)
    rng = random.Random(5)
    reconnects: list[float] = []
    republished: list[float] = []
    thread.start()
    try:
        for k, point in enumerate(kill_points(rng, STEPS, KILLS)):
            sender.wait_for(point)
            time.sleep(rng.choice([0.0, 0.002, 0.01]))
            broker.kill()
            if k % 2 == 0:  # the broker lost its retained state: only a republish helps
                for f in (tmp_path / "office" / "broker-data").glob("*.db"):
                    f.unlink()
            time.sleep(rng.uniform(0.2, 1.5))
            broker = start_broker(s)
            t_up = time.monotonic()
            for d in devices.values():
                assert d.link.connected.wait(RECONNECT_S + 5)
                reconnects.append(time.monotonic() - t_up)
            board_and_presence(s)
            republished.append(time.monotonic() - t_up)
        thread.join(300)
        assert not thread.is_alive(), "the stream never finished"
        # A board that boots now sees the state the database holds. The dispatcher
        # publishes the board just after its last reply: a board booting a moment later
        # (polled, not slept) has it.
        held = outcome(db_file, sender.replies)
        waiting = sum(1 for t in held.tickets if t[3] == "waiting")
        wait_until(lambda: sum(w["count"] for w in board_and_presence(s)[0]["waiting"].values())
                   == waiting, what=f"a booting board showing {waiting} waiting", interval=0.2)
    finally:
        for d in devices.values():
            d.close()
        code = proc.stop()
        broker.stop()
    print(f"\n{KILLS} kills -9 of Mosquitto over {STEPS} commands; devices back in "
          f"max {max(reconnects):.2f} s (median {sorted(reconnects)[len(reconnects) // 2]:.2f}"
          f" s); retained board and dispatcher presence back within {max(republished):.2f} s "
          "of the restart")
    assert code == 0, (tmp_path / "dispatcher.log").read_text()[-3000:]
    assert max(reconnects) < RECONNECT_S
    assert sender.replies == expected  # every command answered, once, as without a fault
    result = outcome(db_file, sender.replies)
    issued = [e for e in result.events if e[0] in ("issued", "checked_in")]
    assert len(issued) == len({e[1] for e in issued}) == len(result.tickets)
    assert sum(1 for t in result.tickets if t[3] == "waiting") == waiting
