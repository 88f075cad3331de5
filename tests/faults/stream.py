"""A deterministic stream of kiosk and counter commands, sent over MQTT with retries by id,
and what it leaves behind, normalised so that two runs can be compared."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from motcua.mqtt import NoReply
from tests.conftest import at

KIOSKS = ("k1", "k2")
COUNTERS = ("1", "2", "3")
# Fields that depend on when things happened, not on what happened.
TIMING = {"issued_at", "called_at", "closed_at", "since", "at", "est_wait_min", "opens_at"}


@dataclass(frozen=True)
class Step:
    role: str
    device: str
    ctype: str
    cmd_id: str
    fields: dict[str, Any] = field(default_factory=dict)


def schedule(n: int, seed: int, make_token: Callable[..., str]) -> list[Step]:
    """What kiosks and counters send, in order: the same every run for a seed. Ids are
    fixed per device, so a retry after a crash is the same command."""
    rng = random.Random(seed)
    steps: list[Step] = []
    count: dict[str, int] = {}

    def step(role: str, device: str, ctype: str, **fields: Any) -> None:
        i = count[device] = count.get(device, 0) + 1
        steps.append(Step(role, device, ctype, f"{role}-{device}-{i:05d}", fields))

    bookings = 0
    while len(steps) < n:
        r = rng.random()
        if r < 0.40:
            step("kiosk", rng.choice(KIOSKS), "walk_in", service=rng.choice("AAABBC"),
                 priority=rng.random() < 0.1)
        elif r < 0.48:
            bookings += 1
            # 08:00 slots are on time, 08:30 ones early: both stay so for the whole run.
            start = at("08:00") + timedelta(minutes=30 * rng.randrange(2))
            step("kiosk", rng.choice(KIOSKS), "check_in",
                 token=make_token(f"BK-KILL-{bookings:04d}", start, service=rng.choice("AB")))
        elif r < 0.85:
            step("counter", rng.choice(COUNTERS), "next")
        elif r < 0.89:
            step("counter", rng.choice(COUNTERS), "recall")
        elif r < 0.92:
            step("counter", rng.choice(COUNTERS), "no_show")
        elif r < 0.95:
            step("counter", rng.choice(COUNTERS), "done")
        elif r < 0.97:
            step("counter", "1", "transfer", service="C")
        else:
            c = rng.choice(COUNTERS)
            step("counter", c, "pause")
            step("counter", c, "resume")
    return steps


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in value.items() if k not in TIMING}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


class Sender:
    """Sends the steps in order, one device at a time, each waiting for its reply."""

    def __init__(self, devices: dict[str, Any], steps: list[Step]):
        self.devices, self.steps = devices, steps
        self.replies: list[Any] = []
        self.progress = 0  # the step being sent now
        self.moved = threading.Condition()

    def run(self) -> None:
        for i, s in enumerate(self.steps):
            with self.moved:
                self.progress = i
                self.moved.notify_all()
            try:
                reply = self.devices[s.device].send(s.ctype, timeout=90, cmd_id=s.cmd_id,
                                                    **s.fields)
            except NoReply as exc:
                reply = {"no_reply": str(exc)}
            self.replies.append(normalise(reply))
        with self.moved:
            self.progress = len(self.steps)
            self.moved.notify_all()

    def wait_for(self, step: int, timeout: float = 100.0) -> None:
        with self.moved:
            if not self.moved.wait_for(lambda: self.progress >= step, timeout):
                raise AssertionError(f"the stream is stuck at step {self.progress}")


def kill_points(rng: random.Random, steps: int, kills: int) -> list[int]:
    """Where in the stream to strike: spread over it, none in the first or last few."""
    return sorted(rng.sample(range(5, steps - 5), kills))


@dataclass
class Outcome:
    replies: list[Any]
    tickets: list[tuple]
    events: list[tuple]
    calls: list[tuple]


def outcome(db_path: Path, replies: list[Any]) -> Outcome:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        tickets = db.execute("SELECT number, service, kind, status, counter, booking_id, "
                             "arrival, priority FROM tickets ORDER BY seq").fetchall()
        events = db.execute("SELECT change, ticket, counter FROM events ORDER BY n").fetchall()
    finally:
        db.close()
    return Outcome(replies, tickets, events, [e[1:] for e in events if e[0] == "called"])
