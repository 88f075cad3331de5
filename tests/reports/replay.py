"""Play a simulated day's commands into a real dispatcher: in process, or over MQTT."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dispatcher.service import Dispatcher
from dispatcher.store import Store
from motcua import topics
from motcua.clock import ManualClock
from motcua.config import OfficeConfig
from simulate import DayResult, Step


def seed_bookings(db_path: Path, office: OfficeConfig, day: DayResult,
                  bookings: list[Any]) -> None:
    """What the portal told the office: the day's bookings in the dispatcher's table."""
    store = Store(db_path)
    with store.transaction():
        for b in bookings:
            store.db.execute('INSERT INTO bookings (id, day, service, start, "end", name) '
                             "VALUES (?,?,?,?,?,?)", (b.id, day.day.isoformat(), b.service,
                                                      b.start.isoformat(), b.end.isoformat(),
                                                      b.name))
    store.close()


def payload(step: Step, n: int) -> bytes:
    # Ids are kept for every day: one day's retries must not meet another day's commands.
    cmd_id = f"sim-{step.at:%Y%m%d}-{n:06d}"
    return json.dumps({"v": 1, "id": cmd_id, "type": step.type, **step.fields}).encode()


def replay_in_process(office: OfficeConfig, steps: list[Step], tick: bool = False) -> tuple[
        list[tuple[str, str, str]], Dispatcher]:
    """Every step through Dispatcher.handle; returns the calls (ticket, counter, at) it made.
    With `tick`, the dispatcher's clock tick runs before each step, as its worker would."""
    clock = ManualClock(steps[0].at)
    d = Dispatcher(office, Store(office.storage), clock)
    calls = []
    for n, step in enumerate(steps):
        clock.now = step.at
        ticked = d.tick() if tick else []
        for out in ticked + d.handle(topics.cmd(office.id, step.role, step.device),
                                     payload(step, n)):
            if out.topic.endswith("/event/call"):
                m = json.loads(out.payload)
                if m["kind"] == "call":
                    calls.append((m["ticket"], m["counter"], m["at"]))
    return calls, d


def sim_calls(day: DayResult, stamp: Callable[[Any], str]) -> list[tuple[str, str, str]]:
    return [(n, c, stamp(at)) for n, c, at in day.calls]
