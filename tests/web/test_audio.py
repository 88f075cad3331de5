"""The web service's sounds (web/audio.py) with real espeak-ng and sox: they are made one at a
time at idle CPU priority, a call's own phrase before the calls to come, and those only once
the ordering is still (never in the moment a call is handled and drawn)."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from display.speech import call_phrase
from display.voice import Voice, idle_prefix
from motcua.config import DisplayConfig
from motcua.protocol import CallEvent
from web.audio import AHEAD_AFTER_S, Sounds

pytestmark = [pytest.mark.process, pytest.mark.skipif(
    not (shutil.which("espeak-ng") and shutil.which("sox")),
    reason="needs espeak-ng and sox (make test installs them)")]
DISPLAY = DisplayConfig(region="north", repeat=1)


def sounds(cache: Path, binary: str | None = None) -> Sounds:
    voice = Voice(binary or shutil.which("espeak-ng") or "espeak-ng", cache, "vi")
    voice.prefix = idle_prefix()
    return Sounds(voice, chime=False, display=DISPLAY)


def wav_of(s: Sounds, ticket: str, counter: str) -> Path:
    assert s.voice is not None
    return s.voice.path_for(call_phrase(ticket, counter, f"Quầy {counter}", "digits", "north"))


def espeak_after(tmp_path: Path, shell: str) -> str:
    """The real espeak-ng, run after a line of shell (a probe, a delay) in its process."""
    probe = tmp_path / "espeak-probe"
    probe.write_text(f'#!/bin/sh\n{shell}\nexec {shutil.which("espeak-ng")} "$@"\n',
                     encoding="utf-8")
    probe.chmod(0o755)
    return str(probe)


def call(ticket: str, counter: str) -> CallEvent:
    return CallEvent(ticket=ticket, counter=counter, counter_name=f"Quầy {counter}",
                     kind="call", at="2026-11-25T08:00:00+07:00")


def test_the_office_voices_are_background_work(tmp_path: Path) -> None:
    s = Sounds.for_office(DisplayConfig(second_language="en"), tmp_path)
    assert s.voice is not None and s.second is not None
    assert s.voice.prefix == s.second.prefix == idle_prefix() == ["chrt", "--idle", "0"]


def test_sounds_are_made_at_idle_priority(tmp_path: Path) -> None:
    """What chrt says of the process espeak-ng runs as (a probe that then execs it)."""
    seen = tmp_path / "policy.txt"
    s = sounds(tmp_path / "cache", espeak_after(tmp_path, f'chrt -p $$ >> "{seen}"'))

    async def run() -> Path | None:
        key = s.keys_for(call("A001", "1"))[0]
        return await s.wav(key)

    made = asyncio.run(run())
    assert made is not None and made.stat().st_size > 10_000
    assert "SCHED_IDLE" in seen.read_text(), seen.read_text()
    # And a busy machine does not starve it for good: made while both cores are taken.
    assert s.voice is not None
    busy = [subprocess.Popen(["sh", "-c", "while :; do :; done"]) for _ in range(2)]
    try:
        assert asyncio.run(asyncio.wait_for(asyncio.to_thread(
            s._make, s.voice, "Mời khách hàng số b, không không hai"), 30)) is not None
    finally:
        for p in busy:
            p.kill()
            p.wait()




def test_a_calls_own_phrase_goes_before_the_calls_to_come(tmp_path: Path) -> None:
    s = sounds(tmp_path / "cache", espeak_after(tmp_path, "sleep 0.3"))  # a slow machine
    coming = [(f"A{n:03d}", "1", "Quầy 1") for n in range(10, 16)]

    async def run() -> Path | None:
        s.ahead(coming)
        await asyncio.sleep(AHEAD_AFTER_S + 0.05)  # the plan taken: six phrases queued
        key = s.keys_for(call("B001", "2"))[0]  # a call now
        return await s.wav(key)

    mine = asyncio.run(run())
    assert mine is not None and mine == wav_of(s, "B001", "2")
    # Made second at the latest (one may have been under way); the rest after it.
    after = [wav_of(s, t, c) for t, c, _ in coming]
    assert sum(not p.exists() or p.stat().st_mtime_ns > mine.stat().st_mtime_ns
               for p in after) >= len(after) - 1


def test_the_calls_to_come_wait_for_a_still_ordering(tmp_path: Path) -> None:
    s = sounds(tmp_path / "cache")
    plans = [[(f"A{n:03d}", "1", "Quầy 1")] for n in range(1, 6)]

    async def run() -> None:
        for plan in plans:  # five orderings, 50 ms apart: a burst of commands
            s.ahead(plan)
            await asyncio.sleep(0.05)
        assert not any(wav_of(s, t, c).exists() for plan in plans for t, c, _ in plan)
        await asyncio.sleep(AHEAD_AFTER_S + 1.5)

    asyncio.run(run())
    made = [wav_of(s, t, c).exists() for plan in plans for t, c, _ in plan]
    assert made == [False] * 4 + [True], made  # only the last ordering's next call
