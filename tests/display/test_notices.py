"""Notices at the foot of the board: a long one scrolls at the size of a short one, inside
its line, instead of shrinking; screenshots of it at its start and further on."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from tests.conftest import needs, write_office
from tests.display.support import BoardProcess
from tests.display.test_board_ui import EMPTY
from tests.integration.devices import DispatcherProcess
from tests.kivy_support import xvfb
from tests.waiting import wait_until

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("Xvfb", "mosquitto")),
    reason="needs Xvfb and mosquitto (make test installs them)")

LONG = ("Từ ngày 01/12/2026, người dân nộp hồ sơ cấp lại, đổi thẻ bảo hiểm y tế vui lòng mang "
        "theo căn cước công dân gắn chip; hồ sơ hưởng chế độ ốm đau, thai sản được tiếp nhận "
        "tại quầy số 1 và quầy số 2 từ 7 giờ 30 đến 11 giờ 30")
SHORT = "Giờ làm việc: 7:30–11:30"
# The board scrolls at 4x the office speed and holds a short notice 3 s (both through the
# board's environment, display/widgets.py and display/board_app.py), so a whole pass and
# the next notice come in seconds; the checks below follow the speed, not a fixed figure.
SPEED = 12.0


@pytest.fixture
@needs("kivy", "process")
def screen() -> Iterator[str]:
    with xvfb(1920, 1080) as display:
        yield display


def test_a_long_notice_scrolls_instead_of_shrinking(broker: DevBroker, tmp_path: Path,
                                                    screen: str, artifacts: Path) -> None:
    shots = artifacts / "display"
    shots.mkdir(exist_ok=True)
    (tmp_path / "office").mkdir()
    office_file = write_office(tmp_path / "office")
    text = office_file.read_text(encoding="utf-8")
    start = text.index("notices = [")
    end = text.index("\n", start)
    office_file.write_text(text[:start] + f'notices = ["{LONG}", "{SHORT}"]' + text[end:],
                           encoding="utf-8")
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    board = BoardProcess(office_file, broker.url, tmp_path / "board", screen,
                         extra=["--sound", "none"])
    board.env.update(MOTCUA_NOTICE_SPEED=str(SPEED), MOTCUA_NOTICE_S="3")
    try:
        board.start()
        first = board.wait(banner_kind="", placeholder=EMPTY, notice=LONG)
        line = first["notice_line"]
        x, _, width, height = line["line"]
        assert line["scrolling"] and line["text"][2] > width  # wider than the line ...
        assert line["font"] == int(min(height * 0.8, height / 1.2))  # ... and not shrunk
        board.shot(shots / "notice-long-start-1920x1080.png")

        def moved() -> dict | None:
            state = board.ask("state")["state"]["notice_line"]
            return state if state["offset"] >= width / 3 else None
        later = wait_until(moved, timeout=20, what="the notice to scroll a third of its line")
        assert later["text"][0] < x  # its start has gone out of the line, to the left
        assert later["font"] == line["font"]
        board.shot(shots / "notice-long-later-1920x1080.png")
        # one pass reads it all: its end comes into the line, then the next notice
        assert line["pass_s"] >= 4 + (line["text"][2] - width * 0.96) / (SPEED * height) - 0.01

        short = board.wait(notice=SHORT, timeout=line["pass_s"] + 15)["notice_line"]
        assert not short["scrolling"] and short["font"] == line["font"]  # one size for all
        assert short["text"][2] < width
        board.shot(shots / "notice-short-1920x1080.png")
    finally:
        board.stop()
        assert dispatcher.stop() == 0
