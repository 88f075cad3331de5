"""The guarded wall clock of a long-running dispatcher."""

from __future__ import annotations

from datetime import timedelta

from motcua.clock import GuardedClock, ManualClock
from tests.conftest import at


def test_a_mistaken_jump_is_not_believed_and_a_lasting_one_is() -> None:
    wall, mono = ManualClock(at("09:00")), [0.0]
    jumps: list = []
    clock = GuardedClock(wall, monotonic=lambda: mono[0], on_jump=lambda e, w: jumps.append(w))
    assert clock() == at("09:00")
    mono[0], wall.now = 60, at("09:01")                 # normal time
    assert clock() == at("09:01")
    mono[0], wall.now = 120, at("09:02") + timedelta(days=1)   # set a day ahead by hand
    assert clock() == at("09:02") and len(jumps) == 1
    mono[0], wall.now = 180, at("09:03")                # corrected: nothing happened
    assert clock() == at("09:03")
    mono[0], wall.now = 240, at("10:04")                # an NTP fix of an hour...
    assert clock() == at("09:04")
    mono[0], wall.now = 240 + 600, at("10:14")          # ...that holds 10 minutes: believed
    assert clock() == at("10:14")
