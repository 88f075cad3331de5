"""The thread that reads the camera: a close look only when the view changes, one scan a code.

Most of a kiosk's day nobody holds anything up to it, and the camera sees the same still
view. Decoding every frame of it, and redrawing its preview, took half a core or more
(software GL redraws the whole window for each preview frame). So the scanner grabs every
frame (the one it looks at is then the newest) but retrieves one a `Pace.idle` while the
view stays still; a cheap comparison of a small thumbnail says whether it changed; only a
changed view (and a still one now and then) is decoded, and only a changed view goes to
the preview. While the view changes, or a code is in it, it looks `Pace.active` often.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from kiosk.camera import FrameSource
from kiosk.qr import Decoder, to_gray

log = logging.getLogger(__name__)

PREVIEW_WIDTH = 480


@dataclass(frozen=True)
class Pace:
    """How often the scanner looks, in seconds (0: every frame the source gives)."""

    idle: float = 0.2  # a still view: a code that appears is seen within this
    active: float = 1 / 15  # while the view changes or a code is in it
    settle: float = 1.5  # decoding goes on this long after the last change (a code held still)
    refresh: float = 1.0  # a still view is decoded this often anyway
    preview_refresh: float = 5.0  # and its preview renewed this often


EVERY_FRAME = Pace(idle=0.0, active=0.0, settle=0.0, refresh=0.0, preview_refresh=0.0)


class Stillness:
    """Whether the view has changed since it last did: its thumbnail (each cell the mean of
    8x8 pixels, so that sensor grain averages out) against the one of the last change.
    Comparing with the last change, not the last frame, adds up a slow movement too."""

    def __init__(self, levels: int = 12, cells: int = 6, scale: int = 8):
        self.levels, self.cells, self.scale = levels, cells, scale
        self._ref: np.ndarray | None = None

    def changed(self, gray: np.ndarray) -> bool:
        h, w = gray.shape
        size = (max(1, w // self.scale), max(1, h // self.scale))
        thumb = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
        if self._ref is None or self._ref.shape != thumb.shape:
            self._ref = thumb
            return True
        moved = int(np.count_nonzero(cv2.absdiff(thumb, self._ref) > self.levels))
        if moved < self.cells:
            return False
        self._ref = thumb
        return True


class RepeatFilter:
    """The same code seen again within `window` seconds of its last sighting is one scan:
    a code held in front of the camera is read once, however long it stays there."""

    def __init__(self, window: float = 5.0):
        self.window = window
        self._last: dict[str, float] = {}

    def is_new(self, text: str, now: float) -> bool:
        last = self._last.get(text)
        self._last[text] = now
        if len(self._last) > 256:  # forget codes long gone
            self._last = {t: s for t, s in self._last.items() if now - s < self.window}
        return last is None or now - last >= self.window


class Scanner:
    """Reads frames on its own thread, decodes them in grey and reports new codes.

    on_code(text) and on_unreadable() run on this thread: the app hands them to its UI.
    `preview_wanted` is set by whoever shows the camera view: without it no preview is made.
    """

    def __init__(self, source: FrameSource, decoder: Decoder,
                 on_code: Callable[[str], None], on_unreadable: Callable[[], None] | None = None,
                 repeat_window: float = 5.0, unreadable_every: float = 3.0,
                 pace: Pace | None = None):
        self.source, self.decoder = source, decoder
        self.unreadable_every = unreadable_every
        self.on_code, self.on_unreadable = on_code, on_unreadable
        self.repeats = RepeatFilter(repeat_window)
        self.pace = pace or Pace()
        self.preview_wanted = True
        self.frames = 0  # taken from the source
        self.looked = 0  # of them retrieved and compared
        self.decoded = 0  # of them decoded
        self.decode_ms = 0.0  # of the last frame decoded
        self._still = Stillness()
        self._preview: np.ndarray | None = None
        self._preview_n = 0
        self._preview_at = -1e9
        self._next_look = 0.0
        self._active_until = 0.0
        self._decoded_at = -1e9
        self._in_view = False  # the last decode saw a code, readable or not
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="scanner", daemon=True)
        self._unreadable_since: float | None = None

    def start(self) -> Scanner:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=3)
        self.source.close()

    def preview(self) -> tuple[int, np.ndarray | None]:
        """(frame number, a small grey copy of the latest frame) for the camera view."""
        return self._preview_n, self._preview

    @property
    def active(self) -> bool:
        """Looking closely: the view changed a moment ago, or a code is in it."""
        return self._in_view or time.monotonic() < self._active_until

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.source.grab():
                    continue
                self.frames += 1
                if time.monotonic() < self._next_look:
                    continue  # taken off the camera, never decoded
                frame = self.source.retrieve()
            except Exception:  # a broken source must not end scanning for the day
                log.exception("frame source %s failed", self.source.name)
                time.sleep(1.0)
                continue
            if frame is not None:
                self.scan(frame)

    def scan(self, frame: np.ndarray) -> None:
        """Look at one frame: compare it, decode it if worth it, and make the preview."""
        now = time.monotonic()
        gray = to_gray(frame)
        self.looked += 1
        pace = self.pace
        changed = self._still.changed(gray)
        if changed:
            self._active_until = now + pace.settle
        if self.active or now - self._decoded_at >= pace.refresh:
            self._decode(gray, now)
        self._next_look = now + (pace.active if self.active else pace.idle)
        if self.preview_wanted and (changed or now - self._preview_at >= pace.preview_refresh):
            h, w = gray.shape
            self._preview = cv2.resize(gray, (PREVIEW_WIDTH, max(1, h * PREVIEW_WIDTH // w)),
                                       interpolation=cv2.INTER_AREA)
            self._preview_n += 1
            self._preview_at = now

    def _decode(self, gray: np.ndarray, now: float) -> None:
        t0 = time.perf_counter()
        try:
            seen = self.decoder.decode(gray)
        except Exception:
            log.exception("decoder %s failed on a frame", self.decoder.name)
            seen = []
        self.decode_ms = (time.perf_counter() - t0) * 1000
        self.decoded += 1
        self._decoded_at = now
        self._in_view = bool(seen)
        texts = [s.text for s in seen if s.text]
        for text in texts:
            if self.repeats.is_new(text, now):
                self.on_code(text)
        if seen and not texts:
            # A code in view that will not read: say so once it has lasted half a second,
            # not on every frame of a hand moving it into place.
            if self._unreadable_since is None:
                self._unreadable_since = now
            elif now - self._unreadable_since >= 0.5 and self.on_unreadable:
                # then not again for a while: the citizen is adjusting the code
                self._unreadable_since = now + self.unreadable_every - 0.5
                self.on_unreadable()
        else:
            self._unreadable_since = None
