"""The board's sound, made on the server: the chime, and each call said by espeak-ng with
the Kivy board's own text and voice (display/speech.py, display/voice.py) and the office's
[display] settings (region, number reading, voice, second language, repeat), cached by text.

A page is given `/audio/<key>.wav` for a call; the key names a phrase this server made
from a call it heard, so nobody can make it say anything else."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from pathlib import Path

from display.speech import call_phrase, call_phrase_en
from display.voice import REGION_VOICES, Voice, VoiceError, chime_file, find_voice
from motcua.config import DisplayConfig
from motcua.protocol import CallEvent

log = logging.getLogger(__name__)

KEEP = 400  # phrases this server remembers (the voice's own cache keeps the files)
AHEAD = 8  # calls made in advance at most per change of the ordering


class Sounds:
    def __init__(self, voice: Voice | None, chime: bool = True, second: Voice | None = None,
                 display: DisplayConfig | None = None):
        self.voice, self.second = voice, second
        self.display = display or DisplayConfig()
        self.chime: Path | None = chime_file(voice.cache if voice else None) if chime else None
        self.phrases: OrderedDict[str, tuple[Voice, str]] = OrderedDict()
        self._making: dict[str, asyncio.Future[Path | None]] = {}

    @classmethod
    def for_office(cls, display: DisplayConfig, cache: Path | None) -> Sounds:
        voice = second = None
        if display.voice == "espeak-ng":
            voice = find_voice(cache, display.voice_name, REGION_VOICES[display.region])
            if voice is not None and display.second_language:
                second = find_voice(cache, display.second_language, "")
        return cls(voice, display.chime, second, display)

    @property
    def repeat(self) -> int:
        return self.display.repeat

    def keys_for(self, call: CallEvent) -> list[str]:
        """The audio keys of one saying of a call (Vietnamese, then the second language),
        their WAVs started in the background; [] without a voice."""
        return self.prepare(call.ticket, call.counter, call.counter_name)

    def ahead(self, calls: list[tuple[str, str, str]]) -> None:
        """Make the WAVs of the calls about to come (each counter's next ticket, from
        state/order) while the hall is quiet, so a call's voice is ready when it comes."""
        for ticket, counter, name in calls[:AHEAD]:
            self.prepare(ticket, counter, name)

    def prepare(self, ticket: str, counter: str, counter_name: str) -> list[str]:
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
            if not known and not voice.path_for(phrase).exists():
                asyncio.get_running_loop().create_task(self.wav(key))
            keys.append(key)
        while len(self.phrases) > KEEP:
            self.phrases.popitem(last=False)
        return keys

    async def wav(self, key: str) -> Path | None:
        """The WAV of a known key, made once (in a thread: espeak-ng takes a moment)."""
        said = self.phrases.get(key)
        if said is None:
            return None
        made = self._making.get(key)
        if made is None:
            made = self._making[key] = asyncio.ensure_future(
                asyncio.to_thread(self._make, *said))
            made.add_done_callback(lambda _: self._making.pop(key, None))
        return await asyncio.shield(made)

    def _make(self, voice: Voice, phrase: str) -> Path | None:
        try:
            return voice.wav(phrase)
        except VoiceError as exc:
            log.error("the voice failed (giọng đọc lỗi): %s", exc)
            return None
