"""The real speaker: Kivy's SoundLoader (SDL2 mixer), driven from the announcer's thread."""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.audio import SoundLoader

log = logging.getLogger(__name__)

KEEP_LOADED = 8  # decoded sounds kept in memory: the chime and the last few phrases


class KivySpeaker:
    """Plays one WAV at a time through Kivy and returns when it has finished.

    Kivy's sound objects live on the UI thread, so loading and starting happen there; the
    announcer's thread only waits. Without a working audio output SoundLoader gives a sound
    of length 0 and no error: that is logged once and the board goes on silently.
    """

    def __init__(self) -> None:
        self._sounds: OrderedDict[Path, Any] = OrderedDict()
        self._finished = threading.Event()
        self._warned = False

    def _load(self, wav: Path) -> Any:
        sound = self._sounds.pop(wav, None)
        if sound is None:
            sound = SoundLoader.load(str(wav))
            if sound is not None:
                sound.bind(on_stop=lambda *_: self._finished.set())
        if sound is not None:
            self._sounds[wav] = sound
        while len(self._sounds) > KEEP_LOADED:
            _, old = self._sounds.popitem(last=False)
            old.unload()  # SDL keeps every decoded chunk otherwise: memory grows all day
        return sound

    def prepare(self, wav: Path) -> None:
        """Load a sound ahead (the chime), on the UI thread: the first call starts as fast
        as the others."""
        Clock.schedule_once(lambda _dt: self._load(wav))

    def play(self, wav: Path, volume: float, kind: str) -> float | None:
        started = threading.Event()
        length: list[float] = []
        began: list[float] = []

        def start(_dt: float) -> None:
            try:
                sound = self._load(wav)
                if sound is None or not sound.length:
                    if not self._warned:
                        log.error("cannot play sound (no audio output?); text only "
                                  "(không phát được âm thanh): %s", wav)
                        self._warned = True
                    return
                self._finished.clear()
                sound.volume = volume
                sound.play()
                began.append(time.perf_counter())
                length.append(float(sound.length))
            finally:
                started.set()

        Clock.schedule_once(start)
        if not started.wait(10) or not length:
            return None
        # on_stop comes from Kivy's poll of the SDL channel; the margin covers its interval
        self._finished.wait(length[0] + 2.0)
        return began[0]
