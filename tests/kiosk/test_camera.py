"""Frame sources and the scanner: image files, a video file, one scan per code held up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from kiosk.camera import CameraError, ImageSource, VideoSource
from kiosk.qr import make_decoder
from kiosk.scanner import RepeatFilter, Scanner
from tests.kiosk.frames import qr_frame, save
from tests.waiting import wait_until


class Codes:
    def __init__(self) -> None:
        self.seen: list[str] = []
        self.unreadable = 0
        self.event = threading.Event()

    def code(self, text: str) -> None:
        self.seen.append(text)
        self.event.set()

    def bad(self) -> None:
        self.unreadable += 1
        self.event.set()


def wait(pred: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    wait_until(pred, timeout=timeout, what=what)


def test_the_same_code_again_within_the_window_is_one_scan() -> None:
    f = RepeatFilter(window=5)
    assert f.is_new("A", 0.0)
    assert not f.is_new("A", 4.0)
    assert not f.is_new("A", 8.5)  # still in view: each sighting extends the window
    assert f.is_new("B", 9.0)
    assert f.is_new("A", 14.0)  # gone for five seconds, then shown again


def test_a_code_held_up_is_read_once_and_again_after_it_was_away() -> None:
    source, codes = ImageSource(fps=30), Codes()
    scanner = Scanner(source, make_decoder(), codes.code, codes.bad, repeat_window=0.6).start()
    try:
        source.show(qr_frame("first code"), seconds=1.0)
        wait(lambda: scanner.frames > 25, "26 frames scanned")
        assert codes.seen == ["first code"]
        source.clear()
        time.sleep(0.8)
        source.show(qr_frame("first code"), seconds=0.5)
        wait(lambda: len(codes.seen) == 2, "the code read a second time")
        n, preview = scanner.preview()
        assert n > 0 and preview is not None and preview.shape[1] == 480
    finally:
        scanner.stop()


def test_an_unreadable_code_is_reported_after_half_a_second_not_every_frame() -> None:
    source, codes = ImageSource(fps=30), Codes()
    scanner = Scanner(source, make_decoder(), codes.code, codes.bad, unreadable_every=5).start()
    try:
        source.show(qr_frame("z" * 300, damaged=True), seconds=5)
        wait(lambda: codes.unreadable == 1, "one unreadable report")
        # Half a second more of the damaged code in view (frames counted, not time slept,
        # so a loaded machine still scans them): still one report, not one per frame.
        seen = scanner.frames
        wait(lambda: scanner.frames >= seen + 15, "15 more frames scanned")
        assert codes.unreadable == 1 and codes.seen == []
    finally:
        scanner.stop()


def test_a_folder_of_images_is_played_in_order_and_new_files_come_next(tmp_path: Path) -> None:
    save(qr_frame("one"), tmp_path / "01.png")
    save(qr_frame("two"), tmp_path / "02.png")
    (tmp_path / "notes.txt").write_text("not an image")
    source, codes = ImageSource(tmp_path, fps=30, hold=0.4, gap=0.2), Codes()
    scanner = Scanner(source, make_decoder(), codes.code).start()
    try:
        wait(lambda: codes.seen == ["one", "two"], "codes one, two")
        save(qr_frame("three"), tmp_path / "03.png")
        wait(lambda: codes.seen == ["one", "two", "three"], "codes one, two, three")
    finally:
        scanner.stop()


def test_an_image_caught_half_written_is_read_once_it_is_whole(tmp_path: Path) -> None:
    whole = save(qr_frame("written slowly"), tmp_path / "draft.png").read_bytes()
    (tmp_path / "draft.png").unlink()
    folder = tmp_path / "camera"
    folder.mkdir()
    (folder / "01.png").write_bytes(whole[: len(whole) // 3])  # the copy is still going on
    source, codes = ImageSource(folder, fps=30), Codes()
    scanner = Scanner(source, make_decoder(), codes.code).start()
    try:
        wait(lambda: scanner.frames >= 5, "frames with the half-written file there")
        (folder / "01.png").write_bytes(whole)
        wait(lambda: codes.seen == ["written slowly"], "the code read once the file is whole")
    finally:
        scanner.stop()


def test_a_video_file_goes_through_the_same_path(tmp_path: Path) -> None:
    path = tmp_path / "hand.avi"
    fourcc = cv2.VideoWriter_fourcc(*"MJPG")  # type: ignore[attr-defined]  # not in cv2's stubs
    out = cv2.VideoWriter(str(path), fourcc, 30, (1280, 720), False)
    blank = np.full((720, 1280), 120, np.uint8)
    for i in range(30):
        out.write(qr_frame("from a video", seed=i) if 10 <= i < 20 else blank)
    out.release()
    source, codes = VideoSource(path), Codes()
    scanner = Scanner(source, make_decoder(), codes.code).start()
    try:
        wait(lambda: codes.seen == ["from a video"], "the code in the video")
        wait(lambda: scanner.frames >= 30, "30 frames of the video")
    finally:
        scanner.stop()
    assert codes.seen == ["from a video"]


def test_missing_sources_say_so_in_both_languages(tmp_path: Path) -> None:
    with pytest.raises(CameraError) as err:
        ImageSource(tmp_path / "nowhere")
    assert "Không có thư mục" in err.value.message and "No image folder" in err.value.message_en
    with pytest.raises(CameraError):
        VideoSource(tmp_path / "nothing.mp4")
