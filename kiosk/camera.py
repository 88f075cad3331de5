"""Where frames come from: a camera, image files, a video file (kiosk.scanner reads them)."""

from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from motcua.errors import MotcuaError

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
BLANK_SIZE = (720, 1280)  # what an image or video source shows between pictures


class CameraError(MotcuaError):
    """A frame source that cannot start, said in both languages."""

    exit_code = 2


class FrameSource(ABC):
    """One interface for every source: read() blocks until the next frame (BGR or grey).

    grab() then retrieve() is read() in two steps, as in OpenCV: grab() waits for the next
    frame and takes it off the camera, retrieve() decodes it. A scanner that looks at only
    some frames grabs every one (so the one it looks at is the newest) and pays for the
    decoding of those it looks at alone.
    """

    name = ""
    healthy = True  # False while a camera is unplugged: shown in the kiosk's presence
    _grabbed: np.ndarray | None = None

    @abstractmethod
    def read(self) -> np.ndarray | None: ...

    def grab(self) -> bool:
        self._grabbed = self.read()
        return self._grabbed is not None

    def retrieve(self) -> np.ndarray | None:
        frame, self._grabbed = self._grabbed, None
        return frame

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

    def __init__(self, index: int | str, width: int = 1280, height: int = 720,
                 capture: Callable[..., Any] = cv2.VideoCapture):
        self.index, self.size = index, (width, height)
        self._capture = capture  # cv2.VideoCapture; tests give a file-playing stand-in
        self.name = f"camera {index}"
        self._cap: cv2.VideoCapture | None = None
        self._warned = False
        # OpenCV prints every failed probe of every backend; the kiosk logs one line.
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
        self._open()

    def _open(self) -> None:
        cap = self._capture(self.index)
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
        return self.retrieve() if self.grab() else None

    def grab(self) -> bool:
        if self._cap is None:
            time.sleep(1.0)
            self._open()
            return False
        if not self._cap.grab():
            self._lost()
            return False
        return True

    def retrieve(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, frame = self._cap.retrieve()
        if not ok:
            self._lost()
            return None
        return frame

    def _lost(self) -> None:
        log.warning("camera %s gave no frame; reopening", self.index)
        if self._cap is not None:
            self._cap.release()
        self._cap, self.healthy = None, False

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
        self._failed: dict[Path, int] = {}
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
            try:
                self.show(path)
            except CameraError as exc:
                # A file still being written reads as broken: tried again on the next
                # frames, and given up (said once) after a second.
                tries = self._failed[path] = self._failed.get(path, 0) + 1
                if tries * max(self.period, 0.01) >= 1.0:
                    log.warning("%s", exc)
                    self._played.add(path)
            else:
                self._played.add(path)
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
        return self.retrieve() if self.grab() else None

    def grab(self) -> bool:
        self._pace()
        if self._ended:
            return True
        if not self._cap.grab():
            if self.loop:
                self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            if not (self.loop and self._cap.grab()):
                self._ended = True
        return True

    def retrieve(self) -> np.ndarray | None:
        if self._ended:
            return blank_frame()
        ok, frame = self._cap.retrieve()
        return frame if ok else blank_frame()

    def close(self) -> None:
        self._cap.release()
