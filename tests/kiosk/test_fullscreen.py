"""Issue 15: `--fullscreen` on a bare X session (no window manager) fills the real screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fullscreen import assert_fills_the_screen, run_fullscreen

pytestmark = [pytest.mark.kivy, pytest.mark.process,
              pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb")]


def test_the_kiosk_fills_a_1280x720_screen_without_a_window_manager(
        office_file: Path, tmp_path: Path, artifacts: Path) -> None:
    images = tmp_path / "camera"
    images.mkdir()
    # the default --size (1280x800) is taller than the screen: the window hung off its top
    report = run_fullscreen("kiosk", ["--config", str(office_file), "--kiosk", "k1",
                                      "--broker", "mqtt://127.0.0.1:1", "--images",
                                      str(images)], tmp_path, artifacts)
    assert_fills_the_screen(report)
    assert "walkin" in report["widgets"]  # "Lấy số thứ tự"
