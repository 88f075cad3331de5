"""kill -9 of the dispatcher process at random moments while kiosks and counters keep sending
with retries by command id: no ticket lost, none doubled, the same calls as without kills.

Default: MOTCUA_KILLS=5 over MOTCUA_KILL_STEPS=150 commands; the full run is
MOTCUA_KILLS=20 MOTCUA_KILL_STEPS=500."""

from __future__ import annotations

import os
import random
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from tests.conftest import write_office
from tests.faults.stream import Outcome, Sender, kill_points, outcome, schedule
from tests.integration.devices import START, Device, DispatcherProcess, Watcher

KILLS = int(os.environ.get("MOTCUA_KILLS", "5"))
STEPS = int(os.environ.get("MOTCUA_KILL_STEPS", "150"))
SEED = int(os.environ.get("MOTCUA_KILL_SEED", "9"))


class Office:
    """One run: a fresh database, the dispatcher as a process, devices on the broker."""

    def __init__(self, folder: Path, broker: DevBroker):
        folder.mkdir()
        self.office_file = write_office(folder)
        self.db = folder / "office.sqlite3"
        self.broker = broker
        self.log = folder / "dispatcher.log"
        self.t0 = time.monotonic()
        self.proc = self._dispatcher().start()
        self.recoveries: list[float] = []

    def _dispatcher(self) -> DispatcherProcess:
        # The office clock goes on from where it was, as a real clock would across a crash.
        start = datetime.fromisoformat(START) + timedelta(seconds=time.monotonic() - self.t0)
        return DispatcherProcess(self.office_file, self.broker.url, self.log, start.isoformat())

    def kill_and_restart(self) -> None:
        self.proc.kill()
        self.proc = self._dispatcher().start()


def run(folder: Path, broker: DevBroker, steps: list, kills: int, seed: int) -> Outcome:
    office = Office(folder, broker)
    watch = Watcher(broker.url)
    watch.wait_for("/presence/dispatcher/main", lambda m: m["status"] == "online", 30)
    devices = {k: Device(broker.url, "kiosk", k) for k in ("k1", "k2")}
    devices |= {c: Device(broker.url, "counter", c) for c in ("1", "2", "3")}
    sender = Sender(devices, steps)
    thread = threading.Thread(target=sender.run)
    rng = random.Random(seed)
    done = 0
    t_run = time.monotonic()
    thread.start()
    try:
        for point in kill_points(rng, len(steps), kills):
            sender.wait_for(point)
            # Mid-command (within a reply's time), a little later, or during start-up.
            time.sleep(rng.choice([0.0, 0.0005, 0.001, 0.002, 0.005, 0.02]))
            at = sender.progress
            office.kill_and_restart()
            done += 1
            if rng.random() < 0.2:
                time.sleep(rng.uniform(0.05, 0.5))  # again while it is still starting
                office.kill_and_restart()
                done += 1
            t_kill = time.monotonic()
            sender.wait_for(at + 1)  # the command in flight at the kill is answered
            office.recoveries.append(time.monotonic() - t_kill)
        thread.join(600)
        assert not thread.is_alive(), "the stream never finished"
    finally:
        for d in devices.values():
            d.close()
        watch.close()
        code = office.proc.stop()
    elapsed = time.monotonic() - t_run
    if kills:
        r = sorted(office.recoveries)
        print(f"\n{done} kills -9 over {len(steps)} commands in {elapsed:.1f} s; back to "
              f"answering after a kill: median {r[len(r) // 2]:.2f} s, max {r[-1]:.2f} s")
    else:
        print(f"\nno kills: {len(steps)} commands in {elapsed:.1f} s")
    assert code == 0, office.log.read_text()[-3000:]
    assert done >= kills
    return outcome(office.db, sender.replies)


@pytest.mark.slow
@pytest.mark.process
def test_kill_9_dispatcher_loses_nothing_doubles_nothing_same_calls(
        broker: DevBroker, tmp_path: Path, make_token) -> None:  # type: ignore[no-untyped-def]
    steps = schedule(STEPS, SEED, make_token)
    calm = run(tmp_path / "calm", broker, steps, 0, SEED)
    # A second office of the same id needs a broker of its own: on the first one, the
    # dispatcher would rightly refuse a database that lacks the tickets the broker saw.
    second = DevBroker(tmp_path / "broker2").start()
    try:
        killed = run(tmp_path / "killed", second, steps, KILLS, SEED)
    finally:
        second.stop()
    assert not [r for r in calm.replies if "no_reply" in r]
    # Every command answered, and answered as if nothing had happened.
    assert killed.replies == calm.replies
    issued = [r["ticket"]["number"] for r, s in zip(calm.replies, steps, strict=True)
              if s.ctype in ("walk_in", "check_in") and r["ok"]]
    assert len(issued) == len(set(issued)) == len(killed.tickets)  # none lost, none doubled
    assert killed.tickets == calm.tickets
    assert killed.calls == calm.calls and len(calm.calls) > STEPS // 5
    assert killed.events == calm.events  # not one event written twice
