"""The announcement queue with the real voice and a file for a speaker: order, no cut-offs."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from display.announcer import Announcement, Announcer, FileSpeaker, Saying
from display.speech import call_phrase, call_phrase_en
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
    # each said once while the next one waits; the last, with nothing after it, twice
    assert [p["kind"] for p in played] == ["chime", "voice"] * len(BURST) + ["voice"]
    voices = [p["source"] for p in played if p["kind"] == "voice"]
    assert voices == [voice.path_for(c.phrase).name for c in BURST] + [voices[-1]]
    assert voices[0] == voices[3]  # the recall is announced again, the same way
    assert announcer.cut_short == len(BURST) - 1
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


def start_of(p: dict) -> float:
    return float(p["start"])


@pytest.mark.process
@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_a_call_is_said_repeat_times_with_a_short_gap(tmp_path: Path, repeat: int) -> None:
    voice = Voice.find(tmp_path / "cache")
    assert voice is not None
    heard: list[float] = []
    announcer = Announcer(FileSpeaker(tmp_path / "out", pace=0.1), voice, CHIME,
                          saying=Saying(repeat=repeat, gap_s=0.3),
                          on_audio=lambda _c, s: heard.append(s)).start()
    announcer.announce(Announcement("A001", "1", "Quầy 1"))
    wait_played(announcer, 1)
    announcer.stop()
    played = plays(tmp_path / "out")
    assert [p["kind"] for p in played] == ["chime"] + ["voice"] * repeat
    assert len({p["source"] for p in played[1:]}) == 1  # the same phrase each time
    for before, after in zip(played[1:], played[2:], strict=False):
        assert start_of(after) - before["end"] >= 0.3 - 0.01  # the gap, at least
    assert len(heard) == 1 and heard[0] > 0  # the call's first sound, once (bench: how soon)
    assert announcer.cut_short == 0


@pytest.mark.process
def test_a_new_call_waits_for_one_saying_at_most_and_is_not_lost(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path / "cache")
    assert voice is not None
    out = tmp_path / "out"
    announcer = Announcer(FileSpeaker(out, pace=0.2), voice, CHIME,
                          saying=Saying(repeat=3, gap_s=1.5)).start()
    first, second = BURST[0], BURST[1]
    announcer.announce(first)
    wait_until(lambda: any(p["kind"] == "voice" for p in plays(out)), timeout=20,
               what="the first saying to end")
    announcer.announce(second)  # in the gap before the first call's second saying
    wait_played(announcer, 2)
    announcer.stop()
    played = plays(out)
    kinds = [p["kind"] for p in played]
    assert kinds[:3] == ["chime", "voice", "chime"], kinds  # said once, then the new call
    assert played[1]["source"] == voice.path_for(first.phrase).name
    assert [p["source"] for p in played[3:]] == [voice.path_for(second.phrase).name] * 3
    assert start_of(played[2]) - played[1]["end"] < 1.0  # the 1.5 s gap not waited out
    assert announcer.cut_short == 1


@pytest.mark.process
def test_a_call_arriving_mid_saying_waits_for_that_saying_only(tmp_path: Path) -> None:
    voice = Voice.find(tmp_path / "cache")
    assert voice is not None
    out = tmp_path / "out"
    announcer = Announcer(FileSpeaker(out, pace=0.25), voice, CHIME,
                          saying=Saying(repeat=2, gap_s=1.5)).start()
    announcer.announce(BURST[0])
    wait_until(lambda: [p["kind"] for p in plays(out)] == ["chime"], timeout=20,
               what="the chime to end")
    announcer.announce(BURST[1])  # while the first call's voice is being said
    wait_played(announcer, 2)
    announcer.stop()
    played = plays(out)
    assert [p["kind"] for p in played] == ["chime", "voice", "chime", "voice", "voice"]
    assert start_of(played[2]) - played[1]["end"] < 1.0  # the 1.5 s gap not waited out


@pytest.mark.process
def test_english_after_each_vietnamese_saying(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    voice, english = Voice.find(cache, "vi-vn-x-south"), Voice.find(cache, "en")
    assert voice is not None and english is not None
    out = tmp_path / "out"
    saying = Saying(reading="whole", region="south", repeat=2, gap_s=0.2)
    announcer = Announcer(FileSpeaker(out, pace=0.05), voice, CHIME, saying=saying,
                          second=english).start()
    call = Announcement("A105", "3", "Quầy 3")
    announcer.announce(call)
    wait_played(announcer, 1)
    announcer.stop()
    played = plays(out)
    assert [p["kind"] for p in played] == ["chime", "voice", "voice-en"] * 1 + \
        ["voice", "voice-en"]
    vi = voice.path_for(call_phrase("A105", "3", "Quầy 3", "whole", "south")).name
    en = english.path_for(call_phrase_en("A105", "3", "whole")).name
    assert [p["source"] for p in played[1:]] == [vi, en, vi, en]
    assert "lẻ" in call_phrase("A105", "3", "Quầy 3", "whole", "south")
    for p in played:
        assert sox_stats(out / p["file"])["RMS amplitude"] > 0.02, p
