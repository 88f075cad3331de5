"""The board's sound, made on the server: the chime, and each call said by espeak-ng (the
Kivy board's own text and voice, display/speech.py and display/voice.py), cached by text.

A page is given `/audio/<key>.wav` for a call; the key names a phrase this server made
from a call it heard, so nobody can make it say anything else."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from pathlib import Path

from display.speech import call_phrase
from display.voice import Voice, VoiceError, chime_file
from motcua.protocol import CallEvent

log = logging.getLogger(__name__)

KEEP = 400  # phrases this server remembers (the voice's own cache keeps the files)
AHEAD = 8  # calls made in advance at most per change of the ordering


class Sounds:
    def __init__(self, voice: Voice | None, chime: bool = True):
        self.voice = voice
        self.chime: Path | None = chime_file(voice.cache if voice else None) if chime else None
        self.phrases: OrderedDict[str, str] = OrderedDict()
        self._making: dict[str, asyncio.Future[Path | None]] = {}

    def key_for(self, call: CallEvent) -> str | None:
        """The audio key of a call (and the WAV started in the background), or None
        without a voice."""
        return self.prepare(call.ticket, call.counter, call.counter_name)

    def ahead(self, calls: list[tuple[str, str, str]]) -> None:
        """Make the WAVs of the calls about to come (each counter's next ticket, from
        state/order) while the hall is quiet, so a call's voice is ready when it comes."""
        for ticket, counter, name in calls[:AHEAD]:
            if self.voice is not None and not self.voice.path_for(
                    call_phrase(ticket, counter, name)).exists():
                self.prepare(ticket, counter, name)

    def prepare(self, ticket: str, counter: str, counter_name: str) -> str | None:
        if self.voice is None:
            return None
        phrase = call_phrase(ticket, counter, counter_name)
        key = hashlib.sha256(phrase.encode()).hexdigest()[:24]
        self.phrases[key] = phrase
        self.phrases.move_to_end(key)
        while len(self.phrases) > KEEP:
            self.phrases.popitem(last=False)
        asyncio.get_running_loop().create_task(self.wav(key))
        return key

    async def wav(self, key: str) -> Path | None:
        """The WAV of a known key, made once (in a thread: espeak-ng takes a moment)."""
        phrase = self.phrases.get(key)
        if phrase is None or self.voice is None:
            return None
        made = self._making.get(key)
        if made is None:
            made = self._making[key] = asyncio.ensure_future(
                asyncio.to_thread(self._make, phrase))
            made.add_done_callback(lambda _: self._making.pop(key, None))
        return await asyncio.shield(made)

    def _make(self, phrase: str) -> Path | None:
        assert self.voice is not None
        try:
            return self.voice.wav(phrase)
        except VoiceError as exc:
            log.error("the voice failed (giọng đọc lỗi): %s", exc)
            return None
