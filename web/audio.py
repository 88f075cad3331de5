"""The board's sound, made on the server: the chime, and each call said by espeak-ng with
the Kivy board's own text and voice (display/speech.py, display/voice.py) and the office's
[display] settings (region, number reading, voice, second language, repeat), cached by text.

A page is given `/audio/<key>.wav` for a call; the key names a phrase this server made
from a call it heard, so nobody can make it say anything else.

The server is the dispatcher's machine too, so sounds are made one at a time, on one
thread, at the lowest CPU priority (display.voice.idle_prefix): a call's own phrase first,
those of the calls about to come (`ahead`) only once the ordering has been still for a
moment — never in the milliseconds in which a call is being handled and drawn."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections import OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from display.speech import call_phrase, call_phrase_en
from display.voice import REGION_VOICES, Voice, VoiceError, chime_file, find_voice, idle_prefix
from motcua.config import DisplayConfig
from motcua.protocol import CallEvent

log = logging.getLogger(__name__)

KEEP = 400  # phrases this server remembers (the voice's own cache keeps the files)
AHEAD = 8  # calls made in advance at most per change of the ordering
AHEAD_AFTER_S = 0.5  # ... once the ordering has not changed for this long


class Sounds:
    def __init__(self, voice: Voice | None, chime: bool = True, second: Voice | None = None,
                 display: DisplayConfig | None = None):
        self.voice, self.second = voice, second
        self.display = display or DisplayConfig()
        self.chime: Path | None = chime_file(voice.cache if voice else None) if chime else None
        self.phrases: OrderedDict[str, tuple[Voice, str]] = OrderedDict()
        self._making: dict[str, asyncio.Future[Path | None]] = {}  # queued or being made
        self._urgent: deque[str] = deque()  # keys of calls made now (a page will ask)
        self._later: deque[str] = deque()  # keys of calls about to come
        self._worker: asyncio.Task[None] | None = None
        self._ahead: asyncio.TimerHandle | None = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="voice")

    @classmethod
    def for_office(cls, display: DisplayConfig, cache: Path | None) -> Sounds:
        voice = second = None
        if display.voice == "espeak-ng":
            voice = find_voice(cache, display.voice_name, REGION_VOICES[display.region])
            if voice is not None and display.second_language:
                second = find_voice(cache, display.second_language, "")
        for v in (voice, second):
            if v is not None:
                v.prefix = idle_prefix()
        return cls(voice, display.chime, second, display)

    @property
    def repeat(self) -> int:
        return self.display.repeat

    def keys_for(self, call: CallEvent) -> list[str]:
        """The audio keys of one saying of a call (Vietnamese, then the second language),
        their WAVs queued first; [] without a voice."""
        return self.prepare(call.ticket, call.counter, call.counter_name)

    def ahead(self, calls: list[tuple[str, str, str]]) -> None:
        """Make the WAVs of the calls about to come (each counter's next ticket, from
        state/order) once the hall is quiet, so a call's voice is ready when it comes. A new
        ordering within AHEAD_AFTER_S replaces the plan of the one before."""
        if self.voice is None:
            return
        if self._ahead is not None:
            self._ahead.cancel()
        self._ahead = asyncio.get_running_loop().call_later(
            AHEAD_AFTER_S, self._prepare_all, calls[:AHEAD])

    def _prepare_all(self, calls: list[tuple[str, str, str]]) -> None:
        self._ahead = None
        for ticket, counter, name in calls:
            self.prepare(ticket, counter, name, urgent=False)

    def prepare(self, ticket: str, counter: str, counter_name: str,
                urgent: bool = True) -> list[str]:
        d = self.display
        said = []
        if self.voice is not None:
            said.append((self.voice, call_phrase(ticket, counter, counter_name,
                                                 d.number_reading, d.region)))
            if self.second is not None:
                said.append((self.second, call_phrase_en(ticket, counter, d.number_reading)))
        keys = []
        for voice, phrase in said:
            key = hashlib.sha256(f"{voice.variant}|{phrase}".encode()).hexdigest()[:24]
            known = key in self.phrases
            self.phrases[key] = (voice, phrase)
            self.phrases.move_to_end(key)
            if (urgent or not known) and not voice.path_for(phrase).exists():
                self._queue(key, urgent)
            keys.append(key)
        while len(self.phrases) > KEEP:
            self.phrases.popitem(last=False)
        return keys

    def _queue(self, key: str, urgent: bool) -> asyncio.Future[Path | None]:
        """The future of a key's WAV: queued (a call's own ahead of the calls to come)."""
        loop = asyncio.get_running_loop()
        made = self._making.get(key)
        if made is None:
            made = self._making[key] = loop.create_future()
            (self._urgent if urgent else self._later).append(key)
        elif urgent and key in self._later:
            self._later.remove(key)
            self._urgent.append(key)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._work())
        return made

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while self._urgent or self._later:
            key = (self._urgent or self._later).popleft()
            said = self.phrases.get(key)
            path = None
            try:
                if said is not None:
                    path = await loop.run_in_executor(self._pool, self._make, *said)
            except Exception:  # never stuck: the page is told there is no sound
                log.exception("the voice failed on a phrase (giọng đọc lỗi)")
            made = self._making.pop(key, None)
            if made is not None and not made.done():
                made.set_result(path)

    async def wav(self, key: str) -> Path | None:
        """The WAV of a known key: made already, or as soon as the calls before it."""
        said = self.phrases.get(key)
        if said is None:
            return None
        voice, phrase = said
        path = voice.path_for(phrase)
        if key not in self._making and path.exists():
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: the cache's pruning keeps it
            return path
        return await asyncio.shield(self._queue(key, urgent=True))

    def _make(self, voice: Voice, phrase: str) -> Path | None:
        try:
            return voice.wav(phrase)
        except VoiceError as exc:
            log.error("the voice failed (giọng đọc lỗi): %s", exc)
            return None
