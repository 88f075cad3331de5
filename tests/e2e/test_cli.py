"""The CLI end to end: the demo runs a whole office and stops cleanly; config errors are clear."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

from tests.conftest import ROOT, motcua_command, write_office


def test_demo_runs_an_office_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    office = write_office(tmp_path)
    real_db = tmp_path / "office.sqlite3"  # the office's own database: never touched
    real_db.write_bytes(b"an office's real day")
    demo_dir = tmp_path / "demo-here"
    proc = subprocess.Popen([*motcua_command(), "demo", "--config", str(office),
                             "--speed", "120"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "MOTCUA_DEMO_DIR": str(demo_dir)})
    time.sleep(8)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "ĐANG PHỤC VỤ / SERVING" in out and "Quầy 1" in out
    assert "motcua demo stopped" in out
    assert real_db.read_bytes() == b"an office's real day"
    db = sqlite3.connect(demo_dir / "motcua-demo-demo" / "office.sqlite3")
    kinds = dict(db.execute("SELECT kind, count(*) FROM tickets GROUP BY kind").fetchall())
    assert kinds.get("walk_in", 0) > 0 and kinds.get("booking", 0) > 0
    assert db.execute("SELECT count(*) FROM events WHERE change='called'").fetchone()[0] > 0
    # Nothing left running: the broker's port is free again.
    assert subprocess.run(["pgrep", "-f", str(demo_dir)],
                          capture_output=True).returncode == 1


def test_a_broken_office_file_is_refused_with_its_line(tmp_path: Path) -> None:
    office = write_office(tmp_path, **{'slot_minutes = 30': 'slot_minutes = "half an hour"'})
    run = subprocess.run([*motcua_command(), "dispatcher", "--config", str(office)],
                         cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert run.returncode == 2
    assert f"{office}:" in run.stderr and "booking.slot_minutes: must be an integer" in run.stderr
    assert "tệp cấu hình có lỗi" in run.stderr


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
