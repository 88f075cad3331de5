"""Backups while the dispatcher runs, and restores that check before they replace."""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
import subprocess
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dispatcher.backup import BackupError, backup, prune, restore
from dispatcher.store import Store
from motcua import config
from motcua.clock import ManualClock
from tests.conftest import ROOT, TZ, at, motcua_command, write_office
from tests.dispatcher.local import LocalDispatcher
from tests.integration.devices import Device, DispatcherProcess, Watcher
from tests.waiting import wait_until


def _tickets(db: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as c:
        return c.execute("SELECT number, status FROM tickets ORDER BY seq").fetchall()


def test_a_backup_during_a_stream_is_consistent_and_restores_the_queue(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    desk = LocalDispatcher(office, ManualClock(at("08:00")))
    stop = threading.Event()
    issued: list[str] = []

    def stream() -> None:  # a kiosk that never pauses, on the dispatcher's own thread
        while not stop.is_set() and len(issued) < 3000:
            issued.append(desk.ok("kiosk", "k1", "walk_in", service="AB"[len(issued) % 2])
                          ["ticket"]["number"])

    writer = threading.Thread(target=stream)
    writer.start()
    try:
        wait_until(lambda: len(issued) > 200, timeout=20, what="a stream under way")
        copies = backup(office, now=datetime(2026, 11, 25, 8, 30, tzinfo=TZ))
        during = len(issued)
        wait_until(lambda: len(issued) > during + 100, timeout=20, what="the stream going on")
    finally:
        stop.set()
        writer.join(30)
        desk.close()
    (copy,) = copies
    assert copy.name == "demo-20261125-083000.sqlite3" and copy.parent.name == "backups"
    in_copy = _tickets(copy)
    # A prefix of the day, cut at a commit: every ticket whole, nothing after a gap.
    assert 200 < len(in_copy) < len(issued)
    assert [n for n, _ in in_copy] == issued[:len(in_copy)]
    with sqlite3.connect(copy) as c:
        assert c.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert c.execute("SELECT count(*) FROM commands").fetchone() == (len(in_copy),)
    kept = restore(office, copy)
    assert kept is not None and len(_tickets(kept)) == len(issued)  # what it replaced
    assert _tickets(office.storage) == in_copy
    again = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        waiting = [t.number for t in sorted(again.d.hall.waiting(), key=lambda t: t.seq)]
        assert waiting == [n for n, _ in in_copy]
        nxt = again.ok("kiosk", "k1", "walk_in", service="A")["ticket"]["number"]
        last_a = max(int(n[1:]) for n, _ in in_copy if n.startswith("A"))
        assert nxt == f"A{last_a + 1:03d}"  # numbering goes on from the copy
    finally:
        again.close()


def test_backups_go_to_both_folders_and_old_ones_are_pruned(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    office = dataclasses.replace(office, backups=dataclasses.replace(
        office.backups, copy_to=tmp_path / "share", keep=3))
    Store(office.storage).close()
    start = datetime(2026, 11, 20, 22, 0, tzinfo=TZ)
    for day in range(5):
        backup(office, now=start + timedelta(days=day))
    for folder in (office.backups.folder, tmp_path / "share"):
        assert folder is not None
        assert sorted(p.name for p in folder.iterdir()) == [
            "demo-20261122-220000.sqlite3", "demo-20261123-220000.sqlite3",
            "demo-20261124-220000.sqlite3"]
    (tmp_path / "share" / "notes.txt").write_text("not ours")
    (tmp_path / "share" / "other-20200101-000000.sqlite3").write_text("another office's")
    assert prune(tmp_path / "share", "demo", 1) and (tmp_path / "share" / "notes.txt").exists()
    assert (tmp_path / "share" / "other-20200101-000000.sqlite3").exists()


def test_restore_refuses_what_it_must_not_put_in_place(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    desk = LocalDispatcher(office, ManualClock(at("08:00")))
    desk.ok("kiosk", "k1", "walk_in", service="A")
    good = backup(office)[0]
    with pytest.raises(BackupError) as running:  # the dispatcher holds the database
        restore(office, good)
    assert "stop it before restoring" in running.value.message_en
    desk.close()
    before = _tickets(office.storage)
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(good.read_bytes()[:4096] + b"\0" * 8192)
    other = tmp_path / "other.sqlite3"
    shutil.copy(good, other)
    with sqlite3.connect(other) as c:
        c.execute("UPDATE meta SET value='bd-tdm' WHERE key='office'")
    unmarked = tmp_path / "unmarked.sqlite3"
    shutil.copy(good, unmarked)
    with sqlite3.connect(unmarked) as c:
        c.execute("DELETE FROM meta WHERE key='office'")
    (tmp_path / "notes.sqlite3").write_text("not a database at all")
    for copy, says in ((broken, "damaged"), (other, "belongs to office bd-tdm, not demo"),
                       (unmarked, "--force"), (tmp_path / "notes.sqlite3", "")):
        with pytest.raises(BackupError) as refused:
            restore(office, copy)
        assert says in refused.value.message_en and refused.value.message
        assert _tickets(office.storage) == before  # nothing replaced
    assert restore(office, unmarked, force=True) is not None


@pytest.mark.process
@pytest.mark.mqtt
def test_backup_and_restore_from_the_command_line(broker, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    office_file = write_office(tmp_path)
    office = config.load(office_file)
    dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "d.log").start()
    kiosk = Device(broker.url, "kiosk", "k1")
    try:
        for _ in range(3):
            assert kiosk.send("walk_in", service="A")["ok"]
        run = subprocess.run([*motcua_command(), "backup", "--config", str(office_file)],
                             cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        copy = Path(run.stdout.split("backed up: ")[1].strip())
        assert kiosk.send("walk_in", service="A")["ticket"]["number"] == "A004"
        refused = subprocess.run([*motcua_command(), "restore", str(copy), "--config",
                                  str(office_file)], cwd=ROOT, capture_output=True, text=True,
                                 timeout=60)
        assert refused.returncode == 1 and "stop it before restoring" in refused.stderr
        dispatcher.stop()
        done = subprocess.run([*motcua_command(), "restore", str(copy), "--config",
                               str(office_file)], cwd=ROOT, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert "--accept-database" in done.stdout and len(_tickets(office.storage)) == 3
        # The broker saw A004: a plain start refuses the older copy, on purpose it goes on.
        plain = subprocess.run(DispatcherProcess(office_file, broker.url, tmp_path / "x").args,
                               cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert plain.returncode != 0 and "--accept-database" in plain.stderr
        dispatcher = DispatcherProcess(office_file, broker.url, tmp_path / "d2.log")
        dispatcher.args.append("--accept-database")
        dispatcher.start()
        board = Watcher(broker.url, "motcua/demo/state/board")
        try:
            seen = board.wait_for("/state/board", lambda m: m["seq"] == 3, timeout=30)
            assert seen["waiting"]["A"]["count"] == 3
        finally:
            board.close()
    finally:
        kiosk.close()
        dispatcher.stop()


def test_backups_in_one_second_and_after_the_clock_went_back_are_all_kept(
        tmp_path: Path) -> None:
    """Two backups in the same second each keep their copy; a clock set back a day (an NTP
    correction, a dead RTC battery) names the new copy older than the others, yet it is the
    one pruning keeps."""
    office = config.load(write_office(tmp_path))
    office = dataclasses.replace(office, backups=dataclasses.replace(office.backups, keep=3))
    d = LocalDispatcher(office, ManualClock(at("09:00")))
    try:
        noon = datetime(2026, 11, 24, 12, 0, tzinfo=TZ)
        first = backup(office, now=noon)[0]
        d.ok("kiosk", "k1", "walk_in", service="A")
        second = backup(office, now=noon)[0]
        assert first != second and second.name == "demo-20261124-120000-2.sqlite3"
        assert _tickets(first) == [] and _tickets(second) == [("A001", "waiting")]
        backup(office, now=noon + timedelta(hours=1))
        d.ok("kiosk", "k1", "walk_in", service="A")
        went_back = backup(office, now=noon - timedelta(days=1))[0]  # the newest data
        folder = office.backups.folder
        assert folder is not None
        kept = sorted(p.name for p in folder.iterdir())
        assert went_back.name in kept and len(kept) == 3
        assert _tickets(went_back) == [("A001", "waiting"), ("A002", "waiting")]
        assert first.name not in kept  # the oldest by name, among those not just made
    finally:
        d.close()


def test_a_backup_of_a_deleted_database_is_refused_plainly(tmp_path: Path) -> None:
    office = config.load(write_office(tmp_path))
    Store(office.storage).close()
    office.storage.unlink()
    with pytest.raises(BackupError) as refused:
        backup(office)
    assert "no database at" in refused.value.message_en
    assert "không có cơ sở dữ liệu" in refused.value.message
