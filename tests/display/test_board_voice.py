"""What the board says when its connection comes back, and after it restarts: a real
Mosquitto, the dispatcher as a process, the board behind a cable a test can pull out."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker_config.dev import DevBroker
from display.speech import call_phrase
from display.voice import REGION_VOICES, Voice
from tests.conftest import needs, write_office
from tests.display.support import BoardProcess, Cable
from tests.display.test_board_ui import EMPTY, MORE_COUNTERS, Devices
from tests.integration.devices import DispatcherProcess
from tests.kivy_support import xvfb

pytestmark = pytest.mark.skipif(
    not all(shutil.which(b) for b in ("Xvfb", "mosquitto", "espeak-ng", "sox")),
    reason="needs Xvfb, mosquitto, espeak-ng and sox (make test installs them)")


@pytest.fixture
@needs("kivy", "process")
def screen() -> Iterator[str]:
    with xvfb(1280, 720) as display:
        yield display


def sayings(board: BoardProcess) -> list[str]:
    """The phrase files the board played, one per call (repetitions folded)."""
    said: list[str] = []
    for p in board.plays():
        if p["kind"] == "voice" and (not said or said[-1] != p["source"]):
            said.append(p["source"])
    return said


def test_calls_missed_while_cut_off_are_said_when_back_and_not_after_a_restart(
        broker: DevBroker, tmp_path: Path, screen: str) -> None:
    (tmp_path / "office").mkdir()
    office_file = write_office(tmp_path / "office", **{"\n[kiosk]": MORE_COUNTERS + "\n[kiosk]"})
    voice = Voice(shutil.which("espeak-ng") or "", tmp_path / "cache", REGION_VOICES["south"])

    def phrase(ticket: str, counter: str) -> str:
        return voice.path_for(call_phrase(ticket, counter, f"Quầy {counter}", "digits",
                                          "south")).name

    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    cable = Cable(broker.port)
    board = BoardProcess(office_file, cable.url, tmp_path / "board", screen, size="1280x720",
                         extra=["--audio-out", str(tmp_path / "audio"), "--audio-pace", "0.2",
                                "--cache", str(tmp_path / "cache")])
    board.audio = tmp_path / "audio"
    hall = Devices(broker.url)
    again: BoardProcess | None = None
    try:
        board.start()
        board.wait(banner_kind="", placeholder=EMPTY)
        hall.tickets("AAAAAAAAAA")
        first = hall.next("1")
        board.wait(serving={first: "Quầy 1"}, played_at_least=1, timeout=30)
        assert sayings(board) == [phrase(first, "1")]

        cable.cut()  # only the board is cut off: the hall goes on calling
        board.wait(banner_kind="lost")
        missed = {c: hall.next(c) for c in ("2", "3", "4", "5", "6")}
        replaced = hall.next("1")  # called, then done with while the board was away
        latest = hall.next("1")
        assert board.ask("state")["state"]["played"] == 1  # it heard none of them

        cable.mend()
        board.wait(banner_kind="", serving={latest: "Quầy 1", missed["6"]: "Quầy 6"},
                   timeout=30)
        board.wait(played_at_least=4, timeout=60)  # the one before and 3 caught up
        # the 3 newest still being served, in the order called; never the one before, nor
        # the one no longer served, nor the 3 older ones (those are on the board)
        assert sayings(board) == [phrase(first, "1"), phrase(missed["5"], "5"),
                                  phrase(missed["6"], "6"), phrase(latest, "1")]
        assert phrase(replaced, "1") not in sayings(board)
        assert "lỡ gọi khi mất kết nối" in board.tail(200)
        assert missed["2"] in board.tail(200)  # named in the log

        after = hall.next("2")  # a call as usual once back: said once, as a call
        board.wait(fresh=after, played_at_least=5, timeout=60)
        assert sayings(board)[4:] == [phrase(after, "2")]
        board.stop()

        # a restarted board shows who is served and says none of it
        again = BoardProcess(office_file, cable.url, tmp_path / "board2", screen,
                             size="1280x720",
                             extra=["--audio-out", str(tmp_path / "audio2"), "--audio-pace",
                                    "0.2", "--cache", str(tmp_path / "cache")])
        again.audio = tmp_path / "audio2"
        again.start()
        again.wait(banner_kind="", serving={after: "Quầy 2", latest: "Quầy 1"})
        newest = hall.next("3")
        again.wait(fresh=newest, played_at_least=1, timeout=60)
        assert sayings(again) == [phrase(newest, "3")]
    finally:
        board.stop()
        if again is not None:
            again.stop()
        hall.close()
        cable.close()
        assert dispatcher.stop() == 0
