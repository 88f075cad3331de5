"""The CLI end to end: the demo runs a whole office and stops cleanly; config errors are clear."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import threading
import urllib.request
from contextlib import closing
from pathlib import Path

import pytest

from tests.conftest import ROOT, motcua_command, write_office
from tests.waiting import wait_until


@pytest.mark.mqtt
@pytest.mark.kivy
@pytest.mark.process
def test_demo_runs_an_office_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    office = write_office(tmp_path)
    real_db = tmp_path / "office.sqlite3"  # the office's own database: never touched
    real_db.write_bytes(b"an office's real day")
    demo_dir = tmp_path / "demo-here"
    proc = subprocess.Popen([*motcua_command(), "demo", "--config", str(office),
                             "--speed", "120"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "MOTCUA_DEMO_DIR": str(demo_dir)})
    lines: list[str] = []
    stdout = proc.stdout
    assert stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(stdout), daemon=True)
    reader.start()
    demo_db = demo_dir / "motcua-demo-demo" / "office.sqlite3"

    def served() -> tuple[dict[str, int], int]:
        """The demo's walk-ins and bookings by kind, and how many were called (read only)."""
        if not demo_db.exists():
            return {}, 0
        try:
            with closing(sqlite3.connect(f"file:{demo_db}?mode=ro", uri=True)) as db:
                kinds = dict(db.execute("SELECT kind, count(*) FROM tickets GROUP BY kind"))
                called = db.execute("SELECT count(*) FROM events WHERE change='called'")
                return kinds, called.fetchone()[0]
        except sqlite3.OperationalError:  # not made yet
            return {}, 0

    def busy() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"the demo exited early:\n{''.join(lines)}")
        kinds, called = served()
        out = "".join(lines)
        return (kinds.get("walk_in", 0) > 0 and kinds.get("booking", 0) > 0 and called > 0
                and "ĐANG PHỤC VỤ / SERVING" in out and "Quầy 1" in out)
    wait_until(busy, timeout=60, what="the demo serving walk-ins and bookings", interval=0.2)
    # The board in a browser too: the web server's address is printed, and it is live.
    address = re.search(r"motcua web: (http://\S+)/board", "".join(lines))
    assert address, "".join(lines)

    def web_online() -> bool:
        with contextlib.suppress(OSError), \
                urllib.request.urlopen(address.group(1) + "/health", timeout=2) as r:
            return bool(json.loads(r.read())["online"])
        return False
    wait_until(web_online, timeout=30, what="the demo's web server online")
    proc.send_signal(signal.SIGINT)
    proc.wait(30)
    reader.join(10)
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert "motcua demo stopped" in out
    assert real_db.read_bytes() == b"an office's real day"
    # Nothing left running: the broker's port is free again.
    assert subprocess.run(["pgrep", "-f", str(demo_dir)],
                          capture_output=True).returncode == 1


@pytest.mark.process
def test_a_broken_office_file_is_refused_with_its_line(tmp_path: Path) -> None:
    office = write_office(tmp_path, **{'slot_minutes = 30': 'slot_minutes = "half an hour"'})
    run = subprocess.run([*motcua_command(), "dispatcher", "--config", str(office)],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"{office}:" in run.stderr and "booking.slot_minutes: must be an integer" in run.stderr
    assert "tệp cấu hình có lỗi" in run.stderr


@pytest.mark.process
def test_close_day_over_mqtt(broker, office_file: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tests.integration.devices import DispatcherProcess

    proc = DispatcherProcess(office_file, broker.url, tmp_path / "d.log").start()
    try:
        run = subprocess.run([*motcua_command(), "close-day", "--config", str(office_file),
                              "--broker", broker.url], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        assert "Day 2026-11-25 closed" in run.stdout
    finally:
        proc.stop()
