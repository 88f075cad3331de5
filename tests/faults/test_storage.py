"""The dispatcher's disk fails under it: the database turns read-only, the disk fills up.
A clear error in the log, no reply (devices retry), nothing half-applied; once the disk is
back, the retried commands take effect exactly once."""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from motcua import config
from motcua.clock import ManualClock
from tests.conftest import ROOT, at, motcua_command, needs, write_office
from tests.faults.harness import LocalDispatcher, memory_matches_disk, rows


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, timeout=30)


@pytest.fixture
@needs("process")  # mount
def disk(tmp_path: Path) -> Iterator[Path]:
    """A small filesystem of its own (tmpfs) that the test can fill or make read-only."""
    where = tmp_path / "disk"
    where.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=768k,mode=0755", "tmpfs", str(where))
    except (subprocess.CalledProcessError, FileNotFoundError, PermissionError) as exc:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {exc}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, timeout=30)


@pytest.fixture
def desk(disk: Path, tmp_path: Path) -> Iterator[LocalDispatcher]:
    office_file = write_office(tmp_path, **{f'"{tmp_path}/office.sqlite3"':
                                            f'"{disk}/office.sqlite3"'})
    d = LocalDispatcher(config.load(office_file), ManualClock(at("09:00")))
    yield d
    d.close()


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """The database file and its WAL immutable (chattr +i): writes fail even for root and
    even through files already open. The -shm index stays writable: SQLite maps it into
    memory, and a write fault there is SIGBUS, not an error (see the report)."""
    done = subprocess.run(["chattr", "+i", *map(str, paths)], capture_output=True, timeout=30)
    try:
        if done.returncode != 0:
            pytest.skip(f"chattr +i does not work here: {done.stderr.decode().strip()}")
        yield
    finally:
        subprocess.run(["chattr", "-i", *map(str, paths)], capture_output=True, timeout=30)


def unavailable(reply: dict | None) -> bool:
    """The device is told plainly that nothing was recorded (and may retry the same id)."""
    assert reply is not None, "a storage fault must be answered, not left silent"
    if reply["ok"]:
        return False
    assert reply["error"]["code"] == "storage_unavailable", reply
    assert reply["error"]["message"] and reply["error"]["message_en"]
    return True


@pytest.mark.process
def test_read_only_database_said_no_partial_state_then_recovery(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    office_file = write_office(tmp_path, **{f'"{tmp_path}/office.sqlite3"':
                                            f'"{folder}/office.sqlite3"'})
    desk = LocalDispatcher(config.load(office_file), ManualClock(at("09:00")))
    assert desk.reply("kiosk", "k1", "walk_in", service="A")["ticket"]["number"] == "A001"
    assert desk.reply("kiosk", "k1", "walk_in", service="A")["ticket"]["number"] == "A002"
    with read_only(folder / "office.sqlite3", folder / "office.sqlite3-wal"):
        with caplog.at_level(logging.ERROR):
            assert unavailable(desk.send("kiosk", "k1", "walk_in", "ro-walk-in-1", service="B"))
            assert unavailable(desk.send("counter", "1", "next", "ro-next-1"))
        assert "not taken" in caplog.text, caplog.text
        assert set(desk.d.hall.tickets) == {"A001", "A002"}
        assert desk.d.hall.counters["1"].current is None
        memory_matches_disk(desk)
    # The devices retry with the same ids: each takes effect once, numbering has no gap.
    assert desk.reply("kiosk", "k1", "walk_in", "ro-walk-in-1", service="B")["ticket"][
        "number"] == "B001"
    assert desk.reply("counter", "1", "next", "ro-next-1")["ticket"]["number"] == "A001"
    assert desk.reply("kiosk", "k1", "walk_in", "ro-walk-in-1", service="B")["ticket"][
        "number"] == "B001"
    memory_matches_disk(desk)
    assert rows(desk.office.storage, "PRAGMA integrity_check") == [("ok",)]
    desk.close()


def test_disk_full_said_no_partial_state_then_recovery(
        desk: LocalDispatcher, disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    desk.send("kiosk", "k1", "walk_in", service="A")
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)  # a runaway log file on a small disk
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)
    # Leave a little room, so that the disk fills up in the middle of the stream.
    os.truncate(filler, max(filler.stat().st_size - 96 * 1024, 0))
    numbers: list[str] = []
    failed = None
    with caplog.at_level(logging.ERROR):
        for i in range(400):
            reply = desk.reply("kiosk", "k1", "walk_in", f"full-{i:04d}", service="A",
                              priority=i % 2 == 0)
            memory_matches_disk(desk)
            if unavailable(reply):
                failed = i
                break
            numbers.append(reply["ticket"]["number"])
    assert failed is not None, "the disk never filled up"
    print(f"disk full after {failed} walk-ins")
    assert "not taken" in caplog.text and "full" in caplog.text
    # The counter's call fails too, and leaves the counter as it was.
    with caplog.at_level(logging.ERROR):
        assert unavailable(desk.send("counter", "2", "next", "full-next"))
    assert desk.d.hall.counters["2"].current is None
    memory_matches_disk(desk)
    os.unlink(filler)
    retried = desk.reply("kiosk", "k1", "walk_in", f"full-{failed:04d}", service="A")
    assert retried["ticket"]["number"] == f"A{len(numbers) + 2:03d}"  # no gap, no double
    assert desk.reply("counter", "2", "next", "full-next")["ok"]
    memory_matches_disk(desk)
    assert rows(desk.office.storage, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.process
def test_dispatcher_on_a_read_only_database_says_so_and_exits(tmp_path: Path) -> None:
    folder = tmp_path / "db"
    folder.mkdir()
    office_file = write_office(tmp_path, **{f'"{tmp_path}/office.sqlite3"':
                                            f'"{folder}/office.sqlite3"'})
    d = LocalDispatcher(config.load(office_file), ManualClock(at("09:00")))
    d.send("kiosk", "k1", "walk_in", service="A")
    d.close()  # the WAL is checkpointed and removed: a new one could not be made
    with read_only(folder, folder / "office.sqlite3"):
        run = subprocess.run([*motcua_command(), "dispatcher", "--config", str(office_file),
                              "--broker", "mqtt://127.0.0.1:9", "--start-at",
                              "2026-11-25T09:00+07:00"], cwd=ROOT, capture_output=True,
                             text=True, timeout=60)
    assert run.returncode != 0
    assert "office.sqlite3" in run.stderr
    assert "Traceback" not in run.stderr  # a StoreError is a MotcuaError: said, not thrown


def test_a_backup_to_a_full_disk_fails_plainly_and_leaves_nothing(disk: Path,
                                                                  tmp_path: Path) -> None:
    """Issue 15: a backup folder without room: a clear error, no half copy left in it, the
    live database and the older copies as they were."""
    import dataclasses

    from dispatcher.backup import BackupError, backup

    office = config.load(write_office(tmp_path))
    office = dataclasses.replace(office, backups=dataclasses.replace(
        office.backups, folder=disk / "backups"))
    desk = LocalDispatcher(office, ManualClock(at("08:00")))
    try:
        desk.ok("kiosk", "k1", "walk_in", service="A")
        first = backup(office)[0]  # a small day: fits
        for i in range(400):  # then a day bigger than what is left on the disk
            desk.ok("kiosk", "k1", "walk_in", service="AB"[i % 2], priority=bool(i % 3))
        # and the disk nearly full
        with open(disk / "filler", "wb") as f, contextlib.suppress(OSError):
            f.write(b"\0" * (768 * 1024 - first.stat().st_size - 64 * 1024))
        with pytest.raises(BackupError) as full:
            backup(office)
        assert "cannot back up to" in full.value.message_en and full.value.message
        assert sorted(p.name for p in (disk / "backups").iterdir()) == [first.name]
        assert rows(office.storage, "SELECT count(*) FROM tickets") == [(401,)]  # untouched
    finally:
        desk.close()
