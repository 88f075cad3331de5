"""The announcement queue: chime, then the voice (said again after a short gap, and in a
second language if the office wants it), one call after another, never cut off."""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from display.speech import call_phrase, call_phrase_en, call_text
from display.voice import Voice, VoiceError, duration

log = logging.getLogger(__name__)

MAX_PENDING = 50  # past this the hall cannot follow anyway; the oldest calls are dropped
REPEAT_GAP_S = 0.8  # between two sayings of a call: a breath, not a pause to wonder at


class Speaker(Protocol):
    """Where sound goes. `play` returns once the sound has finished, with the moment
    (time.perf_counter) it started, or None when nothing could be played."""

    def play(self, wav: Path, volume: float, kind: str) -> float | None: ...


@dataclass(frozen=True)
class Saying:
    """How this office says a call ([display] in office.toml)."""

    reading: str = "digits"  # digits | whole
    region: str = "north"  # the number words: linh/lẻ, nghìn/ngàn
    repeat: int = 2  # sayings of each call, when no other call is waiting
    gap_s: float = REPEAT_GAP_S


@dataclass(frozen=True)
class Announcement:
    ticket: str
    counter: str
    counter_name: str
    kind: str = "call"  # call | recall: a recall is announced again, the same way
    received: float = field(default_factory=time.perf_counter)

    @property
    def text(self) -> str:
        return call_text(self.ticket, self.counter_name)

    @property
    def phrase(self) -> str:
        return call_phrase(self.ticket, self.counter, self.counter_name)

    def phrases(self, saying: Saying) -> tuple[str, str]:
        """(Vietnamese, English) as the voices say them."""
        return (call_phrase(self.ticket, self.counter, self.counter_name, saying.reading,
                            saying.region),
                call_phrase_en(self.ticket, self.counter, saying.reading))


class FileSpeaker:
    """A speaker for tests and machines without sound: each sound played becomes a numbered
    WAV in a folder (at the configured volume), with a JSON line per play in `plays.jsonl`.
    It takes as long as the sound lasts, times `pace`, like a speaker would."""

    def __init__(self, folder: Path, pace: float = 1.0):
        self.folder, self.pace = folder, pace
        folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(folder.glob("*.wav")))
        self.sox = shutil.which("sox")

    def play(self, wav: Path, volume: float, kind: str) -> float | None:
        began = time.perf_counter()
        start = time.time()
        self.count += 1
        out = self.folder / f"{self.count:04d}-{kind}.wav"
        if volume < 0.999 and self.sox:
            subprocess.run([self.sox, "-v", f"{volume:.3f}", str(wav), str(out)], check=False,
                           capture_output=True)
        else:
            shutil.copyfile(wav, out)
        seconds = duration(wav)
        time.sleep(max(0.0, seconds * self.pace - (time.time() - start)))
        with open(self.folder / "plays.jsonl", "a", encoding="utf-8") as f:
            f.write(json.dumps({"n": self.count, "kind": kind, "file": out.name,
                                "source": wav.name, "seconds": round(seconds, 3),
                                "start": start, "end": time.time()}) + "\n")
        return began


class Announcer:
    """A worker thread that plays the queued calls one at a time: chime, then the voice,
    `saying.repeat` times with a short gap, the second language after each Vietnamese one.

    `announce` never blocks, so the MQTT thread can hand calls over directly. A call that
    comes while another is being said waits at most for the saying under way: the
    repetitions left of the one before are dropped (it was said, and the board shows it).
    The voice is made while the chime rings. With the voice off or espeak-ng missing the
    calls are text only (the log, and the board itself); that is said once in the log.
    """

    def __init__(self, speaker: Speaker | None, voice: Voice | None, chime: Path | None,
                 volume: float = 1.0, max_pending: int = MAX_PENDING,
                 on_played: Callable[[Announcement], None] | None = None,
                 saying: Saying | None = None, second: Voice | None = None,
                 on_audio: Callable[[Announcement, float], None] | None = None):
        self.speaker, self.voice, self.chime = speaker, voice, chime
        self.volume, self.max_pending, self.on_played = volume, max_pending, on_played
        self.saying, self.second, self.on_audio = saying or Saying(), second, on_audio
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._arrived = threading.Event()  # a call came: the gap before a repetition ends
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._making = ThreadPoolExecutor(1, thread_name_prefix="voice")
        self._failed: set[str] = set()
        self.dropped = 0
        self.played = 0
        self.cut_short = 0  # calls whose repetitions gave way to a newer call
        if speaker is None:
            log.info("no sound output: calls are shown as text only "
                     "(không có loa: chỉ hiển thị chữ)")
        elif voice is None:
            log.warning("voice off or espeak-ng missing: calls are text only%s "
                        "(giọng đọc tắt hoặc thiếu espeak-ng: chỉ hiển thị chữ). To speak: "
                        "voice = \"espeak-ng\" in [display] and apt-get install -y espeak-ng",
                        ", after the chime" if chime else "")

    def start(self) -> Announcer:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._queue.put(None)
        self._arrived.set()
        self._thread.join(timeout)
        self._making.shutdown(wait=False, cancel_futures=True)

    def pending(self) -> int:
        return self._queue.qsize()

    def announce(self, call: Announcement) -> None:
        log.info("%s: %s", "nhắc lại / recall" if call.kind == "recall" else "gọi / call",
                 call.text)
        while self._queue.qsize() >= self.max_pending:
            with contextlib.suppress(queue.Empty):
                old = self._queue.get_nowait()
                if old is None:  # stopping: keep the stop marker, drop the new call
                    self._queue.put(None)
                    return
                self.dropped += 1
                log.warning("too many calls waiting to be announced; skipped %s", old.text)
        self._queue.put(call)
        self._arrived.set()

    def _run(self) -> None:
        while (call := self._queue.get()) is not None:
            try:
                self._play(call)
            except Exception:  # one bad sound must not silence the rest of the day
                log.exception("announcing %s failed", call.text)
            self.played += 1
            if self.on_played:
                self.on_played(call)

    def _make(self, voice: Voice | None, phrase: str) -> Future[Path | None] | None:
        return self._making.submit(self._wav, voice, phrase) if voice is not None else None

    def _wav(self, voice: Voice, phrase: str) -> Path | None:
        try:
            return voice.wav(phrase)
        except VoiceError as exc:
            if voice.variant not in self._failed:  # said once; the board goes on with text
                log.error("the voice failed (%s), text only from now on when it fails: %s %s",
                          voice.variant, exc.message_en, exc.detail)
                self._failed.add(voice.variant)
            return None

    def _play(self, call: Announcement) -> None:
        if self.speaker is None:
            return
        speaker = self.speaker
        heard = False

        def sound(wav: Path | None, kind: str) -> None:
            nonlocal heard
            if wav is None:
                return
            began = speaker.play(wav, self.volume, kind)
            if began is not None and not heard and self.on_audio:
                self.on_audio(call, began - call.received)  # the call's first sound only
            heard = heard or began is not None

        vi, en = call.phrases(self.saying)
        made = (self._make(self.voice, vi), self._make(self.second, en))  # while it chimes
        self._arrived.clear()
        sound(self.chime, "chime")
        wavs = [f.result() if f is not None else None for f in made]
        if wavs[0] is None and wavs[1] is None:
            return  # the chime alone: the board shows who is called
        for n in range(max(1, self.saying.repeat)):
            if n and (self._arrived.wait(self.saying.gap_s) or self._queue.qsize()):
                self.cut_short += 1
                log.info("%s said %d time(s): the next call is waiting", call.ticket, n)
                return
            sound(wavs[0], "voice")
            sound(wavs[1], "voice-en")
