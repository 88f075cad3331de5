"""Clocks passed into the core: the real one, and one that starts elsewhere for demos and tests."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class SystemClock:
    def __init__(self, tz: tzinfo):
        self.tz = tz

    def __call__(self) -> datetime:
        return datetime.now(self.tz)


class ShiftedClock:
    """Time that starts at `start` and runs `speed` times faster than the wall clock."""

    def __init__(self, start: datetime, speed: float = 1.0):
        if start.tzinfo is None:
            raise ValueError("the start time needs an offset, e.g. 2026-11-24T09:00+07:00")
        self.start, self.speed = start, speed
        self.t0 = time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.speed)


class ManualClock:
    """A clock a test moves by hand."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now
