"""`motcua demo` opens the board through display.launch: a window when there is a screen."""

from __future__ import annotations

import shutil
import time
from datetime import datetime
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from display.launch import spawn
from tests.conftest import TZ
from tests.integration.devices import Watcher
from tests.kivy_support import kivy_env, xvfb


def test_no_screen_no_window(office_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER"):
        monkeypatch.delenv(name, raising=False)
    assert spawn(office_file, "mqtt://127.0.0.1:1") is None


@pytest.mark.skipif(not shutil.which("Xvfb"), reason="needs Xvfb")
@pytest.mark.kivy
@pytest.mark.process
def test_the_board_opens_says_online_and_leaves_cleanly(
        office_file: Path, broker: DevBroker, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    watch = Watcher(broker.url, "motcua/demo/presence/display/#")
    with xvfb(1280, 720) as screen:
        for key, value in kivy_env(tmp_path / "kivy", screen).items():
            monkeypatch.setenv(key, value)
        board = spawn(office_file, broker.url, datetime(2026, 11, 25, 8, 0, tzinfo=TZ), 30.0,
                      log=tmp_path / "board.log", extra=["--sound", "none"])
        assert board is not None
        try:
            online = watch.wait_for("/presence/display/board-1", lambda m: m["status"] ==
                                    "online", timeout=30)
            assert online["detail"]["voice"] == "off" and online["detail"]["sound"] == "none"
            time.sleep(0.5)
            board.terminate()  # SIGTERM: the board stops itself and says it is offline
            assert board.wait(20) == 0, (tmp_path / "board.log").read_text()
            watch.wait_for("/presence/display/board-1", lambda m: m["status"] == "offline")
        finally:
            if board.poll() is None:
                board.kill()
            watch.close()
