"""Clocks passed into the core: the real one, and one that starts elsewhere for demos and tests."""

from __future__ import annotations

import time
from collections.abc import Callable
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


class GuardedClock:
    """The wall clock checked against the monotonic clock, for a long-running dispatcher.

    A wall clock that suddenly disagrees with elapsed time by more than `tolerance_s`
    (someone sets the date by hand, a flat CMOS battery) is not believed: time goes on from
    the monotonic clock. Only a disagreement that holds for `settle_s` (an NTP correction
    after boot) is adopted. Without this, a clock set a day ahead by mistake would close
    today's queue.
    """

    def __init__(self, inner: Clock, tolerance_s: float = 600, settle_s: float = 600,
                 monotonic: Callable[[], float] = time.monotonic,
                 on_jump: Callable[[datetime, datetime], None] | None = None):
        self.inner, self.tolerance_s, self.settle_s = inner, tolerance_s, settle_s
        self.monotonic, self.on_jump = monotonic, on_jump
        self._anchor: tuple[datetime, float] | None = None
        self._jump_since: float | None = None

    def __call__(self) -> datetime:
        wall, mono = self.inner(), self.monotonic()
        if self._anchor is None:
            self._anchor = (wall, mono)
            return wall
        expected = self._anchor[0] + timedelta(seconds=mono - self._anchor[1])
        if abs((wall - expected).total_seconds()) <= self.tolerance_s:
            self._anchor, self._jump_since = (wall, mono), None
            return wall
        if self._jump_since is None:
            self._jump_since = mono
            if self.on_jump:
                self.on_jump(expected, wall)
        if mono - self._jump_since >= self.settle_s:
            self._anchor, self._jump_since = (wall, mono), None  # it held: believe it
            return wall
        return expected
