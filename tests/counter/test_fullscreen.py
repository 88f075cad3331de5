"""Issue 15: `--fullscreen` on a bare X session (no window manager) fills the real screen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.fullscreen import assert_fills_the_screen, run_fullscreen

pytestmark = [pytest.mark.kivy, pytest.mark.process,
              pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb")]


def test_the_counter_fills_a_1280x720_screen_without_a_window_manager(
        office_file: Path, tmp_path: Path, artifacts: Path) -> None:
    # the default --geometry (1100x720) sat in the middle, laid out for 1280 wide
    report = run_fullscreen("counter", ["--config", str(office_file), "--counter", "1",
                                        "--broker", "mqtt://127.0.0.1:1"], tmp_path, artifacts)
    assert_fills_the_screen(report)
    assert len([n for n in report["widgets"] if n.startswith("btn_")]) == 9  # with Xác minh
