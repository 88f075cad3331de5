"""The rating screen for real: Kivy under Xvfb, a real Mosquitto, the dispatcher as a
process, a counter as a device; screenshots in tests/artifacts/rating/."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

import pytest

from broker_config.dev import DevBroker
from motcua import config
from motcua.errors import run_main
from rating import app as rating_app
from tests.conftest import ROOT, needs
from tests.integration.devices import Device, DispatcherProcess
from tests.kivy_support import kivy_env, xvfb
from tests.waiting import wait_until

PREFIX = "@@ "
SHOTS = ROOT / "tests" / "artifacts" / "rating"


class Screen:
    """One `rating` window in its own process and Xvfb screen."""

    def __init__(self, office_file: Path, counter: str, url: str, work: Path):
        self._stack = ExitStack()
        display = self._stack.enter_context(xvfb(1024, 600))
        env = {**os.environ, **kivy_env(work / "kivy", display), "PYTHONPATH": str(ROOT)}
        self.log = work / "rating.log"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "tests.rating.driver", "--config", str(office_file),
                 "--counter", counter, "--broker", url], cwd=ROOT, env=env, text=True,
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, encoding="utf-8")
        self.n = 0
        self._read(60)

    def _read(self, timeout: float) -> Any:
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise AssertionError("the rating window exited:\n" + self.log.read_text()[-3000:])
            if line.startswith(PREFIX):
                msg = json.loads(line[len(PREFIX):])
                assert msg["ok"], msg["result"]
                return msg["result"]
        raise AssertionError("no answer from the rating window")

    def op(self, op: str, **fields: Any) -> Any:
        assert self.proc.stdin is not None
        self.n += 1
        self.proc.stdin.write(json.dumps({"op": op, "id": self.n, **fields}) + "\n")
        self.proc.stdin.flush()
        return self._read(20)

    def wait(self, pred: Callable[[dict[str, Any]], bool], what: str) -> dict[str, Any]:
        last: list[dict[str, Any]] = [{}]

        def seen() -> dict[str, Any] | None:
            last[0] = self.op("ui")
            return last[0] if pred(last[0]) else None
        try:
            return wait_until(seen, timeout=20, what=what, interval=0.05)
        except AssertionError as e:
            raise AssertionError(f"{e}; last: {last[0]}") from None

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        return Path(self.op("shot", path=str(SHOTS / f"{name}.png")))

    def close(self) -> None:
        with suppress(AssertionError, OSError, ValueError):
            if self.proc.poll() is None:
                self.op("quit")
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._stack.close()


@pytest.fixture
@needs("process", "kivy")
def live(broker: DevBroker, office_file: Path, tmp_path: Path) -> Iterator[dict[str, Any]]:
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "dispatcher.log").start()
    devices = {"kiosk": Device(broker.url, "kiosk", "k1"),
               "counter": Device(broker.url, "counter", "3")}
    screen = Screen(office_file, "3", broker.url, tmp_path)
    try:
        yield {"screen": screen, **devices}
    finally:
        screen.close()
        for d in devices.values():
            d.close()
        assert dispatcher.stop() == 0


def test_after_a_service_the_citizen_rates_once(live: dict[str, Any], office_file: Path) -> None:
    screen, kiosk, counter = live["screen"], live["kiosk"], live["counter"]
    idle = screen.wait(lambda v: v["mode"] == "idle" and not v["banner"][0], "idle")
    assert idle["big"] == ["Quầy 3 xin kính chào", "Welcome"]
    assert idle["levels"] == ["Rất hài lòng", "Hài lòng", "Bình thường", "Không hài lòng"]
    number = kiosk.send("walk_in", service="A")["ticket"]["number"]
    assert counter.send("next")["ticket"]["number"] == number
    screen.wait(lambda v: v["big"][0] == f"Đang phục vụ số {number}", "serving shown")
    assert counter.send("done")["ok"]
    ask = screen.wait(lambda v: v["mode"] == "ask", "the question")
    assert ask["question"][0] == f"Ông/bà có hài lòng với dịch vụ số {number}?"
    screen.shot("ask")
    assert screen.op("tap", level="satisfied") == "tapped"
    thanks = screen.wait(lambda v: v["mode"] == "thanks", "the thank-you")
    assert thanks["big"] == ["Cảm ơn ông/bà đã đánh giá!", "Thank you for your rating!"]
    screen.shot("thanks")
    assert screen.op("tap", level="unsatisfied") == "disabled"  # one rating, one tap
    office = config.load(office_file)
    db = sqlite3.connect(office.storage)
    try:
        rows = db.execute("SELECT ticket, counter, level FROM ratings").fetchall()
    finally:
        db.close()
    assert rows == [(number, "3", "satisfied")]
    # The next citizen, served and gone before rating: the screen goes back to idle.
    screen.wait(lambda v: v["mode"] == "idle", "back to idle after the thank-you")


def test_a_rating_screen_for_a_counter_that_does_not_exist_refuses_to_start(
        office_file: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    assert run_main(rating_app.main, "motcua rating",
                    ["--config", str(office_file), "--counter", "9"]) == 2
    err = capsys.readouterr().err
    assert "không có quầy '9'" in err and "there is no counter '9'" in err
    assert "a rating screen faces one counter" in err
