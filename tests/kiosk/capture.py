"""A camera for tests and benchmarks: image files played as cv2.VideoCapture plays a webcam.

The kiosk's CameraSource opens it where it would open cv2.VideoCapture(0), and calls the
same methods: isOpened, set, get, grab, retrieve, read, release. Only the sensor is fake.
Like a USB webcam at 1280x720 (which sends MJPEG), frames arrive at `fps` whether they
are read or not; grab() waits for the next one (or takes the newest, dropping those missed,
as with a one-buffer queue) and costs nothing else; retrieve() decodes the JPEG to BGR,
which is the work OpenCV's V4L2 backend does for such a camera.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

WIDTH, HEIGHT = 1280, 720


def write_frames(frames: Iterable[np.ndarray], folder: Path, quality: int = 90) -> list[Path]:
    """Frames (grey or BGR) as JPEG files 0000.jpg, 0001.jpg... in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, frame in enumerate(frames):
        path = folder / f"{i:04d}.jpg"
        if not cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, quality]):
            raise OSError(f"cannot write {path}")
        paths.append(path)
    return paths


def noisy_scene(scene: np.ndarray, n: int, seed: int = 0, grain: float = 2.5) -> list[np.ndarray]:
    """`n` frames of a still view as a sensor gives them: new grain in every frame, and a
    slight colour cast (a camera's frames are BGR)."""
    rng = np.random.default_rng(seed)
    base = scene.astype(np.float32)
    out = []
    for _ in range(n):
        grey = base + rng.normal(0, grain, base.shape).astype(np.float32)
        bgr = np.dstack([grey * 0.97, grey, grey * 1.02])
        out.append(np.clip(bgr, 0, 255).astype(np.uint8))
    return out


class FileCapture:
    """cv2.VideoCapture's interface over JPEG files, looped at `fps`; play() changes what
    the camera sees (a code held up, then taken away) from another thread."""

    def __init__(self, files: Iterable[Path], fps: float = 30.0):
        self.fps = fps
        self._lock = threading.Lock()
        self._opened = True
        self._t0 = time.monotonic()
        self._taken = -1  # the index (since _t0) of the last frame grabbed
        self._grabbed: bytes | None = None
        self.grabs = self.retrieves = 0
        self.shown_at = 0.0  # monotonic time the frames of the last play() became visible
        self.play(files)

    def play(self, files: Iterable[Path]) -> float:
        """From the next frame on, the camera sees these files (looped); returns the time
        that next frame is available, which is when a person would see it there."""
        frames = [Path(f).read_bytes() for f in files]
        if not frames:
            raise ValueError("no frames to play")
        with self._lock:
            self._before = getattr(self, "_frames", frames)  # frames taken until then
            self._frames = frames
            now = time.monotonic()
            self._first = int((now - self._t0) * self.fps) + 1
            self.shown_at = self._t0 + self._first / self.fps
            return self.shown_at

    # -- cv2.VideoCapture -------------------------------------------------------------------
    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's names
        return self._opened

    def set(self, prop: int, value: float) -> bool:
        return prop in (cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT,
                        cv2.CAP_PROP_BUFFERSIZE, cv2.CAP_PROP_FPS)

    def get(self, prop: int) -> float:
        return {cv2.CAP_PROP_FRAME_WIDTH: WIDTH, cv2.CAP_PROP_FRAME_HEIGHT: HEIGHT,
                cv2.CAP_PROP_FPS: self.fps}.get(prop, 0.0)

    def grab(self) -> bool:
        if not self._opened:
            return False
        index = max(self._taken + 1, int((time.monotonic() - self._t0) * self.fps))
        delay = self._t0 + index / self.fps - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            self._taken = index
            frames = self._frames if index >= self._first else self._before
            self._grabbed = frames[index % len(frames)]
        self.grabs += 1
        return True

    def retrieve(self) -> tuple[bool, np.ndarray | None]:
        if self._grabbed is None:
            return False, None
        self.retrieves += 1
        frame = cv2.imdecode(np.frombuffer(self._grabbed, np.uint8), cv2.IMREAD_COLOR)
        return frame is not None, frame

    def read(self) -> tuple[bool, np.ndarray | None]:
        return self.retrieve() if self.grab() else (False, None)

    def release(self) -> None:
        self._opened = False
