"""The announcement queue: chime then voice, one call after another, never cut off."""

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from display.speech import call_phrase, call_text
from display.voice import Voice, VoiceError, duration

log = logging.getLogger(__name__)

MAX_PENDING = 50  # past this the hall cannot follow anyway; the oldest calls are dropped


class Speaker(Protocol):
    """Where sound goes. `play` returns once the sound has finished."""

    def play(self, wav: Path, volume: float, kind: str) -> None: ...


@dataclass(frozen=True)
class Announcement:
    ticket: str
    counter: str
    counter_name: str
    kind: str = "call"  # call | recall: a recall is announced again, the same way
    received: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return call_text(self.ticket, self.counter_name)

    @property
    def phrase(self) -> str:
        return call_phrase(self.ticket, self.counter, self.counter_name)


class FileSpeaker:
    """A speaker for tests and machines without sound: each sound played becomes a numbered
    WAV in a folder (at the configured volume), with a JSON line per play in `plays.jsonl`.
    It takes as long as the sound lasts, times `pace`, like a speaker would."""

    def __init__(self, folder: Path, pace: float = 1.0):
        self.folder, self.pace = folder, pace
        folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(folder.glob("*.wav")))
        self.sox = shutil.which("sox")

    def play(self, wav: Path, volume: float, kind: str) -> None:
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


class Announcer:
    """A worker thread that plays the queued calls one at a time: chime, then the voice.

    `announce` never blocks, so the MQTT thread can hand calls over directly. With the voice
    off or espeak-ng missing the calls are text only (the log, and the board itself); that
    is said once in the log, not once per call.
    """

    def __init__(self, speaker: Speaker | None, voice: Voice | None, chime: Path | None,
                 volume: float = 1.0, max_pending: int = MAX_PENDING,
                 on_played: Callable[[Announcement], None] | None = None):
        self.speaker, self.voice, self.chime = speaker, voice, chime
        self.volume, self.max_pending, self.on_played = volume, max_pending, on_played
        self._queue: queue.Queue[Announcement | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="announcer", daemon=True)
        self._voice_failed = False
        self.dropped = 0
        self.played = 0
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
        self._thread.join(timeout)

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

    def _run(self) -> None:
        while (call := self._queue.get()) is not None:
            try:
                self._play(call)
            except Exception:  # one bad sound must not silence the rest of the day
                log.exception("announcing %s failed", call.text)
            self.played += 1
            if self.on_played:
                self.on_played(call)

    def _play(self, call: Announcement) -> None:
        if self.speaker is None:
            return
        wav = None
        if self.voice is not None:
            try:
                wav = self.voice.wav(call.phrase)
            except VoiceError as exc:
                if not self._voice_failed:  # said once; the board goes on with text
                    log.error("the voice failed, text only from now on when it fails: %s %s",
                              exc.message_en, exc.detail)
                    self._voice_failed = True
        if self.chime is not None:
            self.speaker.play(self.chime, self.volume, "chime")
        if wav is not None:
            self.speaker.play(wav, self.volume, "voice")
