"""The real kiosk window under Xvfb, touched through every screen and error, against a real
Mosquitto, dispatcher and loopback printer. One Kivy window per process: each scenario runs
in its own (tests/kiosk/driver.py); screenshots go to tests/artifacts/kiosk/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, needs
from tests.kivy_support import kivy_env, xvfb


@pytest.fixture(scope="module")
@needs("kivy", "process")  # the scenarios run in a kiosk process
def display() -> Iterator[str]:
    with xvfb(1920, 1400) as d:
        yield d


def run_scenario(name: str, broker_url: str, work: Path, display: str,
                 artifacts: Path) -> dict:
    env = {**os.environ, **kivy_env(work / "kivy", display), "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-m", "tests.kiosk.driver", "--broker", broker_url,
                           "--work", str(work), "--artifacts", str(artifacts / "kiosk"),
                           "--scenario", name], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=110)
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-60:])
    assert proc.returncode == 0, tail
    return json.loads((work / "report.json").read_text())


def test_every_screen_by_touch_and_camera(broker, tmp_path, display, artifacts) -> None:  # type: ignore[no-untyped-def]
    report = run_scenario("flows", broker.url, tmp_path, display, artifacts)
    assert report["printed"] == 6  # A001, B001, B002, H001, its reprint, C001
    for shot in ("home", "home-en", "services", "services-priority", "result-walkin",
                 "result-booking", "notice-already-checked-in", "result-reprint",
                 "home-unreadable", "notice-unreadable", "notice-not-motcua",
                 "notice-wrong-office", "notice-wrong-date", "notice-invalid-token",
                 "notice-booking-cancelled", "portrait-home", "portrait-services",
                 "portrait-result", "portrait-notice"):
        assert f"flows-{shot}.png" in report["screens"], shot
        assert (artifacts / "kiosk" / f"flows-{shot}.png").stat().st_size > 5000
    assert len(list(tmp_path.glob("printed-*.png"))) == 6  # the rasters the printer got


def test_printer_faults_no_reply_and_a_closed_office(broker, tmp_path, display,  # type: ignore[no-untyped-def]
                                                     artifacts) -> None:
    report = run_scenario("faults", broker.url, tmp_path, display, artifacts)
    assert {"faults-home-paper-out.png", "faults-result-paper-out.png",
            "faults-result-paper-ran-out.png", "faults-busy-slow.png",
            "faults-notice-no-reply.png", "faults-notice-office-closed.png"} <= \
        set(report["screens"])


def test_a_service_that_checks_the_chip_id_card_says_so_before_issuing(
        broker, tmp_path, display, artifacts) -> None:  # type: ignore[no-untyped-def]
    report = run_scenario("checks", broker.url, tmp_path, display, artifacts)
    assert report["printed"] == 4  # B001, A001, A002, H001: going back printed nothing
    for shot in ("services-requires", "notice-prepare", "result-prepare", "notice-prepare-en"):
        assert f"checks-{shot}.png" in report["screens"], shot
    assert len(list(tmp_path.glob("printed-*.png"))) == 4
