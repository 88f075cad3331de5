"""The announcement queue with the real voice and a file for a speaker: order, no cut-offs."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from display.announcer import Announcement, Announcer, FileSpeaker
from display.voice import CHIME, Voice
from tests.display.support import sox_stats
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(not (shutil.which("espeak-ng") and shutil.which("sox")),
                                reason="needs espeak-ng and sox (make test installs them)")


def plays(folder: Path) -> list[dict]:
    path = folder / "plays.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def wait_played(announcer: Announcer, n: int, timeout: float = 30) -> None:
    wait_until(lambda: announcer.played >= n, timeout=timeout,
               what=f"{n} announcements played")


BURST = [Announcement("A001", "1", "Quầy 1"), Announcement("A002", "2", "Quầy 2"),
         Announcement("B001", "3", "Quầy 3"), Announcement("A001", "1", "Quầy 1", "recall"),
         Announcement("H001", "2", "Quầy 2"), Announcement("A003", "1", "Quầy 1")]


@pytest.mark.process
def test_a_burst_plays_every_call_in_order_without_overlap(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path / "cache")
    assert voice is not None
    out = tmp_path / "speaker"
    announcer = Announcer(FileSpeaker(out, pace=0.05), voice, CHIME).start()
    for call in BURST:  # all at once, as a burst of MQTT messages would come
        announcer.announce(call)
    wait_played(announcer, len(BURST))
    announcer.stop()
    played = plays(out)
    assert [p["kind"] for p in played] == ["chime", "voice"] * len(BURST)
    voices = [p["source"] for p in played if p["kind"] == "voice"]
    assert voices == [voice.path_for(c.phrase).name for c in BURST]
    assert voices[0] == voices[3]  # the recall is announced again, the same way
    for before, after in zip(played, played[1:], strict=False):
        assert after["start"] >= before["end"] - 0.005, "a sound cut into the one before"
    for p in played:
        assert sox_stats(out / p["file"])["RMS amplitude"] > 0.02, p


@pytest.mark.process
def test_volume_from_config_scales_the_sound(tmp_path: Path) -> None:
    announcer = Announcer(FileSpeaker(tmp_path, pace=0), None, CHIME, volume=0.5).start()
    announcer.announce(BURST[0])
    wait_played(announcer, 1)
    announcer.stop()
    quiet = sox_stats(tmp_path / "0001-chime.wav")["RMS amplitude"]
    assert quiet == pytest.approx(sox_stats(CHIME)["RMS amplitude"] / 2, rel=0.05)


def test_voice_off_is_chime_then_text_said_once(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="display.announcer")
    announcer = Announcer(FileSpeaker(tmp_path, pace=0), None, CHIME).start()
    for call in BURST[:3]:
        announcer.announce(call)
    wait_played(announcer, 3)
    announcer.stop()
    assert [p["kind"] for p in plays(tmp_path)] == ["chime"] * 3
    said = [r.getMessage() for r in caplog.records]
    assert sum("voice off or espeak-ng missing" in m for m in said) == 1
    assert any("Mời khách hàng số A002 đến Quầy 2" in m for m in said)  # the text, logged


def test_no_sound_at_all_still_goes_through_the_queue(tmp_path: Path) -> None:
    announcer = Announcer(None, None, None).start()
    for call in BURST:
        announcer.announce(call)
    wait_played(announcer, len(BURST))
    announcer.stop()


@pytest.mark.process
def test_a_failing_voice_is_logged_once_and_the_chime_goes_on(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    caplog.set_level(logging.INFO, logger="display.announcer")
    broken = Voice("/bin/false", tmp_path / "cache")
    announcer = Announcer(FileSpeaker(tmp_path / "out", pace=0), broken, CHIME).start()
    for call in BURST[:3]:
        announcer.announce(call)
    wait_played(announcer, 3)
    announcer.stop()
    assert [p["kind"] for p in plays(tmp_path / "out")] == ["chime"] * 3
    assert sum("the voice failed" in r.getMessage() for r in caplog.records) == 1


def test_an_endless_flood_drops_the_oldest_not_the_newest(tmp_path: Path) -> None:
    announcer = Announcer(None, None, None, max_pending=3)  # not started: nothing drains
    for i in range(6):
        announcer.announce(Announcement(f"A{i:03d}", "1", "Quầy 1"))
    assert announcer.pending() == 3 and announcer.dropped == 3
    announcer.start()
    wait_played(announcer, 3)
    announcer.stop()
