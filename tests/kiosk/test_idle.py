"""The scanner on a live 720p camera at 30 fps: a still view costs little, a code still reads.

The camera is CameraSource on tests/kiosk/capture.py, which plays JPEG files as
cv2.VideoCapture plays a webcam (the kiosk's own code path; only the sensor is fake).
Costs are counted in frames (retrieved, decoded, previewed), not timed: the CPU figure is
bench/bench_kiosk_idle.py's.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kiosk.camera import CameraSource
from kiosk.qr import make_decoder
from kiosk.scanner import EVERY_FRAME, Scanner, Stillness
from tests.kiosk.capture import FileCapture, noisy_scene, write_frames
from tests.kiosk.frames import qr_frame
from tests.kiosk.test_camera import Codes, wait


def scene(seed: int = 7) -> np.ndarray:
    """A cluttered still view: a gradient and a few objects, as a kiosk's camera sees."""
    rng = np.random.default_rng(seed)
    view = np.full((720, 1280), 130.0) + np.linspace(-25, 25, 1280)[None, :]
    for _ in range(5):
        x, y = int(rng.integers(0, 1100)), int(rng.integers(0, 600))
        view[y:y + int(rng.integers(40, 200)), x:x + int(rng.integers(40, 300))] = \
            rng.uniform(40, 220)
    return view.astype(np.uint8)


@pytest.fixture
def idle_files(tmp_path: Path) -> list[Path]:
    return write_frames(noisy_scene(scene(), 30, seed=1), tmp_path / "idle")


def test_sensor_grain_is_not_a_change_but_a_code_held_up_is() -> None:
    still = Stillness()
    frames = [f[:, :, 1] for f in noisy_scene(scene(), 20, seed=3, grain=4.0)]
    assert still.changed(frames[0])  # the first view is news
    assert not any(still.changed(f) for f in frames[1:])
    assert still.changed(qr_frame("held up"))
    # a slow drift adds up against the last change, not the last frame
    drifting = [np.clip(frames[0].astype(int) + step, 0, 255).astype(np.uint8)
                for step in range(0, 40, 2)]
    still = Stillness()
    assert [still.changed(f) for f in drifting].count(True) >= 2


def test_a_still_view_is_looked_at_seldom_decoded_less_and_never_previewed_for_nothing(
        idle_files: list[Path], tmp_path: Path) -> None:
    camera = FileCapture(idle_files, fps=30)
    source, codes = CameraSource(0, capture=lambda index: camera), Codes()
    scanner = Scanner(source, make_decoder(), codes.code, codes.bad).start()
    try:
        # the first view is news: looked at closely a moment, then the view is still
        wait(lambda: scanner.frames >= 30 and not scanner.active, "the view seen as still")
        looked, decoded = scanner.looked, scanner.decoded
        previews, grabbed = scanner.preview()[0], scanner.frames
        wait(lambda: scanner.frames >= grabbed + 90, "three more seconds of frames")
        # every frame taken off the camera, one in six (or so) decoded to BGR and compared
        assert camera.grabs >= grabbed + 90
        assert scanner.looked - looked <= 90 // 4
        assert scanner.decoded - decoded <= 5  # the refresh: once a second
        assert scanner.preview()[0] - previews <= 1  # the preview renewed every 5 s at most
        assert camera.retrieves == scanner.looked
        # a code held up is read (how soon: bench/bench_kiosk_idle.py)
        camera.play(write_frames(noisy_scene(qr_frame("BK-HELD-UP"), 30), tmp_path / "qr"))
        wait(lambda: codes.seen == ["BK-HELD-UP"], "the code read")
        assert scanner.active
        # the preview follows the moving view (on a loaded machine the code can be read
        # before the second new preview is made: waited for, not assumed)
        wait(lambda: scanner.preview()[0] > previews + 1, "the preview following")
    finally:
        scanner.stop()
    assert not camera.isOpened()  # released with the scanner


def test_no_preview_is_made_while_nobody_shows_it(idle_files: list[Path],
                                                  tmp_path: Path) -> None:
    camera = FileCapture(idle_files, fps=30)
    source, codes = CameraSource(0, capture=lambda index: camera), Codes()
    scanner = Scanner(source, make_decoder(), codes.code, codes.bad)
    scanner.preview_wanted = False
    scanner.start()
    try:
        camera.play(write_frames(noisy_scene(qr_frame("BK-NO-PREVIEW"), 30), tmp_path / "qr"))
        wait(lambda: codes.seen == ["BK-NO-PREVIEW"], "the code read without a preview")
        assert scanner.preview() == (0, None)
    finally:
        scanner.stop()


def test_every_frame_is_decoded_when_asked(idle_files: list[Path]) -> None:
    camera = FileCapture(idle_files, fps=30)
    scanner = Scanner(CameraSource(0, capture=lambda index: camera), make_decoder(),
                      Codes().code, pace=EVERY_FRAME).start()
    try:
        wait(lambda: scanner.frames >= 20, "20 frames")
        assert scanner.decoded >= scanner.frames - 2
    finally:
        scanner.stop()


class Unplugged:
    """A capture device that is not there (cv2.VideoCapture of a missing camera)."""

    def isOpened(self) -> bool:  # noqa: N802 - OpenCV's name
        return False

    def release(self) -> None:
        pass


def test_a_camera_that_is_missing_or_stops_giving_frames_is_unhealthy_and_retried(
        idle_files: list[Path]) -> None:
    opened: list[object] = []

    def capture(index: int | str) -> object:
        device = Unplugged() if not opened else FileCapture(idle_files)
        opened.append(device)
        return device

    source = CameraSource(0, capture=capture)
    assert not source.healthy and not source.grab()  # a second's wait, then opened again
    assert source.healthy and source.grab() and source.retrieve() is not None
    camera = opened[-1]
    assert isinstance(camera, FileCapture)
    camera.release()  # unplugged while in use
    assert not source.grab() and not source.healthy
    source.close()
