"""A counter nobody is signed in to, on the real board (Kivy under Xvfb, Mosquitto, the
dispatcher as a process): "Quầy 2: tạm đóng", never a counter waiting for a citizen."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from motcua import officers
from tests.conftest import write_office
from tests.display.support import BoardProcess
from tests.display.test_board_ui import EMPTY, Devices, photograph, screen, shots
from tests.integration.devices import DispatcherProcess, Watcher

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("Xvfb", "mosquitto")),
    reason="needs Xvfb and mosquitto (make test installs them)")
__all__ = ["screen", "shots"]  # the fixtures, shared with the other board tests


@pytest.fixture
def office_file(tmp_path: Path) -> Path:
    path = write_office(tmp_path)
    rows = "".join(f'\n[[officers]]\ncode = "{code}"\nname = "Cán bộ {code}"\n'
                   f'pin = "{officers.hash_pin("1234", iterations=1000)}"\n'
                   for code in ("cb01", "cb03"))
    path.write_text(path.read_text(encoding="utf-8") + rows, encoding="utf-8")
    return path


def test_closed_counters_are_said_closed(broker: DevBroker, office_file: Path, tmp_path: Path,
                                        screen: str, shots: Path) -> None:
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    board = BoardProcess(office_file, broker.url, tmp_path / "board", screen,
                         extra=["--sound", "none"])
    watch, hall = Watcher(broker.url), Devices(broker.url)
    try:
        board.start()
        nobody = board.wait(banner_kind="", placeholder=EMPTY,
                            closed=["Quầy 1: tạm đóng", "Quầy 2: tạm đóng", "Quầy 3: tạm đóng"])
        assert nobody["serving"] == []
        photograph(board, shots, "all-closed")

        for counter, officer in (("1", "cb01"), ("3", "cb03")):
            reply = hall.device("counter", counter).send("sign_in", officer=officer, pin="1234")
            assert reply["ok"], reply
        hall.tickets("AAB")
        called = {hall.next(c): f"Quầy {c}" for c in ("1", "3")}
        assert hall.device("counter", "2").send("next")["error"]["code"] == "not_signed_in"
        two = board.wait(serving=called, closed=["Quầy 2: tạm đóng"], placeholder="")
        assert {c for _, c, _ in two["serving"]} == {"Quầy 1", "Quầy 3"}
        photograph(board, shots, "counter-2-closed")
    finally:
        board.stop()
        watch.close()
        hall.close()
        assert dispatcher.stop() == 0
