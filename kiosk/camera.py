"""Where frames come from (a camera, image files, a video file) and the thread that scans them."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from kiosk.qr import Decoder, to_gray
from motcua.errors import MotcuaError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
BLANK_SIZE = (720, 1280)  # what an image or video source shows between pictures
PREVIEW_WIDTH = 480


class CameraError(MotcuaError):
    """A frame source that cannot start, said in both languages."""

    exit_code = 2


class FrameSource(ABC):
    """One interface for every source: read() blocks until the next frame (BGR or grey)."""

    name = ""
    healthy = True  # False while a camera is unplugged: shown in the kiosk's presence

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    def close(self) -> None:  # noqa: B027 - files hold nothing open
        pass


class Paced(FrameSource):
    """Gives frames no faster than `fps`, as a camera would."""

    def __init__(self, fps: float):
        self.period = 1.0 / max(fps, 0.1)
        self._next = time.monotonic()

    def _pace(self) -> None:
        self._next += self.period
        delay = self._next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            self._next = time.monotonic()  # fell behind: do not burst to catch up


class CameraSource(FrameSource):
    """An OpenCV capture device, reopened when it fails (unplugged, driver reset).

    A kiosk whose camera is missing still starts: walk-in numbers need no camera, and the
    screen and the kiosk's presence say the camera is not working.
    """

    def __init__(self, index: int | str, width: int = 1280, height: int = 720):
        self.index, self.size = index, (width, height)
        self.name = f"camera {index}"
        self._cap: cv2.VideoCapture | None = None
        self._warned = False
        # OpenCV prints every failed probe of every backend; the kiosk logs one line.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        self._open()

    def _open(self) -> None:
        cap = cv2.VideoCapture(self.index)
        if not cap.isOpened():
            cap.release()
            self._cap, self.healthy = None, False
            if not self._warned:
                log.warning("cannot open camera %s; retrying every second", self.index)
                self._warned = True
            return
        if self._warned:
            log.info("camera %s is back", self.index)
            self._warned = False
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.size[0])
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.size[1])
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
        self._cap, self.healthy = cap, True

    def read(self) -> np.ndarray | None:
        if self._cap is None:
            time.sleep(1.0)
            self._open()
            return None
        ok, frame = self._cap.read()
        if not ok:
            log.warning("camera %s gave no frame; reopening", self.index)
            self._cap.release()
            self._cap, self.healthy = None, False
            return None
        return frame

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()


def blank_frame() -> np.ndarray:
    return np.full(BLANK_SIZE, 128, np.uint8)


def read_image(path: Path) -> np.ndarray:
    if not Path(path).is_file():
        raise CameraError(f"Không có tệp ảnh {path}", f"No image file {path}")
    image = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise CameraError(f"Không đọc được ảnh {path}", f"Cannot read the image {path}")
    return image


class ImageSource(Paced):
    """Image files shown to the scanner one after another, each for `hold` seconds with a
    blank `gap` between, like codes held up to a camera; new files in the folder come next.

    Tests and demos also call show() to hold up a picture at once.
    """

    def __init__(self, folder: Path | None = None, fps: float = 15.0, hold: float = 2.0,
                 gap: float = 1.0):
        super().__init__(fps)
        if folder is not None and not Path(folder).is_dir():
            raise CameraError(f"Không có thư mục ảnh {folder}", f"No image folder {folder}")
        self.folder = Path(folder) if folder is not None else None
        self.name = f"images {folder}" if folder else "images"
        self.hold, self.gap = hold, gap
        self._played: set[Path] = set()
        self._lock = threading.Lock()
        self._current = blank_frame()
        self._until = 0.0  # monotonic time the current picture stops being shown
        self._blank_until = 0.0

    def show(self, picture: np.ndarray | Path | str, seconds: float | None = None) -> None:
        """Hold a picture up to the camera now, for `seconds` (default: hold)."""
        image = picture if isinstance(picture, np.ndarray) else read_image(Path(picture))
        with self._lock:
            self._current = image
            self._until = time.monotonic() + (self.hold if seconds is None else seconds)

    def clear(self) -> None:
        """Take the picture away."""
        with self._lock:
            self._current, self._until = blank_frame(), 0.0

    def _next_file(self) -> Path | None:
        if self.folder is None:
            return None
        try:
            files = sorted(p for p in self.folder.iterdir()
                           if p.suffix.lower() in IMAGE_SUFFIXES and p not in self._played)
        except OSError:
            return None
        return files[0] if files else None

    def read(self) -> np.ndarray | None:
        self._pace()
        now = time.monotonic()
        with self._lock:
            if now < self._until:
                return self._current
            if self._until:  # a picture just ended: a blank gap, as when a hand moves away
                self._current, self._until = blank_frame(), 0.0
                self._blank_until = now + self.gap
            if now < self._blank_until:
                return self._current
        path = self._next_file()
        if path is not None:
            self._played.add(path)
            try:
                self.show(path)
            except CameraError as exc:
                log.warning("%s", exc)
        with self._lock:
            return self._current


class VideoSource(Paced):
    """A video file played once at its own frame rate (then blank frames), or looped."""

    def __init__(self, path: Path, loop: bool = False):
        self.path, self.loop = Path(path), loop
        self._cap = cv2.VideoCapture(str(path))
        if not self._cap.isOpened():
            raise CameraError(f"Không mở được video {path}", f"Cannot open the video {path}")
        fps = self._cap.get(cv2.CAP_PROP_FPS) or 25.0
        super().__init__(fps if 1 <= fps <= 120 else 25.0)
        self.name = f"video {path.name}"
        self._ended = False

    def read(self) -> np.ndarray | None:
        self._pace()
        if self._ended:
            return blank_frame()
        ok, frame = self._cap.read()
        if not ok:
            if self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                ok, frame = self._cap.read()
            if not ok:
                self._ended = True
                return blank_frame()
        return frame

    def close(self) -> None:
        self._cap.release()


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
    """

    def __init__(self, source: FrameSource, decoder: Decoder,
                 on_code: Callable[[str], None], on_unreadable: Callable[[], None] | None = None,
                 repeat_window: float = 5.0, unreadable_every: float = 3.0):
        self.source, self.decoder = source, decoder
        self.unreadable_every = unreadable_every
        self.on_code, self.on_unreadable = on_code, on_unreadable
        self.repeats = RepeatFilter(repeat_window)
        self.frames = 0
        self.decode_ms = 0.0  # of the last frame
        self._preview: np.ndarray | None = None
        self._preview_n = 0
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

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self.source.read()
            except Exception:  # a broken source must not end scanning for the day
                log.exception("frame source %s failed", self.source.name)
                time.sleep(1.0)
                continue
            if frame is None:
                continue
            self.scan(frame)

    def scan(self, frame: np.ndarray) -> None:
        gray = to_gray(frame)
        t0 = time.perf_counter()
        try:
            seen = self.decoder.decode(gray)
        except Exception:
            log.exception("decoder %s failed on a frame", self.decoder.name)
            seen = []
        now = time.monotonic()
        self.decode_ms = (time.perf_counter() - t0) * 1000
        self.frames += 1
        h, w = gray.shape
        self._preview = cv2.resize(gray, (PREVIEW_WIDTH, max(1, h * PREVIEW_WIDTH // w)),
                                   interpolation=cv2.INTER_AREA)
        self._preview_n += 1
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
